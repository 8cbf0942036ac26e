"""Data-flow checks on an edge, before the downstream step runs.

The upstream folder must hold files, in a format the downstream step reads (its spec's
``data.format`` when stated, else what its source reads: ``read_parquet``, ``read_csv``,
``lines=True`` ...), and for tables the columns the downstream spec names. Only headers
and schemas are read (:func:`sandbox.results.checks.table_columns`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sandbox.contract.spec import ScriptSpec
from sandbox.data.datagen import DataFormat, DatasetSpec, substitute_placeholders
from sandbox.results.checks import table_columns

__all__ = [
    "ChannelExpectation",
    "FolderCheck",
    "check_folder",
    "expectation_for",
    "infer_read_formats",
]

_MAX_TABLES_CHECKED = 10
_MAX_NAMES_SHOWN = 5
# What a script's source says about the files it reads -> the suffixes it accepts.
_FORMAT_HINTS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"\.parquet\b|read_parquet"), (".parquet",)),
    (re.compile(r"\.csv\b|read_csv"), (".csv", ".csv.gz")),
    (re.compile(r"\.jsonl\b|lines\s*=\s*True"), (".jsonl",)),
)
_SPEC_SUFFIXES = {
    DataFormat.CSV: (".csv",),
    DataFormat.CSV_GZ: (".csv.gz",),
    DataFormat.PARQUET: (".parquet",),
    DataFormat.JSONL: (".jsonl",),
}
_TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".jsonl")


@dataclass(frozen=True)
class ChannelExpectation:
    """What a downstream input channel needs from the folder that feeds it."""

    suffixes: tuple[str, ...] = ()
    """Accepted file suffixes; empty accepts any file."""
    columns: tuple[str, ...] = ()
    """Columns every table must have (placeholders resolved)."""


def infer_read_formats(source: str) -> tuple[str, ...]:
    """The table suffixes a script's source reads; empty when nothing can be told."""
    found: list[str] = []
    for pattern, suffixes in _FORMAT_HINTS:
        if pattern.search(source):
            found.extend(suffixes)
    return tuple(found)


def expectation_for(
    channel: str,
    spec: ScriptSpec,
    file_spec: ScriptSpec | None,
    script_source: str,
    env: Mapping[str, str],
) -> ChannelExpectation:
    """The expectation on ``channel`` of a step, from its spec or its source.

    Args:
        channel: the downstream input channel.
        spec: the step's resolved spec.
        file_spec: the spec file as written, to tell a stated ``data.format`` from the
            default; ``None`` without a spec file.
        script_source: the step's script, read for the formats when no format is stated.
        env: the step's environment, for ``${VAR}`` in column names.

    Raises:
        SpecError: a column placeholder names a variable the step does not set.
    """
    data = spec.inputs[channel].data
    written = file_spec.inputs.get(channel) if file_spec else None
    stated = written.data if written is not None else None
    if data is not None and not data.recipe.is_table:
        return ChannelExpectation()
    suffixes: tuple[str, ...]
    if stated is not None and "format" in stated.model_fields_set:
        suffixes = _SPEC_SUFFIXES[stated.format]
    else:
        suffixes = infer_read_formats(script_source)
    return ChannelExpectation(suffixes=suffixes, columns=_columns(data, env, spec.script))


def _columns(data: DatasetSpec | None, env: Mapping[str, str], source: str) -> tuple[str, ...]:
    if data is None:
        return ()
    names = [column.name for column in data.columns or ()]
    if data.label is not None:
        names.append(data.label)
    where = f"{source} input columns"
    resolved = [substitute_placeholders(name, env, source=where) for name in names]
    return tuple(dict.fromkeys(resolved))


@dataclass(frozen=True)
class FolderCheck:
    """The verdict on one folder: a problem (FAIL) or a summary of what fits (PASS)."""

    problem: str | None
    summary: str = ""


def check_folder(folder: Path, expectation: ChannelExpectation) -> FolderCheck:
    """Check ``folder`` against ``expectation``; the first problem wins."""
    if not folder.is_dir():
        return FolderCheck("folder does not exist (the upstream step wrote nothing there)")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    if not files:
        return FolderCheck("folder is empty")
    readable = [p for p in files if _accepted(p, expectation.suffixes)]
    wanted = _or_list([f"*{suffix}" for suffix in expectation.suffixes])
    if not readable:
        return FolderCheck(f"no {wanted} file (found: {_names(files, folder)})")
    problem = _column_problem(folder, readable, expectation.columns)
    summary = f"{len(readable)} {wanted} file(s)" if wanted else f"{len(readable)} file(s)"
    if expectation.columns:
        summary += f" with column(s) {', '.join(expectation.columns)}"
    return FolderCheck(problem, summary)


def _accepted(path: Path, suffixes: tuple[str, ...]) -> bool:
    name = path.name.lower()
    if name.startswith((".", "_")):
        return False
    return not suffixes or name.endswith(suffixes)


def _column_problem(folder: Path, files: list[Path], columns: tuple[str, ...]) -> str | None:
    if not columns:
        return None
    tables = [p for p in files if p.name.lower().endswith(_TABLE_SUFFIXES)]
    if not tables:
        return f"no table file to read columns {', '.join(columns)} from"
    for path in tables[:_MAX_TABLES_CHECKED]:
        name = path.relative_to(folder).as_posix()
        try:
            found, _ = table_columns(path)
        except (OSError, ValueError) as exc:
            return f"{name} cannot be read as a table ({exc})"
        missing = [column for column in columns if column not in found]
        if missing:
            return (
                f"{name} lacks column(s) {', '.join(missing)} "
                f"(has: {', '.join(found[:20]) or 'none'})"
            )
    return None


def _names(files: list[Path], folder: Path) -> str:
    names = [path.relative_to(folder).as_posix() for path in files[:_MAX_NAMES_SHOWN]]
    more = len(files) - len(names)
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def _or_list(items: list[str]) -> str:
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} or {items[-1]}"
