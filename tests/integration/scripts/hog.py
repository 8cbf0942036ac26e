"""Allocates far more memory than its limit."""

import numpy as np

OUTPUT = "/opt/ml/processing/output/result"

if __name__ == "__main__":
    blocks = [np.ones(50 * 1024 * 1024 // 8) for _ in range(20)]
