"""The replay and test-pipeline --definition command lines: usage errors before any run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli import cli


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give a PIPELINE_FILE (YAML) or --definition PIPELINE.json (one)"),
        (["p.yaml", "--definition", "p.json"], "give a PIPELINE_FILE (YAML) or --definition"),
        (["p.yaml", "--param", "A=1"], "--param goes with --definition PIPELINE.json"),
        (["p.yaml", "--synthetic"], "--synthetic goes with --definition PIPELINE.json"),
        (["--export"], "give a PIPELINE_FILE (YAML) or --definition PIPELINE.json (one)"),
        (["--definition", "p.json", "--export"], "--export goes with a PIPELINE_FILE, not"),
    ],
)
def test_test_pipeline_takes_one_source_and_definition_options_only_with_one(
    args: list[str], message: str, tmp_path: Path
) -> None:
    run = CliRunner().invoke(cli, ["test-pipeline", *args, "--workspace-dir", str(tmp_path)])
    assert run.exit_code == 2
    assert message in run.output


def test_a_definition_that_is_not_json_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "p.json"
    bad.write_text("{not json")
    run = CliRunner().invoke(
        cli, ["test-pipeline", "--definition", str(bad), "--workspace-dir", str(tmp_path)]
    )
    assert run.exit_code == 2
    assert f"{bad}: not valid JSON" in run.output


def test_replay_of_json_that_is_no_job_names_the_fields(tmp_path: Path) -> None:
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"Pipeline": "x"}))
    run = CliRunner().invoke(cli, ["replay", str(job), "--workspace-dir", str(tmp_path / "ws")])
    assert run.exit_code == 2
    assert "field 'ProcessingJobName' or 'TrainingJobName' missing" in run.output
    assert not (tmp_path / "ws").exists()


def test_replay_of_a_file_that_is_not_json_says_so(tmp_path: Path) -> None:
    job = tmp_path / "job.json"
    job.write_text('{"TrainingJobName": ')
    run = CliRunner().invoke(cli, ["replay", str(job), "--workspace-dir", str(tmp_path / "ws")])
    assert run.exit_code == 2
    assert f"{job}: not valid JSON" in run.output
