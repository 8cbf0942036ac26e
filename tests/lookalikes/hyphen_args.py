"""Declares its options with hyphens, as many real scripts do."""

import argparse
import os

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--job-type", type=str, required=True)
    parser.add_argument("--min-orders", type=int, default=5)
    args = parser.parse_args()
    out = "/opt/ml/processing/output/summary"
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "args.txt"), "w") as handle:
        handle.write(f"{args.job_type} {args.min_orders}\n")
