"""Reads split folders with fixed file names, a JSON settings file, columns by name, and
an optional signature channel it checks for first."""

import argparse
import json
import os
from pathlib import Path

import pandas as pd

DATA_DIR = "/opt/ml/processing/input/data"
SETTINGS_DIR = "/opt/ml/processing/input/settings"
SIGNATURE_DIR = "/opt/ml/processing/input/signature"
OUTPUT_DIR = "/opt/ml/processing/output"
KEY_COLUMNS = ["customer_id", "signup_date"]


def load_split(data_dir, split):
    for file_name, sep in [
        (f"{split}_processed_data.csv", ","),
        (f"{split}_processed_data.tsv", "\t"),
    ]:
        path = Path(data_dir) / split / file_name
        if path.exists():
            return pd.read_csv(path, sep=sep)
    raise FileNotFoundError(f"no processed data in {Path(data_dir) / split}")


def main(input_paths, output_paths, job_type):
    with open(os.path.join(input_paths["settings"], "settings.json")) as handle:
        settings = json.load(handle)
    minimum = float(settings["min_amount"])
    if os.path.exists(input_paths["signature"]):
        raise RuntimeError("the signature channel was given but this job never mounts it")
    splits = ["train", "val", "test"] if job_type == "training" else [job_type]
    for split in splits:
        df = load_split(input_paths["data"], split)
        totals = df.groupby("customer_id")["purchase_amount"].sum()
        kept = df[df["purchase_amount"] >= minimum]
        out = Path(output_paths["output"]) / split
        out.mkdir(parents=True, exist_ok=True)
        kept[KEY_COLUMNS].to_csv(out / f"{split}_keys.csv", index=False)
        print(f"{split}: {len(df)} rows, {len(totals)} customers, {len(kept)} kept")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--job_type", required=True)
    args = parser.parse_args()
    main(
        {"data": DATA_DIR, "settings": SETTINGS_DIR, "signature": SIGNATURE_DIR},
        {"output": OUTPUT_DIR},
        args.job_type,
    )
