"""Writes the container's pids limit, as the kernel sees it, into its output."""

import os

OUTPUT = "/opt/ml/processing/output/probe"

if __name__ == "__main__":
    for path in ("/sys/fs/cgroup/pids.max", "/sys/fs/cgroup/pids/pids.max"):
        if os.path.exists(path):
            with open(path) as source, open(os.path.join(OUTPUT, "pids.max"), "w") as target:
                target.write(source.read())
