"""Vectorised draws: one chunk of rows of a list of columns, as an Arrow table.

Every column of every chunk has its own random stream, seeded by (seed, a hash of the
column name, first row of the chunk): a chunk is the same whichever thread makes it,
so output is deterministic and chunks can be drawn in parallel; adding, removing or
moving a column leaves the values of the others alone (except through the label).
Score columns are drawn first, then the label (which follows the first score when
there is one), then the rest (numeric columns with a `signal` shift on positive rows).
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sandbox.data.datagen._arrow import (
    DECIMAL_PRECISION,
    bool_array,
    decimal_array,
    dictionary_array,
    numeric_array,
    string_array,
    string_scalar,
    validity_buffer,
)
from sandbox.data.datagen.recipes import CURRENCY_CODES, CURRENCY_WEIGHTS
from sandbox.data.datagen.spec import ColumnSpec, ColumnType, Distribution

__all__ = ["ChunkRange", "build_chunk"]

_EPOCH = dt.datetime(1970, 1, 1)
_SECONDS_PER_DAY = 86_400
_NULL_STREAM = 1
_DECIMAL_LIMIT = 10.0**DECIMAL_PRECISION
_TEXT_POOL_SIZE = 256
_TEXT_WORDS = (
    "alpha", "bravo", "cargo", "delta", "early", "fresh", "green", "happy", "ideal",
    "joint", "keen", "large", "metal", "noble", "ocean", "prime", "quick", "rapid",
    "solid", "total", "urban", "vivid", "whole", "young", "zonal", "order", "item",
    "price", "store", "phone", "light", "paper", "water", "glass", "table", "chair",
)  # fmt: skip


@dataclass(frozen=True)
class ChunkRange:
    """Rows [row_start, row_start + rows) of the whole data set."""

    row_start: int
    rows: int


@dataclass(frozen=True)
class _Draw:
    rng: np.random.Generator
    rows: int
    row_start: int
    seed: int
    stream: int
    label: np.ndarray | None
    score: np.ndarray | None
    fixed_point: bool


def build_chunk(
    columns: Sequence[ColumnSpec],
    label_name: str | None,
    seed: int,
    chunk: ChunkRange,
    *,
    fixed_point: bool = False,
) -> pa.Table:
    """Draw one chunk of rows.

    Args:
        columns: Columns to draw, in output order.
        label_name: Name of the primary label column, if any.
        seed: Data set seed.
        chunk: Which rows of the data set.
        fixed_point: Give rounded floats (float and score columns) as decimals: the
            same values, but a text writer formats a decimal about twice as fast as
            the shortest round-trip text of a double.

    Returns:
        Arrow table with one array per column (categoricals dictionary-encoded,
        datetimes as `timestamp[s]`, rounded floats as float64 or decimal).
    """
    arrays: dict[int, pa.Array] = {}
    label: np.ndarray | None = None
    score: np.ndarray | None = None
    for position in _draw_order(columns, label_name):
        column = columns[position]
        stream = zlib.crc32(column.name.encode())
        rng = np.random.default_rng([seed, stream, chunk.row_start])
        draw = _Draw(rng, chunk.rows, chunk.row_start, seed, stream, label, score, fixed_point)
        validity = _null_validity(column, seed, stream, chunk)
        if column.type is ColumnType.SCORE:
            values = _score_values(column, draw)
            score = values if score is None else score
            arrays[position] = _rounded_array(values, column.decimals, draw, validity)
        elif column.name == label_name:
            label = _label_values(column, draw, score)
            arrays[position] = numeric_array(label, pa.int64(), validity)
        else:
            arrays[position] = _DRAWERS[column.type](column, draw, validity)
    ordered = [arrays[position] for position in range(len(columns))]
    return pa.Table.from_arrays(ordered, names=[column.name for column in columns])


def _draw_order(columns: Sequence[ColumnSpec], label_name: str | None) -> list[int]:
    def rank(position: int) -> int:
        column = columns[position]
        if column.type is ColumnType.SCORE:
            return 0
        return 1 if column.name == label_name else 2

    return sorted(range(len(columns)), key=rank)


def _null_validity(
    column: ColumnSpec, seed: int, stream: int, chunk: ChunkRange
) -> pa.Buffer | None:
    if column.null_fraction <= 0:
        return None
    rng = np.random.default_rng([seed, stream, chunk.row_start, _NULL_STREAM])
    return validity_buffer(rng.random(chunk.rows) < column.null_fraction)


def _label_values(column: ColumnSpec, draw: _Draw, score: np.ndarray | None) -> np.ndarray:
    threshold = score if score is not None else column.positive_rate
    return (draw.rng.random(draw.rows) < threshold).astype(np.int64)


def _score_values(column: ColumnSpec, draw: _Draw) -> np.ndarray:
    return np.round(draw.rng.beta(column.alpha, column.beta, draw.rows), column.decimals)


def _float_column(column: ColumnSpec, draw: _Draw, validity: pa.Buffer | None) -> pa.Array:
    return _rounded_array(_numeric_values(column, draw), column.decimals, draw, validity)


def _rounded_array(
    values: np.ndarray, decimals: int, draw: _Draw, validity: pa.Buffer | None
) -> pa.Array:
    """Values rounded to `decimals`: decimal array when asked and they fit, else float64."""
    factor = 10.0**decimals
    units = np.rint(values * factor)  # np.round(values, decimals) is units / factor
    if draw.fixed_point and np.all(np.abs(units) < _DECIMAL_LIMIT):
        return decimal_array(units.astype(np.int64), decimals, validity)
    return numeric_array(units / factor, pa.float64(), validity)


def _int_column(column: ColumnSpec, draw: _Draw, validity: pa.Buffer | None) -> pa.Array:
    if column.categories is not None:
        choices = np.asarray(column.categories, dtype=np.int64)
        values = choices[_codes(column, draw)]
    elif column.resolved_distribution() is Distribution.UNIFORM:
        low, high = _int_bounds(column)
        drawn = draw.rng.integers(low, high, draw.rows, endpoint=True, dtype=np.int64)
        values = np.clip(np.rint(drawn + _shift(column, draw)), low, high).astype(np.int64)
    else:
        values = np.rint(_numeric_values(column, draw)).astype(np.int64)
    return numeric_array(values, pa.int64(), validity)


def _int_bounds(column: ColumnSpec) -> tuple[int, int]:
    low, high = int(np.ceil(column.low or 0)), int(np.floor(column.high or 0))
    return low, max(low, high)


def _numeric_values(column: ColumnSpec, draw: _Draw) -> np.ndarray:
    kind = column.resolved_distribution()
    if kind is Distribution.UNIFORM:
        values = draw.rng.uniform(column.low or 0.0, column.high or 1.0, draw.rows)
        return np.clip(values + _shift(column, draw), column.low, column.high)
    mean, std = _mean_std(column)
    values = draw.rng.normal(mean, std, draw.rows) + _shift(column, draw)
    if kind is Distribution.LOGNORMAL:
        values = np.exp(values)
    if column.low is not None or column.high is not None:
        values = np.clip(values, column.low, column.high)
    return values


def _mean_std(column: ColumnSpec) -> tuple[float, float]:
    bounded = column.low is not None and column.high is not None
    mean = column.mean
    if mean is None:
        mean = (column.low + column.high) / 2 if bounded else 0.0  # type: ignore[operator]
    std = column.std
    if std is None:
        std = (column.high - column.low) / 6 if bounded else 1.0  # type: ignore[operator]
    return mean, std


def _shift(column: ColumnSpec, draw: _Draw) -> np.ndarray | float:
    """Signal: positive-label rows move by `signal` standard deviations."""
    if not column.signal or draw.label is None:
        return 0.0
    if column.resolved_distribution() is Distribution.UNIFORM:
        scale = ((column.high or 0.0) - (column.low or 0.0)) / 4
    else:
        scale = _mean_std(column)[1]
    return draw.label * (column.signal * scale)


def _codes(column: ColumnSpec, draw: _Draw, count: int | None = None) -> np.ndarray:
    size = count if count is not None else len(column.categories or ())
    if column.weights is None:
        return draw.rng.integers(0, size, draw.rows, dtype=np.int32)
    weights = np.asarray(column.weights, dtype=np.float64)
    cumulative = np.cumsum(weights / weights.sum())
    codes = np.searchsorted(cumulative, draw.rng.random(draw.rows), side="right")
    return np.minimum(codes, size - 1).astype(np.int32)


def _category_column(column: ColumnSpec, draw: _Draw, validity: pa.Buffer | None) -> pa.Array:
    categories = [str(value) for value in column.categories or ("a", "b", "c")]
    return dictionary_array(
        _codes(column, draw, len(categories)), string_array(categories), validity
    )


def _currency_column(column: ColumnSpec, draw: _Draw, validity: pa.Buffer | None) -> pa.Array:
    if column.categories is not None:
        return _category_column(column, draw, validity)
    defaults = {"categories": CURRENCY_CODES, "weights": CURRENCY_WEIGHTS}
    weighted = column.model_copy(update=defaults)
    return _category_column(weighted, draw, validity)


def _text_column(column: ColumnSpec, draw: _Draw, validity: pa.Buffer | None) -> pa.Array:
    pool = _text_pool(column, draw.seed, draw.stream)
    codes = draw.rng.integers(0, len(pool), draw.rows, dtype=np.int32)
    return dictionary_array(codes, string_array(pool), validity)


def _text_pool(column: ColumnSpec, seed: int, stream: int) -> list[str]:
    """Phrases shared by all chunks (seeded without the chunk), so values repeat."""
    words = np.asarray([str(word) for word in column.categories or _TEXT_WORDS])
    rng = np.random.default_rng([seed, stream])
    lengths = rng.integers(2, 9, _TEXT_POOL_SIZE)
    return [" ".join(rng.choice(words, length)) for length in lengths]


def _bool_column(column: ColumnSpec, draw: _Draw, validity: pa.Buffer | None) -> pa.Array:
    return bool_array(draw.rng.random(draw.rows) < column.positive_rate, validity)


def _datetime_column(column: ColumnSpec, draw: _Draw, validity: pa.Buffer | None) -> pa.Array:
    start = column.start
    if start.tzinfo is not None:
        start = start.astimezone(dt.timezone.utc).replace(tzinfo=None)
    start_s = int((start - _EPOCH).total_seconds())
    span_s = column.span_days * _SECONDS_PER_DAY
    values = start_s + draw.rng.integers(0, span_s, draw.rows, dtype=np.int64)
    return numeric_array(values, pa.timestamp("s"), validity)


def _id_column(column: ColumnSpec, draw: _Draw, validity: pa.Buffer | None) -> pa.Array:
    first = draw.row_start + 1
    ids = numeric_array(np.arange(first, first + draw.rows, dtype=np.int64), pa.int64(), validity)
    if column.prefix is None:
        return ids
    text = pc.cast(ids, pa.string())
    return pc.binary_join_element_wise(string_scalar(column.prefix), text, string_scalar(""))


def _label_column(column: ColumnSpec, draw: _Draw, validity: pa.Buffer | None) -> pa.Array:
    return numeric_array(_label_values(column, draw, None), pa.int64(), validity)


def _score_column(column: ColumnSpec, draw: _Draw, validity: pa.Buffer | None) -> pa.Array:
    return _rounded_array(_score_values(column, draw), column.decimals, draw, validity)


_Drawer = Callable[[ColumnSpec, _Draw, "pa.Buffer | None"], pa.Array]
_DRAWERS: dict[ColumnType, _Drawer] = {
    ColumnType.FLOAT: _float_column,
    ColumnType.INT: _int_column,
    ColumnType.CATEGORY: _category_column,
    ColumnType.CURRENCY: _currency_column,
    ColumnType.TEXT: _text_column,
    ColumnType.BOOL: _bool_column,
    ColumnType.DATETIME: _datetime_column,
    ColumnType.ID: _id_column,
    ColumnType.LABEL: _label_column,
    ColumnType.SCORE: _score_column,
}
