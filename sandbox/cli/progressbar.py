"""Progress bars that appear only when the work lasts: nothing flickers for quick jobs.

Rendering only; the library reports progress through plain callbacks and the CLI hands
them :meth:`DelayedProgress.update`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

__all__ = ["DelayedProgress"]


class DelayedProgress:
    """One bar per task, shown on ``console`` once the work has lasted ``delay_s``.

    Use as a context manager; call :meth:`update` from the thread doing the work.
    """

    def __init__(
        self,
        console: Console,
        *,
        unit: str = "rows",
        delay_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._console = console
        self._unit = unit
        self._delay_s = delay_s
        self._clock = clock
        self._started_at = clock()
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._latest: dict[str, tuple[int, int]] = {}

    @property
    def shown(self) -> bool:
        """Whether the bars have appeared."""
        return self._progress is not None

    def __enter__(self) -> DelayedProgress:
        self._started_at = self._clock()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, task: str, done: int, total: int) -> None:
        """Record ``done`` of ``total`` for ``task``; draw once the delay has passed."""
        self._latest[task] = (done, total)
        if self._progress is None:
            if self._clock() - self._started_at < self._delay_s:
                return
            self._progress = self._start()
        for name, (name_done, name_total) in self._latest.items():
            if name not in self._tasks:
                self._tasks[name] = self._progress.add_task(name, total=name_total)
            self._progress.update(self._tasks[name], completed=name_done, total=name_total)
        self._latest.clear()

    def _start(self) -> Progress:
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(self._unit),
            TimeElapsedColumn(),
            console=self._console,
            transient=True,
        )
        progress.start()
        return progress
