"""Every file the tool leaves in the user's workspace belongs to the user.

The container runs as the invoking user, so its outputs are the user's. Two cases need
more: ``--as-root`` (production runs as root; the supervisor hands outputs back, but
not when it is killed) and a controller running as root for someone else (``sudo``,
where the folders the tool makes would be root's).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

from sandbox.containerize import run_labels
from sandbox.engine import ContainerRequest, Engine, Mount
from sandbox.errors import SandboxError
from sandbox.execute import run_container
from sandbox.s3source import S3_CACHE_DIR
from sandbox.workspace import RunFolder, Workspace

__all__ = ["chown_folders", "hand_over", "invoking_user"]

logger = logging.getLogger(__name__)

_CHOWN_TIMEOUT_S = 120.0


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
            for path in [*_tree(run.root), *_workspace_paths(workspace)]:
                if _uid_of(path) != owner[0]:
                    os.lchown(path, *owner)
        elif any(_uid_of(path) != owner[0] for path in _tree(run.root)):
            _chown_in_container(engine, run.root, owner, image, run.run_id)
    except (OSError, SandboxError) as exc:
        logger.warning("could not hand %s back to %s:%s: %s", run.root, *owner, str(exc))


def _tree(root: Path) -> Iterator[Path]:
    yield root
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            yield Path(folder) / name


def _workspace_paths(workspace: Workspace) -> Iterator[Path]:
    yield from (workspace.root, workspace.runs)
    for cache in (workspace.data_cache, workspace.root / S3_CACHE_DIR):
        if cache.exists():
            yield from _tree(cache)
    yield from (path for path in workspace.root.iterdir() if path.is_file())


def _uid_of(path: Path) -> int:
    # Only the user matters: a group that differs (a setgid folder) breaks no clean-up.
    return path.lstat().st_uid


def _chown_in_container(
    engine: Engine, root: Path, owner: tuple[int, int], image: str, run_id: str
) -> None:
    """Files a root container left (its supervisor was killed before handing them back)
    can only be given back by root: a short container of the same image does it."""
    logger.info("handing root-owned files in %s back to %s:%s", root, *owner)
    request = ContainerRequest(
        image=image,
        entrypoint=["chown", "-R", f"{owner[0]}:{owner[1]}", "/run-folder"],
        command=None,
        environment={},
        mounts=[Mount(root, "/run-folder", read_only=False)],
        # Not the batch's label: an interrupted batch sweeps that one.
        labels={**run_labels(run_id, "hand-back"), "sandbox.purpose": "hand-back"},
        user="0:0",
    )
    outcome = run_container(engine, request, max_runtime_s=_CHOWN_TIMEOUT_S, watch_stats=False)
    if outcome.exit_code != 0:
        logger.warning("could not hand %s back: %s", root, "\n".join(outcome.stderr.tail)[-300:])
