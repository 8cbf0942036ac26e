"""Look-alikes of the common tutorial scripts and real-script patterns, run end to end
in the offline image exactly as a new user would run them."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from sandbox.contract.resolve import Overrides
from sandbox.data.datagen import DataSize
from sandbox.results.models import Status, TestResult
from sandbox.runner import RunRequest, run_script

pytestmark = pytest.mark.usefixtures("offline_image")

LOOKALIKES = Path(__file__).resolve().parents[1] / "lookalikes"


def run(engine: Any, tmp_path: Path, script: str, **kwargs: Any) -> TestResult:
    request = RunRequest(
        script=str(LOOKALIKES / f"{script}.py"),
        workspace=tmp_path / "ws",
        overrides=kwargs.pop("overrides", Overrides()),
        data_size=DataSize.SMALL,
        **kwargs,
    )
    return run_script(request, engine)


def outputs(result: TestResult) -> dict[str, bytes]:
    root = Path(result.run_dir) / "outputs"
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_tutorial_preprocess_reads_the_input_root_and_fills_train_and_test(
    engine: Any, tmp_path: Path
) -> None:
    data = tmp_path / "census"
    data.mkdir()
    rows = "\n".join(f"{i},{i * 2}" for i in range(10))
    (data / "census-income.csv").write_text(f"age,income\n{rows}\n")
    result = run(engine, tmp_path, "tutorial_preprocess", inputs={"input": data})
    assert result.status is Status.PASS, (result.error_message, result.stderr_tail)
    written = outputs(result)
    assert written["train/train_features.csv"].count(b"\n") == 7
    assert written["test/test_features.csv"].count(b"\n") == 3
    assert sorted(p.name for p in data.iterdir()) == ["census-income.csv"]  # untouched


def test_tutorial_evaluate_unpacks_a_model_and_writes_evaluation_json(
    engine: Any, tmp_path: Path
) -> None:
    model, test = tmp_path / "model", tmp_path / "test"
    model.mkdir()
    test.mkdir()
    with tarfile.open(model / "model.tar.gz", "w:gz") as tar:
        payload = b"0.5"
        info = tarfile.TarInfo("threshold.txt")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    (test / "test.csv").write_text("1,0.9\n0,0.1\n1,0.2\n0,0.3\n")
    result = run(engine, tmp_path, "tutorial_evaluate", inputs={"model": model, "test": test})
    assert result.status is Status.PASS, (result.error_message, result.stderr_tail)
    report = json.loads(outputs(result)["evaluation/evaluation.json"])
    assert report == {"metrics": {"accuracy": {"value": 0.75}}}


def test_hyphenated_options_reach_the_script_as_it_declares_them(
    engine: Any, tmp_path: Path
) -> None:
    overrides = Overrides(arguments={"job_type": "training", "min_orders": "30"})
    result = run(engine, tmp_path, "hyphen_args", overrides=overrides)
    assert result.status is Status.PASS, (result.error_message, result.stderr_tail)
    assert outputs(result)["summary/args.txt"] == b"training 30\n"


def test_input_root_with_a_nested_channel_runs_beside_the_code(engine: Any, tmp_path: Path) -> None:
    root, artifacts = tmp_path / "root", tmp_path / "artifacts"
    root.mkdir()
    artifacts.mkdir()
    (root / "part-0.csv").write_text("a\n1\n")
    (artifacts / "model.bst").write_text("m")
    result = run(
        engine,
        tmp_path,
        "root_and_nested",
        inputs={"input_data": root, "model_artifacts": artifacts},
    )
    assert result.status is Status.PASS, (result.error_message, result.stderr_tail)
    assert outputs(result)["listing/listing.txt"] == b"['part-0.csv'] ['model.bst']\n"


def test_a_declared_output_left_empty_fails_with_the_reason(engine: Any, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "script: writes_nothing.py\noutputs:\n  result: {path: /opt/ml/processing/output/result}\n"
    )
    result = run(engine, tmp_path, "writes_nothing", spec_path=spec)
    assert result.status is Status.FAIL
    assert result.error_message == (
        "output channel 'result' (/opt/ml/processing/output/result) is empty: "
        "production uploads nothing"
    )
