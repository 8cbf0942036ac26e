"""`sandbox test-pipeline` and `sandbox spec pipeline-schema`: usage errors before Docker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sandbox.cli import cli
from sandbox.engine import Engine

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "pipelines" / "preprocess_train_calibrate.yaml"


@pytest.fixture(autouse=True)
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(cls: type[Engine]) -> Engine:
        raise AssertionError("Engine.connect() was called")

    monkeypatch.setattr(Engine, "connect", classmethod(refuse))
    monkeypatch.setenv("NO_COLOR", "1")


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_pipeline_schema_is_one_json_document() -> None:
    result = _invoke("spec", "pipeline-schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert {"steps", "edges"} <= set(schema["properties"])


def test_the_bundled_example_validates_against_the_schema_fields() -> None:
    from sandbox.pipeline_plan import plan_pipeline

    plan = plan_pipeline(EXAMPLE, Path("scripts"))
    assert plan.order == ["preprocess", "training", "calibration"]


def test_a_bad_pipeline_file_is_one_line_naming_it_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("steps:\n  - {name: a, script: nowhere_to_be_found}\n", encoding="utf-8")
    result = _invoke("test-pipeline", str(path), "--workspace-dir", str(tmp_path / "ws"))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "step a" in lines[0]


def test_from_and_only_together_is_a_usage_error(tmp_path: Path) -> None:
    workspace = str(tmp_path / "ws")
    args = ["--from", "training", "--only", "training", "--workspace-dir", workspace]
    result = _invoke("test-pipeline", str(EXAMPLE), *args)
    assert result.exit_code == 2
    assert "--from and --only cannot be used together" in result.stderr
