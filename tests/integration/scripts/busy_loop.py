"""Spins one core for about two seconds."""

import time

OUTPUT = "/opt/ml/processing/output/result"

if __name__ == "__main__":
    deadline = time.time() + 2.0
    count = 0
    while time.time() < deadline:
        count += 1
