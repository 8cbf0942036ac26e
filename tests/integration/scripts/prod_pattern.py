"""A script in the production pattern that the sandbox has never seen.

It summarises every CSV under its input channel per label and writes a train/val split
straight into the output root, as many real preprocessing scripts do.
"""

import argparse
import csv
import glob
import json
import logging
import os
import sys

logger = logging.getLogger(__name__)

INPUT_DATA = "/opt/ml/processing/input/data"
OUTPUT_ROOT = "/opt/ml/processing/output"


def read_rows(folder):
    rows = []
    for path in sorted(glob.glob(os.path.join(folder, "**", "*.csv"), recursive=True)):
        with open(path, newline="") as handle:
            rows.extend(csv.DictReader(handle))
    return rows


def write_rows(path, rows, columns):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def main(input_paths, output_paths, environ_vars, job_args):
    if "data_input" not in input_paths:
        raise KeyError("data_input is required")
    label = environ_vars["LABEL_FIELD"]
    rows = read_rows(input_paths["data_input"])
    if not rows:
        raise ValueError("no input rows")
    if label not in rows[0]:
        raise ValueError(f"label column {label!r} missing")
    columns = list(rows[0])
    cut = int(len(rows) * 0.8)
    out = output_paths["data_output"]
    write_rows(os.path.join(out, "train", "part-00000.csv"), rows[:cut], columns)
    write_rows(os.path.join(out, "val", "part-00000.csv"), rows[cut:], columns)
    counts = {}
    for row in rows:
        counts[row[label]] = counts.get(row[label], 0) + 1
    summary = {"job_type": job_args.job_type, "rows": len(rows), "label_counts": counts}
    with open(os.path.join(out, "summary.json"), "w") as handle:
        json.dump(summary, handle, sort_keys=True)
    logger.info("wrote %d rows", len(rows))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    parser = argparse.ArgumentParser()
    parser.add_argument("--job_type", type=str, required=True)
    args = parser.parse_args()
    try:
        main(
            {"data_input": INPUT_DATA},
            {"data_output": OUTPUT_ROOT},
            {"LABEL_FIELD": os.environ.get("LABEL_FIELD", "label")},
            args,
        )
    except Exception:
        logger.exception("preprocessing failed")
        sys.exit(1)
