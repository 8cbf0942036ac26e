"""Real data end to end: gen-data's folders fed back with --data-source, and S3 data
(moto's S3 server on loopback) downloaded once, mounted read-only, never modified."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.contract.resolve import Overrides
from sandbox.results.models import Status, TestResult
from sandbox.runner import RunRequest, run_script

pytestmark = pytest.mark.usefixtures("offline_image")

TABULAR_OPTIONS = ["--arg", "job_type=training", "--env", "LABEL_FIELD=label"]
TABULAR = Overrides(arguments={"job_type": "training"}, environment={"LABEL_FIELD": "label"})
PROBES = Path(__file__).parent / "scripts" / "probes.py"


def hashes(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def outputs_of(result: TestResult) -> dict[str, str]:
    return hashes(Path(result.run_dir) / "outputs")


def test_gen_data_folders_fed_back_with_data_source_pass_and_stay_untouched(
    engine: Any, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    generated = CliRunner().invoke(
        cli, ["gen-data", "tabular_preprocessing", "--out", str(data), *TABULAR_OPTIONS]
    )
    assert generated.exit_code == 0, generated.output
    before = hashes(data)
    assert before and all(name.startswith("data/") for name in before)

    ran = CliRunner().invoke(
        cli,
        [
            "test-script",
            "tabular_preprocessing",
            "--data-source",
            str(data),
            "--workspace-dir",
            str(tmp_path / "ws"),
            "--output-format",
            "json",
            *TABULAR_OPTIONS,
        ],
    )

    assert ran.exit_code == 0, ran.output
    (result,) = json.loads(ran.stdout)["results"]
    assert result["status"] == "PASS", result["execution"]["stderr_tail"]
    assert result["inputs"] == {"data_input": f"from {(data / 'data').resolve()}"}
    assert hashes(data) == before
    assert not any((tmp_path / "ws" / "data").iterdir()), "nothing was generated"


# S3 -------------------------------------------------------------------------------


@pytest.fixture
def bucket(s3_env: str) -> str:
    name = f"sandbox-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


def upload(folder: Path, bucket: str, prefix: str) -> None:
    client = boto3.client("s3")
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            key = f"{prefix}/{path.relative_to(folder).as_posix()}"
            client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())


def test_a_script_runs_on_s3_data_and_a_second_run_downloads_nothing(
    engine: Any, bucket: str, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    generated = CliRunner().invoke(
        cli, ["gen-data", "tabular_preprocessing", "--out", str(local), *TABULAR_OPTIONS]
    )
    assert generated.exit_code == 0, generated.output
    upload(local, bucket, "runs/2024-11")
    uri = f"s3://{bucket}/runs/2024-11"
    workspace = tmp_path / "ws"

    def run(**kwargs: Any) -> TestResult:
        request = RunRequest(
            script="tabular_preprocessing", overrides=TABULAR, workspace=workspace, **kwargs
        )
        return run_script(request, engine)

    first = run(data_source=uri)
    assert first.status is Status.PASS, first.stderr_tail
    assert first.inputs == {"data_input": f"{uri}/data/ (2 objects, 2 downloaded)"}
    [cache_entry] = (workspace / "s3").iterdir()
    cached = hashes(cache_entry / "data")
    assert cached == hashes(local / "data")
    mtimes = [path.stat().st_mtime_ns for path in sorted((cache_entry / "data").iterdir())]

    second = run(data_source=uri)
    assert second.status is Status.PASS, second.stderr_tail
    assert second.inputs == {"data_input": f"{uri}/data/ (2 objects, 0 downloaded)"}
    assert [p.stat().st_mtime_ns for p in sorted((cache_entry / "data").iterdir())] == mtimes
    assert hashes(cache_entry / "data") == cached

    from_folder = run(data_source=local)
    assert outputs_of(first) == outputs_of(second) == outputs_of(from_folder)


def test_an_s3_input_is_mounted_read_only(engine: Any, bucket: str, tmp_path: Path) -> None:
    boto3.client("s3").put_object(Bucket=bucket, Key="probe/rows.csv", Body=b"a,label\n1,0\n")
    request = RunRequest(
        script=str(PROBES),
        inputs={"data": f"s3://{bucket}/probe"},
        workspace=tmp_path / "ws",
    )

    result = run_script(request, engine)

    assert result.status is Status.PASS, result.stderr_tail
    probe = json.loads((Path(result.run_dir) / "outputs/probe/probe.json").read_text())
    assert probe["input_files"] == ["rows.csv"]
    assert probe["input_write"].startswith("refused")
    [data_input] = [
        entry["S3Input"]
        for entry in probe["job_config"]["ProcessingInputs"]
        if entry["InputName"] == "data"
    ]
    assert data_input["S3Uri"] == f"s3://{bucket}/probe"
    body = boto3.client("s3").get_object(Bucket=bucket, Key="probe/rows.csv")["Body"].read()
    assert body == b"a,label\n1,0\n"


# What each channel holds ------------------------------------------------------------

SPLIT_READER = Path(__file__).parent / "scripts" / "split_reader.py"


def test_a_script_reading_split_files_json_and_named_columns_passes_on_generated_data(
    engine: Any, tmp_path: Path
) -> None:
    result = run_script(
        RunRequest(
            script=str(SPLIT_READER),
            overrides=Overrides(arguments={"job_type": "training"}),
            workspace=tmp_path / "ws",
        ),
        engine,
    )

    assert result.status is Status.PASS, result.stderr_tail
    assert result.inputs["data"].startswith("generated (small; columns: ")
    assert "customer_id" in result.inputs["data"]
    assert set(result.inputs) == {"data", "settings"}, "the optional channel stays out"
    assert "output/train/train_keys.csv" in outputs_of(result)


def test_real_data_matching_no_channel_is_exit_2_never_a_pass_on_generated_data(
    engine: Any, tmp_path: Path
) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "part-0.csv").write_text("customer_id,purchase_amount\nc1,3.5\n")
    workspace = tmp_path / "ws"

    ran = CliRunner().invoke(
        cli,
        [
            "test-script",
            str(SPLIT_READER),
            "--data-source",
            str(real),
            "--arg",
            "job_type=training",
            "--workspace-dir",
            str(workspace),
            "--output-format",
            "json",
        ],
    )

    assert ran.exit_code == 2, ran.output
    assert "holds 1 CSV file(s) at its top" in ran.output
    assert "'data' (folder data/)" in ran.output
    assert "PASS" not in ran.output
    runs = workspace / "runs"
    assert not runs.exists() or not any(runs.iterdir()), "no run folder was started"


MODEL_SCORER = Path(__file__).parent / "scripts" / "model_scorer.py"


def test_a_model_channel_gets_a_model_trained_in_the_image_cached_for_the_next_run(
    engine: Any, tmp_path: Path
) -> None:
    request = RunRequest(script=str(MODEL_SCORER), workspace=tmp_path / "ws")

    first = run_script(request, engine)

    assert first.status is Status.PASS, first.stderr_tail
    assert first.inputs["model"] == (
        "generated model artifacts (encoders.pkl, feature_columns.txt, xgb_model.bst)"
    )
    assert "scores/scores.csv" in outputs_of(first)
    (entry,) = (tmp_path / "ws" / "data" / "artifacts").iterdir()
    marker = (entry / "done").stat().st_mtime_ns

    second = run_script(request, engine)

    assert second.status is Status.PASS, second.stderr_tail
    assert [path.name for path in (tmp_path / "ws" / "data" / "artifacts").iterdir()] == [
        entry.name
    ]
    assert (entry / "done").stat().st_mtime_ns == marker, "the second run trained nothing"


CANDIDATE_FINDER = Path(__file__).parent / "scripts" / "candidate_finder.py"


def test_split_files_a_helper_looks_for_are_generated_and_an_optional_channel_stays_out(
    engine: Any, tmp_path: Path
) -> None:
    result = run_script(
        RunRequest(
            script=str(CANDIDATE_FINDER),
            overrides=Overrides(arguments={"job_type": "training"}),
            workspace=tmp_path / "ws",
        ),
        engine,
    )

    assert result.status is Status.PASS, result.stderr_tail
    assert set(result.inputs) == {"features"}, "the optional artifacts channel stays out"
    outputs = outputs_of(result)
    assert {f"summary/{split}/summary.csv" for split in ("train", "val", "test")} <= set(outputs)


RULE_LABELLER = Path(__file__).parent / "scripts" / "rule_labeller.py"


def test_a_script_indexing_nested_json_reaches_its_logic_and_passes(
    engine: Any, tmp_path: Path
) -> None:
    result = run_script(RunRequest(script=str(RULE_LABELLER), workspace=tmp_path / "ws"), engine)

    assert result.status is Status.PASS, result.stderr_tail
    assert result.inputs["rules"] == "generated (files: rules.json)"
    assert "labelled/rules_labelled.csv" in outputs_of(result)


TABLE_APPLIER = Path(__file__).parent / "scripts" / "table_applier.py"


def test_a_channel_holding_a_pickled_table_gets_one_and_the_script_passes(
    engine: Any, tmp_path: Path
) -> None:
    result = run_script(
        RunRequest(
            script=str(TABLE_APPLIER),
            overrides=Overrides(arguments={"job_type": "validation"}),
            workspace=tmp_path / "ws",
        ),
        engine,
    )

    assert result.status is Status.PASS, result.stderr_tail
    assert result.inputs["model_artifacts"] == "generated model artifacts (impute_dict.pkl)"
    assert "imputed/rows.csv" in outputs_of(result)
