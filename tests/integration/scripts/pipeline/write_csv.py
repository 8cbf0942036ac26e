"""Pipeline test step: writes a small CSV table (columns a, b, label) to its output."""

import os

OUTPUT_PATH = "/opt/ml/processing/output/table"

if __name__ == "__main__":
    with open(os.path.join(OUTPUT_PATH, "part.csv"), "w", encoding="utf-8") as handle:
        handle.write("a,b,label\n1.0,2.0,0\n3.0,4.0,1\n")
