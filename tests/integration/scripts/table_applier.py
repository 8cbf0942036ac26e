"""Applies an imputation table an earlier step pickled (a value per column) to the rows
of one split; in training mode it would fit the table instead."""

import argparse
import os
import pickle
from pathlib import Path

import pandas as pd

DATA_DIR = "/opt/ml/processing/input/data"
ARTIFACTS_DIR = "/opt/ml/processing/input/model_artifacts"
OUT_DIR = "/opt/ml/processing/output/imputed"


def load_table(artifacts_dir):
    table_path = Path(artifacts_dir) / "impute_dict.pkl"
    if not table_path.exists():
        raise FileNotFoundError(f"imputation table not found: {table_path}")
    with open(table_path, "rb") as handle:
        return pickle.load(handle)


def main(input_paths, output_paths, job_type):
    frame = pd.concat(pd.read_csv(path) for path in sorted(Path(input_paths["data"]).glob("*.csv")))
    if job_type == "training":
        table = frame.mean(numeric_only=True).to_dict()
    else:
        table = load_table(input_paths["model_artifacts"])
        if not isinstance(table, dict) or not table:
            raise ValueError(f"the imputation table is empty or not a dict: {table!r}")
    os.makedirs(output_paths["imputed"], exist_ok=True)
    frame.fillna(table).to_csv(os.path.join(output_paths["imputed"], "rows.csv"), index=False)
    print(f"{len(frame)} rows, {len(table)} imputed columns")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--job_type", required=True)
    args = parser.parse_args()
    main(
        {"data": DATA_DIR, "model_artifacts": ARTIFACTS_DIR},
        {"imputed": OUT_DIR},
        args.job_type,
    )
