"""A cache of generated data sets, keyed by a fingerprint of spec and size.

Layout: `<cache_root>/<fingerprint[:16]>/data/` holds the files a script sees and
`<cache_root>/<fingerprint[:16]>/done` (outside the data folder) marks the entry
complete. An entry is generated in a staging folder under `cache_root`, marker
written last, then renamed into place in one step: readers see a complete entry or
none.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from sandbox.data.datagen.generate import generate
from sandbox.data.datagen.spec import DatasetSpec, DataSize

__all__ = [
    "DATA_DIR",
    "DONE_MARKER",
    "GENERATOR_VERSION",
    "MARKER_SCHEMA_VERSION",
    "dataset_fingerprint",
    "materialize",
]

logger = logging.getLogger(__name__)

# Bump whenever the same spec would give different bytes (draws, chunking, writers).
GENERATOR_VERSION = "2"
MARKER_SCHEMA_VERSION = 1
DATA_DIR = "data"
DONE_MARKER = "done"
_KEY_LENGTH = 16


def dataset_fingerprint(spec: DatasetSpec, size: DataSize) -> str:
    """SHA-256 hex digest of the spec, the size and the generator version.

    The size counts only when it decides the row count (a table spec without `rows`),
    so the same data is not cached twice under two sizes.
    """
    sized = spec.recipe.is_table and spec.rows is None
    payload = {
        "generator": GENERATOR_VERSION,
        "size": size.value if sized else None,
        "spec": spec.model_dump(mode="json"),
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def materialize(
    spec: DatasetSpec,
    cache_root: Path,
    *,
    size: DataSize,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Return the folder holding the data set, generating it only on a cache miss.

    Args:
        spec: What to generate; placeholders must be resolved already.
        cache_root: Cache folder (created when missing).
        size: Row count for specs without `rows`.
        progress: Passed to `generate` on a miss.

    Returns:
        `<cache_root>/<fingerprint[:16]>/data`.
    """
    fingerprint = dataset_fingerprint(spec, size)
    entry = cache_root / fingerprint[:_KEY_LENGTH]
    if (entry / DONE_MARKER).is_file():
        logger.debug("data set %s: cache hit", entry.name)
        return entry / DATA_DIR
    cache_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{entry.name}-", dir=cache_root))
    try:
        files = generate(spec, staging / DATA_DIR, size=size, progress=progress)
        _write_marker(staging, fingerprint, size, files)
        _publish(staging, entry)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return entry / DATA_DIR


def _write_marker(staging: Path, fingerprint: str, size: DataSize, files: list[Path]) -> None:
    marker = {
        "schema_version": MARKER_SCHEMA_VERSION,
        "generator": GENERATOR_VERSION,
        "fingerprint": fingerprint,
        "size": size.value,
        "files": [path.relative_to(staging / DATA_DIR).as_posix() for path in files],
    }
    (staging / DONE_MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")


def _publish(staging: Path, entry: Path) -> None:
    if entry.exists() and not (entry / DONE_MARKER).is_file():
        logger.info("data set %s: removing an incomplete cache entry", entry.name)
        shutil.rmtree(entry)
    try:
        os.rename(staging, entry)
    except OSError:
        # Another process published the same entry first: theirs is as good as ours.
        if not (entry / DONE_MARKER).is_file():
            raise
        logger.debug("data set %s: published concurrently", entry.name)
