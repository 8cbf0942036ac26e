"""Dataset specs: what to generate, as frozen pydantic models.

A spec names a recipe (which gives default columns), optional explicit columns, a row
count (or a `DataSize` at generation time), a file format and a layout (one file,
shards, or train/val/test splits). Specs are frozen and forbid unknown fields, so a
typo in a spec file is an error that names the field.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from pathlib import PurePosixPath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "DEFAULT_SPLITS",
    "ColumnSpec",
    "ColumnType",
    "DataFormat",
    "DataSize",
    "DatasetSpec",
    "Distribution",
    "LayoutSpec",
    "Recipe",
]

DEFAULT_SPLITS = {"train": 0.7, "val": 0.15, "test": 0.15}
_SPLIT_SUM_TOLERANCE = 1e-6


class DataSize(str, Enum):
    """How many rows a spec without an explicit `rows` gets."""

    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"

    @property
    def rows(self) -> int:
        """Row count of this size."""
        return {"small": 1_000, "medium": 100_000, "large": 1_000_000}[self.value]


class DataFormat(str, Enum):
    """File format of generated tables."""

    CSV = "csv"
    CSV_GZ = "csv.gz"
    PARQUET = "parquet"
    JSONL = "jsonl"

    @property
    def extension(self) -> str:
        """File name extension, without the leading dot."""
        return self.value


class Recipe(str, Enum):
    """What kind of data set to make; tabular recipes supply default columns."""

    TABULAR = "tabular"
    TRAINING = "training"
    CURRENCY = "currency"
    CALIBRATION = "calibration"
    JSON = "json"
    FILES = "files"

    @property
    def is_table(self) -> bool:
        """True for recipes that generate rows (not json or files)."""
        return self not in (Recipe.JSON, Recipe.FILES)


class ColumnType(str, Enum):
    """Kind of values in a generated column."""

    FLOAT = "float"
    INT = "int"
    CATEGORY = "category"
    BOOL = "bool"
    DATETIME = "datetime"
    ID = "id"
    TEXT = "text"
    CURRENCY = "currency"
    SCORE = "score"
    LABEL = "label"


class Distribution(str, Enum):
    """Distribution of float and int columns."""

    NORMAL = "normal"
    UNIFORM = "uniform"
    LOGNORMAL = "lognormal"


_NUMERIC = (ColumnType.FLOAT, ColumnType.INT)
_WITH_CATEGORIES = (ColumnType.CATEGORY, ColumnType.CURRENCY, ColumnType.TEXT, ColumnType.INT)
_FORBIDDEN_NAME_CHARS = ('"', "\n", "\r")


class ColumnSpec(BaseModel):
    """One generated column.

    Float and int columns draw from `distribution`: normal (`mean`, `std`, clipped to
    `low`/`high` when given), uniform (`low`..`high`), or lognormal (`mean` and `std`
    of the underlying normal). With no distribution set, a column with `low` and `high`
    but no `mean` is uniform, anything else normal.

    Attributes:
        name: Column name (may hold `${VAR}` placeholders until resolved).
        type: Kind of values.
        distribution: Numeric distribution (float and int only).
        mean: Mean (normal) or mean of the log (lognormal).
        std: Standard deviation, same convention as `mean`.
        low: Lower bound (uniform range, or clip bound for normal).
        high: Upper bound (uniform range, or clip bound for normal).
        decimals: Floats are rounded to this many decimals.
        null_fraction: Expected fraction of nulls, drawn with a random mask.
        categories: Allowed values (category, currency, text vocabulary, int values).
        weights: Relative frequency of each category; uniform when absent.
        positive_rate: Fraction of true values (label and bool without a score column).
        signal: Shift, in standard deviations, of float/int values on rows whose label
            is positive; gives a model something to learn.
        alpha: Beta distribution alpha of score columns.
        beta: Beta distribution beta of score columns.
        start: First instant of datetime columns (naive means UTC).
        span_days: Datetime values fall in [start, start + span_days).
        prefix: Id columns become strings `<prefix><number>` when set.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    type: ColumnType = ColumnType.FLOAT
    distribution: Distribution | None = None
    mean: float | None = None
    std: float | None = Field(default=None, ge=0)
    low: float | None = None
    high: float | None = None
    decimals: int = Field(default=4, ge=0, le=12)
    null_fraction: float = Field(default=0.0, ge=0.0, lt=1.0)
    categories: tuple[str | int, ...] | None = Field(default=None, min_length=1)
    weights: tuple[float, ...] | None = None
    positive_rate: float = Field(default=0.3, gt=0.0, lt=1.0)
    signal: float = 0.0
    alpha: float = Field(default=2.0, gt=0.0)
    beta: float = Field(default=5.0, gt=0.0)
    start: dt.datetime = dt.datetime(2024, 1, 1)
    span_days: int = Field(default=365, gt=0)
    prefix: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]*$")

    @field_validator("name")
    @classmethod
    def _name_is_writable(cls, name: str) -> str:
        if any(char in name for char in _FORBIDDEN_NAME_CHARS):
            raise ValueError(f"column name {name!r} holds a quote or a line break")
        return name

    @model_validator(mode="after")
    def _options_fit_type(self) -> ColumnSpec:
        if self.low is not None and self.high is not None and self.low >= self.high:
            raise ValueError(f"column {self.name!r}: low must be below high")
        if self.distribution is not None and self.type not in _NUMERIC:
            raise ValueError(f"column {self.name!r}: distribution is only for float and int")
        if self.signal and self.type not in _NUMERIC:
            raise ValueError(f"column {self.name!r}: signal is only for float and int")
        if self.prefix is not None and self.type is not ColumnType.ID:
            raise ValueError(f"column {self.name!r}: prefix is only for id columns")
        self._check_categories()
        self._check_uniform_bounds()
        return self

    def _check_categories(self) -> None:
        if self.categories is None:
            if self.weights is not None:
                raise ValueError(f"column {self.name!r}: weights need categories")
            return
        if self.type not in _WITH_CATEGORIES:
            raise ValueError(
                f"column {self.name!r}: categories are only for category, currency, text "
                "and int columns"
            )
        want = int if self.type is ColumnType.INT else str
        if not all(isinstance(value, want) for value in self.categories):
            raise ValueError(f"column {self.name!r}: categories must all be {want.__name__}")
        if self.weights is not None:
            if len(self.weights) != len(self.categories):
                raise ValueError(f"column {self.name!r}: one weight per category needed")
            if min(self.weights) < 0 or sum(self.weights) <= 0:
                raise ValueError(f"column {self.name!r}: weights must be >= 0, not all 0")

    def _check_uniform_bounds(self) -> None:
        if self.resolved_distribution() is Distribution.UNIFORM and (
            self.low is None or self.high is None
        ):
            raise ValueError(f"column {self.name!r}: a uniform distribution needs low and high")

    def resolved_distribution(self) -> Distribution:
        """The distribution used for numeric draws, defaults applied."""
        if self.distribution is not None:
            return self.distribution
        bounded = self.low is not None and self.high is not None
        if bounded and self.mean is None and self.std is None:
            return Distribution.UNIFORM
        return Distribution.NORMAL


