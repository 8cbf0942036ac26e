#!/usr/bin/env python3
"""Tabular preprocessing (SageMaker Processing).

Reads every data shard under the ``data_input`` channel (``part-*.csv``, ``*.csv``,
``*.csv.gz``, ``*.parquet``, ``*.jsonl``, recursively), cleans the label column named
by ``LABEL_FIELD`` and writes the processed table under the ``data_output`` channel:

- ``--job_type training``: a stratified train/val/test split into
  ``train/train_processed_data.csv``, ``val/val_processed_data.csv`` and
  ``test/test_processed_data.csv``;
- any other job type: ``<job_type>/<job_type>_processed_data.csv``.

Environment: ``LABEL_FIELD`` (required), ``TRAIN_RATIO`` (default 0.7, the share of rows
for training), ``TEST_VAL_RATIO`` (default 0.5, the share of the held-out rows that go
to validation; the rest go to test).
"""

import argparse
import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Dict, List, Optional

import pandas as pd
from sklearn.model_selection import train_test_split

logger = logging.getLogger(__name__)

JOB_TYPES = ("training", "validation", "testing", "calibration")
RANDOM_STATE = 42
DATA_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".jsonl", ".jsonl.gz")


def find_data_files(input_dir: Path) -> List[Path]:
    """All data shards under ``input_dir``, in a stable order (hidden files skipped)."""
    files = []
    for path in sorted(input_dir.rglob("*")):
        name = path.name.lower()
        if path.is_file() and not name.startswith((".", "_")) and name.endswith(DATA_SUFFIXES):
            files.append(path)
    return files


