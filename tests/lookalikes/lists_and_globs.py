"""Counts the files of one input by listing it and of another by a glob, opening none."""

import glob
import os

TRAIN_DIR = "/opt/ml/processing/input/train"
VALIDATION_DIR = "/opt/ml/processing/input/validation"
OUTPUT_DIR = "/opt/ml/processing/output/summary"

if __name__ == "__main__":
    train_files = os.listdir(TRAIN_DIR)
    validation_files = glob.glob(os.path.join(VALIDATION_DIR, "*.csv"))
    os.makedirs(OUTPUT_DIR, exist_ok=True)
    with open(os.path.join(OUTPUT_DIR, "counts.txt"), "w") as handle:
        handle.write(f"{len(train_files)} {len(validation_files)}\n")
