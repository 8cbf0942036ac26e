"""Hostile scripts on the real engine: fork bombs, device nodes, special files, setuid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sandbox.resolve import Overrides
from sandbox.results import Status, TestResult
from sandbox.runner import RunRequest, run_script

pytestmark = pytest.mark.usefixtures("offline_image")


def run(engine: Any, tmp_path: Path, script: str, **kwargs: Any) -> TestResult:
    request = RunRequest(
        script=str(Path(__file__).parent / "scripts" / f"{script}.py"),
        workspace=tmp_path / "ws",
        **kwargs,
    )
    return run_script(request, engine)


def test_every_container_runs_under_the_default_pids_limit(engine: Any, tmp_path: Path) -> None:
    result = run(engine, tmp_path, "pids_probe")
    assert result.status is Status.PASS, result.stderr_tail
    assert result.limits.pids_limit == 1024
    probe = Path(result.run_dir) / "outputs" / "probe" / "pids.max"
    assert probe.read_text().strip() == "1024"


def test_a_fork_bomb_stops_at_the_pids_limit_and_says_so(engine: Any, tmp_path: Path) -> None:
    result = run(engine, tmp_path, "fork_bomb", overrides=Overrides(pids_limit=64))
    assert result.status is Status.FAIL, result.stderr_tail
    assert result.limits.pids_limit == 64
    assert result.error_message is not None
    assert result.error_message.startswith("the script hit the process limit (64 pids): ")
    assert "BlockingIOError" in result.error_message
    assert any("--pids-limit" in advice for advice in result.recommendations)
    usage = result.execution.resources if result.execution else None
    assert usage is not None and usage.pids_limit_hits and usage.pids_limit_hits > 0
    assert usage.peak_pids is not None and usage.peak_pids <= 64
    assert result.execution_time < 60
