"""Pipeline test step: fails (exit 3) before writing its output."""

import sys

OUTPUT_PATH = "/opt/ml/processing/output/table"

if __name__ == "__main__":
    print(f"nothing written to {OUTPUT_PATH}", file=sys.stderr)
    sys.exit(3)
