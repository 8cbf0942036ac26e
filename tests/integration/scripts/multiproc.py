"""Uses a multiprocessing pool: the module must be importable by the workers."""

import json
import multiprocessing
import os

OUTPUT = "/opt/ml/processing/output/squares"


def square(value):
    return value * value


def main(input_paths, output_paths, environ_vars, job_args):
    with multiprocessing.Pool(2) as pool:
        squares = pool.map(square, range(10))
    with open(os.path.join(output_paths["squares"], "squares.json"), "w") as handle:
        json.dump(squares, handle)


if __name__ == "__main__":
    main({}, {"squares": OUTPUT}, {}, None)
