"""Deleting inside a folder without ever following a symbolic link out of it.

Every folder below the root is opened relative to its parent's descriptor with
``O_NOFOLLOW``, and everything in it is removed through descriptors too: a link met on
the way (even one swapped in while the removal runs) stops the removal with an
``OSError`` instead of leading it elsewhere. Links themselves are unlinked, never followed.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

__all__ = ["remove_below"]

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_NO_FOLLOW = _DIR_FLAGS | os.O_NOFOLLOW


def remove_below(root: Path, relative: str) -> None:
    """Remove the folder ``root/relative`` and everything in it.

    ``root`` itself may be reached through a link (the user chose it); no component of
    ``relative`` may be one.

    Raises:
        ValueError: ``relative`` is empty, absolute, or climbs out with ``..``.
        OSError: a component is a link or not a folder (``ELOOP``, ``ENOTDIR``), or an
            entry cannot be removed (e.g. a file that belongs to root).
    """
    parts = PurePosixPath(relative).parts
    if not parts or PurePosixPath(relative).is_absolute() or ".." in parts:
        raise ValueError(f"not a path below the root: {relative!r}")
    parent = os.open(root, _DIR_FLAGS)
    try:
        for part in parts[:-1]:
            child = os.open(part, _NO_FOLLOW, dir_fd=parent)
            os.close(parent)
            parent = child
        target = os.open(parts[-1], _NO_FOLLOW, dir_fd=parent)
        try:
            _empty(target)
        finally:
            os.close(target)
        os.rmdir(parts[-1], dir_fd=parent)
    finally:
        os.close(parent)


def _empty(folder: int) -> None:
    with os.scandir(folder) as scan:
        entries = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in scan]
    for name, is_dir in entries:
        if not is_dir:
            os.unlink(name, dir_fd=folder)
            continue
        child = os.open(name, _NO_FOLLOW, dir_fd=folder)
        try:
            _empty(child)
        finally:
            os.close(child)
        os.rmdir(name, dir_fd=folder)
