"""Running one container (sandbox.container.execute) against a small hand-written fake engine."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.container import execute
from sandbox.container.execute import run_container
from sandbox.container.seam import ContainerHandle, ContainerRequest, ContainerState
from sandbox.container.transfer import Transfer
from sandbox.errors import InfrastructureError
from tests.fakes import FakeEngine

MIB = 1024 * 1024
REQUEST = ContainerRequest(
    image="img:1",
    entrypoint=["python3", "x.py"],
    command=None,
    environment={},
    mounts=[],
    labels={"sandbox.tool": "sandbox"},
)
SAMPLE: dict[str, Any] = {
    "read": "2026-01-01T00:00:01.004Z",
    "preread": "0001-01-01T00:00:00Z",
    "memory_stats": {"usage": 80 * MIB, "limit": 512 * MIB, "stats": {"total_inactive_file": 0}},
    "cpu_stats": {"cpu_usage": {"total_usage": 10}, "system_cpu_usage": 100, "online_cpus": 2},
    "precpu_stats": {"cpu_usage": {"total_usage": 0}},
}
EMPTY: dict[str, Any] = {
    "read": "0001-01-01T00:00:00Z",
    "preread": "0001-01-01T00:00:00Z",
    "memory_stats": {},
}


class FakeHandle:
    """A started container that exits with ``exit_code`` (``None``: keeps running)."""

    id = "f" * 64

    def __init__(
        self,
        exit_code: int | None = 0,
        *,
        on_signal: dict[str, int] | None = None,
        wait_error: BaseException | None = None,
        stats_error: BaseException | None = None,
        running_waits: int = 0,
        answers: list[bool] | None = None,
        refused_removals: int = 0,
    ) -> None:
        self.answers = answers or []
        """What the engine's next pings answer (then: it answers)."""
        self.refused_removals = refused_removals
        self.exit_code = exit_code
        self.on_signal = on_signal or {}
        self.wait_error = wait_error
        self.stats_error = stats_error
        self.running_waits = running_waits
        self.wait_timeouts: list[float | None] = []
        self.signals: list[str] = []
        self.removed = 0
        self.transfer: Transfer | None = None
        self.copied_back_before_removal: bool | None = None
        self.pushed: list[Path] = []

    def wait(self, timeout_s: float | None) -> int | None:
        self.wait_timeouts.append(timeout_s)
        if self.wait_error is not None:
            raise self.wait_error
        if self.running_waits > 0:
            self.running_waits -= 1
            return None
        if self.exit_code is None:
            time.sleep(min(timeout_s or 0.0, 0.005))
        return self.exit_code

    def signal(self, signal_name: str) -> None:
        self.signals.append(signal_name)
        if signal_name in self.on_signal:
            self.exit_code = self.on_signal[signal_name]

    def state(self) -> ContainerState:
        status = "exited" if self.exit_code is not None else "running"
        return ContainerState(status=status, exit_code=self.exit_code, oom_killed=False, error="")

    def logs(self, *, stdout: bool, stderr: bool) -> Iterator[bytes]:
        return iter([b"out ", b"line\n"] if stdout else [b"err line\n"])

    def stats(self) -> Iterator[dict[str, Any]]:
        if self.stats_error is not None:
            raise self.stats_error
        return iter([SAMPLE, EMPTY, SAMPLE])

    def follow_logs(self) -> Iterator[bytes]:
        return iter([b"hello ", b"world\n"])

    def copy_back(self) -> Transfer | None:
        self.copied_back_before_removal = self.removed == 0
        return self.transfer

    def push(self, host_path: Path) -> None:
        self.pushed.append(host_path)

    def engine_answers(self) -> bool:
        return self.answers.pop(0) if self.answers else True

    def remove(self) -> bool:
        if self.refused_removals > 0:
            self.refused_removals -= 1
            return False
        self.removed += 1
        return True


def _run(handle: FakeHandle, **options: Any) -> execute.ContainerOutcome:
    return run_container(FakeEngine(handles=[handle]), REQUEST, **options)


@pytest.fixture
def fast_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(execute, "STOP_GRACE_S", 0.05)
    monkeypatch.setattr(execute, "_WAIT_CHUNK_S", 0.01)
    monkeypatch.setattr(execute, "_ENGINE_POLL_S", 0.01)


