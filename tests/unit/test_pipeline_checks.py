"""Data-flow checks on edges (sandbox.pipeline.checks): formats, columns, clear messages."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sandbox.contract.spec import parse_spec
from sandbox.errors import SpecError
from sandbox.pipeline.checks import (
    ChannelExpectation,
    check_folder,
    expectation_for,
    infer_read_formats,
)

CSV = (".csv", ".csv.gz")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("df = pd.read_parquet(path)", (".parquet",)),
        ("files = glob('*.csv')", CSV),
        ("pd.read_json(p, lines=True)", (".jsonl",)),
        ("SUFFIXES = ('.csv', '.parquet')", (".parquet", *CSV)),
        ("open(path).read()", ()),
    ],
)
def test_formats_are_inferred_from_the_source(source: str, expected: tuple[str, ...]) -> None:
    assert infer_read_formats(source) == expected


def test_a_missing_folder_and_an_empty_folder_fail(tmp_path: Path) -> None:
    assert "does not exist" in (check_folder(tmp_path / "nope", ChannelExpectation()).problem or "")
    assert check_folder(tmp_path, ChannelExpectation()).problem == "folder is empty"


def test_the_wrong_format_names_what_was_found(tmp_path: Path) -> None:
    (tmp_path / "train_processed_data.csv").write_text("a,label\n1,0\n")
    check = check_folder(tmp_path, ChannelExpectation(suffixes=(".parquet",)))
    assert check.problem == "no *.parquet file (found: train_processed_data.csv)"


def test_any_file_fits_when_nothing_is_expected(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"\0")
    check = check_folder(tmp_path, ChannelExpectation())
    assert check.problem is None and check.summary == "1 file(s)"


def test_missing_columns_in_a_csv_header_are_named(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "part.csv").write_text("a,prob_class_0\n1,0.2\n")
    check = check_folder(tmp_path, ChannelExpectation(CSV, ("prob_class_1", "a", "label")))
    assert check.problem == (
        "sub/part.csv lacks column(s) prob_class_1, label (has: a, prob_class_0)"
    )


def test_parquet_columns_come_from_the_schema(tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": [1.0], "label": [1]}), tmp_path / "part.parquet")
    check = check_folder(tmp_path, ChannelExpectation((".parquet",), ("a", "label")))
    assert check.problem is None
    assert check.summary == "1 *.parquet file(s) with column(s) a, label"


def _spec(data: dict[str, object] | None) -> dict[str, object]:
    channel: dict[str, object] = {"path": "/opt/ml/processing/input/data"}
    if data is not None:
        channel["data"] = data
    return {"script": "s.py", "inputs": {"data": channel}}


def test_a_stated_format_wins_over_the_source() -> None:
    raw = _spec({"format": "parquet", "label": "${LABEL}", "columns": [{"name": "x"}]})
    spec = parse_spec(raw, source="s.yaml")
    expected = expectation_for("data", spec, spec, "pd.read_csv(p)", {"LABEL": "y"})
    assert expected == ChannelExpectation((".parquet",), ("x", "y"))


def test_a_default_format_defers_to_the_source() -> None:
    resolved = parse_spec(_spec({"label": "y"}), source="resolved")
    # Resolving re-validates every field, so only the file as written tells what was stated.
    resolved = parse_spec(resolved.model_dump(mode="json"), source="resolved")
    written = parse_spec(_spec({"label": "y"}), source="s.yaml")
    expected = expectation_for("data", resolved, written, "pd.read_csv(p)", {})
    assert expected == ChannelExpectation(CSV, ("y",))


def test_no_spec_data_means_formats_from_the_source_and_no_columns() -> None:
    spec = parse_spec(_spec(None), source="s.yaml")
    assert expectation_for("data", spec, None, "x.jsonl", {}) == ChannelExpectation((".jsonl",))


def test_an_unset_column_placeholder_is_a_spec_error() -> None:
    spec = parse_spec(_spec({"label": "${LABEL_FIELD}"}), source="s.yaml")
    with pytest.raises(SpecError, match="LABEL_FIELD"):
        expectation_for("data", spec, spec, "", {})
