"""Records the types of its job arguments, so both call styles can be compared."""

import argparse
import json
import os

OUTPUT = "/opt/ml/processing/output/args"


def main(input_paths, output_paths, environ_vars, job_args):
    record = {name: [type(value).__name__, value] for name, value in sorted(vars(job_args).items())}
    record["environ_threshold"] = environ_vars.get("THRESHOLD")
    with open(os.path.join(output_paths["args"], "args.json"), "w") as handle:
        json.dump(record, handle, sort_keys=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n_trees", type=int, default=3)
    parser.add_argument("--rate", type=float, default=0.5)
    parser.add_argument("--debug", action="store_true")
    parser.add_argument("--tags", nargs="+", default=["a"])
    parser.add_argument("--mode", default=None)
    args = parser.parse_args()
    main(
        {},
        {"args": OUTPUT},
        {"THRESHOLD": os.environ.get("THRESHOLD", "0.8")},
        args,
    )
