"""Checks on outputs after a run: expected files by glob, table columns, non-empty rows.

Only headers and schemas are read (Parquet footers, the first CSV line), never whole
files, so checks stay fast on large outputs.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Mapping
from pathlib import Path

from sandbox.contract.spec import OutputCheck
from sandbox.data.datagen import substitute_placeholders

__all__ = ["check_outputs", "table_columns"]

_TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".jsonl")


def check_outputs(
    checks: Mapping[str, OutputCheck], folders: Mapping[str, Path], env: Mapping[str, str]
) -> list[str]:
    """Every failed expectation, one line each, naming the channel and the file."""
    problems: list[str] = []
    for channel, check in checks.items():
        folder = folders[channel]
        columns = [substitute_placeholders(name, env) for name in check.columns]
        matched = _matched_files(folder, check.files, channel, problems)
        for path in matched:
            problems.extend(_table_problems(channel, folder, path, columns, check.non_empty))
    return problems


def _matched_files(folder: Path, globs: list[str], channel: str, problems: list[str]) -> list[Path]:
    matched: list[Path] = []
    for pattern in globs:
        found = sorted(p for p in folder.glob(pattern) if p.is_file())
        if not found:
            problems.append(f"output {channel}: no file matches {pattern!r}")
        matched.extend(found)
    return list(dict.fromkeys(matched))


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
    """The column names of a table file and whether it has at least one row."""
    name = path.name
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        metadata = pq.read_metadata(path)
        return list(metadata.schema.names), metadata.num_rows > 0
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        head = [handle.readline(), handle.readline()]
    if name.endswith(".jsonl"):
        first = json.loads(head[0]) if head[0].strip() else {}
        return list(first), bool(head[0].strip())
    header = next(csv.reader(io.StringIO(head[0])), [])
    return header, bool(head[1].strip())
