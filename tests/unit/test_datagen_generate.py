"""Generating data set files (sandbox.data.datagen.generate): formats, layouts, values."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from sandbox.data.datagen import (
    ColumnSpec,
    DataFormat,
    DatasetSpec,
    DataSize,
    LayoutSpec,
    Recipe,
    default_dataset,
    generate,
)
from sandbox.data.datagen import pipeline as datagen_pipeline
from sandbox.errors import SpecError, UsageError

ALL_TYPES = [
    ColumnSpec(name="id", type="id", prefix="C"),
    ColumnSpec(name="when", type="datetime"),
    ColumnSpec(name="x", mean=5.0, std=2.0, null_fraction=0.1, signal=1.0),
    ColumnSpec(name="n", type="int", low=1, high=6),
    ColumnSpec(name="cat", type="category", categories=("a", "b", "c")),
    ColumnSpec(name="flag", type="bool"),
    ColumnSpec(name="note", type="text"),
    ColumnSpec(name="currency_code", type="currency"),
    ColumnSpec(name="score", type="score"),
]


def table_spec(data_format: DataFormat = DataFormat.CSV, **changes: object) -> DatasetSpec:
    values: dict[str, object] = {
        "columns": ALL_TYPES,
        "label": "y",
        "rows": 500,
        "format": data_format,
    }
    values.update(changes)
    return DatasetSpec.model_validate(values)


def read_table(path: Path) -> pa.Table:
    if path.name.endswith(".parquet"):
        return pq.read_table(path)
    if path.name.endswith(".jsonl"):
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        names = list(rows[0]) if rows else []
        return pa.table({name: [row[name] for row in rows] for name in names})
    return pa_csv.read_csv(path)


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 64 rows, so that small tables cross chunk boundaries."""
    monkeypatch.setattr(datagen_pipeline, "chunk_rows", lambda column_count: 64)


@pytest.mark.parametrize("data_format", list(DataFormat))
def test_same_spec_gives_byte_identical_files(
    tmp_path: Path, data_format: DataFormat, small_chunks: None
) -> None:
    spec = table_spec(data_format, layout=LayoutSpec(kind="shards", shards=2))
    first = generate(spec, tmp_path / "one")
    second = generate(spec, tmp_path / "two")
    assert [path.name for path in first] == [path.name for path in second]
    assert [path.read_bytes() for path in first] == [path.read_bytes() for path in second]


@pytest.mark.parametrize("data_format", [DataFormat.CSV, DataFormat.PARQUET])
def test_different_seeds_give_different_data(tmp_path: Path, data_format: DataFormat) -> None:
    one = generate(table_spec(data_format, seed=1), tmp_path / "one")
    two = generate(table_spec(data_format, seed=2), tmp_path / "two")
    assert one[0].read_bytes() != two[0].read_bytes()


@pytest.mark.parametrize("data_format", list(DataFormat))
def test_every_format_reads_back_with_all_rows(tmp_path: Path, data_format: DataFormat) -> None:
    (path,) = generate(table_spec(data_format, rows=300), tmp_path / "out")
    assert path.name == f"part-00000.{data_format.value}"
    table = read_table(path)
    assert table.num_rows == 300
    assert table.column_names == [column.name for column in ALL_TYPES] + ["y"]


def test_size_gives_row_count_when_rows_unset(tmp_path: Path) -> None:
    (path,) = generate(table_spec(rows=None), tmp_path / "out", size=DataSize.SMALL)
    assert read_table(path).num_rows == 1_000


def test_zero_rows_still_writes_a_header(tmp_path: Path) -> None:
    (path,) = generate(table_spec(rows=0), tmp_path / "out")
    assert path.read_text().startswith("id,when,x,")
    assert path.read_text().count("\n") == 1


def test_csv_values_look_as_documented(tmp_path: Path) -> None:
    (path,) = generate(table_spec(rows=50), tmp_path / "out")
    header, first = path.read_text().splitlines()[:2]
    assert header == "id,when,x,n,cat,flag,note,currency_code,score,y"
    cells = first.split(",")
    assert cells[0] == "C1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", cells[1])
    assert cells[2] == "" or re.fullmatch(r"-?\d+\.\d{4}", cells[2])
    assert '"' not in path.read_text()  # nothing needs quotes, so nothing is quoted


