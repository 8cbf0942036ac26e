"""Training scripts under the Training layout, and scripts that need their package."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from sandbox.contract.resolve import Overrides
from sandbox.contract.spec import CallStyle
from sandbox.results.models import Status, TestResult
from sandbox.runner import RunRequest, run_script

pytestmark = pytest.mark.usefixtures("offline_image")

SCRIPTS = Path(__file__).parent / "scripts"
PACKAGE_ROOT = SCRIPTS / "pkg_src"
PACKAGED_STEP = PACKAGE_ROOT / "pipeline_pkg" / "steps" / "packaged_step.py"


def run(engine: Any, tmp_path: Path, script: Path, **kwargs: Any) -> TestResult:
    request = RunRequest(script=str(script), workspace=tmp_path / "ws", **kwargs)
    return run_script(request, engine)


def record_of(result: TestResult) -> dict[str, Any]:
    return json.loads((Path(result.run_dir) / "outputs" / "model" / "record.json").read_text())


def test_training_layout_script_mode_and_artifacts(engine: Any, tmp_path: Path) -> None:
    hyperparameters = {"max_depth": 6, "eta": 0.1, "objective": "binary:logistic", "flag": True}
    result = run(
        engine,
        tmp_path,
        SCRIPTS / "env_training.py",
        overrides=Overrides(hyperparameters=hyperparameters),
        cpus=1.0,
    )
    assert result.status is Status.PASS, result.stderr_tail
    assert result.kind == "training" and "SM_" in result.kind_reason
    record = record_of(result)
    assert record["hyperparameters"] == {
        "max_depth": "6",
        "eta": "0.1",
        "objective": "binary:logistic",
        "flag": "true",
    }
    assert (record["argv_max_depth"], record["argv_eta"]) == (6, 0.1)
    # As the training toolkit passes them: sorted, each value JSON-decoded then str()-ed.
    assert record["unknown"] == ["--flag", "True", "--objective", "binary:logistic"]
    sm = record["sm"]
    assert sm["SM_MODEL_DIR"] == "/opt/ml/model"
    assert json.loads(sm["SM_CHANNELS"]) == ["train"]
    assert sm["SM_CHANNEL_TRAIN"] == "/opt/ml/input/data/train"
    assert sm["SM_HP_MAX_DEPTH"] == "6" and json.loads(sm["SM_HPS"])["eta"] == 0.1
    assert json.loads(sm["SM_HPS"])["flag"] is True
    assert sm["SM_NUM_CPUS"] == "1" and sm["SM_NUM_GPUS"] == "0"
    assert sm["SM_OUTPUT_DATA_DIR"] == "/opt/ml/output/data"
    assert record["data_config"]["train"]["TrainingInputMode"] == "File"
    assert record["train_files"], "the train channel holds generated data"
    assert record["cwd"] == "/opt/ml/code"
    archives = {artifact.name: artifact for artifact in result.artifacts}
    assert archives["model.tar.gz"].members == ["record.json"]
    assert archives["output.tar.gz"].members == ["predictions.csv"]
    with tarfile.open(archives["model.tar.gz"].path) as packed:
        assert json.load(packed.extractfile("record.json"))["cwd"] == "/opt/ml/code"  # type: ignore[arg-type]


def test_failure_file_is_the_reason_and_nothing_is_packed(engine: Any, tmp_path: Path) -> None:
    result = run(
        engine,
        tmp_path,
        SCRIPTS / "env_training.py",
        overrides=Overrides(hyperparameters={"fail": "yes"}),
    )
    assert result.status is Status.FAIL
    assert "validation AUC 0.41 is below the 0.6 threshold" in (result.error_message or "")
    assert result.artifacts == []


def test_training_main_call_style_gets_training_paths(engine: Any, tmp_path: Path) -> None:
    result = run(
        engine,
        tmp_path,
        Path("examples/scripts/xgboost_training.py").resolve(),
        overrides=Overrides(call_style=CallStyle.MAIN),
    )
    assert result.status is Status.PASS, result.stderr_tail
    assert {f.path for f in result.outputs["model"]} >= {"xgboost_model.bst"}
    assert {f.path for f in result.outputs["output_data"]} >= {"metrics.json"}


def test_package_relative_imports_fail_alone_and_pass_with_source_dir(
    engine: Any, tmp_path: Path
) -> None:
    alone = run(engine, tmp_path, PACKAGED_STEP)
    assert alone.status is Status.FAIL
    assert "package-relative imports" in (alone.error_message or "")
    assert "--source-dir" in (alone.error_message or "")
    for style in (CallStyle.ENTRYPOINT, CallStyle.MAIN):
        with_tree = run(
            engine,
            tmp_path,
            PACKAGED_STEP,
            source_dir=PACKAGE_ROOT,
            overrides=Overrides(call_style=style),
        )
        assert with_tree.status is Status.PASS, with_tree.stderr_tail
        assert [f.path for f in with_tree.outputs["result"]] == ["from_package.txt"]
