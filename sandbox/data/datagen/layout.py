"""Which rows go to which file: single file, shards, or train/val/test splits."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import PurePosixPath

from sandbox.data.datagen.spec import DatasetSpec

__all__ = ["SPLIT_PLACEHOLDER", "FilePlan", "plan_files", "split_counts"]

SPLIT_PLACEHOLDER = "{split}"


@dataclass(frozen=True)
class FilePlan:
    """One output file: its path relative to the output folder and its rows."""

    relative: PurePosixPath
    row_start: int
    rows: int


def plan_files(spec: DatasetSpec, total_rows: int) -> list[FilePlan]:
    """Files of a table spec, in writing order, covering rows [0, total_rows)."""
    layout = spec.layout
    ratios = layout.split_ratios()
    extension = spec.format.extension
    plans: list[FilePlan] = []
    row_start = 0
    for split, rows in zip(ratios, split_counts(list(ratios.values()), total_rows), strict=True):
        for shard, shard_rows in enumerate(_even(rows, layout.shards)):
            if spec.file_name is not None and (
                layout.kind == "single" or (layout.kind == "splits" and layout.shards == 1)
            ):
                # In a splits layout the name may say where the split goes: "{split}_x.csv".
                name = spec.file_name.replace(SPLIT_PLACEHOLDER, split)
            else:
                name = f"{layout.file_prefix}-{shard:05d}.{extension}"
            relative = PurePosixPath(split, name) if split else PurePosixPath(name)
            plans.append(FilePlan(relative, row_start, shard_rows))
            row_start += shard_rows
    return plans


def split_counts(ratios: list[float], total_rows: int) -> list[int]:
    """Rows per split: floors of the ratios, leftovers to the largest remainders."""
    total_ratio = sum(ratios)
    exact = [ratio / total_ratio * total_rows for ratio in ratios]
    counts = [math.floor(value) for value in exact]
    by_remainder = sorted(range(len(ratios)), key=lambda index: counts[index] - exact[index])
    for index in by_remainder[: max(0, total_rows - sum(counts))]:
        counts[index] += 1
    return counts


def _even(rows: int, parts: int) -> list[int]:
    base, extra = divmod(rows, parts)
    return [base + (1 if index < extra else 0) for index in range(parts)]
