"""Write a data set's files into a folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sandbox.data.datagen.placeholders import find_placeholders
from sandbox.data.datagen.spec import DatasetSpec, DataSize, Recipe
from sandbox.errors import SpecError, UsageError

__all__ = ["DEFAULT_JSON_FILE", "generate"]

DEFAULT_JSON_FILE = "data.json"


def generate(
    spec: DatasetSpec,
    out_dir: Path,
    *,
    size: DataSize = DataSize.SMALL,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write the files of a data set.

    Same spec, seed and size give byte-identical files.

    Args:
        spec: What to generate; placeholders must be resolved already.
        out_dir: Destination folder; must be empty or not exist.
        size: Row count for specs without `rows`.
        progress: Called as `progress(done_rows, total_rows)` after each chunk.

    Returns:
        Paths of the written files, sorted.

    Raises:
        SpecError: The spec still holds `${VAR}` placeholders.
        UsageError: `out_dir` exists and is not an empty folder.
    """
    unresolved = find_placeholders(spec)
    if unresolved:
        raise SpecError("dataset spec", f"unresolved placeholder {unresolved[0]}")
    _prepare_out_dir(out_dir)
    extra = _write_files(spec, out_dir)
    if spec.recipe is Recipe.JSON:
        return sorted({_write_json(spec, out_dir), *extra})
    if spec.recipe is Recipe.FILES:
        return sorted(extra)
    from sandbox.data.datagen.pipeline import write_tables  # numpy and pyarrow: only when needed

    rows = spec.rows if spec.rows is not None else size.rows
    return sorted({*write_tables(spec, out_dir, rows, progress), *extra})


def _prepare_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise UsageError(f"output folder {out_dir} must be empty or not exist")
    out_dir.mkdir(parents=True, exist_ok=True)


def _write_json(spec: DatasetSpec, out_dir: Path) -> Path:
    path = out_dir / (spec.file_name or DEFAULT_JSON_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spec.content, indent=2) + "\n", encoding="utf-8")
    return path


def _write_files(spec: DatasetSpec, out_dir: Path) -> list[Path]:
    paths = []
    for name, text in spec.files.items():
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
        paths.append(path)
    return paths
