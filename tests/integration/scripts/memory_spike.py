"""Holds about 400 MB for 0.2 s, then exits at once: the stats stream misses it."""

import time

import numpy as np

OUTPUT = "/opt/ml/processing/output/result"

if __name__ == "__main__":
    block = np.ones(400 * 1024 * 1024 // 8)
    time.sleep(0.2)
    del block
