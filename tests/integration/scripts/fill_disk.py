"""Fills the disk its output folder is on (writing at most 64 MiB, in case that disk is
large), then prints 400 KiB on stderr and exits 0."""

import os
import sys

OUTPUT = "/opt/ml/processing/output/result"
LIMIT_MIB = 64

if __name__ == "__main__":
    chunk = b"f" * (1024 * 1024)
    try:
        with open(os.path.join(OUTPUT, "fill.bin"), "wb") as handle:
            for _ in range(LIMIT_MIB):
                handle.write(chunk)
    except OSError as exc:
        print(f"the output disk is full: {exc}", file=sys.stderr)
    sys.stderr.write("after the disk filled\n" * 19000)
