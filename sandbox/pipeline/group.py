"""The runs that one controller (a batch, a pipeline run) starts, so that Ctrl-C stops
exactly those and returns at once.

Every run of a group carries the group's label (``sandbox.batch=<id>``,
``sandbox.pipeline-run=<id>``) on its container and shares one cancel event. A run
passes the group's start gate in the runner's ``before_start`` hook, right before its
container starts. On Ctrl-C, :meth:`RunGroup.stop` sets the event under
the gate's lock: a run that has not passed the gate never starts a container (the
runner, or the gate itself, raises :class:`~sandbox.errors.RunCancelled`); the group's
containers are removed until every run that had passed the gate has returned; a run
whose container was removed is stored as ERROR "interrupted". A run still generating or
downloading its data is not waited for: the group's threads are daemons, so the process
exits without it, and it would start nothing anyway. (Worker threads that such a run
started itself, e.g. for a download of several S3 objects, are still joined at exit.)

Runs of other processes on the same workspace carry another label and are never touched.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, wait
from pathlib import Path
from typing import Any, TypeVar

from sandbox.constants import BATCH_LABEL, PIPELINE_RUN_LABEL
from sandbox.container.seam import Engine
from sandbox.errors import RunCancelled
from sandbox.results.models import Status, TestResult
from sandbox.results.store import save_result
from sandbox.runner import RunRequest

__all__ = [
    "BATCH_LABEL",
    "INTERRUPTED_REASON",
    "PIPELINE_RUN_LABEL",
    "RunGroup",
    "wait_interruptibly",
]

logger = logging.getLogger(__name__)

INTERRUPTED_REASON = (
    "interrupted (Ctrl-C, SIGTERM or SIGHUP): the container was stopped and removed"
)

_POLL_S = 0.2
_STOP_LIMIT_S = 30.0
"""Runs whose container is gone return within a second or two; never wait forever."""

T = TypeVar("T")


def wait_interruptibly(futures: Iterable[Future[Any]], *, first: bool = False) -> set[Future[Any]]:
    """The done ones among ``futures``, once all of them (with ``first``, any) are done.

    It waits in short slices: CPython acts on a signal in the main thread only, when that
    thread runs Python code. When the kernel hands SIGINT to another thread, a wait
    without a timeout would sleep through Ctrl-C until every run had ended by itself.
    """
    pending = list(futures)
    return_when = FIRST_COMPLETED if first else ALL_COMPLETED
    while True:
        done, not_done = wait(pending, timeout=_POLL_S, return_when=return_when)
        if not not_done or (first and done):
            return done


class RunGroup:
    """One controller's runs: a label, a cancel event, a start gate and daemon threads.

    Args:
        label_key: the container label naming the group, e.g. :data:`BATCH_LABEL`.
        jobs: at most this many runs at once.
    """

    def __init__(self, label_key: str, jobs: int) -> None:
        self.group_id = uuid.uuid4().hex[:12]
        self.label = f"{label_key}={self.group_id}"
        self._labels = {label_key: self.group_id}
        self.cancel = threading.Event()
        self._lock = threading.Lock()
        self._started: set[Hashable] = set()
        self._futures: dict[Hashable, Future[Any]] = {}
        self._in_flight: list[Future[Any]] | None = None
        self._pool = _DaemonPool(jobs, thread_name_prefix=label_key.replace(".", "-"))

    def submit(self, key: Hashable, work: Callable[[], T]) -> Future[T]:
        """Run ``work`` on one of the group's threads; ``key`` names the run in the group."""
        future: Future[T] = Future()
        self._futures[key] = future  # before a thread can take it: stop() looks it up
        self._pool.run(future, work)
        return future

    def request(self, key: Hashable, request: RunRequest) -> RunRequest:
        """``request`` with the group's label and cancel event, and its start gated."""

        def gate() -> None:
            # Under the lock that stop() takes to set the event: every run is either
            # started (and its container will be removed) or never starts one.
            with self._lock:
                if self.cancel.is_set():
                    raise RunCancelled(Path(request.script).stem)
                self._started.add(key)

        return dataclasses.replace(
            request,
            labels={**request.labels, **self._labels},
            cancel=self.cancel,
            before_start=gate,
        )

    def finish(self, key: Hashable, result: TestResult) -> TestResult:
        """The result of run ``key``: stored as ERROR "interrupted" when the group was
        stopped while its container ran and it did not pass."""
        with self._lock:
            was_running = key in self._started
            self._started.discard(key)
            interrupted = was_running and self.cancel.is_set()
        # Only a run whose container the stop removed (killed: 137, or the engine gone);
        # one that had already ended on its own keeps its own verdict.
        removed = result.exit_code in (None, 137) and result.status is not Status.OOM
        if not interrupted or result.is_successful() or not removed:
            return result
        marked = result.model_copy(
            update={"status": Status.ERROR, "error_message": INTERRUPTED_REASON}
        )
        return save_result(marked)

    def stop(self, engine: Engine) -> None:
        """Cancel the runs not started, and remove the group's containers until every run
        whose container started has returned. A second Ctrl-C does not cut this short."""
        deadline = time.monotonic() + _STOP_LIMIT_S
        while True:
            try:
                in_flight = self._cancel()
                self._sweep(engine)
                if not wait(in_flight, timeout=_POLL_S).not_done:
                    return
                if time.monotonic() > deadline:
                    logger.warning("%s: runs still not returned; giving up waiting", self.label)
                    return
            except KeyboardInterrupt:
                logger.warning("interrupted again: still removing the containers of %s", self.label)

    def shutdown(self) -> None:
        """Let the (idle) threads end; runs not started yet are cancelled."""
        self._pool.shutdown()

    def _cancel(self) -> list[Future[Any]]:
        with self._lock:
            self.cancel.set()
            if self._in_flight is None:
                futures = (self._futures.get(key) for key in self._started)
                self._in_flight = [future for future in futures if future is not None]
        self._pool.cancel_pending()
        return self._in_flight

    def _sweep(self, engine: Engine) -> None:
        try:
            removed = engine.remove_labelled(self.label)
        except Exception as exc:  # an engine gone away must not hide the interrupt
            logger.warning("could not remove the containers of %s: %s", self.label, str(exc))
            return
        if removed:
            logger.info("interrupted: removed %d container(s) of %s", removed, self.label)


class _DaemonPool:
    """A first-in first-out thread pool whose threads are daemons.

    The standard ``ThreadPoolExecutor`` joins its threads when the interpreter exits, so
    an interrupted command would wait for a run that is still generating its data.
    """

    def __init__(self, max_workers: int, *, thread_name_prefix: str) -> None:
        self._max_workers = max(max_workers, 1)
        self._prefix = thread_name_prefix
        self._queue: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = (
            queue.SimpleQueue()
        )
        self._pending: list[Future[Any]] = []
        self._threads: list[threading.Thread] = []

    def run(self, future: Future[T], work: Callable[[], T]) -> None:
        """Run ``work`` on a pool thread, its outcome going to ``future``."""
        self._pending.append(future)
        self._queue.put((future, work))
        if len(self._threads) < self._max_workers:
            name = f"{self._prefix}-{len(self._threads)}"
            thread = threading.Thread(target=self._work, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def cancel_pending(self) -> None:
        for future in self._pending:
            future.cancel()  # only those no thread has taken yet

    def shutdown(self) -> None:
        self.cancel_pending()
        for _thread in self._threads:
            self._queue.put(None)

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            future, work = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = work()
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)
