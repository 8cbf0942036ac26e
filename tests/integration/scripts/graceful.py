"""Catches SIGTERM, writes a marker file and exits 0, as a careful script would."""

import os
import signal
import sys
import time

OUTPUT = "/opt/ml/processing/output/result"


def on_term(signum, frame):
    with open(os.path.join(OUTPUT, "sigterm.marker"), "w") as handle:
        handle.write("got SIGTERM\n")
    sys.exit(0)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_term)
    time.sleep(600)
