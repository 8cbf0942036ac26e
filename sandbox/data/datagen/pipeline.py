"""Table data sets: draw and encode chunks on all cores, write them in order.

Imports numpy and pyarrow; `sandbox.data.datagen.generate` imports this module only when
a table is actually generated.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.data.datagen.columns import ChunkRange, build_chunk
from sandbox.data.datagen.layout import FilePlan, plan_files
from sandbox.data.datagen.recipes import effective_columns, label_column_name
from sandbox.data.datagen.spec import ColumnSpec, DataFormat, DatasetSpec
from sandbox.data.datagen.writers import ChunkSink, Encoder, encoder_for, open_sink

__all__ = ["MAX_CHUNK_ROWS", "write_tables"]

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

MAX_CHUNK_ROWS = 200_000
_MIN_CHUNK_ROWS = 10_000
_CELLS_PER_CHUNK = 1_000_000  # bounds memory per chunk whatever the column count
_MAX_WORKERS = 4


@dataclass(frozen=True)
class _Task:
    plan: FilePlan
    chunk: ChunkRange
    first: bool


def write_tables(
    spec: DatasetSpec, out_dir: Path, total_rows: int, progress: Progress | None = None
) -> list[Path]:
    """Write the table files of `spec` into `out_dir`; return their paths."""
    columns = effective_columns(spec)
    plans = plan_files(spec, total_rows)
    encode = encoder_for(spec.format, header=spec.header)
    fixed_point = spec.format is not DataFormat.PARQUET
    make = _ChunkMaker(columns, label_column_name(spec), spec.seed, encode, fixed_point)
    writer = _OrderedWriter(out_dir, spec, total_rows, progress)
    workers = min(_MAX_WORKERS, os.cpu_count() or 1)
    tasks = _tasks(plans, chunk_rows(len(columns)))
    logger.debug("writing %d rows in %d files with %d threads", total_rows, len(plans), workers)
    with ThreadPoolExecutor(workers, thread_name_prefix="datagen") as pool:
        try:
            # Chunks queued beyond the workers keep them busy while a write blocks.
            _run(pool, make, tasks, writer, in_flight=2 * workers + 2)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            writer.close()
    return [out_dir / plan.relative for plan in plans]


def chunk_rows(column_count: int) -> int:
    """Rows per chunk: fewer for wide tables, so memory stays bounded."""
    rows = _CELLS_PER_CHUNK // max(column_count, 1)
    return max(_MIN_CHUNK_ROWS, min(MAX_CHUNK_ROWS, rows))


def _tasks(plans: Sequence[FilePlan], rows_per_chunk: int) -> Iterator[_Task]:
    for plan in plans:
        offsets = range(0, max(plan.rows, 1), rows_per_chunk)
        for offset in offsets:
            rows = min(rows_per_chunk, plan.rows - offset)
            yield _Task(plan, ChunkRange(plan.row_start + offset, rows), first=offset == 0)


def _run(
    pool: ThreadPoolExecutor,
    make: _ChunkMaker,
    tasks: Iterator[_Task],
    writer: _OrderedWriter,
    *,
    in_flight: int,
) -> None:
    pending: deque[tuple[_Task, Future[Any]]] = deque()
    for task in tasks:
        pending.append((task, pool.submit(make, task)))
        if len(pending) > in_flight:
            writer.write(*_result(pending.popleft()))
    while pending:
        writer.write(*_result(pending.popleft()))


def _result(entry: tuple[_Task, Future[Any]]) -> tuple[_Task, Any]:
    task, future = entry
    return task, future.result()


class _ChunkMaker:
    """Draws and encodes one chunk; runs in worker threads."""

    def __init__(
        self,
        columns: Sequence[ColumnSpec],
        label: str | None,
        seed: int,
        encode: Encoder,
        fixed_point: bool,
    ) -> None:
        self._columns = columns
        self._label = label
        self._seed = seed
        self._encode = encode
        self._fixed_point = fixed_point

    def __call__(self, task: _Task) -> Any:
        chunk = task.chunk
        table = build_chunk(
            self._columns, self._label, self._seed, chunk, fixed_point=self._fixed_point
        )
        return self._encode(table, task.first)


class _OrderedWriter:
    """Appends encoded chunks to their files, one file open at a time."""

    def __init__(
        self, out_dir: Path, spec: DatasetSpec, total_rows: int, progress: Progress | None
    ) -> None:
        self._out_dir = out_dir
        self._format = spec.format
        self._total_rows = total_rows
        self._progress = progress
        self._done_rows = 0
        self._plan: FilePlan | None = None
        self._sink: ChunkSink | None = None

    def write(self, task: _Task, encoded: Any) -> None:
        if task.plan != self._plan:
            self.close()
            path = self._out_dir / task.plan.relative
            path.parent.mkdir(parents=True, exist_ok=True)
            self._sink = open_sink(path, self._format)
            self._plan = task.plan
        assert self._sink is not None
        self._sink.write(encoded)
        self._done_rows += task.chunk.rows
        if self._progress is not None:
            self._progress(self._done_rows, self._total_rows)

    def close(self) -> None:
        if self._sink is not None:
            self._sink.close()
            self._sink = None
