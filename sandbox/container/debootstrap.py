"""The local Debian base image: a root filesystem made with ``debootstrap`` on the host
and ``docker import``-ed, so an offline profile needs no container registry.

Making it needs root and ``debootstrap``. The helpers that stream a host command's
output line by line (to the user's progress display) serve the image builds as well.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
from collections import deque
from collections.abc import Callable
from pathlib import Path
from subprocess import PIPE, STDOUT, Popen
from typing import Annotated

from pydantic import ConfigDict, Field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from sandbox.constants import BASE_LABEL, TOOL_LABEL
from sandbox.container.seam import Engine
from sandbox.errors import BaseImageError

__all__ = [
    "DEFAULT_MIRROR",
    "TAIL_LINES",
    "DebootstrapBase",
    "OnLine",
    "base_image_tag",
    "can_debootstrap",
    "emit",
    "ensure_base_image",
    "run_streaming",
]

logger = logging.getLogger(__name__)

OnLine = Callable[[str], None] | None
"""Receives each progress line: the tool's own steps, debootstrap, pip and the build."""

DEFAULT_MIRROR = "http://deb.debian.org/debian"
TAIL_LINES = 30


@pydantic_dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class DebootstrapBase:
    """A Debian root filesystem made with ``debootstrap`` and imported as a base image."""

    suite: Annotated[str, Field(pattern=r"^[a-z]+$")]
    include: tuple[str, ...] = ()
    variant: str = "minbase"
    mirror: str = DEFAULT_MIRROR


def base_image_tag(base: DebootstrapBase) -> str:
    """``sandbox/base-<suite>:<12 hex>``, hashed over suite, packages and variant."""
    key = {"suite": base.suite, "include": sorted(base.include), "variant": base.variant}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
    return f"sandbox/base-{base.suite}:{digest[:12]}"


def can_debootstrap() -> bool:
    """True when this process may make a debootstrap base: root, with ``debootstrap``."""
    return os.geteuid() == 0 and shutil.which("debootstrap") is not None


def ensure_base_image(engine: Engine, base: DebootstrapBase, on_line: OnLine = None) -> str:
    """Make the debootstrap base image unless it exists (rootfs in /var/tmp); return its tag.

    Raises:
        BaseImageError: not root, no debootstrap on the host, or debootstrap failed.
    """
    tag = base_image_tag(base)
    if engine.image(tag) is not None:
        return tag
    name = f"base-{base.suite}"
    if os.geteuid() != 0 or shutil.which("debootstrap") is None:
        reason = "building the base image needs root and debootstrap (apt-get install debootstrap)"
        raise BaseImageError(name, reason)
    emit(on_line, f"==> making base image {tag} with debootstrap {base.suite} (about a minute)")
    workdir = Path(tempfile.mkdtemp(prefix="sandbox-rootfs-", dir="/var/tmp"))
    try:
        rootfs = workdir / "rootfs"
        _run_debootstrap(base, rootfs, name, on_line)
        _slim_rootfs(rootfs)
        emit(on_line, f"==> importing the root filesystem as {tag}")
        # Not sandbox.tool=sandbox: containers inherit image labels, and the build steps on
        # this base must not look like run containers to label-based clean-ups.
        labels = {TOOL_LABEL: "sandbox-base", BASE_LABEL: base.suite}
        engine.import_rootfs(rootfs, tag, labels=labels)
    finally:
        _remove_tree(workdir)
    return tag


def _run_debootstrap(base: DebootstrapBase, rootfs: Path, name: str, on_line: OnLine) -> None:
    include = [f"--include={','.join(base.include)}"] if base.include else []
    argv = ["debootstrap", f"--variant={base.variant}", *include, base.suite, str(rootfs)]
    code, tail = run_streaming([*argv, base.mirror], on_line)
    if code == 0:
        return
    # debootstrap's own log holds the reason, and it is deleted with the rootfs.
    log = rootfs / "debootstrap" / "debootstrap.log"
    if log.is_file():
        tail += log.read_text(errors="replace").splitlines()[-TAIL_LINES:]
    reason = ([line for line in tail if line.startswith("E:")] or tail or ["no output"])[-1]
    raise BaseImageError(name, f"debootstrap {base.suite} exited with code {code}: {reason}", tail)


def run_streaming(argv: list[str], on_line: OnLine) -> tuple[int, list[str]]:
    """Run ``argv``, feeding each output line to ``on_line``; return its code and tail."""
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    with Popen(argv, stdout=PIPE, stderr=STDOUT, text=True, errors="replace") as proc:
        try:
            for raw in proc.stdout or ():
                if line := raw.rstrip():
                    tail.append(line)
                    if on_line is not None:
                        on_line(line)
        except BaseException:
            proc.terminate()  # SIGTERM lets debootstrap unmount what it mounted
            raise
    return proc.returncode, list(tail)


def _slim_rootfs(rootfs: Path) -> None:
    # The build runs apt-get update anyway: these would only add ~90 MB to every image.
    for pattern in ("var/cache/apt/archives/*.deb", "var/lib/apt/lists/*_*"):
        for path in rootfs.glob(pattern):
            path.unlink()


def _remove_tree(folder: Path) -> None:
    """Delete ``folder``, but never through a mount point (a killed debootstrap leaves some)."""
    for point in _mounts_below(folder):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)
    if remaining := _mounts_below(folder):
        logger.warning("left %s in place: still mounted below it: %s", folder, remaining)
    else:
        shutil.rmtree(folder, ignore_errors=True)


def _mounts_below(folder: Path) -> list[str]:
    """Mount points inside ``folder``, deepest first."""
    table = Path("/proc/self/mounts").read_text()
    prefix = f"{folder.resolve()}/"
    points = [line.split()[1].replace("\\040", " ") for line in table.splitlines() if line]
    return sorted((point for point in points if point.startswith(prefix)), key=len, reverse=True)


def emit(on_line: OnLine, message: str) -> None:
    """Log a progress line and hand it to ``on_line``."""
    logger.info("%s", message)
    if on_line is not None:
        on_line(message)
