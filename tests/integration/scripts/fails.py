"""Fails the way real scripts fail: an exception deep in a helper."""

import os

INPUT = "/opt/ml/processing/input/data"
OUTPUT = "/opt/ml/processing/output/result"


def load_column(name):
    raise ValueError(f"column {name!r} not found in {INPUT}")


def main(input_paths, output_paths, environ_vars, job_args):
    load_column("price_usd")


if __name__ == "__main__":
    main({"data_input": INPUT}, {"result": OUTPUT}, dict(os.environ), None)
