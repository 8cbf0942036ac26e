"""Recipes: default columns per recipe, and zero-config data sets per channel."""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence

from sandbox.data.datagen.spec import (
    ColumnSpec,
    ColumnType,
    DataFormat,
    DatasetSpec,
    Distribution,
    LayoutSpec,
    Recipe,
)

__all__ = [
    "CURRENCY_CODES",
    "CURRENCY_WEIGHTS",
    "DEFAULT_HYPERPARAMETERS",
    "DEFAULT_LABEL",
    "default_dataset",
    "effective_columns",
    "label_column_name",
    "recipe_columns",
]

DEFAULT_LABEL = "label"
LABEL_ENV_VAR = "LABEL_FIELD"
HYPERPARAMETERS_FILE = "hyperparameters.json"
DEFAULT_HYPERPARAMETERS = {
    "num_round": "20",
    "max_depth": "4",
    "eta": "0.3",
    "objective": "binary:logistic",
}
CURRENCY_CODES = ("USD", "EUR", "GBP", "JPY", "CAD", "AUD", "INR", "CNY", "MXN", "BRL")
CURRENCY_WEIGHTS = (30.0, 20.0, 12.0, 10.0, 7.0, 6.0, 6.0, 4.0, 3.0, 2.0)
MARKETPLACE_IDS = (1, 3, 4, 5, 6, 7, 35691, 44551, 338801)
_PROCESSING_SHARDS = 2

_C = ColumnSpec
_T = ColumnType


def _tabular() -> tuple[ColumnSpec, ...]:
    return (
        _C(name="record_id", type=_T.ID),
        _C(name="event_time", type=_T.DATETIME),
        _C(name="feature_1", mean=0.0, std=1.0, signal=0.8),
        _C(name="feature_2", mean=10.0, std=3.0, signal=-0.5),
        _C(name="feature_3", low=0.0, high=1.0),
        _C(
            name="amount",
            distribution=Distribution.LOGNORMAL,
            mean=3.0,
            std=1.0,
            decimals=2,
            null_fraction=0.02,
        ),
        _C(name="quantity", type=_T.INT, low=1, high=20),
        _C(name="age", type=_T.INT, mean=40.0, std=12.0, low=18, high=90, signal=0.3),
        _C(name="region", type=_T.CATEGORY, categories=("north", "south", "east", "west")),
        _C(
            name="channel",
            type=_T.CATEGORY,
            categories=("web", "store", "app", "phone"),
            weights=(5.0, 3.0, 2.0, 1.0),
        ),
    )


def _training() -> tuple[ColumnSpec, ...]:
    signals = (1.0, 0.8, 0.6, 0.4, 0.2, 0.0, 0.0, 0.0)
    features = tuple(
        _C(name=f"feature_{index}", mean=0.0, std=1.0, signal=signal)
        for index, signal in enumerate(signals)
    )
    return (
        _C(name="record_id", type=_T.ID),
        *features,
        _C(name="count", type=_T.INT, mean=5.0, std=2.0, low=0, high=50, signal=0.5),
        _C(name="segment", type=_T.CATEGORY, categories=("a", "b", "c")),
    )


def _currency() -> tuple[ColumnSpec, ...]:
    return (
        _C(name="transaction_id", type=_T.ID),
        _C(name="order_date", type=_T.DATETIME),
        _C(name="marketplace_id", type=_T.INT, categories=MARKETPLACE_IDS),
        _C(name="currency_code", type=_T.CURRENCY),
        _C(name="amount", distribution=Distribution.LOGNORMAL, mean=3.5, std=1.2, decimals=2),
        _C(name="quantity", type=_T.INT, low=1, high=10),
    )


def _calibration() -> tuple[ColumnSpec, ...]:
    return (
        _C(name="record_id", type=_T.ID),
        _C(name="score", type=_T.SCORE),
        _C(name="segment", type=_T.CATEGORY, categories=("a", "b", "c")),
    )


_RECIPE_COLUMNS = {
    Recipe.TABULAR: _tabular,
    Recipe.TRAINING: _training,
    Recipe.CURRENCY: _currency,
    Recipe.CALIBRATION: _calibration,
}
# Recipes whose data is about predicting a label get one even when the spec names none.
_RECIPES_WITH_LABEL = (Recipe.TABULAR, Recipe.TRAINING, Recipe.CALIBRATION)


def recipe_columns(recipe: Recipe) -> tuple[ColumnSpec, ...]:
    """Default columns of a table recipe, without the label; empty for json and files."""
    make = _RECIPE_COLUMNS.get(recipe)
    return make() if make else ()


def label_column_name(spec: DatasetSpec) -> str | None:
    """Name of the spec's primary label column, if it has one."""
    if spec.label is not None:
        return spec.label
    for column in spec.columns or ():
        if column.type is ColumnType.LABEL:
            return column.name
    if spec.columns is None and spec.recipe in _RECIPES_WITH_LABEL:
        return DEFAULT_LABEL
    return None


