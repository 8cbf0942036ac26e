"""Finds each split's file through a helper that tries candidate names in turn (the first
one is parquet), and carries an earlier step's artifacts over only when that optional
channel, wired in by a keyed assignment, exists."""

import argparse
import os
import shutil
from pathlib import Path

import pandas as pd

PATHS = {"INPUT": "/opt/ml/processing/input", "OUTPUT": "/opt/ml/processing/output"}


def _find_split_file(folder, name):
    candidates = [
        (f"{name}_features.parquet", "parquet"),
        (f"{name}_features.csv", "csv"),
    ]
    for file_name, kind in candidates:
        path = folder / file_name
        if path.exists():
            return path, kind
    raise RuntimeError(f"no features file in {folder}; looked for {[c[0] for c in candidates]}")


def _read(path, kind):
    return pd.read_parquet(path) if kind == "parquet" else pd.read_csv(path)


def load_one(root, job_type):
    path, kind = _find_split_file(Path(root) / job_type, job_type)
    return {job_type: _read(path, kind)}


def load_all(root):
    frames = {}
    for split_name in ["train", "val", "test"]:
        folder = Path(root) / split_name
        path, kind = _find_split_file(folder, split_name)
        frames[split_name] = _read(path, kind)
    return frames


def carry_artifacts(source, target):
    if not source or not os.path.exists(source):
        print("no earlier artifacts to carry")
        return
    os.makedirs(target, exist_ok=True)
    for entry in os.listdir(source):
        shutil.copy2(os.path.join(source, entry), target)


def main(input_paths, output_paths, job_type):
    if job_type == "training":
        frames = load_all(input_paths["features"])
    else:
        frames = load_one(input_paths["features"], job_type)
    carry_artifacts(input_paths.get("artifacts_input"), output_paths["artifacts"])
    for split, frame in frames.items():
        out = Path(output_paths["summary"]) / split
        out.mkdir(parents=True, exist_ok=True)
        frame.describe().to_csv(out / "summary.csv")
        print(f"{split}: {len(frame)} rows")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--job_type", default="training")
    args = parser.parse_args()
    inputs = {"features": PATHS["INPUT"]}
    if args.job_type != "training":
        inputs["artifacts_input"] = PATHS["INPUT"] + "/artifacts"
    main(
        inputs,
        {"summary": PATHS["OUTPUT"] + "/summary", "artifacts": PATHS["OUTPUT"] + "/artifacts"},
        args.job_type,
    )