def test_values_needing_quotes_are_quoted(tmp_path: Path) -> None:
    columns = [ColumnSpec(name="city", type="category", categories=("Paris, FR", 'a "b"'))]
    (path,) = generate(DatasetSpec(columns=columns, rows=40), tmp_path / "out")
    assert set(read_table(path).column("city").to_pylist()) == {"Paris, FR", 'a "b"'}


def test_parquet_keeps_types(tmp_path: Path) -> None:
    (path,) = generate(table_spec(DataFormat.PARQUET, rows=20), tmp_path / "out")
    schema = pq.read_schema(path)
    assert pa.types.is_timestamp(schema.field("when").type)
    assert pa.types.is_dictionary(schema.field("cat").type)
    assert pa.types.is_float64(schema.field("x").type)


def test_csv_gz_is_gzip_of_the_csv(tmp_path: Path, small_chunks: None) -> None:
    (plain,) = generate(table_spec(DataFormat.CSV), tmp_path / "plain")
    (packed,) = generate(table_spec(DataFormat.CSV_GZ), tmp_path / "packed")
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()


def test_chunking_keeps_every_row_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = table_spec(DataFormat.JSONL, rows=200)
    (whole,) = generate(spec, tmp_path / "whole")
    monkeypatch.setattr(datagen_pipeline, "chunk_rows", lambda column_count: 64)
    (chunked,) = generate(spec, tmp_path / "chunked")
    # Streams are seeded per chunk, so values differ, but the shape must not.
    assert read_table(chunked).num_rows == read_table(whole).num_rows == 200
    assert read_table(chunked).column("id").to_pylist() == [f"C{n}" for n in range(1, 201)]


def test_shards_split_rows_evenly(tmp_path: Path) -> None:
    spec = table_spec(rows=1001, layout=LayoutSpec(kind="shards", shards=3))
    paths = generate(spec, tmp_path / "out")
    assert [path.name for path in paths] == [f"part-0000{i}.csv" for i in range(3)]
    assert [read_table(path).num_rows for path in paths] == [334, 334, 333]


def test_splits_make_folders_with_ratio_rows(tmp_path: Path) -> None:
    layout = LayoutSpec(kind="splits", splits={"train": 0.7, "val": 0.15, "test": 0.15})
    paths = generate(table_spec(rows=1000, layout=layout), tmp_path / "out")
    relative = [path.relative_to(tmp_path / "out").as_posix() for path in paths]
    assert relative == ["test/part-00000.csv", "train/part-00000.csv", "val/part-00000.csv"]
    assert [read_table(path).num_rows for path in paths] == [150, 700, 150]
    ids = sorted(int(i[1:]) for path in paths for i in read_table(path).column("id").to_pylist())
    assert ids == list(range(1, 1001))  # every row exactly once


def test_null_fraction_is_honoured(tmp_path: Path) -> None:
    (path,) = generate(table_spec(DataFormat.PARQUET, rows=5000), tmp_path / "out")
    nulls = pq.read_table(path).column("x").null_count
    assert 0.08 < nulls / 5000 < 0.12
    assert pq.read_table(path).column("n").null_count == 0


def test_categories_and_weights_are_honoured(tmp_path: Path) -> None:
    column = ColumnSpec(name="c", type="category", categories=("x", "y"), weights=(9.0, 1.0))
    (path,) = generate(DatasetSpec(columns=[column], rows=4000), tmp_path / "out")
    values = read_table(path).column("c").to_pylist()
    assert set(values) == {"x", "y"}
    assert 0.85 < values.count("x") / len(values) < 0.95


