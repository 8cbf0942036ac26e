"""The container's output: written whole to a file chunk by chunk, its tail kept in memory.

However much a script prints, and however long its lines, the controller holds only a
bounded tail: the last :data:`TAIL_LINES` lines, each cut to :data:`TAIL_LINE_BYTES`, at
most :data:`TAIL_TOTAL_BYTES` in all. The full stream goes to a file in the run folder.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sandbox.constants import TAIL_LINE_BYTES, TAIL_TOTAL_BYTES
from sandbox.results.models import STDERR_TAIL_LINES
from sandbox.results.printable import size_text
from sandbox.results.storage import write_failure

__all__ = [
    "TAIL_LINES",
    "TAIL_LINE_BYTES",
    "TAIL_TOTAL_BYTES",
    "CapturedLog",
    "LogCapture",
    "TailBuffer",
    "capture",
]

TAIL_LINES = STDERR_TAIL_LINES
"""Lines of stderr (and stdout) kept in a result."""

_BREAK = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True)
class CapturedLog:
    """One output stream of a finished container.

    Attributes:
        path: the file holding the whole stream, or ``None`` when none was asked for.
        size_bytes: how much the container wrote to the stream.
        tail: its last lines, each at most about :data:`TAIL_LINE_BYTES`.
        tail_cut: a tail line was cut, or older lines were dropped to stay in bounds.
        write_error: why the file is incomplete (e.g. the disk is full), else ``None``.
    """

    path: Path | None
    size_bytes: int
    tail: list[str]
    tail_cut: bool = False
    write_error: str | None = None


class TailBuffer:
    """The last lines of a byte stream fed in chunks, in bounded memory.

    ``\\n``, ``\\r\\n`` and a lone ``\\r`` (progress bars) end a line, as
    :meth:`str.splitlines` has it.
    """

    def __init__(
        self,
        max_lines: int = TAIL_LINES,
        line_bytes: int = TAIL_LINE_BYTES,
        total_bytes: int = TAIL_TOTAL_BYTES,
    ) -> None:
        self._max_lines = max_lines
        self._line_bytes = line_bytes
        self._total_bytes = total_bytes
        self._lines: deque[tuple[bytes, int]] = deque(maxlen=max_lines)
        self._head = b""  # the first line_bytes of the line in progress
        self._length = 0  # its full length
        self._after_cr = False

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        if self._after_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]  # the \n of a \r\n split between two chunks
        self._after_cr = chunk.endswith(b"\r")
        if chunk.count(b"\n") > self._max_lines:
            # Only the last max_lines lines can stay: skip the rest without splitting it.
            start = len(chunk)
            for _ in range(self._max_lines + 1):
                start = chunk.rfind(b"\n", 0, start)
            chunk = chunk[start + 1 :]
            self._lines.clear()
            self._head, self._length = b"", 0
        *complete, rest = _BREAK.split(chunk)
        if complete:
            if len(complete) > self._max_lines:
                # Every line before the last max_lines would be dropped at once.
                self._lines.clear()
                self._head, self._length = b"", 0
                complete = complete[-self._max_lines :]
            else:
                self._extend(complete[0])
                self._end_line()
                complete = complete[1:]
            for line in complete:
                self._extend(line)
                self._end_line()
        self._extend(rest)

    def _extend(self, part: bytes) -> None:
        room = self._line_bytes - len(self._head)
        if room > 0:
            self._head += part[:room]
        self._length += len(part)

    def _end_line(self) -> None:
        self._lines.append((self._head, self._length))
        self._head, self._length = b"", 0

    def lines(self) -> tuple[list[str], bool]:
        """The tail as text, and whether anything in it was cut."""
        pending = [(self._head, self._length)] if self._length else []
        texts: list[str] = []
        cut = False
        kept_bytes = 0
        for head, length in reversed([*self._lines, *pending][-self._max_lines :]):
            text = _line_text(head, length, self._line_bytes)
            cut = cut or length > self._line_bytes
            kept_bytes += len(text.encode("utf-8"))
            if kept_bytes > self._total_bytes:
                return texts[::-1], True
            texts.append(text)
        return texts[::-1], cut


def _line_text(head: bytes, length: int, line_bytes: int) -> str:
    if length <= line_bytes:
        return head.decode("utf-8", errors="replace")
    # Cut at a character boundary: an incomplete last character is left out.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    text = decoder.decode(head[:line_bytes], final=False)
    return f"{text} … [cut: {size_text(length)} line]"


class LogCapture:
    """One stream being captured: each chunk appended to ``path`` and fed to a tail.

    A write that fails (a full disk) stops the file, not the capture: the tail stays
    right, and :attr:`CapturedLog.write_error` says why the file is incomplete.
    """

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._tail = TailBuffer()
        self._size_bytes = 0
        self._file: BinaryIO | None = None
        self._error: str | None = None
        if path is not None:
            try:
                # Private, as the run folder it lands in.
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                self._file = os.fdopen(descriptor, "wb")
            except OSError as exc:
                self._error = write_failure(path, exc)

    def write(self, chunk: bytes) -> None:
        self._size_bytes += len(chunk)
        self._tail.feed(chunk)
        if self._file is not None:
            try:
                self._file.write(chunk)
            except OSError as exc:
                self._fail(exc)

    def close(self) -> CapturedLog:
        """Flush and close the file; return what was captured."""
        if self._file is not None:
            try:
                self._file.close()
            except OSError as exc:
                self._fail(exc)
        tail, cut = self._tail.lines()
        return CapturedLog(self._path, self._size_bytes, tail, cut, self._error)

    def _fail(self, exc: OSError) -> None:
        assert self._path is not None and self._file is not None
        self._error = write_failure(self._path, exc)
        file, self._file = self._file, None
        with contextlib.suppress(OSError):  # the buffered rest cannot be written either
            file.close()


def capture(chunks: Iterable[bytes], path: Path | None) -> CapturedLog:
    """Stream ``chunks`` into ``path`` (when given) and keep their tail."""
    log = LogCapture(path)
    try:
        for chunk in chunks:
            log.write(chunk)
    finally:
        captured = log.close()
    return captured
