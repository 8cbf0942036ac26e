"""What an image holds: its Python and installed distributions, recorded as image labels.

A profile image is listed once, right after its build, by a short container; the result
lands in labels (compact JSON), so the tool reads it later from ``docker inspect`` alone,
without starting a container. Any other image (a registry's, the SageMaker framework
image itself) is listed once on first use and kept in the user's cache under its image
id, which names its content, so the listing never goes stale.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.constants import (
    DISTRIBUTIONS_LABEL,
    MODULES_LABEL,
    PROFILE_LABEL,
    PYTHON_LABEL,
    TOOL_LABEL,
)
from sandbox.container.seam import ContainerRequest, Engine, ImageInfo
from sandbox.container.usercache import cache_file, read_cached, write_cached
from sandbox.errors import ImageBuildError, SandboxError

__all__ = [
    "DISTRIBUTIONS_LABEL",
    "MODULES_LABEL",
    "PYTHON_LABEL",
    "ImageContents",
    "contents_of",
    "listed_contents",
    "normalize",
    "record_contents",
]

logger = logging.getLogger(__name__)

_LIST_TIMEOUT_S = 120
# Runs in the image under ``python3 -I``: the standard library only, Python 3.8 and later.
_LIST_SCRIPT = """\
import importlib.metadata as m, json, pkgutil, platform, sys
dists = {}
for d in m.distributions():
    name = d.metadata["Name"]
    if name and name not in dists:
        dists[name] = d.version
libc = platform.libc_ver()
print(json.dumps({"python": {"version": platform.python_version(),
    "glibc": libc[1] if libc[0] == "glibc" else "", "machine": platform.machine()},
    "distributions": dict(sorted(dists.items(), key=lambda kv: kv[0].lower())),
    "modules": sorted({i.name for i in pkgutil.iter_modules() if not i.name.startswith("_")})},
    separators=(",", ":")))
"""
_NORMALIZE_RE = re.compile(r"[-_.]+")


def normalize(name: str) -> str:
    """A distribution name as PEP 503 compares them: ``PyYAML`` -> ``pyyaml``."""
    return _NORMALIZE_RE.sub("-", name).lower()


@dataclass(frozen=True)
class ImageContents:
    """The Python and the distributions an image holds (``None``: not recorded)."""

    python_version: str | None = None
    glibc: str | None = None
    machine: str | None = None
    distributions: dict[str, str] = field(default_factory=dict)
    """Name as its metadata spells it -> version."""
    modules: frozenset[str] = frozenset()
    """Top-level importable module names."""

    @property
    def recorded(self) -> bool:
        return bool(self.distributions)

    def version_of(self, name: str) -> str | None:
        """The installed version of a distribution, by any spelling of its name."""
        wanted = normalize(name)
        for installed, version in self.distributions.items():
            if normalize(installed) == wanted:
                return version
        return None


def contents_of(info: ImageInfo | None) -> ImageContents:
    """What an image's labels record; empty when the image was not listed (any image
    not built from a profile)."""
    if info is None:
        return ImageContents()
    try:
        distributions = json.loads(info.labels.get(DISTRIBUTIONS_LABEL, "{}"))
        python = json.loads(info.labels.get(PYTHON_LABEL, "{}"))
        modules = json.loads(info.labels.get(MODULES_LABEL, "[]"))
    except ValueError:
        return ImageContents()
    return _contents(distributions, python, modules)


def listed_contents(engine: Engine, info: ImageInfo) -> ImageContents:
    """What ``info`` holds: its labels' record, else a listing made once by a short
    container and kept in the user's cache by image id; empty without a working python3."""
    recorded = contents_of(info)
    if recorded.recorded:
        return recorded
    path = cache_file("image-contents", f"{info.id.removeprefix('sha256:')}.json")
    listing = read_cached(path)
    if not isinstance(listing, dict):
        name = info.tags[0] if info.tags else info.id
        try:
            listing = _list_image(engine, info.id, name)
        except _NoPython as exc:  # a definite answer: kept, so it is not asked again
            logger.info("no pre-flight check for %s: %s", name, exc.detail)
            listing = {}
        except ImageBuildError as exc:  # a timeout or a busy engine: asked again next time
            logger.info("no pre-flight check for %s this time: %s", name, exc.detail)
            return ImageContents()
        write_cached(path, listing)
    return _contents(
        listing.get("distributions", {}), listing.get("python", {}), listing.get("modules", [])
    )


def _contents(distributions: Any, python: Any, modules: Any) -> ImageContents:
    shapes = (isinstance(distributions, dict), isinstance(python, dict), isinstance(modules, list))
    if not all(shapes):
        return ImageContents()
    return ImageContents(
        python_version=python.get("version") or None,
        glibc=python.get("glibc") or None,
        machine=python.get("machine") or None,
        distributions={str(k): str(v) for k, v in distributions.items()},
        modules=frozenset(str(name) for name in modules),
    )


def record_contents(
    engine: Engine, info: ImageInfo, tag: str, *, profile: str, labels: dict[str, str]
) -> ImageInfo:
    """List what the just-built image ``info`` holds and re-tag ``tag`` with it as labels.

    The labels are added by a build with a lone ``FROM`` line: no layer, no file changes.

    Raises:
        ImageBuildError: the image has no working python3, or the listing failed.
    """
    listing = _list_image(engine, info.id, profile)
    recorded = {
        **labels,
        PYTHON_LABEL: json.dumps(listing["python"], separators=(",", ":")),
        DISTRIBUTIONS_LABEL: json.dumps(listing["distributions"], separators=(",", ":")),
        MODULES_LABEL: json.dumps(listing["modules"], separators=(",", ":")),
    }
    with tempfile.TemporaryDirectory(prefix="sandbox-label-") as folder:
        Path(folder, "Dockerfile").write_text(f"FROM {info.id}\n")
        return engine.build(Path(folder), tag, profile=profile, buildargs={}, labels=recorded)


def _list_image(engine: Engine, image_id: str, profile: str) -> dict[str, Any]:
    request = ContainerRequest(
        image=image_id,
        entrypoint=["python3", "-I", "-c", _LIST_SCRIPT],
        command=None,
        environment={},
        mounts=[],
        labels={TOOL_LABEL: "sandbox-build", PROFILE_LABEL: profile},
    )
    try:
        handle = engine.start(request)
    except SandboxError as exc:
        raise ImageBuildError(profile, f"cannot list the image's distributions: {exc}") from exc
    try:
        code = handle.wait(_LIST_TIMEOUT_S)
        output = _text(handle.logs(stdout=True, stderr=False))
        errors = _text(handle.logs(stdout=False, stderr=True))
    finally:
        handle.remove()
    try:
        listing = json.loads(output.strip().splitlines()[-1]) if code == 0 else None
    except (ValueError, IndexError):
        listing = None
    if not isinstance(listing, dict):
        detail = (errors.strip().splitlines() or [f"exit code {code}"])[-1]
        # 126/127: the shell's "cannot execute" / "not found"; the engine says the same.
        no_python = code in (126, 127) or "executable file not found" in errors
        error = _NoPython if no_python else ImageBuildError
        raise error(profile, f"cannot list the image's distributions: {detail}")
    return listing


class _NoPython(ImageBuildError):
    """The image has no python3 to list it with: a lasting answer, unlike a timeout."""


def _text(blocks: Iterable[bytes]) -> str:
    return b"".join(blocks).decode("utf-8", errors="replace")
