"""Peak memory of the controller for a script printing 10 MiB and one printing 1 GiB.

Runs the same script through ``sandbox test-script`` (a process of its own each time,
with the image cached), printing the given amount of stdout, and reads the peak RSS of
that process (``wait4``). The controller streams logs to files and keeps a bounded tail,
so the ratio of the two peaks stays near 1 (target: under 1.2).

    python bench/controller_memory.py [--small-mib 10] [--large-mib 1024]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SANDBOX = [sys.executable, "-m", "sandbox"]
SCRIPT = """\
import os, sys

OUTPUT = "/opt/ml/processing/output/result"

if __name__ == "__main__":
    block = (b"y" * 63 + b"\\n") * 16384  # 1 MiB of 64-byte lines
    for _ in range(int(os.environ.get("FLOOD_MIB", "1"))):
        sys.stdout.buffer.write(block)
    open(OUTPUT + "/done.txt", "w").write("ok")
"""
TARGET_RATIO = 1.2


def controller_run(script: Path, workspace: Path, stdout_mib: int) -> tuple[int, float, int]:
    """Run the script through the CLI; return its peak RSS in bytes, seconds, log bytes."""
    command = [
        *SANDBOX, "test-script", str(script), "--env", f"FLOOD_MIB={stdout_mib}",
        "--workspace-dir", str(workspace), "--output-format", "json",
    ]  # fmt: skip
    result_file = workspace.parent / f"result-{stdout_mib}.json"
    started = time.perf_counter()
    with result_file.open("wb") as out:
        process = subprocess.Popen(command, stdout=out)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the run of {stdout_mib} MiB did not pass: {result_file.read_text()}")
    (result,) = json.loads(result_file.read_text())["results"]
    log_bytes = int(result["execution"]["stdout_log"]["size_bytes"])
    return usage.ru_maxrss * 1024, seconds, log_bytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small-mib", type=int, default=10)
    parser.add_argument("--large-mib", type=int, default=1024)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sandbox-bench-memory-") as folder:
        root = Path(folder)
        script = root / "log_flood.py"
        script.write_text(SCRIPT)
        peaks = {}
        for stdout_mib in (options.small_mib, options.large_mib):
            peak, seconds, log_bytes = controller_run(script, root / f"ws-{stdout_mib}", stdout_mib)
            peaks[stdout_mib] = peak
            print(
                f"stdout {stdout_mib:>5} MiB: controller peak RSS {peak / 2**20:6.1f} MiB, "
                f"stdout.log {log_bytes / 2**20:.0f} MiB, {seconds:.1f} s"
            )
    ratio = peaks[options.large_mib] / peaks[options.small_mib]
    verdict = "ok" if ratio < TARGET_RATIO else "OVER TARGET"
    print(
        f"peak RSS ratio {options.large_mib} MiB / {options.small_mib} MiB of stdout: "
        f"{ratio:.3f} (target < {TARGET_RATIO}) {verdict}"
    )


if __name__ == "__main__":
    main()
