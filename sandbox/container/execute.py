"""Run one container to completion: start, watch, stop on time, collect, always remove."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sandbox.container.engine import ContainerHandle, ContainerRequest, ContainerState, Engine
from sandbox.container.monitor import StatsMonitor
from sandbox.container.transfer import Transfer
from sandbox.errors import InfrastructureError

__all__ = ["ContainerOutcome", "run_container"]

logger = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_S = 2.0
"""How often a waiting controller touches its heartbeat file."""
STOP_GRACE_S = 5.0
"""Between SIGTERM and SIGKILL when the maximum runtime is reached."""
_WAIT_CHUNK_S = 30.0
"""A wait longer than this is split, so that a stalled engine is noticed."""


@dataclass(frozen=True)
class ContainerOutcome:
    """What happened to the container, read before it was removed."""

    exit_code: int | None
    state: ContainerState | None
    timed_out: bool
    started_at: datetime
    finished_at: datetime
    wall_time_s: float
    stdout: str
    stderr: str
    monitor: StatsMonitor | None
    error: str | None = None
    transfer: Transfer | None = None
    """What copying the job's folders in and out cost (engines without this machine's
    files); ``None`` with bind mounts."""


def run_container(
    engine: Engine,
    request: ContainerRequest,
    *,
    max_runtime_s: float | None,
    on_output: Callable[[bytes], None] | None = None,
    watch_stats: bool = True,
    heartbeat: Path | None = None,
) -> ContainerOutcome:
    """Run ``request`` and return its outcome; the container is removed on every path.

    ``heartbeat``: a file touched while this controller waits, which the supervisor in
    the container watches, so that the job stops if this process dies.

    Raises:
        InfrastructureError: the container could not be created or started.
        KeyboardInterrupt: after the container was removed.
    """
    started_at = datetime.now(timezone.utc)
    if heartbeat is not None:
        heartbeat.touch(mode=0o600)  # fresh before the supervisor first looks
    handle = engine.start(request)
    beating = _Heartbeat(heartbeat, handle) if heartbeat is not None else None
    started = time.monotonic()
    monitor: StatsMonitor | None = None
    try:
        if watch_stats:
            monitor = StatsMonitor(handle.stats(), started).start()
        follower = _follow(handle, on_output) if on_output else None
        exit_code, timed_out, error = _wait(handle, max_runtime_s)
        wall_time_s = time.monotonic() - started
        state = _state(handle)
        stdout = handle.logs(stdout=True, stderr=False)
        stderr = handle.logs(stdout=False, stderr=True)
        if follower is not None:
            follower.join(timeout=1.0)
        # Before the removal: the outputs of a copy-mode container exist only in it.
        transfer = handle.copy_back()
    finally:
        if beating is not None:
            beating.stop()
        handle.remove()
        if monitor is not None:
            monitor.join()
    return ContainerOutcome(
        exit_code=exit_code if exit_code is not None else (state.exit_code if state else None),
        state=state,
        timed_out=timed_out,
        started_at=started_at,
        finished_at=datetime.now(timezone.utc),
        wall_time_s=wall_time_s,
        stdout=stdout,
        stderr=stderr,
        monitor=monitor,
        error=error,
        transfer=transfer,
    )


class _Heartbeat:
    """Touches a file every few seconds on a daemon thread until stopped."""

    def __init__(self, path: Path, handle: ContainerHandle) -> None:
        self._path = path
        self._handle = handle
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="sandbox-heartbeat", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stopped.wait(HEARTBEAT_INTERVAL_S):
            try:
                self._path.touch()
                self._handle.push(self._path)
            except OSError as exc:  # keep trying: a silent heartbeat stops the job
                logger.warning("heartbeat not written: %s", str(exc))

    def stop(self) -> None:
        self._stopped.set()


def _wait(
    handle: ContainerHandle, max_runtime_s: float | None
) -> tuple[int | None, bool, str | None]:
    """Return ``(exit_code, timed_out, engine_error)``."""
    try:
        code = _wait_until(handle, max_runtime_s)
        if code is not None:
            return code, False, None
        logger.info("maximum runtime of %s s reached: SIGTERM, then SIGKILL", max_runtime_s)
        handle.signal("SIGTERM")
        code = _wait_until(handle, STOP_GRACE_S)
        if code is None:
            handle.signal("SIGKILL")
            code = _wait_until(handle, STOP_GRACE_S)
        return code, True, None
    except InfrastructureError as exc:
        return None, False, str(exc)


def _wait_until(handle: ContainerHandle, timeout_s: float | None) -> int | None:
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        remaining = _WAIT_CHUNK_S if deadline is None else deadline - time.monotonic()
        if remaining <= 0:
            return None
        code = handle.wait(min(remaining, _WAIT_CHUNK_S))
        if code is not None:
            return code


def _state(handle: ContainerHandle) -> ContainerState | None:
    try:
        return handle.state()
    except InfrastructureError as exc:
        logger.warning("%s", str(exc))
        return None


def _follow(handle: ContainerHandle, on_output: Callable[[bytes], None]) -> threading.Thread:
    def pump() -> None:
        try:
            for chunk in handle.follow_logs():
                on_output(chunk)
        except Exception as exc:  # the stream breaks when the container goes away
            logger.debug("log stream ended: %s", str(exc))

    thread = threading.Thread(target=pump, name="sandbox-logs", daemon=True)
    thread.start()
    return thread