class LayoutSpec(BaseModel):
    """How rows are spread over files.

    `single` writes one file, `shards` writes `shards` files `<prefix>-00000.<ext>`...,
    `splits` writes one sub-folder per split (rows divided by the ratios), each with
    `shards` files.

    Attributes:
        kind: single, shards or splits.
        shards: Files per folder.
        splits: Split name -> fraction of rows; the fractions sum to 1.
        file_prefix: File name prefix.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["single", "shards", "splits"] = "single"
    shards: int = Field(default=1, ge=1, le=10_000)
    splits: dict[str, float] | None = None
    file_prefix: str = Field(default="part", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")

    @model_validator(mode="after")
    def _consistent(self) -> LayoutSpec:
        if self.kind == "single" and self.shards != 1:
            raise ValueError("layout 'single' writes one file; use kind 'shards'")
        if self.kind != "splits" and self.splits is not None:
            raise ValueError("splits are only for layout kind 'splits'")
        if self.splits is not None:
            _check_splits(self.splits)
        return self

    def split_ratios(self) -> dict[str, float]:
        """Split name -> ratio; a single unnamed split for single and shards layouts."""
        if self.kind != "splits":
            return {"": 1.0}
        return dict(self.splits or DEFAULT_SPLITS)


def _check_splits(splits: dict[str, float]) -> None:
    if not splits:
        raise ValueError("splits must name at least one split")
    for name, ratio in splits.items():
        if not _is_plain_name(name):
            raise ValueError(f"split name {name!r} is not a plain folder name")
        if ratio <= 0:
            raise ValueError(f"split {name!r}: ratio must be > 0")
    total = sum(splits.values())
    if abs(total - 1.0) > _SPLIT_SUM_TOLERANCE:
        raise ValueError(f"split ratios must sum to 1 (they sum to {total:g})")


def _is_plain_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name


def _is_relative_file(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and "\\" not in name


class DatasetSpec(BaseModel):
    """One data set for one channel.

    Attributes:
        recipe: Kind of data; table recipes give default columns.
        columns: Explicit columns; the recipe's defaults when absent.
        rows: Row count; taken from the `DataSize` at generation time when absent.
        label: Name of the label column (binary 0/1); added when no column has that
            name. Labels correlate with `signal` columns and follow the first score
            column when there is one.
        format: File format of tables.
        layout: Files and folders the rows go to.
        header: Whether CSV files start with a header line.
        seed: Random seed; same spec, seed and size give byte-identical files.
        content: JSON content written as-is to `file_name` (recipe json).
        file_name: File name of recipe json, of the one file of a single layout, or of
            each split's one file in a splits layout (`{split}` stands for the split).
        files: Relative file name -> text content (recipe files; with other recipes,
            written beside the generated data).
        from_run: Nothing is generated: the channel gets the outputs of a previous run,
            `RUN_ID`, `RUN_ID/CHANNEL` or `RUN_ID/CHANNEL/SUB/FOLDER`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    recipe: Recipe = Recipe.TABULAR
    columns: tuple[ColumnSpec, ...] | None = None
    rows: int | None = Field(default=None, ge=0)
    label: str | None = Field(default=None, min_length=1)
    format: DataFormat = DataFormat.CSV
    layout: LayoutSpec = LayoutSpec()
    header: bool = True
    seed: int = Field(default=42, ge=0)
    content: dict[str, Any] | list[Any] | None = None
    file_name: str | None = None
    files: dict[str, str] = Field(default_factory=dict)
    from_run: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _fits_recipe(self) -> DatasetSpec:
        if self.recipe is Recipe.JSON and self.content is None:
            raise ValueError("recipe 'json' needs content")
        if self.recipe is Recipe.FILES and not self.files:
            raise ValueError("recipe 'files' needs files")
        if self.file_name is not None and not _is_relative_file(self.file_name):
            raise ValueError(f"file_name {self.file_name!r} is not a relative file name")
        for name in self.files:
            if not _is_relative_file(name):
                raise ValueError(f"files: {name!r} is not a relative file name")
        if self.columns is not None:
            _check_unique_names([column.name for column in self.columns])
        return self


def _check_unique_names(names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"column {name!r} appears twice")
        seen.add(name)
