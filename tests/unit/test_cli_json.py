"""The JSON promise: with ``--output-format json``, stdout holds exactly one JSON document,
errors included, of one shape that ``sandbox spec result-schema`` describes (no Docker)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema  # in the dev install, through moto[server]
import pytest
from click.testing import CliRunner
from pydantic import ValidationError
from results_factory import make_result, new_workspace, store

from sandbox.cli import cli
from sandbox.container.engine import DockerEngine
from sandbox.errors import EngineUnavailableError
from sandbox.results.models import Status
from sandbox.results.output import OutputDocument

JSON = ("--output-format", "json")
KEYS = {"schema_version", "exit_code", "results", "pipeline", "error"}


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


def run_json(args: list[str], exit_code: int, schema: dict[str, Any]) -> tuple[Any, str]:
    """Run ``sandbox ARGS``; its stdout must be one document of the schema's shape.
    Returns the document and stderr."""
    ran = CliRunner().invoke(cli, args)
    assert ran.exit_code == exit_code, ran.output
    document = json.loads(ran.stdout)  # one document, or this raises
    assert document["exit_code"] == exit_code
    _validate(document, schema)
    return document, ran.stderr


def one_document(args: list[str], exit_code: int, schema: dict[str, Any]) -> dict[str, Any]:
    """The document of ``sandbox ARGS``, checked against the schema."""
    return dict(run_json(args, exit_code, schema)[0])


def one_error(args: list[str], exit_code: int, schema: dict[str, Any]) -> dict[str, Any]:
    """Run ``sandbox ARGS``; its stdout must be one error document with ``exit_code``."""
    document, stderr = run_json(args, exit_code, schema)
    assert document["results"] == [] and document["pipeline"] is None
    assert document["error"]["message"] and document["error"]["type"]
    assert document["error"]["message"].split()[0] in stderr
    return dict(document)


def _validate(document: Any, schema: dict[str, Any]) -> None:
    jsonschema.validate(document, schema)
    assert set(schema["required"]) == KEYS == set(document)
    OutputDocument.model_validate(document)


def test_the_schema_is_one_object_shape(schema: dict[str, Any]) -> None:
    assert schema["type"] == "object" and "oneOf" not in schema and "anyOf" not in schema
    assert schema["additionalProperties"] is False
    assert schema["properties"]["results"]["items"] == {"$ref": "#/$defs/TestResult"}
    assert {"TestResult", "PipelineResult", "ErrorInfo"} <= set(schema["$defs"])


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


def test_one_result_and_several_results_have_the_same_shape(
    schema: dict[str, Any], tmp_path: Path
) -> None:
    workspace = new_workspace(tmp_path / "ws")
    store(workspace, make_result("prep"))
    store(workspace, make_result("train", Status.FAIL))
    where = ["--workspace-dir", str(workspace), *JSON]
    shown = one_document(["show-result", "latest", *where], 0, schema)
    listed = one_document(["list-results", *where], 0, schema)
    assert [result["script_name"] for result in shown["results"]] == ["train"]
    assert [result["script_name"] for result in listed["results"]] == ["prep", "train"]
    assert shown["error"] is None and listed["pipeline"] is None
    empty = one_document(
        ["list-results", "--workspace-dir", str(tmp_path / "none"), *JSON], 0, schema
    )
    assert empty["results"] == []


@pytest.mark.parametrize(
    "document",
    [
        {"status": "PASS"},
        [],
        {"schema_version": 1, "exit_code": 0, "results": [], "pipeline": None},
        {
            "schema_version": 1,
            "exit_code": 0,
            "results": [],
            "pipeline": None,
            "error": None,
            "x": 1,
        },
    ],
    ids=["a bare result", "a bare list", "no error key", "an unknown key"],
)
def test_the_schema_refuses_other_shapes(document: Any, schema: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)
    with pytest.raises(ValidationError):
        OutputDocument.model_validate(document)


def test_an_error_and_a_verdict_do_not_mix() -> None:
    error = {"message": "no such script", "type": "UsageError"}
    base = {"schema_version": 1, "results": [], "pipeline": None}
    with pytest.raises(ValidationError, match="exit code is 2, 3 or 130"):
        OutputDocument.model_validate({**base, "exit_code": 0, "error": error})
    with pytest.raises(ValidationError, match="exit code is 2, 3 or 130"):
        OutputDocument.model_validate({**base, "exit_code": 2, "error": None})
