"""Reads a lookup table shipped beside it in its source tree, then writes a summary."""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = "/opt/ml/processing/output/summary"

if __name__ == "__main__":
    with open(os.path.join(HERE, "lookup", "codes.json")) as handle:
        codes = json.load(handle)
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(os.path.join(OUT_DIR, "codes.txt"), "w") as out:
        out.write("\n".join(sorted(codes)) + "\n")
