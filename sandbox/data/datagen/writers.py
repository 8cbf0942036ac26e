"""File formats: turn chunks of rows into bytes, and bytes into files.

Writing is split in two so that the slow part runs on every core: `encode` is pure
(a chunk in, bytes out) and runs in worker threads, where pyarrow and zlib release
the GIL; `write` appends the encoded chunks to the file in order. CSV and JSON lines
turn datetimes into ISO 8601 text; Parquet keeps them typed.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from sandbox.data.datagen._arrow import string_array, string_scalar
from sandbox.data.datagen.spec import DataFormat

__all__ = ["ChunkSink", "Encoder", "encoder_for", "open_sink"]

_GZIP_LEVEL = 1
_GZIP_WBITS = 31  # zlib with a gzip header (mtime 0, so output is deterministic)
_CSV_SPECIAL = r'[",\r\n]'
_ISO_SEPARATOR_AT = 10  # "YYYY-MM-DD HH:MM:SS": the space between date and time
_CSV_BATCH_ROWS = 65_536  # pyarrow's default (1024) is ~15% slower


Encoder = Callable[[pa.Table, bool], Any]


class ChunkSink(Protocol):
    """One output file, fed encoded chunks in order."""

    def write(self, encoded: Any) -> None:
        """Append one encoded chunk."""

    def close(self) -> None:
        """Finish and close the file."""


def encoder_for(data_format: DataFormat, *, header: bool = True) -> Encoder:
    """Pure function `(chunk, is_first_chunk_of_file) -> encoded`; safe in threads."""
    if data_format is DataFormat.PARQUET:
        return _keep_table
    if data_format is DataFormat.JSONL:
        return _encode_jsonl
    return _CsvEncoder(header=header, gzip=data_format is DataFormat.CSV_GZ).encode


def open_sink(path: Path, data_format: DataFormat) -> ChunkSink:
    """Open the file at `path` for chunks encoded by `encoder_for(data_format)`."""
    if data_format is DataFormat.PARQUET:
        return _ParquetSink(path)
    return _BytesSink(path)


def _keep_table(table: pa.Table, first: bool) -> pa.Table:
    return table


class _BytesSink:
    def __init__(self, path: Path) -> None:
        self._file: BinaryIO = path.open("wb")

    def write(self, encoded: Any) -> None:
        self._file.write(encoded)

    def close(self) -> None:
        self._file.close()


class _ParquetSink:
    """Snappy Parquet, one row group per chunk."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._writer: pq.ParquetWriter | None = None

    def write(self, encoded: Any) -> None:
        if self._writer is None:
            self._writer = pq.ParquetWriter(
                self._path,
                encoded.schema,
                compression="snappy",
                use_dictionary=_dictionary_columns(encoded.schema),
            )
        self._writer.write_table(encoded, row_group_size=max(encoded.num_rows, 1))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def _dictionary_columns(schema: pa.Schema) -> list[str]:
    # Floats and datetimes have mostly distinct values: writing them plain instead of
    # trying a dictionary is ~35% faster, for files ~30% larger.
    plain = (pa.types.is_floating, pa.types.is_timestamp, pa.types.is_decimal)
    return [field.name for field in schema if not any(test(field.type) for test in plain)]


class _CsvEncoder:
    def __init__(self, *, header: bool, gzip: bool) -> None:
        self._header = header
        self._gzip = gzip

    def encode(self, table: pa.Table, first: bool) -> Any:
        quote = not _values_plain(table)  # before ISO datetimes: those need no check
        text = _csv_bytes(_with_iso_datetimes(table), header=self._header and first, quote=quote)
        if not self._gzip:
            return text
        # Each chunk is one gzip member; concatenated members are one valid gzip file.
        compressor = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, _GZIP_WBITS)
        return compressor.compress(text) + compressor.flush()


def _csv_bytes(table: pa.Table, *, header: bool, quote: bool) -> pa.Buffer:
    # Quoting every string (pyarrow's "needed") costs time and bytes; generated values
    # rarely need quotes, so quote only when some value or name does.
    names_plain = not any(any(char in name for char in ',"\r\n') for name in table.column_names)
    options = pa_csv.WriteOptions(
        include_header=header,
        batch_size=_CSV_BATCH_ROWS,
        quoting_style="needed" if quote else "none",
        quoting_header="none" if names_plain else "needed",
    )
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(table, sink, options)
    return sink.getvalue()


def _values_plain(table: pa.Table) -> bool:
    for column in table.columns:
        strings = _strings_of(column)
        if strings is not None and pc.any(pc.match_substring_regex(strings, _CSV_SPECIAL)).as_py():
            return False
    return True


def _strings_of(column: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array | None:
    if pa.types.is_dictionary(column.type):
        return column.chunk(0).dictionary if column.num_chunks else None
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return column
    return None


def _with_iso_datetimes(table: pa.Table) -> pa.Table:
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            text = pc.cast(table.column(index), pa.string())
            iso = pc.utf8_replace_slice(text, _ISO_SEPARATOR_AT, _ISO_SEPARATOR_AT + 1, "T")
            table = table.set_column(index, field.name, iso)
    return table


def _encode_jsonl(table: pa.Table, first: bool) -> pa.Buffer:
    return _jsonl_bytes(_with_iso_datetimes(table).combine_chunks())


def _jsonl_bytes(table: pa.Table) -> pa.Buffer:
    """JSON lines built with Arrow string kernels: no per-row Python, no pandas."""
    if table.num_columns == 0 or table.num_rows == 0:
        return pa.py_buffer(b"{}\n" * table.num_rows)
    pieces: list[Any] = []
    for index, field in enumerate(table.schema):
        key = json.dumps(field.name) + ":"
        pieces.append(string_scalar(("{" if index == 0 else ",") + key))
        pieces.append(pc.fill_null(_json_values(table.column(index)), string_scalar("null")))
    pieces.append(string_scalar("}\n"))
    lines = pc.binary_join_element_wise(*pieces, string_scalar("")).chunk(0)
    # Every line ends with "\n", so the array's character data is the file's text.
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset :]
    return lines.buffers()[2][int(offsets[0]) : int(offsets[len(lines)])]


def _json_values(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """JSON text of each value (null stays null)."""
    if pa.types.is_dictionary(column.type):
        chunk = column.chunk(0)
        quoted = string_array([json.dumps(value) for value in chunk.dictionary.to_pylist()])
        return pa.chunked_array([pc.take(quoted, chunk.indices)])
    if pa.types.is_string(column.type):
        # Plain strings are generated ids and ISO datetimes: nothing to escape.
        quote = string_scalar('"')
        return pc.binary_join_element_wise(quote, column, quote, string_scalar(""))
    return pc.cast(column, pa.string())