def effective_columns(spec: DatasetSpec) -> tuple[ColumnSpec, ...]:
    """Columns generated for a spec: explicit or recipe columns, plus the label."""
    if not spec.recipe.is_table:
        return ()
    columns = spec.columns if spec.columns is not None else recipe_columns(spec.recipe)
    label = label_column_name(spec)
    if label is None or any(column.name == label for column in columns):
        return columns
    return (*columns, ColumnSpec(name=label, type=ColumnType.LABEL))


def default_dataset(
    channel: str,
    *,
    env: Mapping[str, str],
    column_env_vars: Sequence[str] = (),
    training: bool = False,
) -> DatasetSpec:
    """A sensible data set for a channel that no spec describes.

    Channels named like `config` or `hyperparam` get `hyperparameters.json`; `calib`
    or `eval` channels get scores with correlated labels; others get a table (the
    training recipe for training jobs). The label column is named by `LABEL_FIELD` in
    `env` (else `label`); every variable of `column_env_vars` set in `env` names one
    more column (its type guessed from the variable name, e.g. `ID_FIELD` -> id).

    Args:
        channel: Channel (input) name.
        env: The job's environment.
        column_env_vars: Environment variables whose values are column names.
        training: True for training channels: one file per channel, named after it.

    Returns:
        The data set spec.
    """
    label = env.get(LABEL_ENV_VAR) or DEFAULT_LABEL
    lowered = channel.lower()
    if "config" in lowered or "hyperparam" in lowered:
        content = {"label_name": label, **DEFAULT_HYPERPARAMETERS}
        return DatasetSpec(recipe=Recipe.JSON, content=content, file_name=HYPERPARAMETERS_FILE)
    if "calib" in lowered or "eval" in lowered:
        recipe = Recipe.CALIBRATION
    else:
        recipe = Recipe.TRAINING if training else Recipe.TABULAR
    columns = _with_env_columns(recipe_columns(recipe), env, column_env_vars, label)
    return DatasetSpec(
        recipe=recipe,
        columns=(*columns, ColumnSpec(name=label, type=ColumnType.LABEL)),
        label=label,
        layout=_default_layout(training),
        file_name=f"{_plain(channel)}.{DataFormat.CSV.extension}" if training else None,
        seed=zlib.crc32(channel.encode()) % 2**31,
    )


def _default_layout(training: bool) -> LayoutSpec:
    if training:
        return LayoutSpec()
    return LayoutSpec(kind="shards", shards=_PROCESSING_SHARDS)


def _plain(channel: str) -> str:
    cleaned = "".join(char if char.isalnum() or char in "_-." else "_" for char in channel)
    return cleaned.strip(".") or "data"


# Variable-name fragment -> column type, first match wins.
_ENV_TYPE_HINTS: tuple[tuple[str, ColumnType], ...] = (
    ("CURRENCY", ColumnType.CURRENCY),
    ("MARKETPLACE", ColumnType.INT),
    ("SCORE", ColumnType.SCORE),
    ("PROB", ColumnType.SCORE),
    ("DATE", ColumnType.DATETIME),
    ("TIME", ColumnType.DATETIME),
    ("ID", ColumnType.ID),
    ("KEY", ColumnType.ID),
    ("LABEL", ColumnType.LABEL),
    ("TARGET", ColumnType.LABEL),
    ("CATEGORY", ColumnType.CATEGORY),
    ("TYPE", ColumnType.CATEGORY),
    ("CLASS", ColumnType.CATEGORY),
    ("TEXT", ColumnType.TEXT),
)
# A recipe column of one of these types is renamed rather than joined by a second one.
_RENAMED_TYPES = (ColumnType.ID, ColumnType.SCORE, ColumnType.DATETIME, ColumnType.CURRENCY)


def _with_env_columns(
    columns: tuple[ColumnSpec, ...],
    env: Mapping[str, str],
    variables: Sequence[str],
    label: str,
) -> tuple[ColumnSpec, ...]:
    result = list(columns)
    claimed: set[str] = set()
    for variable in variables:
        name = env.get(variable)
        if not name or name == label or name in claimed:
            continue
        claimed.add(name)
        _place_env_column(result, _env_column(variable, name), claimed)
    return tuple(result)


def _place_env_column(columns: list[ColumnSpec], new: ColumnSpec, claimed: set[str]) -> None:
    for index, column in enumerate(columns):
        if column.name == new.name:
            columns[index] = new
            return
    if new.type in _RENAMED_TYPES:
        for index, column in enumerate(columns):
            if column.type is new.type and column.name not in claimed:
                columns[index] = ColumnSpec.model_validate(
                    {**column.model_dump(), "name": new.name}
                )
                return
    columns.append(new)


def _env_column(variable: str, name: str) -> ColumnSpec:
    upper = variable.upper()
    kind = next((kind for hint, kind in _ENV_TYPE_HINTS if hint in upper), ColumnType.FLOAT)
    if kind is ColumnType.INT:
        return ColumnSpec(name=name, type=kind, categories=MARKETPLACE_IDS)
    if kind is ColumnType.CATEGORY:
        return ColumnSpec(name=name, type=kind, categories=("a", "b", "c", "d"))
    return ColumnSpec(name=name, type=kind)
