"""Hostile scripts on the real engine: fork bombs, device nodes, special files, setuid."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from sandbox.contract.resolve import Overrides
from sandbox.results.models import Status, TestResult
from sandbox.runner import RunRequest, run_script

pytestmark = pytest.mark.usefixtures("offline_image")

CAP_MKNOD = 27


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
    # pids.peak is there from Linux 6.1 (cgroup v2) or earlier (v1): when read, within the limit.
    assert usage.peak_pids is None or usage.peak_pids <= 64
    assert result.execution_time < 60


def test_a_root_script_cannot_make_a_device_node(engine: Any, tmp_path: Path) -> None:
    result = run(engine, tmp_path, "mknod_device", as_root=True, run_as=(4321, 4321))
    assert result.status is Status.FAIL
    assert result.error_message is not None
    assert "PermissionError: [Errno 1] Operation not permitted" in result.error_message
    assert not os.path.lexists(Path(result.run_dir) / "outputs" / "result" / "sda")


def test_root_outputs_are_handed_back_safe_to_keep(engine: Any, tmp_path: Path) -> None:
    result = run(engine, tmp_path, "special_files", as_root=True, run_as=(4321, 4321))
    assert result.status is Status.PASS, result.stderr_tail
    outputs = Path(result.run_dir) / "outputs" / "result"
    assert sorted(p.name for p in outputs.iterdir()) == ["shared", "status.txt", "tool"]
    finding = next(f for f in result.findings if "never handed back" in f)
    assert "/opt/ml/processing/output/result/pipe (FIFO)" in finding
    assert "/opt/ml/processing/output/result/sock (socket)" in finding
    tool = (outputs / "tool").lstat()
    assert (tool.st_uid, tool.st_gid) == (4321, 4321)
    assert stat.S_IMODE(tool.st_mode) == 0o775  # written 0o4777
    assert stat.S_IMODE((outputs / "shared").lstat().st_mode) == 0o775  # made 0o777
    status = dict(
        line.split(" ", 1) for line in (outputs / "status.txt").read_text().split("\n") if line
    )
    assert status["uid"] == "0"
    assert status["NoNewPrivs"] == "1"
    assert not int(status["CapEff"], 16) & (1 << CAP_MKNOD)