def test_numeric_ranges_are_honoured(tmp_path: Path) -> None:
    columns = [
        ColumnSpec(name="u", low=2.0, high=3.0),
        ColumnSpec(name="k", type="int", low=1, high=6),
        ColumnSpec(name="m", type="int", categories=(1, 3, 35691)),
        ColumnSpec(name="c", mean=0.0, std=5.0, low=-1.0, high=1.0),
    ]
    (path,) = generate(DatasetSpec(columns=columns, rows=2000), tmp_path / "out")
    table = read_table(path)
    assert all(2.0 <= value < 3.0 for value in table.column("u").to_pylist())
    assert set(table.column("k").to_pylist()) == {1, 2, 3, 4, 5, 6}
    assert set(table.column("m").to_pylist()) == {1, 3, 35691}
    assert {min(table.column("c").to_pylist()), max(table.column("c").to_pylist())} == {-1, 1}


def test_label_follows_signal_and_score(tmp_path: Path) -> None:
    (path,) = generate(table_spec(DataFormat.PARQUET, rows=5000), tmp_path / "out")
    rows = pq.read_table(path).to_pylist()

    def mean(name: str, label: int) -> float:
        values = [row[name] for row in rows if row["y"] == label and row[name] is not None]
        return sum(values) / len(values)

    assert mean("score", 1) > mean("score", 0) + 0.05
    assert mean("x", 1) > mean("x", 0) + 1.0  # signal 1.0 with std 2 shifts by 2


def test_progress_reports_every_chunk_up_to_the_total(tmp_path: Path, small_chunks: None) -> None:
    calls: list[tuple[int, int]] = []
    generate(table_spec(rows=200), tmp_path / "out", progress=lambda *call: calls.append(call))
    assert calls == [(64, 200), (128, 200), (192, 200), (200, 200)]


def test_json_recipe_writes_content_as_is(tmp_path: Path) -> None:
    (path,) = generate(default_dataset("hyperparameters", env={}), tmp_path / "out")
    assert path.name == "hyperparameters.json"
    assert json.loads(path.read_text())["objective"] == "binary:logistic"


def test_files_recipe_writes_each_file(tmp_path: Path) -> None:
    spec = DatasetSpec(recipe=Recipe.FILES, files={"a.txt": "one\n", "sub/b.sql": "select 1"})
    paths = generate(spec, tmp_path / "out")
    assert [path.relative_to(tmp_path / "out").as_posix() for path in paths] == [
        "a.txt",
        "sub/b.sql",
    ]
    assert paths[1].read_text() == "select 1"


def test_default_dataset_processing_channel_writes_two_shards(tmp_path: Path) -> None:
    spec = default_dataset("data", env={"LABEL_FIELD": "is_fraud"})
    paths = generate(spec, tmp_path / "out", size=DataSize.SMALL)
    assert [path.name for path in paths] == ["part-00000.csv", "part-00001.csv"]
    assert "is_fraud" in read_table(paths[0]).column_names


def test_output_folder_must_be_empty(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.csv").write_text("x")
    with pytest.raises(UsageError, match="must be empty"):
        generate(table_spec(), tmp_path / "out")


def test_unresolved_placeholder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="LABEL_FIELD"):
        generate(DatasetSpec(label="${LABEL_FIELD}", rows=5), tmp_path / "out")


def test_generating_tables_never_imports_pandas(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from sandbox.data.datagen import DataFormat, DatasetSpec, generate\n"
        "for f in DataFormat:\n"
        f"    generate(DatasetSpec(rows=10, format=f), Path({str(tmp_path)!r}) / f.value)\n"
        "print('pandas' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_a_split_file_name_template_names_each_split_file_and_extra_files_sit_beside(
    tmp_path: Path,
) -> None:
    spec = DatasetSpec(
        rows=30,
        layout=LayoutSpec(kind="splits", splits={"train": 0.5, "test": 0.5}, shards=1),
        file_name="{split}_processed_data.csv",
        files={"settings.json": '{"k": 1}\n'},
    )

    paths = generate(spec, tmp_path / "out")

    assert [p.relative_to(tmp_path / "out").as_posix() for p in paths] == [
        "settings.json",
        "test/test_processed_data.csv",
        "train/train_processed_data.csv",
    ]
    rows = [len(pa_csv.read_csv(p).to_pylist()) for p in paths if p.suffix == ".csv"]
    assert sum(rows) == 30
