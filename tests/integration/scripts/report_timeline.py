"""Runs about three seconds, growing its memory and spinning a core, printing as it goes:
long enough for the stats stream to sample a timeline."""

import os
import sys
import time

OUTPUT = "/opt/ml/processing/output/result"

if __name__ == "__main__":
    blocks = []
    started = time.time()
    for step in range(6):
        blocks.append(bytearray(16 * 1024 * 1024))  # 16 MiB more each half second
        deadline = time.time() + 0.5
        while time.time() < deadline:
            pass
        print(f"step {step}: {len(blocks) * 16} MiB", flush=True)
    print("timeline script: done", file=sys.stderr, flush=True)
    with open(os.path.join(OUTPUT, "summary.txt"), "w") as handle:
        handle.write(f"ran {time.time() - started:.1f} s\n")
