"""Pipelines end to end, on the real engine with the offline image."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sandbox.pipeline import PipelineRequest, run_pipeline
from sandbox.pipeline_results import PipelineResult
from sandbox.results import Status

pytestmark = pytest.mark.usefixtures("offline_image")

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "pipelines" / "preprocess_train_calibrate.yaml"
PIPELINES = Path(__file__).resolve().parent / "scripts" / "pipeline"


def run(engine: Any, tmp_path: Path, pipeline: Path, **kwargs: Any) -> PipelineResult:
    request = PipelineRequest(pipeline_file=pipeline, workspace=tmp_path / "ws", **kwargs)
    return run_pipeline(request, engine)


def test_example_pipeline_passes_with_each_output_feeding_the_next_step(
    engine: Any, tmp_path: Path
) -> None:
    result = run(engine, tmp_path, EXAMPLE)
    assert result.status is Status.PASS, [(s.name, s.reason) for s in result.steps]
    assert [s.name for s in result.steps] == ["preprocess", "training", "calibration"]
    assert all(edge.status is Status.PASS for edge in result.edges)
    preprocess, training, calibration = result.steps
    fed = Path(preprocess.run_dir) / "outputs" / "data_output" / "train"
    assert training.result.inputs["train"] == f"folder {fed}"
    metrics = Path(calibration.run_dir) / "outputs" / "metrics_output"
    assert json.loads((metrics / "calibration_metrics.json").read_text())["num_samples"] > 0
    assert result.critical_path == ["preprocess", "training", "calibration"]
    assert result.critical_path_s == pytest.approx(sum(s.wall_time_s for s in result.steps))
    assert all(step.peak_memory_mb for step in result.steps)
    saved = json.loads((Path(result.run_dir) / "pipeline_result.json").read_text())
    assert saved["status"] == "PASS" and saved["edges"][0]["from"] == "preprocess.data_output/train"

    # --only reruns one step on the outputs of the latest run, and says so.
    again = run(engine, tmp_path, EXAMPLE, only_step="calibration")
    assert again.status is Status.PASS
    assert again.step("training").reused_from == result.pipeline_run_id
    assert again.step("training").run_dir == training.run_dir
    rerun = again.step("calibration")
    assert rerun.selected and rerun.run_dir != calibration.run_dir
    fed_model = Path(training.run_dir) / "outputs" / "output_data"
    assert rerun.result.inputs["eval_data"] == f"folder {fed_model}"


def test_broken_edge_is_caught_before_the_downstream_step_runs(engine: Any, tmp_path: Path) -> None:
    result = run(engine, tmp_path, PIPELINES / "broken_edge.yaml")
    assert result.status is Status.FAIL
    assert result.step("produce").status is Status.PASS
    consume = result.step("consume")
    assert consume.status is Status.SKIPPED and consume.run_dir == ""
    edge = result.edge("produce.table -> consume.table")
    assert edge.status is Status.FAIL
    assert edge.message == "no *.parquet file (found: part.csv)"
    assert "produce.table -> consume.table: no *.parquet file" in (consume.reason or "")
    assert not list((tmp_path / "ws" / "runs").glob("*read_parquet*"))


def test_upstream_failure_skips_its_descendants_but_not_an_independent_branch(
    engine: Any, tmp_path: Path
) -> None:
    result = run(engine, tmp_path, PIPELINES / "upstream_failure.yaml", jobs=2)
    assert result.status is Status.FAIL
    assert result.step("broken").status is Status.FAIL
    assert result.step("broken").result.exit_code == 3
    for name in ("relay", "last"):
        step = result.step(name)
        assert step.status is Status.SKIPPED
        assert "upstream step broken ended FAIL" in (step.reason or "")
    assert result.step("independent").status is Status.PASS
    assert {edge.status for edge in result.edges} == {Status.SKIPPED}


def test_independent_steps_overlap_in_time_with_two_jobs(engine: Any, tmp_path: Path) -> None:
    result = run(engine, tmp_path, PIPELINES / "parallel.yaml", jobs=2)
    assert result.status is Status.PASS
    left, right = (result.step(name).result.execution for name in ("left", "right"))
    assert left is not None and right is not None
    assert left.started_at < right.finished_at and right.started_at < left.finished_at
    assert result.wall_time_s < left.wall_time_s + right.wall_time_s
    assert result.critical_path_s == pytest.approx(max(left.wall_time_s, right.wall_time_s), 0.01)


def test_cli_writes_json_junit_and_html_and_exits_1_on_a_broken_edge(
    engine: Any, tmp_path: Path
) -> None:
    from click.testing import CliRunner
    from junitparser import Failure, JUnitXml, Skipped

    from sandbox.cli import cli

    junit, page = tmp_path / "pipeline.xml", tmp_path / "pipeline.html"
    args = ["test-pipeline", str(PIPELINES / "broken_edge.yaml"), "--output-format", "json"]
    args += ["--workspace-dir", str(tmp_path / "ws"), "--junit-xml", str(junit)]
    args += ["--html", str(page)]
    outcome = CliRunner().invoke(cli, args)
    assert outcome.exit_code == 1, outcome.output
    document = json.loads(outcome.stdout)
    assert document["status"] == "FAIL" and document["edges"][0]["status"] == "FAIL"
    cases = {case.name: case for suite in JUnitXml.fromfile(str(junit)) for case in suite}
    assert cases["produce"].is_passed
    assert isinstance(cases["consume"].result[0], Skipped)
    assert isinstance(cases["produce.table -> consume.table"].result[0], Failure)
    assert "data-status='SKIPPED'" in page.read_text(encoding="utf-8")
