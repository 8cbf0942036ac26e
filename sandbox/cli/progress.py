"""Live progress of a batch on a rich console (stderr), and live container output.

On a terminal, the images being prepared and the runs in flight are shown as spinner
lines that update in place; each finished step prints one permanent line above them.
Elsewhere (CI logs, pipes) only the permanent lines are printed, without colour.
"""

from __future__ import annotations

import threading
from types import TracebackType

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

from sandbox.pipeline.batch import BatchObserver
from sandbox.report.text import render_verdict
from sandbox.results.models import TestResult
from sandbox.results.printable import printable, printable_markup

__all__ = ["LineStreamer", "ProgressDisplay"]

_LINE_CHARS = 100
_PENDING_BYTES = 64 * 1024


class LineStreamer:
    """Turns chunks of container output into whole lines printed on ``console``.

    Args:
        console: where the lines go (stderr).
        prefix: put before each line, e.g. ``"[script] "`` when several runs interleave.
    """

    def __init__(self, console: Console, prefix: str = "") -> None:
        self._console = console
        self._prefix = prefix
        self._pending = b""
        self._lock = threading.Lock()

    def __call__(self, chunk: bytes) -> None:
        with self._lock:
            self._pending += chunk
            *lines, self._pending = self._pending.split(b"\n")
            if len(self._pending) > _PENDING_BYTES:  # a line without end: print it in parts
                lines.append(self._pending)
                self._pending = b""
        for line in lines:
            self._print(line)

    def flush(self) -> None:
        """Print what is left without a final newline."""
        with self._lock:
            rest, self._pending = self._pending, b""
        if rest:
            self._print(rest)

    def _print(self, raw: bytes) -> None:
        text = raw.decode("utf-8", errors="replace").rstrip("\r")
        self._console.print(Text(self._prefix + printable(text)), highlight=False, soft_wrap=True)


class ProgressDisplay(BatchObserver):
    """A :class:`~sandbox.pipeline.batch.BatchObserver` that shows the batch as it goes.

    Use it as a context manager around :func:`~sandbox.pipeline.batch.run_batch`.
    """

    def __init__(self, console: Console, scripts: list[str], *, stream_output: bool) -> None:
        self.wants_output = stream_output
        self._console = console
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self._tasks: dict[str, TaskID] = {}
        self._streamers = {
            index: LineStreamer(console, f"[{name}] " if len(scripts) > 1 else "")
            for index, name in enumerate(scripts)
        }
        self._names = dict(enumerate(scripts))

    def __enter__(self) -> ProgressDisplay:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def image_started(self, image: str) -> None:
        self._add(f"image:{image}", f"image {printable_markup(image)}: checking")

    def image_line(self, image: str, line: str) -> None:
        shown = line.strip()[:_LINE_CHARS]
        self._update(
            f"image:{image}", f"image {printable_markup(image)}: {printable_markup(shown)}"
        )

    def image_ready(self, image: str, reference: str, built_now: bool) -> None:
        self._done(f"image:{image}")
        verb = "built" if built_now else "ready"
        self._print(f"image {printable_markup(image)}: {verb} ({printable_markup(reference)})")

    def run_started(self, index: int, script: str) -> None:
        self._add(f"run:{index}", f"{printable_markup(script)}: starting")

    def run_progress(self, index: int, message: str) -> None:
        self._update(
            f"run:{index}",
            f"{printable_markup(self._names.get(index, '?'))}: {printable_markup(message)}",
        )

    def run_output(self, index: int, chunk: bytes) -> None:
        self._streamers[index](chunk)

    def run_finished(self, index: int, result: TestResult) -> None:
        self._streamers[index].flush()
        self._done(f"run:{index}")
        render_verdict(result, self._progress.console)

    def _add(self, key: str, description: str) -> None:
        self._tasks[key] = self._progress.add_task(description, total=None)

    def _update(self, key: str, description: str) -> None:
        if key in self._tasks:
            self._progress.update(self._tasks[key], description=description)

    def _done(self, key: str) -> None:
        task = self._tasks.pop(key, None)
        if task is not None:
            self._progress.remove_task(task)

    def _print(self, markup: str) -> None:
        self._progress.console.print(markup, highlight=False)