def test_normal_exit(fast_stop: None) -> None:
    handle = FakeHandle(exit_code=3)
    outcome = _run(handle, max_runtime_s=10)
    assert outcome.exit_code == 3
    assert outcome.timed_out is False
    assert outcome.error is None
    assert (outcome.stdout.tail, outcome.stderr.tail) == (["out line"], ["err line"])
    assert outcome.stdout.path is None and outcome.stdout.size_bytes == 9
    assert outcome.state is not None and outcome.state.status == "exited"
    assert outcome.finished_at >= outcome.started_at
    assert handle.signals == []
    assert handle.removed == 1


def test_stats_are_read_until_the_first_empty_sample(fast_stop: None) -> None:
    outcome = _run(FakeHandle(exit_code=0), max_runtime_s=None)
    assert outcome.monitor is not None
    assert [s.memory_mb for s in outcome.monitor.samples] == [80.0]


def test_no_monitor_when_stats_are_not_watched(fast_stop: None) -> None:
    assert _run(FakeHandle(exit_code=0), max_runtime_s=None, watch_stats=False).monitor is None


def test_output_is_followed(fast_stop: None) -> None:
    chunks: list[bytes] = []
    _run(FakeHandle(exit_code=0), max_runtime_s=None, on_output=chunks.append)
    assert b"".join(chunks) == b"hello world\n"


def test_long_waits_are_split_into_chunks(fast_stop: None) -> None:
    handle = FakeHandle(exit_code=0, running_waits=3)
    outcome = _run(handle, max_runtime_s=None)
    assert outcome.exit_code == 0
    assert len(handle.wait_timeouts) == 4
    assert all(t is not None and t <= 0.01 for t in handle.wait_timeouts)


def test_timeout_sends_sigterm_then_sigkill(fast_stop: None) -> None:
    handle = FakeHandle(exit_code=None, on_signal={"SIGKILL": 137})
    started = time.monotonic()
    outcome = _run(handle, max_runtime_s=0.05)
    assert handle.signals == ["SIGTERM", "SIGKILL"]
    assert outcome.timed_out is True
    assert outcome.exit_code == 137
    assert outcome.error is None
    assert handle.removed == 1
    assert time.monotonic() - started < 2.0


def test_timeout_stops_at_sigterm_when_the_script_obeys(fast_stop: None) -> None:
    handle = FakeHandle(exit_code=None, on_signal={"SIGTERM": 143})
    outcome = _run(handle, max_runtime_s=0.03)
    assert handle.signals == ["SIGTERM"]
    assert (outcome.timed_out, outcome.exit_code) == (True, 143)


def test_timeout_with_a_container_that_never_stops(fast_stop: None) -> None:
    handle = FakeHandle(exit_code=None)
    outcome = _run(handle, max_runtime_s=0.02)
    assert handle.signals == ["SIGTERM", "SIGKILL"]
    assert outcome.timed_out is True
    assert outcome.exit_code is None
    assert handle.removed == 1


