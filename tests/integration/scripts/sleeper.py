"""Writes a partial output, then sleeps past any short maximum runtime.

It ignores SIGTERM, so only the SIGKILL after the grace period ends it.
"""

import os
import signal
import time

OUTPUT = "/opt/ml/processing/output/result"

if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with open(os.path.join(OUTPUT, "partial.txt"), "w") as handle:
        handle.write("started\n")
    time.sleep(600)
