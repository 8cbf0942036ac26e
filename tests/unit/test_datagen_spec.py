"""Dataset specs, placeholders and zero-config defaults (sandbox.data.datagen spec side)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from sandbox.data.datagen import (
    ColumnSpec,
    ColumnType,
    DatasetSpec,
    DataSize,
    LayoutSpec,
    Recipe,
    default_dataset,
    effective_columns,
    resolve_placeholders,
)
from sandbox.errors import SpecError


def test_sizes_have_documented_row_counts() -> None:
    assert [size.rows for size in DataSize] == [1_000, 100_000, 1_000_000]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"colums": []}, "colums"),
        ({"columns": [{"name": "a", "typ": "float"}]}, "typ"),
        ({"layout": {"kind": "shards", "shard": 3}}, "shard"),
    ],
)
def test_unknown_field_is_an_error_naming_it(data: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        DatasetSpec.model_validate(data)


def test_specs_are_frozen() -> None:
    spec = DatasetSpec(rows=3)
    with pytest.raises(ValidationError):
        spec.rows = 4  # type: ignore[misc]


@pytest.mark.parametrize(
    ("layout", "problem"),
    [
        ({"kind": "splits", "splits": {"train": 0.7, "val": 0.2}}, "sum to 1"),
        ({"kind": "splits", "splits": {"../x": 1.0}}, "plain folder name"),
        ({"kind": "single", "shards": 2}, "one file"),
    ],
)
def test_bad_layouts_are_refused(layout: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        LayoutSpec.model_validate(layout)


@pytest.mark.parametrize(
    ("column", "problem"),
    [
        ({"name": "a", "type": "category", "categories": [1, 2]}, "must all be str"),
        ({"name": "a", "type": "float", "categories": ["x"]}, "only for category"),
        ({"name": "a", "low": 2, "high": 1}, "low must be below high"),
        ({"name": "a", "distribution": "uniform"}, "needs low and high"),
        ({"name": "a", "type": "category", "signal": 1.0}, "signal is only"),
        ({"name": "a", "null_fraction": 1.0}, "null_fraction"),
    ],
)
def test_bad_columns_are_refused(column: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        ColumnSpec.model_validate(column)


def test_duplicate_column_names_are_refused() -> None:
    with pytest.raises(ValidationError, match="appears twice"):
        DatasetSpec(columns=[ColumnSpec(name="a"), ColumnSpec(name="a")])


def test_json_recipe_needs_content() -> None:
    with pytest.raises(ValidationError, match="needs content"):
        DatasetSpec(recipe=Recipe.JSON)


def test_placeholders_resolve_in_column_names_and_label() -> None:
    spec = DatasetSpec(
        columns=[ColumnSpec(name="${LABEL_FIELD}", type="label"), ColumnSpec(name="x_${P}")],
        label="${LABEL_FIELD}",
    )
    resolved = resolve_placeholders(spec, {"LABEL_FIELD": "is_fraud", "P": "1"})
    assert [column.name for column in resolved.columns or ()] == ["is_fraud", "x_1"]
    assert resolved.label == "is_fraud"


def test_placeholders_resolve_in_json_content() -> None:
    spec = DatasetSpec(recipe=Recipe.JSON, content={"label_name": "${LABEL_FIELD}"})
    resolved = resolve_placeholders(spec, {"LABEL_FIELD": "y"})
    assert resolved.content == {"label_name": "y"}


def test_unknown_placeholder_is_a_spec_error_naming_the_variable() -> None:
    spec = DatasetSpec(label="${LABEL_FIELD}")
    with pytest.raises(SpecError, match="LABEL_FIELD") as caught:
        resolve_placeholders(spec, {"OTHER": "x"})
    assert caught.value.exit_code == 2


def test_recipe_without_columns_gets_defaults_and_a_label() -> None:
    names = [column.name for column in effective_columns(DatasetSpec())]
    assert names[-1] == "label"
    assert len(names) == 11


def test_explicit_label_name_is_added_when_missing() -> None:
    spec = DatasetSpec(columns=[ColumnSpec(name="x")], label="target")
    columns = effective_columns(spec)
    assert [(column.name, column.type) for column in columns] == [
        ("x", ColumnType.FLOAT),
        ("target", ColumnType.LABEL),
    ]


def test_default_dataset_names_label_from_env() -> None:
    spec = default_dataset("data", env={"LABEL_FIELD": "is_fraud"})
    assert spec.label == "is_fraud"
    assert effective_columns(spec)[-1].name == "is_fraud"
    assert default_dataset("data", env={}).label == "label"


def test_default_dataset_adds_columns_named_by_env_vars() -> None:
    env = {"ID_FIELD": "customer_id", "AMOUNT_FIELD": "spend"}
    spec = default_dataset("data", env=env, column_env_vars=["ID_FIELD", "AMOUNT_FIELD", "UNSET"])
    types = {column.name: column.type for column in effective_columns(spec)}
    assert types["customer_id"] is ColumnType.ID
    assert types["spend"] is ColumnType.FLOAT
    assert "record_id" not in types  # the recipe's id column was renamed, not doubled
    assert "UNSET" not in types


def test_default_dataset_for_config_channel_is_hyperparameters() -> None:
    spec = default_dataset("config_input", env={"LABEL_FIELD": "y"})
    assert spec.recipe is Recipe.JSON
    assert spec.file_name == "hyperparameters.json"
    assert spec.content == {
        "label_name": "y",
        "num_round": "20",
        "max_depth": "4",
        "eta": "0.3",
        "objective": "binary:logistic",
    }


@pytest.mark.parametrize("channel", ["calibration", "eval_data"])
def test_default_dataset_for_calibration_channels_has_a_score(channel: str) -> None:
    spec = default_dataset(channel, env={})
    assert spec.recipe is Recipe.CALIBRATION
    assert any(column.type is ColumnType.SCORE for column in effective_columns(spec))


def test_default_layouts_processing_and_training() -> None:
    processing = default_dataset("data", env={})
    assert (processing.layout.kind, processing.layout.shards) == ("shards", 2)
    training = default_dataset("train", env={}, training=True)
    assert (training.layout.kind, training.file_name) == ("single", "train.csv")
    assert training.recipe is Recipe.TRAINING
    assert default_dataset("val", env={}, training=True).seed != training.seed


def test_importing_datagen_imports_no_pandas_pyarrow_or_numpy() -> None:
    code = (
        "import sys, sandbox.data.datagen\n"
        "print(sorted(m for m in ('pandas', 'pyarrow', 'numpy') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
