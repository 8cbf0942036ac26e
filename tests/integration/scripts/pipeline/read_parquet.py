"""Pipeline test step: reads Parquet files from its input, writes their row count."""

import json
import os
from pathlib import Path

import pandas as pd

INPUT_PATH = "/opt/ml/processing/input/table"
OUTPUT_PATH = "/opt/ml/processing/output/summary"

if __name__ == "__main__":
    frames = [pd.read_parquet(path) for path in sorted(Path(INPUT_PATH).rglob("*.parquet"))]
    rows = sum(len(frame) for frame in frames)
    with open(os.path.join(OUTPUT_PATH, "summary.json"), "w", encoding="utf-8") as handle:
        json.dump({"rows": rows}, handle)
