"""Holds 100 MiB and spins a core for half a second: a run too short for the stats stream."""

import time

OUTPUT = "/opt/ml/processing/output/result"

if __name__ == "__main__":
    block = bytearray(100 * 1024 * 1024)
    for index in range(0, len(block), 4096):
        block[index] = 1  # touched: resident, not just reserved
    deadline = time.time() + 0.5
    count = 0
    while time.time() < deadline:
        count += 1
    with open(OUTPUT + "/count.txt", "w") as handle:
        handle.write(str(count))
