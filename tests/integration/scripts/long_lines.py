"""Fails after printing 50 lines of 2 MiB each on stderr."""

import sys

if __name__ == "__main__":
    line = "E" * (2 * 1024 * 1024) + "\n"
    for _ in range(50):
        sys.stderr.write(line)
    sys.exit(1)
