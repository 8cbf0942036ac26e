"""Checks on outputs after a run: expected files by glob, table columns, non-empty rows.

Only headers and schemas are read (Parquet footers, the first CSV line), never whole
files, so checks stay fast on large outputs: at most :data:`HEADER_BYTES` of a text
table, and a Parquet footer of at most :data:`PARQUET_FOOTER_BYTES`. The outputs are the
script's: no symlink it made is followed (a link to a file of the user's must not pass a
check), and links, FIFOs, sockets and device nodes are skipped and named.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from sandbox.contract.spec import OutputCheck
from sandbox.data.datagen import substitute_placeholders

__all__ = [
    "HEADER_BYTES",
    "PARQUET_FOOTER_BYTES",
    "OutputChecks",
    "check_outputs",
    "table_columns",
]

HEADER_BYTES = 64 * 1024
"""The most read of a CSV or JSON Lines file (after decompression) to find its columns."""
PARQUET_FOOTER_BYTES = 1024 * 1024
"""A larger Parquet footer is refused, not read."""

_TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".jsonl")
_PARQUET_MAGIC = b"PAR1"


@dataclass
class OutputChecks:
    """What the checks found: ``problems`` fail the run, ``skipped`` are findings."""

    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def check_outputs(
    checks: Mapping[str, OutputCheck], folders: Mapping[str, Path], env: Mapping[str, str]
) -> OutputChecks:
    """Every failed expectation, one line each, naming the channel and the file."""
    report = OutputChecks()
    for channel, check in checks.items():
        folder = folders[channel]
        columns = [substitute_placeholders(name, env) for name in check.columns]
        matched = _matched_files(folder, check.files, channel, report)
        for path in matched:
            report.problems.extend(_table_problems(channel, folder, path, columns, check.non_empty))
    report.skipped = list(dict.fromkeys(report.skipped))
    return report


def _matched_files(
    folder: Path, globs: list[str], channel: str, report: OutputChecks
) -> list[Path]:
    matched: list[Path] = []
    for pattern in globs:
        found = []
        for path in sorted(folder.glob(pattern)):
            unreadable = _not_a_plain_file(folder, path)
            if unreadable is None:
                found.append(path)
            elif unreadable:
                name = path.relative_to(folder).as_posix()
                report.skipped.append(f"output {channel}: {name} {unreadable}: not checked")
        if not found:
            report.problems.append(f"output {channel}: no file matches {pattern!r}")
        matched.extend(found)
    return list(dict.fromkeys(matched))


def _not_a_plain_file(folder: Path, path: Path) -> str | None:
    """``None`` for a regular file reached through no link; ``""`` for a folder (not a
    match, silently); else what it is (``is a symlink``)."""
    current = folder
    parts = path.relative_to(folder).parts
    for depth, part in enumerate(parts, start=1):
        current = current / part
        try:
            mode = current.lstat().st_mode
        except OSError as exc:
            return f"cannot be inspected ({exc.strerror})"
        if stat.S_ISLNK(mode):
            return "is a symlink" if depth == len(parts) else "is under a symlinked folder"
    if stat.S_ISREG(mode):
        return None
    return "" if stat.S_ISDIR(mode) else f"is {_kind(mode)}"


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device node"
    return "not a regular file"


def _table_problems(
    channel: str, folder: Path, path: Path, columns: list[str], non_empty: bool
) -> list[str]:
    if not path.name.endswith(_TABLE_SUFFIXES):
        return []
    name = f"output {channel}: {path.relative_to(folder).as_posix()}"
    try:
        found, has_rows = table_columns(path)
    except (OSError, ValueError) as exc:
        return [f"{name}: cannot be read as a table ({exc})"]
    problems = []
    missing = [column for column in columns if column not in found]
    if missing:
        problems.append(f"{name}: missing columns {', '.join(missing)}")
    if non_empty and not has_rows:
        problems.append(f"{name}: has no rows")
    return problems


def table_columns(path: Path) -> tuple[list[str], bool]:
    """The column names of a table file and whether it has at least one row.

    Reads a bounded header only, and never through a symlink.

    Raises:
        OSError: a symlink, not a regular file, or unreadable.
        ValueError: not a table of its kind, or a header beyond the bounds.
    """
    name = path.name
    with _open_regular(path) as handle:
        if name.endswith(".parquet"):
            return _parquet_columns(handle)
        head = _head(handle, compressed=name.endswith(".gz"))
    header, _, rest = head.partition(b"\n")
    if len(header) == len(head) == HEADER_BYTES:
        raise ValueError(f"no line end in the first {HEADER_BYTES // 1024} KiB")
    first = header.decode("utf-8")
    if name.endswith(".jsonl"):
        parsed = json.loads(first) if first.strip() else {}
        return list(parsed), bool(first.strip())
    columns = next(csv.reader(io.StringIO(first)), [])
    return columns, bool(rest.partition(b"\n")[0].strip())


def _open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading if it is a regular file and not a symlink.

    Non-blocking, so that a FIFO is refused rather than waited on.
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(f"{path.name} is {_kind(mode)}")
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def _head(handle: BinaryIO, *, compressed: bool) -> bytes:
    if not compressed:
        return handle.read(HEADER_BYTES)
    with gzip.GzipFile(fileobj=handle, mode="rb") as unzipped:
        return unzipped.read(HEADER_BYTES)  # decompresses no more than that


def _parquet_columns(handle: BinaryIO) -> tuple[list[str], bool]:
    import pyarrow.parquet as pq

    size = os.fstat(handle.fileno()).st_size
    if size < 12:
        raise ValueError("too short for a Parquet file")
    handle.seek(size - 8)
    trailer = handle.read(8)
    if trailer[4:] != _PARQUET_MAGIC:
        raise ValueError("not a Parquet file (no PAR1 footer)")
    footer_bytes = int.from_bytes(trailer[:4], "little")
    if footer_bytes > PARQUET_FOOTER_BYTES:
        raise ValueError(f"Parquet footer of {footer_bytes} bytes is over the bound")
    handle.seek(0)
    metadata = pq.read_metadata(handle)
    return list(metadata.schema.names), metadata.num_rows > 0
