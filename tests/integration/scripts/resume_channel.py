"""Writes into an output channel whose name is not ASCII."""

import os

OUTPUT_DIR = "/opt/ml/processing/output/résumé"

if __name__ == "__main__":
    os.makedirs(OUTPUT_DIR, exist_ok=True)
    with open(os.path.join(OUTPUT_DIR, "cv.txt"), "w", encoding="utf-8") as handle:
        handle.write("résumé\n")
