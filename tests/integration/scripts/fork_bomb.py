"""A fork bomb that bounds itself: every process forks again for 10 rounds (1024
processes with no limit), each holds its pid for 3 s, and the first process then forks
sleepers until a fork is refused (at most 200 more). Under a pids limit the first
process's fork is refused and it fails with BlockingIOError."""

import os
import sys
import time

OUTPUT = "/opt/ml/processing/output/result"
ROOT = os.getpid()


def fork_or_stop():
    try:
        return os.fork()
    except OSError:
        if os.getpid() == ROOT:
            raise
        os._exit(1)


if __name__ == "__main__":
    for _ in range(10):
        fork_or_stop()
        time.sleep(0.05)
    if os.getpid() != ROOT:
        time.sleep(3)
        os._exit(0)
    for _ in range(200):
        if fork_or_stop() == 0:
            time.sleep(3)
            os._exit(0)
    sys.exit("no fork was refused")
