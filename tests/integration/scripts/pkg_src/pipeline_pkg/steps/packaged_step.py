"""A processing step that imports a sibling module of its package."""

import os

from ..hyperparams import DEFAULT_OUTPUT_NAME

OUTPUT = "/opt/ml/processing/output/result"


def main(input_paths, output_paths, environ_vars, job_args):
    with open(os.path.join(output_paths["result"], DEFAULT_OUTPUT_NAME), "w") as handle:
        handle.write("imported\n")


if __name__ == "__main__":
    main({}, {"result": OUTPUT}, {}, None)
