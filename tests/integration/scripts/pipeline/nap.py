"""Pipeline test step: sleeps about two seconds, then writes one file."""

import os
import time

OUTPUT_PATH = "/opt/ml/processing/output/table"

if __name__ == "__main__":
    time.sleep(2.0)
    with open(os.path.join(OUTPUT_PATH, "done.csv"), "w", encoding="utf-8") as handle:
        handle.write("slept\n2.0\n")
