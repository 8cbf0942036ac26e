"""Tries to make a block device node with the numbers of the host's first disk."""

import os
import stat

OUTPUT = "/opt/ml/processing/output/result"

if __name__ == "__main__":
    os.mknod(os.path.join(OUTPUT, "sda"), stat.S_IFBLK | 0o666, os.makedev(8, 0))
