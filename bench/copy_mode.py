"""What copying the job's folders costs against bind mounts, on the main engine.

For 1 MB and 500 MB of input, one container of the offline image reads its read-only
input and writes a copy of it as output, once with bind mounts and once with the copy
mode forced (the folders go in as a tar stream and the output comes back the same way).
Prints the wall time of each (start to removal, the copy back included), their ratio,
and the bytes and seconds the copies took, and this process's peak memory (the
copies stream: it stays far below 500 MB). One run of each.

    python bench/copy_mode.py [--work-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from sandbox.container.engine import DockerEngine
from sandbox.container.images import ensure_image
from sandbox.container.seam import ContainerRequest, Mount
from sandbox.container.transfer import CopyMode, Transfer

MB = 1024 * 1024
SIZES_MB = (1, 500)
# Two files, so the copy is more than one header.
COMMAND = "cat /in/*.bin > /dev/null && cp /in/*.bin /out/ && sync"


def make_input(folder: Path, size_mb: int) -> None:
    folder.mkdir(parents=True)
    half = size_mb * MB // 2
    for name in ("a.bin", "b.bin"):
        with open(folder / name, "wb") as stream:
            left = half
            while left:
                chunk = min(left, 8 * MB)
                stream.write(os.urandom(chunk))
                left -= chunk


def one_run(
    engine: DockerEngine, image: str, work: Path, mode: CopyMode
) -> tuple[float, Transfer | None]:
    output = work / f"out-{mode.value}"
    output.mkdir()
    request = ContainerRequest(
        image=image,
        entrypoint=["sh", "-c", COMMAND],
        command=None,
        environment={},
        mounts=[Mount(work / "in", "/in"), Mount(output, "/out", read_only=False)],
        labels={"sandbox.tool": "sandbox-bench"},
        user=f"{os.getuid()}:{os.getgid()}",
        copy_mode=mode,
    )
    started = time.perf_counter()
    handle = engine.start(request)
    try:
        code = handle.wait(3600)
        if code != 0:
            raise SystemExit(
                f"the container failed ({code}): {handle.logs(stdout=False, stderr=True)}"
            )
        transfer = handle.copy_back()
    finally:
        handle.remove()
    elapsed = time.perf_counter() - started
    copied = sum(path.stat().st_size for path in output.iterdir())
    if copied != sum(path.stat().st_size for path in (work / "in").iterdir()):
        raise SystemExit(f"{mode.value}: the output is not the size of the input")
    return elapsed, transfer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, default=Path.cwd(), help="where inputs go")
    args = parser.parse_args()
    with DockerEngine.connect() as engine:
        image = ensure_image(engine, "sklearn-1.2").reference
        print(f"engine {engine.server_version()}, image {image}")
        print("input    bind (s)   copy (s)   ratio   copied in          copied back")
        for size_mb in SIZES_MB:
            with tempfile.TemporaryDirectory(prefix="sandbox-bench-", dir=args.work_dir) as tmp:
                work = Path(tmp)
                make_input(work / "in", size_mb)
                bind_s, _ = one_run(engine, image, work, CopyMode.BIND)
                copy_s, transfer = one_run(engine, image, work, CopyMode.COPY)
            assert transfer is not None
            print(
                f"{size_mb:>4} MB  {bind_s:>8.2f}   {copy_s:>8.2f}   {copy_s / bind_s:>5.2f}x"
                f"   {transfer.bytes_in / MB:>7.1f} MB {transfer.seconds_in:>5.2f} s"
                f"   {transfer.bytes_out / MB:>7.1f} MB {transfer.seconds_out:>5.2f} s"
            )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak_mb:.0f} MB (the copies stream)")


if __name__ == "__main__":
    main()