def read_data_file(path: Path) -> pd.DataFrame:
    """Read one shard; the format follows the file name."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        return pd.read_parquet(path)
    if name.endswith((".jsonl", ".jsonl.gz")):
        return pd.read_json(path, lines=True)
    return pd.read_csv(path)


def load_input_data(input_dir: Path) -> pd.DataFrame:
    """Read and concatenate every shard under ``input_dir``."""
    if not input_dir.is_dir():
        raise FileNotFoundError(f"input folder {input_dir} does not exist")
    files = find_data_files(input_dir)
    if not files:
        raise FileNotFoundError(
            f"no data files ({', '.join(DATA_SUFFIXES)}) found under {input_dir}"
        )
    frames = [read_data_file(path) for path in files]
    logger.info("read %d file(s) from %s", len(files), input_dir)
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        raise ValueError(f"every data file under {input_dir} is empty")
    return pd.concat(frames, ignore_index=True)


def read_ratio(environ_vars: Dict[str, Optional[str]], name: str, default: float) -> float:
    """A ratio strictly between 0 and 1 from the environment."""
    raw = environ_vars.get(name)
    value = default if raw in (None, "") else float(raw)
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {raw!r}")
    return value


def clean_label(df: pd.DataFrame, label_field: str) -> pd.DataFrame:
    """Drop rows without a label and turn the label into integer codes."""
    if label_field not in df.columns:
        raise ValueError(
            f"label column {label_field!r} (from LABEL_FIELD) is not in the data; "
            f"columns are: {', '.join(map(str, df.columns))}"
        )
    before = len(df)
    df = df.dropna(subset=[label_field]).reset_index(drop=True)
    if len(df) < before:
        logger.info("dropped %d row(s) with a missing label", before - len(df))
    if df.empty:
        raise ValueError(f"no rows left with a value in label column {label_field!r}")
    labels = df[label_field]
    if pd.api.types.is_bool_dtype(labels):
        return df.assign(**{label_field: labels.astype("int64")})
    if pd.api.types.is_numeric_dtype(labels) and bool((labels == labels.round()).all()):
        return df.assign(**{label_field: labels.astype("int64")})
    codes, classes = pd.factorize(labels.astype(str), sort=True)
    logger.info("label codes: %s", {str(value): code for code, value in enumerate(classes)})
    return df.assign(**{label_field: codes.astype("int64")})


def split_rows(df: pd.DataFrame, first_size: float, label_field: str):
    """Split ``df`` in two (``first_size`` share first), stratified when the data allow."""
    if len(df) < 2:
        logger.warning("only %d row(s): nothing to split", len(df))
        return df, df.iloc[0:0]
    try:
        return train_test_split(
            df, train_size=first_size, random_state=RANDOM_STATE, stratify=df[label_field]
        )
    except ValueError as exc:
        logger.warning("cannot stratify (%s); splitting at random", exc)
        return train_test_split(df, train_size=first_size, random_state=RANDOM_STATE)


def split_training_data(
    df: pd.DataFrame, label_field: str, train_ratio: float, test_val_ratio: float
) -> Dict[str, pd.DataFrame]:
    """Train/val/test splits: ``train_ratio`` of rows for training, the rest shared."""
    train_df, holdout_df = split_rows(df, train_ratio, label_field)
    val_df, test_df = split_rows(holdout_df, test_val_ratio, label_field)
    return {"train": train_df, "val": val_df, "test": test_df}


def write_split(df: pd.DataFrame, output_dir: Path, split: str) -> Path:
    """Write one split as ``<output_dir>/<split>/<split>_processed_data.csv``."""
    split_dir = output_dir / split
    split_dir.mkdir(parents=True, exist_ok=True)
    path = split_dir / f"{split}_processed_data.csv"
    df.to_csv(path, index=False)
    logger.info("wrote %d row(s) to %s", len(df), path)
    return path


def main(
    input_paths: Dict[str, str],
    output_paths: Dict[str, str],
    environ_vars: Dict[str, Optional[str]],
    job_args: argparse.Namespace,
) -> Dict[str, pd.DataFrame]:
    """Preprocess the ``data_input`` channel into the ``data_output`` channel.

    Returns the written splits by name.
    """
    if "data_input" not in input_paths:
        raise ValueError("input_paths must contain 'data_input'")
    if "data_output" not in output_paths:
        raise ValueError("output_paths must contain 'data_output'")
    label_field = environ_vars.get("LABEL_FIELD")
    if not label_field:
        raise ValueError("the LABEL_FIELD environment variable is required")
    job_type = job_args.job_type
    if job_type not in JOB_TYPES:
        raise ValueError(f"job_type must be one of {', '.join(JOB_TYPES)}, got {job_type!r}")
    train_ratio = read_ratio(environ_vars, "TRAIN_RATIO", 0.7)
    test_val_ratio = read_ratio(environ_vars, "TEST_VAL_RATIO", 0.5)

    df = clean_label(load_input_data(Path(input_paths["data_input"])), label_field)
    if job_type == "training":
        splits = split_training_data(df, label_field, train_ratio, test_val_ratio)
    else:
        splits = {job_type: df}
    output_dir = Path(output_paths["data_output"])
    for split, split_df in splits.items():
        write_split(split_df, output_dir, split)
    print_summary(splits, label_field)
    return splits


def print_summary(splits: Dict[str, pd.DataFrame], label_field: str) -> None:
    """One line per split: rows and label counts."""
    for split, split_df in splits.items():
        counts = split_df[label_field].value_counts().sort_index()
        counts = {int(label): int(count) for label, count in counts.items()}
        print(f"{split}: {len(split_df)} rows, {split_df.shape[1]} columns, labels {counts}")


if __name__ == "__main__":
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    parser = argparse.ArgumentParser(description="Tabular preprocessing")
    parser.add_argument(
        "--job_type",
        type=str,
        required=True,
        choices=["training", "validation", "testing", "calibration"],
        help="which data set this run prepares",
    )
    args = parser.parse_args()

    input_paths = {"data_input": "/opt/ml/processing/input/data"}
    output_paths = {"data_output": "/opt/ml/processing/output"}
    environ_vars = {
        "LABEL_FIELD": os.environ.get("LABEL_FIELD"),
        "TRAIN_RATIO": os.environ.get("TRAIN_RATIO", "0.7"),
        "TEST_VAL_RATIO": os.environ.get("TEST_VAL_RATIO", "0.5"),
    }
    try:
        main(input_paths, output_paths, environ_vars, args)
    except Exception:
        logger.error("preprocessing failed:\n%s", traceback.format_exc())
        sys.exit(1)
    logger.info("preprocessing finished")
