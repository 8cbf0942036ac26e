"""Hand-built TestResult objects and run folders for the unit tests of stores and reports."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sandbox.results.models import (
    AppliedLimits,
    ExecutionResult,
    LogFile,
    OutputFile,
    Status,
    TestResult,
    TimelineSample,
)
from sandbox.results.workspace import MARKER_FILE, write_json_atomic

NOW = datetime(2026, 11, 29, 12, 0, 0, tzinfo=timezone.utc)


def run_id_at(when: datetime, script: str) -> str:
    """A run id of the shape :func:`sandbox.results.workspace.new_run_id` makes, at ``when``."""
    return f"{when.strftime('%Y%m%d-%H%M%S-%f')}-{script}-{secrets.token_hex(2)}"


def make_result(
    script: str = "tabular",
    status: Status = Status.PASS,
    *,
    when: datetime = NOW,
    **fields: Any,
) -> TestResult:
    values: dict[str, Any] = {
        "run_id": run_id_at(when, script),
        "script_name": script,
        "script_path": f"/work/scripts/{script}.py",
        "kind": "processing",
        "call_style": "entrypoint",
        "status": status,
        "execution_time": 1.5,
        "memory_usage": 120.0,
        "peak_memory_mb": 120.0,
        "timestamp": when,
        "exit_code": 0 if status is Status.PASS else 1,
        "image": "sandbox/sklearn-1.2:0123456789ab",
        "limits": AppliedLimits(instance_type="ml.m5.large", cpus=2, memory_mb=8192),
        "outputs": {
            "data_output": [OutputFile(channel="data_output", path="a.csv", size_bytes=2048)]
        },
        "timeline": [
            TimelineSample(t_s=0.0, memory_mb=10.0, cpu_percent=None),
            TimelineSample(t_s=1.0, memory_mb=80.0, cpu_percent=95.0),
            TimelineSample(t_s=2.0, memory_mb=120.0, cpu_percent=60.0),
        ],
    }
    if status is not Status.PASS:
        values["error_message"] = "exit code 1: ValueError: boom"
        values["stderr_tail"] = ["Traceback (most recent call last):", "ValueError: boom"]
    values.update(fields)
    return TestResult(**values)


def new_workspace(root: Path) -> Path:
    """An empty workspace, as :meth:`sandbox.results.workspace.Workspace.ensure` leaves it."""
    (root / "runs").mkdir(parents=True)
    (root / MARKER_FILE).write_text("sandbox workspace\n", encoding="utf-8")
    return root


def store(workspace: Path, result: TestResult) -> Path:
    """Save ``result`` in its run folder, as the runner does; return the folder."""
    run_dir = workspace / "runs" / result.run_id
    (run_dir / "outputs").mkdir(parents=True)
    write_json_atomic(run_dir / "result.json", result.to_json_dict())
    return run_dir


def at(minutes_ago: float) -> datetime:
    """A time ``minutes_ago`` before now (cleaning compares with the clock)."""
    return datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)


def cut_tail_result(log_path: str = "/ws/runs/r/stderr.log") -> TestResult:
    """A FAIL whose stderr tail was cut, its whole stderr saved at ``log_path``."""
    tail = ["E" * 1024 + " … [cut: 2.0 MiB line]"] * 50
    execution = ExecutionResult(
        exit_code=1,
        started_at=NOW,
        finished_at=NOW,
        wall_time_s=1.0,
        image="img",
        image_id="sha256:0",
        command=["python3", "x.py"],
        stderr_tail=tail,
        stderr_log=LogFile(path=log_path, size_bytes=50 * (2 * 1024**2 + 1), tail_cut=True),
    )
    return make_result("long_lines", Status.FAIL, execution=execution)
