"""A local wheelhouse: runtime ``pip install`` with no network, as production with network.

The host's pip downloads the wheels a job needs once, for the image's Python and platform,
into ``<workspace>/wheelhouse/<hash>/``; the container gets that folder read-only and a
``pip.conf`` that makes a plain ``pip install NAME`` resolve there (and only there when
the job has no network).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sandbox.constants import PIP_CONF_PATH, WHEELHOUSE_DIR, WHEELS_MOUNT
from sandbox.container.distributions import ImageContents
from sandbox.errors import InfrastructureError, UsageError

__all__ = [
    "PIP_CONF_PATH",
    "REQUIREMENTS_FILE",
    "WHEELHOUSE_DIR",
    "WHEELS_MOUNT",
    "WheelTarget",
    "Wheelhouse",
    "WheelhouseError",
    "ensure_wheelhouse",
    "pip_config",
    "pip_failure_hint",
    "read_requirements",
]

logger = logging.getLogger(__name__)

REQUIREMENTS_FILE = "requirements.txt"
_MANIFEST = "wheelhouse.json"
_OLDEST_MANYLINUX_MINOR = 17
_WHEEL_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}
_NOT_FOUND_RE = re.compile(
    r"(?:No matching distribution found for|satisfies the requirement) ([^\s;]+)"
)
_FIX = "list it with --requirements FILE or `requirements:` in the spec"


class WheelhouseError(InfrastructureError):
    """The host's pip could not download the wheels of a requirement the user listed."""

    def __init__(self, requirement: str, detail: str, log_tail: list[str]) -> None:
        self.requirement = requirement
        self.detail = detail
        self.log_tail = log_tail
        super().__init__(f"the host's pip could not download {requirement!r}: {detail}")


@dataclass(frozen=True)
class WheelTarget:
    """The interpreter and platform the wheels are for."""

    python_version: str
    """``major.minor``."""
    glibc: str
    machine: str

    @classmethod
    def for_image(cls, contents: ImageContents, fallback_python: str | None = None) -> WheelTarget:
        """The image's recorded Python, else ``fallback_python`` (else the host's) on a
        glibc 2.17 (manylinux2014) platform of the host's machine."""
        recorded = contents.python_version or fallback_python or platform.python_version()
        minor = ".".join(recorded.split(".")[:2])
        machine = _WHEEL_ARCH.get((contents.machine or platform.machine()).lower(), "x86_64")
        return cls(minor, contents.glibc or f"2.{_OLDEST_MANYLINUX_MINOR}", machine)

    def platforms(self) -> list[str]:
        """Every manylinux tag this glibc runs, newest first."""
        try:
            newest = int(self.glibc.split(".")[1])
        except (IndexError, ValueError):
            newest = _OLDEST_MANYLINUX_MINOR
        tags = [f"manylinux_2_{minor}_{self.machine}" for minor in range(newest, 16, -1)]
        return [*tags, f"manylinux2014_{self.machine}"]


@dataclass(frozen=True)
class Wheelhouse:
    """A folder of wheels ready to mount."""

    folder: Path
    requirements: tuple[str, ...]
    """Installed before the script starts (``requirements.txt`` in the folder)."""
    offered: tuple[str, ...]
    """Downloaded for the script's own ``pip install`` calls."""
    missing: tuple[str, ...]
    """Offered requirements the host's pip could not download."""
    cache_hit: bool

    @property
    def requirements_file(self) -> str | None:
        """The container path of the requirements to install first, if there are any."""
        return f"{WHEELS_MOUNT}/{REQUIREMENTS_FILE}" if self.requirements else None


OnLine = Callable[[str], None] | None


