"""`sandbox test-pipeline` and `sandbox spec pipeline-schema`: usage errors before Docker."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sandbox.cli import cli
from sandbox.container.engine import DockerEngine
from sandbox.results.models import Status
from sandbox.results.pipeline import PipelineResult

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "pipelines" / "preprocess_train_calibrate.yaml"


@pytest.fixture(autouse=True)
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(cls: type[DockerEngine]) -> DockerEngine:
        raise AssertionError("DockerEngine.connect() was called")

    monkeypatch.setattr(DockerEngine, "connect", classmethod(refuse))
    monkeypatch.setenv("NO_COLOR", "1")


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_pipeline_schema_is_one_json_document() -> None:
    result = _invoke("spec", "pipeline-schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert {"steps", "edges"} <= set(schema["properties"])


def test_the_bundled_example_validates_against_the_schema_fields() -> None:
    from sandbox.pipeline.plan import plan_pipeline

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


@pytest.mark.parametrize("option", ["--junit-xml", "--html"])
def test_a_report_path_that_cannot_be_written_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: str
) -> None:
    from sandbox.pipeline import run as pipeline

    monkeypatch.setattr(pipeline, "run_pipeline", lambda request: _passed(tmp_path))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    target = blocker / "report.out"
    result = _invoke("test-pipeline", str(EXAMPLE), option, str(target))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"sandbox: error: cannot write {target}")


def test_report_files_are_written_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sandbox.pipeline import run as pipeline

    monkeypatch.setattr(pipeline, "run_pipeline", lambda request: _passed(tmp_path))
    junit, page = tmp_path / "out" / "p.xml", tmp_path / "out" / "p.html"
    result = _invoke("test-pipeline", str(EXAMPLE), "--junit-xml", str(junit), "--html", str(page))
    assert result.exit_code == 0, result.output
    assert junit.read_text(encoding="utf-8").startswith("<?xml")
    assert "</html>" in page.read_text(encoding="utf-8")
    assert sorted(p.name for p in junit.parent.iterdir()) == ["p.html", "p.xml"]  # no temp left


def _passed(tmp_path: Path) -> PipelineResult:
    now = datetime.now(timezone.utc)
    return PipelineResult(
        pipeline_run_id="20260102-pipe",
        pipeline_name="demo",
        pipeline_file=str(EXAMPLE),
        status=Status.PASS,
        started_at=now,
        finished_at=now,
        wall_time_s=1.0,
        critical_path_s=0.0,
        critical_path=[],
        jobs=1,
        steps=[],
        edges=[],
        run_dir=str(tmp_path / "ws" / "pipelines" / "20260102-pipe"),
    )
