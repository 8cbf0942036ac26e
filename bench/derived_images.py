"""Requirements baked into a derived image vs installed at every start; wheelhouse cache.

1. The same script, needing the same requirements, run through ``sandbox test-script``
   on the plain profile (``pip install -r`` from the local wheelhouse before the script,
   at every start) and on the derived image (``--bake-requirements``: built once, before
   the timed runs), alternating, in one run. Prints the medians and their ratio.
2. The wheelhouse for those requirements made with an empty cache (the host's pip
   downloads them) vs found in the cache. Prints the medians and their ratio.

    python bench/derived_images.py [--pairs 5] [--requirement pygam==0.8.1 ...]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sandbox.container.distributions import ImageContents  # noqa: E402
from sandbox.container.wheelhouse import WheelTarget, ensure_wheelhouse  # noqa: E402

SANDBOX = [sys.executable, "-m", "sandbox"]
DEFAULT_REQUIREMENTS = ["pygam==0.8.1", "tomli==2.0.1"]
SCRIPT = """\
import pygam, tomli
OUTPUT = "/opt/ml/processing/output/result"
if __name__ == "__main__":
    open(OUTPUT + "/done.txt", "w").write(pygam.__version__)
"""


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def run_command(script: Path, requirements: Path, workspace: Path, *, bake: bool) -> list[str]:
    command = [*SANDBOX, "test-script", str(script), "--requirements", str(requirements)]
    command += ["--workspace-dir", str(workspace), "--output-format", "json"]
    return [*command, "--bake-requirements"] if bake else command


def start_times(work: Path, requirements: list[str], pairs: int) -> tuple[float, float]:
    script = work / "needs_requirements.py"
    script.write_text(SCRIPT)
    listed = work / "requirements.txt"
    listed.write_text("".join(f"{item}\n" for item in requirements))
    workspace = work / "ws"
    plain = run_command(script, listed, workspace, bake=False)
    baked = run_command(script, listed, workspace, bake=True)
    timed(plain)  # fills the wheelhouse
    timed(baked)  # builds the derived image once
    plain_s, baked_s = [], []
    for _ in range(pairs):
        plain_s.append(timed(plain))
        baked_s.append(timed(baked))
    return statistics.median(plain_s), statistics.median(baked_s)


def wheelhouse_times(work: Path, requirements: list[str], pairs: int) -> tuple[float, float]:
    target = WheelTarget.for_image(ImageContents(python_version="3.11", glibc="2.36"))
    miss_s, hit_s = [], []
    for index in range(pairs):
        cache = work / f"cache-{index}"
        started = time.perf_counter()
        ensure_wheelhouse(cache, target, requirements)
        miss_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        house = ensure_wheelhouse(cache, target, requirements)
        hit_s.append(time.perf_counter() - started)
        assert house.cache_hit
    return statistics.median(miss_s), statistics.median(hit_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--requirement", action="append", dest="requirements")
    options = parser.parse_args()
    requirements = options.requirements or DEFAULT_REQUIREMENTS
    with tempfile.TemporaryDirectory(prefix="sandbox-bench-derived-") as folder:
        work = Path(folder)
        plain, baked = start_times(work, requirements, options.pairs)
        miss, hit = wheelhouse_times(work, requirements, options.pairs)
    print(f"requirements: {' '.join(requirements)}; {options.pairs} pairs, medians")
    print(f"run on the plain profile (pip install at start): {plain:.2f} s")
    print(f"run on the derived image (baked once):           {baked:.2f} s")
    print(f"plain / derived: {plain / baked:.2f}x")
    print(f"wheelhouse, cache miss (host pip downloads): {miss:.3f} s")
    print(f"wheelhouse, cache hit:                       {hit * 1000:.2f} ms")
    print(f"miss / hit: {miss / hit:.0f}x")


if __name__ == "__main__":
    main()
