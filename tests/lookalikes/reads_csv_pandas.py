"""Reads its training CSV with pandas and writes how many rows it had."""

import os

import pandas as pd

TRAIN_DIR = "/opt/ml/processing/input/train"
OUTPUT_DIR = "/opt/ml/processing/output/summary"

if __name__ == "__main__":
    frame = pd.read_csv(os.path.join(TRAIN_DIR, "train.csv"))
    os.makedirs(OUTPUT_DIR, exist_ok=True)
    with open(os.path.join(OUTPUT_DIR, "rows.txt"), "w") as handle:
        handle.write(f"{len(frame)}\n")
