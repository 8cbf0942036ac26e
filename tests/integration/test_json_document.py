"""Stdout of every command that prints verdicts, piped into ``json.loads``, is one document
of the shape ``sandbox spec result-schema`` prints: one script, several, a pipeline, the
stored runs, a usage error and an engine error alike."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema  # in the dev install, through moto[server]
import pytest

from sandbox.results.output import OutputDocument

SCRIPTS = Path(__file__).resolve().parent / "scripts"
PIPELINE = SCRIPTS / "pipeline" / "broken_edge.yaml"


def sandbox_json(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """``python -m sandbox ARGS --output-format json``: its exit code and stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "sandbox", *args, "--output-format", "json"],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        timeout=600,
        check=False,
    )
    return done.returncode, done.stdout


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    printed = subprocess.run(
        [sys.executable, "-m", "sandbox", "spec", "result-schema"],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(printed.stdout))


def document_of(args: list[str], exit_code: int, schema: dict[str, Any], **env: str) -> Any:
    code, stdout = sandbox_json(*args, env=env)
    assert code == exit_code, stdout
    document = json.loads(stdout)
    jsonschema.validate(document, schema)
    assert set(document) == set(schema["required"])
    OutputDocument.model_validate(document)
    assert document["exit_code"] == exit_code
    return document


def test_every_command_prints_one_document_of_one_shape(
    engine: object, schema: dict[str, Any], tmp_path: Path
) -> None:
    ws = ["--workspace-dir", str(tmp_path / "ws")]
    one = document_of(["test-script", str(SCRIPTS / "pids_probe.py"), *ws], 0, schema)
    several = document_of(
        ["test-script", str(SCRIPTS / "fails.py"), str(SCRIPTS / "pids_probe.py"), *ws], 1, schema
    )
    pipeline = document_of(["test-pipeline", str(PIPELINE), *ws], 1, schema)
    listed = document_of(["list-results", *ws], 0, schema)
    shown = document_of(["show-result", "latest", *ws], 0, schema)
    usage = document_of(["test-script", "no_such_script_anywhere", *ws], 2, schema)
    no_engine = document_of(
        ["test-script", str(SCRIPTS / "pids_probe.py"), *ws],
        3,
        schema,
        DOCKER_HOST="unix:///nonexistent/docker.sock",
    )

    assert [r["status"] for r in one["results"]] == ["PASS"] and one["error"] is None
    assert [r["script_name"] for r in several["results"]] == ["fails", "pids_probe"]
    assert [r["status"] for r in several["results"]] == ["FAIL", "PASS"]
    assert pipeline["results"] == [] and pipeline["pipeline"]["status"] == "FAIL"
    assert len(listed["results"]) == 3 + len(pipeline["pipeline"]["steps"]) - 1  # one skipped
    assert [r["run_id"] for r in shown["results"]] == [listed["results"][-1]["run_id"]]
    assert usage["error"]["type"] == "ScriptNotFoundError" and usage["results"] == []
    assert no_engine["error"]["type"] == "EngineUnavailableError"
    assert "nonexistent" in no_engine["error"]["message"]
