"""Writes a 200 MB file: page cache, not resident memory."""

import os

OUTPUT = "/opt/ml/processing/output/result"

if __name__ == "__main__":
    chunk = b"x" * (1024 * 1024)
    with open(os.path.join(OUTPUT, "big.bin"), "wb") as handle:
        for _ in range(200):
            handle.write(chunk)
