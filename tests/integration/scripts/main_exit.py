"""main() gives up with sys.exit(3), as some real scripts do on bad input."""

import sys

OUTPUT = "/opt/ml/processing/output/result"


def main(input_paths, output_paths, environ_vars, job_args, logger=None):
    (logger or print)("giving up")
    sys.exit(3)


if __name__ == "__main__":
    main({}, {"result": OUTPUT}, {}, None)
