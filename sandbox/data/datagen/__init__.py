"""Synthetic data sets for script inputs: vectorised, deterministic, cached.

Importing this package is cheap: numpy and pyarrow are imported only when a table is
generated, and pandas never.
"""

from __future__ import annotations

from sandbox.data.datagen.cache import GENERATOR_VERSION, dataset_fingerprint, materialize
from sandbox.data.datagen.generate import generate
from sandbox.data.datagen.placeholders import resolve_placeholders, substitute_placeholders
from sandbox.data.datagen.recipes import default_dataset, effective_columns
from sandbox.data.datagen.spec import (
    ColumnSpec,
    ColumnType,
    DataFormat,
    DatasetSpec,
    DataSize,
    Distribution,
    LayoutSpec,
    Recipe,
)

__all__ = [
    "GENERATOR_VERSION",
    "ColumnSpec",
    "ColumnType",
    "DataFormat",
    "DataSize",
    "DatasetSpec",
    "Distribution",
    "LayoutSpec",
    "Recipe",
    "dataset_fingerprint",
    "default_dataset",
    "effective_columns",
    "generate",
    "materialize",
    "resolve_placeholders",
    "substitute_placeholders",
]
