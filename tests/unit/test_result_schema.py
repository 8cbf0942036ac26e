"""TestResult schema 2 (sandbox.results.models): the figures live once, in ``execution``;
results of schema 1 (figures copied to the top level) are still read, lossless."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from results_factory import new_workspace

from sandbox.results.models import (
    RESULT_SCHEMA_VERSION,
    ExecutionResult,
    ResourceUsage,
    Status,
    TestResult,
    TimelineSample,
)
from sandbox.results.store import load_results

STARTED = datetime(2026, 11, 29, 12, 0, 0, tzinfo=timezone.utc)
FLAT_KEYS = {
    "execution_time",
    "memory_usage",
    "peak_memory_mb",
    "peak_rss_mb",
    "cpu_user_s",
    "cpu_system_s",
    "wall_time_s",
    "max_cpu_percent",
    "timeline",
    "exit_code",
    "stderr_tail",
    "exit_message",
}


def _execution() -> ExecutionResult:
    usage = ResourceUsage(
        source="supervisor",
        peak_memory_mb=300.0,
        cpu_user_s=1.25,
        wall_time_s=2.5,
        timeline=[TimelineSample(t_s=0.0, memory_mb=10.0, cpu_percent=50.0)],
    )
    return ExecutionResult(
        exit_code=1,
        started_at=STARTED,
        finished_at=STARTED,
        wall_time_s=2.71828,
        image="img:1",
        image_id="sha256:1",
        command=["python3", "prep.py"],
        stderr_tail=["ValueError: boom"],
        exit_message="boom",
        resources=usage,
    )


def _result(**fields: Any) -> TestResult:
    base = {
        "run_id": "20261129-120000-000000-prep-1a2b",
        "script_name": "prep",
        "script_path": "/work/scripts/prep.py",
        "kind": "processing",
        "call_style": "entrypoint",
        "status": Status.FAIL,
        "timestamp": STARTED,
    }
    return TestResult(**{**base, **fields})


def test_the_saved_form_holds_each_figure_once_under_execution() -> None:
    saved = _result(execution=_execution()).to_json_dict()

    assert saved["schema_version"] == RESULT_SCHEMA_VERSION == 2
    assert not FLAT_KEYS & set(saved)
    assert saved["execution"]["resources"]["peak_memory_mb"] == 300.0
    assert saved["execution"]["exit_code"] == 1


def test_the_old_names_read_the_nested_figures() -> None:
    result = _result(execution=_execution())

    assert (result.exit_code, result.stderr_tail, result.exit_message) == (
        1,
        ["ValueError: boom"],
        "boom",
    )
    assert result.peak_memory_mb == result.memory_usage == 300.0
    assert (result.cpu_user_s, result.wall_time_s, result.execution_time) == (1.25, 2.5, 2.718)
    assert result.usage is not None and result.timeline == result.usage.timeline


def test_a_result_that_did_not_run_has_no_execution_and_empty_figures() -> None:
    result = _result(status=Status.SKIPPED, execution_time=0.0, memory_usage=None)

    assert result.execution is None
    assert (result.execution_time, result.exit_code, result.wall_time_s) == (0.0, None, None)
    assert result.timeline == [] and result.stderr_tail == []


def test_a_schema_1_result_json_is_still_listed_with_its_figures(tmp_path: Path) -> None:
    workspace = new_workspace(tmp_path / "ws")
    old = {
        **_result(execution=_execution()).to_json_dict(),
        "schema_version": 1,
        "execution": None,  # a version 1 result of a run whose execution was not kept
        "execution_time": 4.5,
        "memory_usage": 512.0,
        "peak_memory_mb": 512.0,
        "cpu_user_s": 3.0,
        "wall_time_s": 4.0,
        "timeline": [{"t_s": 1.0, "memory_mb": 500.0, "cpu_percent": 99.0}],
        "exit_code": 137,
        "stderr_tail": ["Killed"],
    }
    run_dir = workspace / "runs" / old["run_id"]
    run_dir.mkdir()
    (run_dir / "result.json").write_text(json.dumps(old))

    listing = load_results(workspace)

    (result,) = listing.results
    assert not listing.skipped
    assert (result.exit_code, result.peak_memory_mb, result.cpu_user_s) == (137, 512.0, 3.0)
    assert (result.execution_time, result.wall_time_s, result.stderr_tail) == (4.5, 4.0, ["Killed"])
    assert [sample.memory_mb for sample in result.timeline] == [500.0]
