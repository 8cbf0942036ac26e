"""Reads the file named by joining two argparse defaults; writes under the output root."""

import argparse
import os
import shutil

OUTPUT_ROOT = "/opt/ml/processing/output"
REPORT_DIR = os.path.join(OUTPUT_ROOT, "report")

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--filepath", type=str, default="/opt/ml/processing/input/")
    parser.add_argument("--filename", type=str, default="orders.csv")
    args = parser.parse_args()
    source = os.path.join(args.filepath, args.filename)
    os.makedirs(REPORT_DIR, exist_ok=True)
    shutil.copy(source, os.path.join(REPORT_DIR, "orders_copy.csv"))
