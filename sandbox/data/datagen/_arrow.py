"""Arrow arrays built straight from numpy buffers.

`pyarrow.array(...)` and `pyarrow.scalar(...)` on Python or numpy values import pandas
(about 0.2 s in a fresh process, most of the cost of a small data set), so every array
here is assembled with `Array.from_buffers`, which never does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

DECIMAL_PRECISION = 18

__all__ = [
    "DECIMAL_PRECISION",
    "bool_array",
    "decimal_array",
    "dictionary_array",
    "numeric_array",
    "string_array",
    "string_scalar",
    "validity_buffer",
]


def validity_buffer(null_mask: np.ndarray | None) -> pa.Buffer | None:
    """Arrow validity bitmap (1 = valid) for a boolean mask of nulls, or None."""
    if null_mask is None or not null_mask.any():
        return None
    return pa.py_buffer(np.packbits(~null_mask, bitorder="little"))


def numeric_array(
    values: np.ndarray, arrow_type: pa.DataType, validity: pa.Buffer | None = None
) -> pa.Array:
    """Fixed-width array (ints, floats, timestamps) sharing the numpy buffer."""
    is_float = values.dtype.kind == "f"
    if is_float != pa.types.is_floating(arrow_type) or values.itemsize * 8 != arrow_type.bit_width:
        raise TypeError(f"numpy {values.dtype} cannot back an Arrow {arrow_type} array")
    contiguous = np.ascontiguousarray(values)
    return pa.Array.from_buffers(arrow_type, len(contiguous), [validity, pa.py_buffer(contiguous)])


def bool_array(values: np.ndarray, validity: pa.Buffer | None = None) -> pa.Array:
    """Boolean array from a numpy bool array."""
    bits = pa.py_buffer(np.packbits(values, bitorder="little"))
    return pa.Array.from_buffers(pa.bool_(), len(values), [validity, bits])


def decimal_array(units: np.ndarray, scale: int, validity: pa.Buffer | None = None) -> pa.Array:
    """Decimal array (precision 18) of `units / 10**scale`; units must be int64."""
    decimal64 = getattr(pa, "decimal64", None)  # pyarrow >= 18
    if decimal64 is not None:
        data, kind = units, decimal64(DECIMAL_PRECISION, scale)
    else:  # decimal128: little-endian (low word, sign-extended high word) pairs
        high_words = np.where(units < 0, -1, 0).astype(np.int64)
        data, kind = np.column_stack([units, high_words]), pa.decimal128(DECIMAL_PRECISION, scale)
    buffers = [validity, pa.py_buffer(np.ascontiguousarray(data))]
    return pa.Array.from_buffers(kind, len(units), buffers)


def string_array(values: Sequence[str]) -> pa.Array:
    """UTF-8 string array from a (short) sequence of Python strings."""
    encoded = [value.encode() for value in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(item) for item in encoded], out=offsets[1:])
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(pa.string(), len(encoded), buffers)


def string_scalar(value: str) -> pa.Scalar:
    """A string scalar for compute functions."""
    return string_array([value])[0]


def dictionary_array(
    codes: np.ndarray, dictionary: pa.Array, validity: pa.Buffer | None = None
) -> pa.DictionaryArray:
    """Dictionary-encoded array: int32 codes into `dictionary`."""
    indices = numeric_array(codes.astype(np.int32, copy=False), pa.int32(), validity)
    return pa.DictionaryArray.from_arrays(indices, dictionary)