def read_requirements(path: Path) -> list[str]:
    """The requirement lines of a requirements file (comments and blanks dropped); a
    wheel file named by a relative path is found relative to the requirements file.

    Raises:
        UsageError: the file cannot be read, or uses an option line (``-r``, ``-e``, ...).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"requirements file {path}: cannot be read ({exc.strerror})") from exc
    lines = [line.split(" #", 1)[0].strip() for line in text.splitlines()]
    kept = [line for line in lines if line and not line.startswith("#")]
    options = [line for line in kept if line.startswith("-")]
    if options:
        raise UsageError(f"requirements file {path}: option lines are not supported: {options[0]}")
    return [_anchored(line, path.parent) for line in kept]


def _anchored(requirement: str, folder: Path) -> str:
    if requirement.endswith(".whl") and not Path(requirement).is_absolute():
        return str((folder / requirement).resolve())
    return requirement


def ensure_wheelhouse(
    cache_root: Path,
    target: WheelTarget,
    requirements: Iterable[str] = (),
    offered: Iterable[str] = (),
    *,
    on_line: OnLine = None,
) -> Wheelhouse:
    """The wheelhouse of these requirements for ``target``, downloaded unless cached.

    Args:
        cache_root: ``<workspace>/wheelhouse``.
        target: the image's Python and platform.
        requirements: what the user listed: installed before the script; each must download.
        offered: what the script pip-installs itself: downloaded where the host's pip can.
        on_line: receives pip's output lines.

    Raises:
        WheelhouseError: a listed requirement cannot be downloaded.
    """
    required = tuple(dict.fromkeys(requirements))
    extra = tuple(item for item in dict.fromkeys(offered) if item not in required)
    folder = cache_root / _cache_key(target, required, extra)
    manifest = _read_manifest(folder)
    if manifest is not None:
        return Wheelhouse(folder, required, extra, tuple(manifest.get("missing", ())), True)
    cache_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=cache_root))
    try:
        missing = _download_all(staging, target, required, extra, on_line)
        lines = "".join(f"{_installable(r)}\n" for r in required)
        (staging / REQUIREMENTS_FILE).write_text(lines)
        record = {"target": target.__dict__, "requirements": required, "offered": extra}
        (staging / _MANIFEST).write_text(json.dumps({**record, "missing": missing}, indent=1))
        os.chmod(staging, 0o755)
        try:
            staging.rename(folder)
        except OSError:  # another run made it meanwhile: theirs is as good
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Wheelhouse(folder, required, extra, tuple(missing), False)


def pip_config(*, network: bool) -> str:
    """The ``pip.conf`` a job gets: pip works as root or as a user (a user install under
    ``$HOME``), finds the wheelhouse, and with no network never asks the index."""
    lines = [
        "[global]",
        "break-system-packages = true",
        "root-user-action = ignore",
        "disable-pip-version-check = true",
        f"find-links = {WHEELS_MOUNT}",
    ]
    if not network:
        lines.append("no-index = true")
    return "\n".join(lines) + "\n"


def pip_failure_hint(stderr_lines: Iterable[str], *, network: bool) -> str | None:
    """One line for a run whose ``pip install`` found no distribution, else ``None``."""
    found = [m.group(1) for line in stderr_lines if (m := _NOT_FOUND_RE.search(line))]
    if not found:
        return None
    where = "the local wheelhouse" if not network else "the local wheelhouse or the index"
    return f"pip install {found[-1]} failed: {where} has no wheel for it; {_FIX}"


def _download_all(
    dest: Path,
    target: WheelTarget,
    required: tuple[str, ...],
    extra: tuple[str, ...],
    on_line: OnLine,
) -> list[str]:
    """Download everything in one go; when that fails, the listed ones alone (which must
    work), then each offered one alone. Return the offered ones that failed."""
    if not required and not extra:
        return []
    code, tail = _pip_download(dest, target, [*required, *extra], on_line)
    if code == 0:
        return []
    if required:
        code, tail = _pip_download(dest, target, list(required), on_line)
        if code != 0:
            requirement, detail = _failure(required, tail)
            raise WheelhouseError(requirement, detail, tail)
    missing = []
    for item in extra:
        if _pip_download(dest, target, [item], on_line)[0] != 0:
            missing.append(item)
    return missing


def _pip_download(
    dest: Path, target: WheelTarget, requirements: list[str], on_line: OnLine
) -> tuple[int, list[str]]:
    platforms = [arg for tag in target.platforms() for arg in ("--platform", tag)]
    argv = [
        *(sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-input"),
        *("--progress-bar", "off", "--only-binary=:all:", "--dest", str(dest)),
        # A host without an index fails in seconds, not after pip's five retries.
        *("--retries", "1", "--timeout", "15"),
        *("--python-version", target.python_version, *platforms),
        *requirements,
    ]
    logger.info("downloading wheels: %s", " ".join(requirements))
    done = subprocess.run(argv, capture_output=True, text=True, errors="replace", check=False)
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    for line in lines:
        if on_line is not None:
            on_line(line)
    return done.returncode, lines[-30:]


def _installable(requirement: str) -> str:
    """A local wheel file becomes ``name==version``: found in the wheelhouse by name, in
    the container or in a build, wherever the host path is not."""
    path = Path(requirement)
    if path.suffix == ".whl" and path.is_file():
        name, version = path.name.split("-")[:2]
        return f"{name}=={version}"
    return requirement


def _failure(requirements: tuple[str, ...], tail: list[str]) -> tuple[str, str]:
    found = [m.group(1) for line in tail if (m := _NOT_FOUND_RE.search(line))]
    requirement = found[-1] if found else ", ".join(requirements)
    errors = [line for line in tail if line.startswith("ERROR:")] or tail or ["no output"]
    return requirement, errors[-1].removeprefix("ERROR: ")


def _cache_key(target: WheelTarget, required: tuple[str, ...], extra: tuple[str, ...]) -> str:
    payload = {
        "target": target.__dict__,
        "required": sorted(required),
        "offered": sorted(extra),
        "files": {item: _file_digest(item) for item in (*required, *extra)},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _file_digest(requirement: str) -> str | None:
    """A local wheel or folder given as a requirement is hashed by its bytes."""
    path = Path(requirement)
    if not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_manifest(folder: Path) -> dict[str, list[str]] | None:
    try:
        loaded = json.loads((folder / _MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None
