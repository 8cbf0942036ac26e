"""Run one container to completion: start, watch, stop on time, collect, always remove."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sandbox.constants import STDERR_LOG_FILE, STDOUT_LOG_FILE
from sandbox.container.logs import CapturedLog, capture
from sandbox.container.monitor import StatsMonitor
from sandbox.container.seam import ContainerHandle, ContainerRequest, ContainerState, Engine
from sandbox.container.transfer import Transfer
from sandbox.errors import InfrastructureError

__all__ = ["ContainerOutcome", "run_container"]

logger = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_S = 1.0
"""How often a waiting controller touches its heartbeat file."""
STOP_GRACE_S = 5.0
"""Between SIGTERM and SIGKILL when the maximum runtime is reached."""
_WAIT_CHUNK_S = 30.0
"""A wait longer than this is split, so that a stalled engine is noticed."""
ENGINE_RETURN_S = 15.0
"""How long a controller that lost the engine (a restart) waits for it to answer again,
to read what the container left and remove it."""
_ENGINE_POLL_S = 0.5


@dataclass(frozen=True)
class ContainerOutcome:
    """What happened to the container, read before it was removed."""

    exit_code: int | None
    state: ContainerState | None
    timed_out: bool
    started_at: datetime
    finished_at: datetime
    wall_time_s: float
    stdout: CapturedLog
    stderr: CapturedLog
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
    log_dir: Path | None = None,
    mask: Callable[[Iterable[bytes]], Iterable[bytes]] | None = None,
) -> ContainerOutcome:
    """Run ``request`` and return its outcome; the container is removed on every path.

    ``heartbeat``: a file touched while this controller waits, which the supervisor in
    the container watches, so that the job stops if this process dies.
    ``log_dir``: where ``stdout.log`` and ``stderr.log`` are streamed whole; only
    their tails are kept in memory.
    ``mask``: applied to each stream before it is written or its tail kept (e.g.
    :meth:`sandbox.results.masking.Masker.chunks`, so that no secret value is stored).

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
    engine_lost = False
    try:
        if watch_stats:
            monitor = StatsMonitor(handle.stats(), started).start()
        follower = _follow(handle, on_output) if on_output else None
        exit_code, timed_out, error = _wait(handle, max_runtime_s)
        wall_time_s = time.monotonic() - started
        if not handle.engine_answers():
            # The engine stopped or restarts: nothing here can stop the job now, so the
            # silent heartbeat lets the supervisor do it; what it left is read (and the
            # container removed) once the engine answers again.
            engine_lost = True
            if beating is not None:
                beating.stop()
            _await_engine(handle, ENGINE_RETURN_S)
        state = _state(handle)
        keep = mask or (lambda chunks: chunks)
        stdout = capture(
            keep(handle.logs(stdout=True, stderr=False)), _log(log_dir, STDOUT_LOG_FILE)
        )
        stderr = capture(
            keep(handle.logs(stdout=False, stderr=True)), _log(log_dir, STDERR_LOG_FILE)
        )
        if follower is not None:
            follower.join(timeout=1.0)
        # Before the removal: the outputs of a copy-mode container exist only in it.
        transfer = handle.copy_back()
    finally:
        if beating is not None:
            beating.stop()
        if not handle.remove() and not engine_lost and _await_engine(handle, ENGINE_RETURN_S):
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


def _log(log_dir: Path | None, name: str) -> Path | None:
    return None if log_dir is None else log_dir / name


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


def _await_engine(handle: ContainerHandle, timeout_s: float) -> bool:
    """Whether the engine answers within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not handle.engine_answers():
        if time.monotonic() >= deadline:
            logger.warning("the Docker engine did not answer again within %.0f s", timeout_s)
            return False
        time.sleep(_ENGINE_POLL_S)
    return True


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
