"""Every file the tool leaves in the user's workspace belongs to the user.

The container runs as the invoking user, so its outputs are the user's. Two cases need
more: ``--as-root`` (production runs as root; the supervisor hands outputs back, but
not when it is killed) and a controller running as root for someone else (``sudo``,
where the folders the tool makes would be root's). What is handed back is made safe to
own: device nodes, FIFOs and sockets are removed, setuid, setgid and world-writable bits
cleared.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from sandbox.constants import PURPOSE_LABEL, WHEELHOUSE_DIR
from sandbox.container.containerize import run_labels
from sandbox.container.execute import run_container
from sandbox.container.seam import ContainerRequest, Engine, Mount
from sandbox.data.s3source import S3_CACHE_DIR
from sandbox.errors import SandboxError
from sandbox.results.workspace import RunFolder, Workspace

__all__ = ["chown_folders", "hand_over", "invoking_user"]

logger = logging.getLogger(__name__)

_CHOWN_TIMEOUT_S = 120.0
_SPECIAL_FILE_KINDS = (stat.S_ISBLK, stat.S_ISCHR, stat.S_ISFIFO, stat.S_ISSOCK)
_UNSAFE_BITS = stat.S_ISUID | stat.S_ISGID | stat.S_IWOTH
# What the supervisor's hand-back does, for a run folder it did not hand back: special
# files root left are removed, unsafe bits cleared, then everything is the owner's.
_HAND_BACK_SHELL = (
    'find "$1" ! -user "$2" \\( -type b -o -type c -o -type p -o -type s \\) -delete; '
    'find "$1" ! -user "$2" ! -type l -perm /6002 -exec chmod u-s,g-s,o-w {} +; '
    'chown -R -h "$2:$3" "$1"'
)


def invoking_user() -> tuple[int, int]:
    """The user who asked for the run: under ``sudo``, the user behind it."""
    if os.getuid() == 0 and "SUDO_UID" in os.environ:
        return int(os.environ["SUDO_UID"]), int(os.environ.get("SUDO_GID", os.environ["SUDO_UID"]))
    return os.getuid(), os.getgid()


def chown_folders(folders: list[Path], owner: tuple[int, int]) -> None:
    """Give ``folders`` (not their contents) to ``owner``; only root can, and only root
    needs to: otherwise the controller already is the owner."""
    if os.getuid() == 0 and (os.getuid(), os.getgid()) != owner:
        for folder in folders:
            os.chown(folder, *owner)


def hand_over(
    engine: Engine,
    run: RunFolder,
    workspace: Workspace,
    *,
    owner: tuple[int, int],
    image: str,
) -> None:
    """Make the run folder, and the workspace folders the run made, the owner's.

    Best effort on every path (also after Ctrl-C): a failure is logged, never raised.
    """
    try:
        if os.getuid() == 0:
            for path in _tree(run.root):
                if _uid_of(path) != owner[0]:
                    _hand_back_path(path, owner)
            for path in _workspace_paths(workspace):
                if _uid_of(path) != owner[0]:
                    os.lchown(path, *owner)
        elif any(_uid_of(path) != owner[0] for path in _tree(run.root)):
            _chown_in_container(engine, run.root, owner, image, run.run_id, workspace)
    except (OSError, SandboxError) as exc:
        logger.warning("could not hand %s back to %s:%s: %s", run.root, *owner, str(exc))


def _hand_back_path(path: Path, owner: tuple[int, int]) -> None:
    """Give one path to ``owner``, made safe to own: a device node, FIFO or socket is
    removed, setuid, setgid and world-writable bits are cleared."""
    mode = path.lstat().st_mode
    if any(is_kind(mode) for is_kind in _SPECIAL_FILE_KINDS):
        logger.warning("removed %s: device nodes, FIFOs and sockets are never handed back", path)
        path.unlink()
        return
    os.lchown(path, *owner)
    if not stat.S_ISLNK(mode) and mode & _UNSAFE_BITS:
        os.chmod(path, stat.S_IMODE(mode) & ~_UNSAFE_BITS)


def _tree(root: Path) -> Iterator[Path]:
    yield root
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            yield Path(folder) / name


def _workspace_paths(workspace: Workspace) -> Iterator[Path]:
    yield from (workspace.root, workspace.runs)
    caches = (workspace.data_cache, workspace.root / S3_CACHE_DIR, workspace.root / WHEELHOUSE_DIR)
    for cache in caches:
        if cache.exists():
            yield from _tree(cache)
    yield from (path for path in workspace.root.iterdir() if path.is_file())


def _uid_of(path: Path) -> int:
    # Only the user matters: a group that differs (a setgid folder) breaks no clean-up.
    return path.lstat().st_uid


def _chown_in_container(
    engine: Engine,
    root: Path,
    owner: tuple[int, int],
    image: str,
    run_id: str,
    workspace: Workspace,
) -> None:
    """Files a root container left (its supervisor was killed before handing them back)
    can only be given back by root: a short container of the same image does it."""
    logger.info("handing root-owned files in %s back to %s:%s", root, *owner)
    request = ContainerRequest(
        image=image,
        entrypoint=["sh", "-c", _HAND_BACK_SHELL, "sh", "/run-folder", *map(str, owner)],
        command=None,
        environment={},
        mounts=[Mount(root, "/run-folder", read_only=False)],
        # Not the batch's label: an interrupted batch sweeps that one.
        labels={
            **run_labels(run_id, "hand-back", workspace.identity()),
            PURPOSE_LABEL: "hand-back",
        },
        user="0:0",
    )
    outcome = run_container(engine, request, max_runtime_s=_CHOWN_TIMEOUT_S, watch_stats=False)
    if outcome.exit_code != 0:
        logger.warning("could not hand %s back: %s", root, "\n".join(outcome.stderr.tail)[-300:])
