"""Prints FLOOD_MIB mebibytes of 64-byte lines on stdout (default 1), then a last line."""

import os
import sys

OUTPUT = "/opt/ml/processing/output/result"

if __name__ == "__main__":
    block = (b"y" * 63 + b"\n") * 16384  # exactly 1 MiB
    for _ in range(int(os.environ.get("FLOOD_MIB", "1"))):
        sys.stdout.buffer.write(block)
    sys.stdout.buffer.write(b"flood done\n")
    with open(os.path.join(OUTPUT, "done.txt"), "w") as handle:
        handle.write("ok")
