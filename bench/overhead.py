"""What the sandbox adds to a bare ``docker run --rm`` of the same trivial script.

Runs the same script through ``sandbox test-script`` and through ``docker run --rm`` with
the same image, mounts and command, alternating, in one run, with the image cached.
Prints the median of (sandbox - bare) in seconds and the ratio of the medians.

    python bench/overhead.py [--pairs 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SANDBOX = [sys.executable, "-m", "sandbox"]
SCRIPT = """\
OUTPUT = "/opt/ml/processing/output/result"
if __name__ == "__main__":
    open(OUTPUT + "/done.txt", "w").write("ok")
"""


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def sandbox_command(script: Path, workspace: Path) -> list[str]:
    return [
        *SANDBOX,
        "test-script",
        str(script),
        "--workspace-dir",
        str(workspace),
        "--output-format",
        "json",
    ]


def bare_command(image: str, script: Path, work: Path) -> list[str]:
    """The same container by hand: code, config and output mounts, no network, as you."""
    for folder in ("out", "config", "ml-output"):
        (work / folder).mkdir(exist_ok=True)
    import os

    return [
        "docker",
        "run",
        "--rm",
        "--network",
        "none",
        "--user",
        f"{os.getuid()}:{os.getgid()}",
        "-v",
        f"{script}:/opt/ml/processing/input/code/{script.name}:ro",
        "-v",
        f"{work / 'out'}:/opt/ml/processing/output/result",
        "-v",
        f"{work / 'config'}:/opt/ml/config:ro",
        "-v",
        f"{work / 'ml-output'}:/opt/ml/output",
        "--entrypoint",
        "python3",
        image,
        f"/opt/ml/processing/input/code/{script.name}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        script = work / "trivial.py"
        script.write_text(SCRIPT)
        warm = subprocess.run(
            sandbox_command(script, work / "ws"), capture_output=True, text=True, check=True
        )
        (result,) = json.loads(warm.stdout)["results"]
        image = result["image"]
        bare = bare_command(image, script, work)
        pairs = [
            (timed(sandbox_command(script, work / "ws")), timed(bare)) for _ in range(options.pairs)
        ]
    sandboxed = [s for s, _ in pairs]
    plain = [b for _, b in pairs]
    added = statistics.median(s - b for s, b in pairs)
    print(f"pairs: {options.pairs}, image {image}")
    print(f"median sandbox test-script: {statistics.median(sandboxed):.3f} s")
    print(f"median bare docker run:     {statistics.median(plain):.3f} s")
    print(f"median added by sandbox:    {added:.3f} s (goal: at most 0.3 s)")
    print(
        f"ratio sandbox / bare:       {statistics.median(sandboxed) / statistics.median(plain):.2f}"
    )


if __name__ == "__main__":
    main()
