"""Small JSON answers kept in the user's cache folder (``$XDG_CACHE_HOME/sandbox``).

Each is a convenience: a file that is unreadable, linked, owned by someone else or
malformed counts as absent, and a write that fails only costs the work again later.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["cache_file", "read_cached", "write_cached"]

_MAX_BYTES = 16 * 1024 * 1024

logger = logging.getLogger(__name__)


def cache_file(*parts: str) -> Path:
    """``$XDG_CACHE_HOME/sandbox/<parts>`` (``~/.cache`` when the variable is unset)."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root, "sandbox", *parts)


def read_cached(path: Path) -> Any | None:
    """The JSON value in ``path``; None when absent, linked, not a regular file (a FIFO
    would block), foreign, over 16 MiB or malformed."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(descriptor, "rb") as stream:
            status = os.fstat(stream.fileno())
            if not stat.S_ISREG(status.st_mode) or status.st_uid != os.getuid():
                return None
            data = stream.read(_MAX_BYTES + 1)
        return None if len(data) > _MAX_BYTES else json.loads(data)
    except (OSError, ValueError):
        return None


def write_cached(path: Path, value: Any) -> None:
    """Write ``value`` as JSON to ``path`` atomically, in folders only the user can open."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as exc:
        logger.debug("not kept in the cache: %s: %s", path, exc)
        return
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            json.dump(value, stream, separators=(",", ":"))
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        logger.debug("not kept in the cache: %s: %s", path, exc)
