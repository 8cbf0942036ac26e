"""Pipeline reports (sandbox.report.pipeline): JUnit parsed back, HTML self-contained."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

from junitparser import Error, Failure, JUnitXml, Skipped
from rich.console import Console

from sandbox.report.pipeline import render_html, render_json, render_junit, render_text
from sandbox.results.models import Status, TestResult, TimelineSample
from sandbox.results.pipeline import EdgeCheck, PipelineResult, StepResult

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def _step(name: str, status: Status, reason: str | None = None, time_s: float = 1.0) -> StepResult:
    result = TestResult(
        run_id=f"run-{name}",
        script_name=f"{name}_script",
        script_path=f"/x/{name}_script.py",
        kind="processing",
        call_style="entrypoint",
        status=status,
        execution_time=time_s,
        memory_usage=None,
        peak_memory_mb=42.0 if status is Status.PASS else None,
        error_message=reason,
        stderr_tail=["Traceback (most recent call last):", "ValueError: <bad> & worse"],
        timeline=[TimelineSample(t_s=0.0, memory_mb=10.0), TimelineSample(t_s=1.0, memory_mb=40.0)],
        run_dir=f"/ws/runs/run-{name}" if status is not Status.SKIPPED else "",
    )
    return StepResult(
        name=name,
        status=status,
        run_dir=result.run_dir,
        wall_time_s=time_s,
        peak_memory_mb=result.peak_memory_mb,
        result=result,
    )


def _edge(source: str, target: str, status: Status, message: str) -> EdgeCheck:
    return EdgeCheck.model_validate(
        {"from": source, "to": target, "status": status, "message": message}
    )


def _result() -> PipelineResult:
    return PipelineResult(
        pipeline_run_id="20260102-pipe",
        pipeline_name="demo",
        pipeline_file="/x/demo.yaml",
        status=Status.FAIL,
        started_at=NOW,
        finished_at=NOW,
        wall_time_s=4.5,
        critical_path_s=3.0,
        critical_path=["pre", "train"],
        steps=[
            _step("pre", Status.PASS, time_s=2.0),
            _step("train", Status.FAIL, "script exited with code 1"),
            _step("calib", Status.SKIPPED, "upstream step train ended FAIL"),
            _step("side", Status.ERROR, "image 'nope:1' is not present"),
            _step("post", Status.SKIPPED, "data-flow check failed"),
        ],
        edges=[
            _edge("pre.out/train", "train.train", Status.PASS, "1 *.csv file(s)"),
            _edge("train.output_data", "calib.eval_data", Status.SKIPPED, "not checked"),
            _edge("pre.out", "post.data", Status.FAIL, "no *.parquet file (found: a.csv)"),
        ],
        run_dir="/ws/pipelines/20260102-pipe",
    )


def test_junit_has_one_testcase_per_step_and_per_edge() -> None:
    xml = JUnitXml.fromstring(render_junit(_result()))
    suites = list(xml)
    assert len(suites) == 1
    suite = suites[0]
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (8, 2, 1, 3)
    cases = {(case.classname, case.name): case for case in suite}
    assert set(cases) == {
        ("demo.steps", "pre"),
        ("demo.steps", "train"),
        ("demo.steps", "calib"),
        ("demo.steps", "side"),
        ("demo.steps", "post"),
        ("demo.edges", "pre.out/train -> train.train"),
        ("demo.edges", "train.output_data -> calib.eval_data"),
        ("demo.edges", "pre.out -> post.data"),
    }
    assert cases[("demo.steps", "pre")].is_passed
    assert cases[("demo.steps", "pre")].time == 2.0
    failure = cases[("demo.steps", "train")].result[0]
    assert isinstance(failure, Failure) and failure.type == "FAIL"
    assert "ValueError: <bad> & worse" in (failure.text or "")
    assert isinstance(cases[("demo.steps", "side")].result[0], Error)
    skipped = cases[("demo.steps", "calib")].result[0]
    assert isinstance(skipped, Skipped) and skipped.message == "upstream step train ended FAIL"
    edge_failure = cases[("demo.edges", "pre.out -> post.data")].result[0]
    assert isinstance(edge_failure, Failure)
    assert edge_failure.message == "no *.parquet file (found: a.csv)"


def test_html_is_self_contained_with_a_coloured_node_per_step() -> None:
    page = render_html(_result())
    assert "<script" not in page and "http://" not in page.replace(
        "xmlns='http://www.w3.org/2000/svg'", ""
    )
    assert "https://" not in page and "<link" not in page
    start, end = page.index("<svg xmlns"), page.index("</svg>", page.index("<svg xmlns"))
    svg = ET.fromstring(page[start : end + len("</svg>")])
    nodes = svg.findall("{http://www.w3.org/2000/svg}g[@class='step']")
    assert {node.get("data-status") for node in nodes} == {"PASS", "FAIL", "SKIPPED", "ERROR"}
    assert len(nodes) == 5
    assert len(svg.findall("{http://www.w3.org/2000/svg}g[@class='edge']")) == 3
    assert "ValueError: &lt;bad&gt; &amp; worse" in page
    assert "42.0 MiB" in page and "polyline" in page


def test_json_is_one_document_with_edges_keyed_from_and_to() -> None:
    document = json.loads(render_json(_result()))
    assert document["schema_version"] == 1
    assert document["edges"][2] == {
        "from": "pre.out",
        "to": "post.data",
        "status": "FAIL",
        "message": "no *.parquet file (found: a.csv)",
    }
    again = PipelineResult.model_validate(document)
    assert again.edge("pre.out -> post.data").status is Status.FAIL


def test_text_names_each_step_and_the_critical_path() -> None:
    stream = io.StringIO()
    render_text(_result(), Console(file=stream, width=200, no_color=True))
    text = stream.getvalue()
    assert text.startswith("FAIL pipeline demo: 5 step(s), 3 edge(s)")
    assert "upstream step train ended FAIL" in text
    assert "critical path: 3.00 s (pre -> train)" in text
