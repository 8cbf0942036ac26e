"""Links an expected output file to LINK_TARGET (a host path the container cannot read),
and writes an 8 GiB sparse table whose first line never ends."""

import os

LINKED = "/opt/ml/processing/output/linked"
SPARSE = "/opt/ml/processing/output/sparse"

if __name__ == "__main__":
    os.symlink(os.environ["LINK_TARGET"], os.path.join(LINKED, "a.csv"))
    with open(os.path.join(SPARSE, "big.csv"), "wb") as handle:
        handle.write(b"amount")
        handle.truncate(8 * 1024**3)
