"""The JSON promise: with ``--output-format json``, stdout holds exactly one JSON document,
errors included, and that document matches ``sandbox spec result-schema`` (no Docker)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema  # in the dev install, through moto[server]
import pytest
from click.testing import CliRunner
from results_factory import make_result, new_workspace, store

from sandbox.cli import cli
from sandbox.container.engine import DockerEngine
from sandbox.errors import EngineUnavailableError
from sandbox.results.models import Status

JSON = ("--output-format", "json")


@pytest.fixture(autouse=True)
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(cls: type[DockerEngine]) -> DockerEngine:
        raise EngineUnavailableError("no socket in unit tests")

    monkeypatch.setattr(DockerEngine, "connect", classmethod(unavailable))
    monkeypatch.delenv("SANDBOX_WORKSPACE_DIR", raising=False)


@pytest.fixture
def schema() -> dict[str, Any]:
    printed = CliRunner().invoke(cli, ["spec", "result-schema"])
    assert printed.exit_code == 0, printed.output
    return dict(json.loads(printed.stdout))


def one_error(args: list[str], exit_code: int, schema: dict[str, Any]) -> dict[str, Any]:
    """Run ``sandbox ARGS``; its stdout must be one error document with ``exit_code``."""
    ran = CliRunner().invoke(cli, args)
    assert ran.exit_code == exit_code, ran.output
    document = json.loads(ran.stdout)  # one document, or this raises
    assert document["exit_code"] == exit_code
    assert set(document) == {"error", "exit_code"}
    assert document["error"]["message"] and document["error"]["type"]
    assert document["error"]["message"].split()[0] in ran.stderr
    _validate(document, schema)
    return dict(document)


def _validate(document: Any, schema: dict[str, Any]) -> None:
    jsonschema.validate(document, schema)


USAGE_ERRORS = {
    "test-script, a missing script": ["test-script", "no_such_script_anywhere", *JSON],
    "test-script, a bad option value": ["test-script", "x", "--cpus", "many", *JSON],
    "list-results, a bad status": ["list-results", "--status", "MAYBE", *JSON],
    "show-result, an unknown run": ["show-result", "nope", *JSON],
    "show-result, no run id": ["show-result", *JSON],
    "gen-data, no --out": ["gen-data", "tabular_preprocessing", *JSON],
    "test-pipeline, a missing file": ["test-pipeline", "no/such/pipeline.yaml", *JSON],
    "images list, an unknown option": ["images", "list", "--bogus", *JSON],
    "images show, no profile": ["images", "show", *JSON],
}


@pytest.mark.parametrize("args", USAGE_ERRORS.values(), ids=USAGE_ERRORS.keys())
def test_a_usage_error_is_one_json_document_with_exit_code_2(
    args: list[str], schema: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    one_error(args, 2, schema)


def test_no_engine_is_one_json_document_with_exit_code_3(schema: dict[str, Any]) -> None:
    document = one_error(["images", "list", *JSON], 3, schema)
    assert document["error"]["type"] == "EngineUnavailableError"


def test_an_interrupt_is_one_json_document_with_exit_code_130(
    schema: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("sandbox.results.store.find_result", interrupted)
    one_error(["show-result", "latest", *JSON], 130, schema)


def test_text_output_keeps_stdout_free_of_json_on_errors() -> None:
    ran = CliRunner().invoke(cli, ["show-result", "nope"])
    assert ran.exit_code == 2 and ran.stdout == ""


def test_a_result_and_a_list_of_results_match_the_schema(
    schema: dict[str, Any], tmp_path: Path
) -> None:
    workspace = new_workspace(tmp_path / "ws")
    store(workspace, make_result("prep"))
    store(workspace, make_result("train", Status.FAIL))
    where = ["--workspace-dir", str(workspace), *JSON]
    shown = CliRunner().invoke(cli, ["show-result", "latest", *where])
    listed = CliRunner().invoke(cli, ["list-results", *where])
    assert json.loads(shown.stdout)["script_name"] == "train"
    assert len(json.loads(listed.stdout)) == 2
    _validate(json.loads(shown.stdout), schema)
    _validate(json.loads(listed.stdout), schema)
    with pytest.raises(jsonschema.ValidationError):
        _validate({"status": "PASS"}, schema)
