"""What the supervisor's watch on the input channels costs a job that opens many files.

A job opens and reads 20,000 small files of one input channel (20 folders of 1,000),
run by the supervisor with and without ``--watch-input``, alternating, in one run on
this machine's kernel (the engine's, for a local engine). Prints the medians of the
job's own wall time (the supervisor's ``wall_s``) and of the whole command (the watch
is set up before the job starts), their ratios, and what the watch reported. The worst
case follows: the same channel holding a skipped folder at its top, so the top folder's
watch stays and every open in it is an event (all 20,000 files in that folder).

    python bench/input_watch.py [--pairs 7] [--files 20000]
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

import sandbox.container._container

SUPERVISOR = Path(sandbox.container._container.__file__).resolve().parent / "supervisor.py"
JOB = """\
import os, sys
count = 0
for folder, _, files in os.walk(sys.argv[1]):
    for name in files:
        with open(os.path.join(folder, name), "rb") as handle:
            count += len(handle.read())
"""


def make_channel(root: Path, files: int, folders: int) -> Path:
    """``files`` small CSV files in ``folders`` folders of the channel, or at its top (0)."""
    channel = root / "train"
    for index in range(files):
        folder = channel / f"part{index % folders}" if folders else channel
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{index}.csv").write_text("a,b\n1,2\n")
    return channel


def run_job(channel: Path, report: Path, watch: list[str]) -> tuple[float, dict[str, object]]:
    command = [sys.executable, "-I", "-S", str(SUPERVISOR), "--report", str(report), *watch]
    command += ["--", sys.executable, "-c", JOB, str(channel)]
    started = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - started, json.loads(report.read_text())


def compare(channel: Path, report: Path, watch: list[str], pairs: int) -> None:
    rows = []
    for _ in range(pairs):
        bare_total, bare = run_job(channel, report, [])
        watched_total, watched = run_job(channel, report, watch)
        rows.append((bare_total, float(bare["wall_s"]), watched_total, float(watched["wall_s"])))
    bare_total, bare_job, watched_total, watched_job = (
        statistics.median(row[i] for row in rows) for i in range(4)
    )
    print(
        f"  job wall time:   {bare_job:.3f} s bare, {watched_job:.3f} s watched, "
        f"ratio {watched_job / bare_job:.3f}"
    )
    print(
        f"  whole command:   {bare_total:.3f} s bare, {watched_total:.3f} s watched, "
        f"ratio {watched_total / bare_total:.3f} (the watch is set up before the job)"
    )
    print(f"  watch reported:  {json.dumps(watched.get('input_reads'))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--files", type=int, default=20000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        report = root / "supervisor.json"
        channel = make_channel(root / "spread", options.files, folders=20)
        print(f"{options.files} files in 20 folders, one-shot watches, pairs: {options.pairs}")
        compare(channel, report, ["--watch-input", str(channel)], options.pairs)
        flat = make_channel(root / "flat", options.files, folders=0)
        (flat / "code").mkdir()
        print(f"worst case: {options.files} files in a folder watched to the end")
        skip = ["--watch-input", str(flat), "--watch-skip", str(flat / "code")]
        compare(flat, report, skip, options.pairs)


if __name__ == "__main__":
    main()