def test_keyboard_interrupt_removes_the_container_then_propagates(fast_stop: None) -> None:
    handle = FakeHandle(wait_error=KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        _run(handle, max_runtime_s=10)
    assert handle.removed == 1


def test_unexpected_error_removes_the_container(fast_stop: None) -> None:
    handle = FakeHandle(wait_error=RuntimeError("bug"))
    with pytest.raises(RuntimeError, match="bug"):
        _run(handle, max_runtime_s=10)
    assert handle.removed == 1


def test_engine_error_while_waiting_becomes_the_outcomes_error(fast_stop: None) -> None:
    handle = FakeHandle(exit_code=None, wait_error=InfrastructureError("engine went away"))
    outcome = _run(handle, max_runtime_s=10)
    assert outcome.error == "engine went away"
    assert outcome.exit_code is None
    assert outcome.timed_out is False
    assert handle.signals == []
    assert handle.removed == 1


def test_container_is_removed_when_subscribing_to_stats_fails(fast_stop: None) -> None:
    # Everything after engine.start() must sit inside the try/finally that removes it.
    handle = FakeHandle(exit_code=0, stats_error=InfrastructureError("stats refused"))
    with pytest.raises(InfrastructureError):
        _run(handle, max_runtime_s=10)
    assert handle.removed == 1


def test_start_failure_propagates_without_a_handle() -> None:
    class FailingEngine(FakeEngine):
        def start(self, request: ContainerRequest) -> ContainerHandle:
            raise InfrastructureError("cannot create container: no such image")

    with pytest.raises(InfrastructureError, match="no such image"):
        run_container(FailingEngine(), REQUEST, max_runtime_s=1)


def test_a_lost_engine_is_awaited_then_the_container_is_read_and_removed(
    fast_stop: None, tmp_path: Path
) -> None:
    heartbeat = tmp_path / "heartbeat"
    # The engine stops the container (exit 143) and goes away for three pings.
    handle = FakeHandle(exit_code=143, answers=[False, False, False])
    outcome = _run(handle, max_runtime_s=10, heartbeat=heartbeat)
    assert handle.answers == []  # awaited until it answered again
    assert outcome.state is not None and outcome.state.exit_code == 143
    assert handle.removed == 1


def test_a_removal_the_engine_refused_is_retried_once_it_answers(fast_stop: None) -> None:
    handle = FakeHandle(exit_code=0, refused_removals=1)
    # It answers after the wait, then not while the removal fails, then again.
    handle.answers = [True, False, True]
    _run(handle, max_runtime_s=10)
    assert handle.removed == 1 and handle.answers == []


def test_an_engine_that_never_returns_is_awaited_only_so_long(
    fast_stop: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(execute, "ENGINE_RETURN_S", 0.1)
    handle = FakeHandle(exit_code=None, wait_error=InfrastructureError("engine gone"))
    handle.answers = [False] * 1000
    handle.refused_removals = 5
    started = time.monotonic()
    outcome = _run(handle, max_runtime_s=10)
    assert outcome.error == "engine gone"
    assert time.monotonic() - started < 2.0
    assert handle.refused_removals == 4  # one attempt: the next command removes it


def test_logs_are_streamed_whole_to_the_log_folder(fast_stop: None, tmp_path: Path) -> None:
    outcome = _run(FakeHandle(exit_code=0), max_runtime_s=10, log_dir=tmp_path)
    assert (tmp_path / "stdout.log").read_bytes() == b"out line\n"
    assert (tmp_path / "stderr.log").read_bytes() == b"err line\n"
    assert outcome.stderr.path == tmp_path / "stderr.log"
    assert outcome.stderr.write_error is None


def test_the_mask_applies_to_the_log_files_and_tails(fast_stop: None, tmp_path: Path) -> None:
    def hide_err(chunks: Iterable[bytes]) -> Iterator[bytes]:
        return (chunk.replace(b"err", b"***") for chunk in chunks)

    outcome = _run(FakeHandle(exit_code=0), max_runtime_s=10, log_dir=tmp_path, mask=hide_err)
    assert (tmp_path / "stderr.log").read_bytes() == b"*** line\n"
    assert outcome.stderr.tail == ["*** line"]


def test_a_copy_mode_container_is_copied_back_before_it_is_removed(fast_stop: None) -> None:
    handle = FakeHandle(exit_code=0)
    handle.transfer = Transfer(bytes_in=10, seconds_in=0.1, bytes_out=20, seconds_out=0.2)
    outcome = _run(handle, max_runtime_s=None)
    assert outcome.transfer is handle.transfer
    assert handle.copied_back_before_removal is True
    assert handle.removed == 1


def test_the_heartbeat_is_pushed_to_the_container(
    fast_stop: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(execute, "HEARTBEAT_INTERVAL_S", 0.01)
    handle = FakeHandle(exit_code=0, running_waits=1)
    waited = handle.wait

    def slow_wait(timeout_s: float | None) -> int | None:
        time.sleep(0.1)
        return waited(timeout_s)

    monkeypatch.setattr(handle, "wait", slow_wait)
    beat = tmp_path / "heartbeat"
    _run(handle, max_runtime_s=None, heartbeat=beat)
    assert beat in handle.pushed
