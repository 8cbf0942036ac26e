"""Image profiles (``images/<name>/Dockerfile`` + ``profile.json``), built on demand.

A profile's tag is a hash of its folder, so an unchanged profile is never rebuilt. A
``debootstrap`` base is a Debian root filesystem made on the host and ``docker import``-ed:
no registry needed, but root and ``debootstrap`` are. Where they are missing, a profile may
name the same Debian release in a registry (``base.registry``) to start from instead.
Listed wheels are downloaded by the host's pip into a temporary copy
of the build context, because pip inside a build may not reach the package index.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import logging
import os
import platform
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sandbox.constants import PROFILE_HASH_LABEL, PROFILE_LABEL, TOOL_LABEL
from sandbox.container.debootstrap import (
    DebootstrapBase,
    OnLine,
    base_image_tag,
    can_debootstrap,
    emit,
    ensure_base_image,
    run_streaming,
)
from sandbox.container.distributions import (
    ImageContents,
    contents_of,
    listed_contents,
    record_contents,
)
from sandbox.container.seam import Engine, ImageInfo
from sandbox.errors import (
    BaseImageError,
    ImageBuildError,
    ImageNotFoundError,
    SpecError,
    UsageError,
)

__all__ = [
    "DebootstrapBase",
    "ImageProfile",
    "OnLine",
    "ProfileStatus",
    "ResolvedImage",
    "base_image_tag",
    "can_debootstrap",
    "chosen_base",
    "discover_profiles",
    "ensure_base_image",
    "ensure_image",
    "from_images",
    "is_offline",
    "list_profiles",
    "profile_tag",
    "profiles_root",
]

logger = logging.getLogger(__name__)

IMAGES_DIR_ENV = "SANDBOX_IMAGES_DIR"

_PROFILE_FILE = "profile.json"
_SHIPPED_PROFILES = "_profiles"
_WHEELS_DIR = "wheels"
_NAME_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_CONTINUATION_RE = re.compile(r"\\[ \t]*\r?\n")
_VAR_RE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)")
_PIP_REQUIREMENT_RE = re.compile(r"(?:satisfies the requirement|distribution found for) (\S+)")
# Wheels are for the engine's machine, assumed to be the host's (a local Docker engine).
_WHEEL_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}


@dataclass(frozen=True)
class ImageProfile:
    """One folder under ``images/``: a Dockerfile plus what ``profile.json`` declares."""

    name: str
    folder: Path
    description: str
    base: DebootstrapBase | None
    wheels: tuple[str, ...]
    python_version: str
    frameworks: dict[str, str] = field(hash=False)
    registry_base: str | None = None
    """The same Debian release from a registry, used where debootstrap cannot run."""

    @property
    def dockerfile(self) -> Path:
        """The profile's Dockerfile."""
        return self.folder / "Dockerfile"


@dataclass(frozen=True)
class ProfileStatus:
    """A profile as listed: its current content tag and whether that image exists."""

    profile: str
    tag: str
    built: bool
    image_id: str | None
    description: str
    offline: bool
    python_version: str | None = None
    distributions: dict[str, str] = field(default_factory=dict, hash=False)
    """Name -> version, as recorded in the built image's labels (empty when not built)."""


@dataclass(frozen=True)
class ResolvedImage:
    """The image a run will use, and how it was obtained."""

    reference: str
    image_id: str
    profile: str | None
    built_now: bool
    entrypoint: list[str] | None = None
    """The image's own ENTRYPOINT (runs when a spec gives only ContainerArguments)."""
    contents: ImageContents = field(default_factory=ImageContents, hash=False)
    """Its Python and distributions, where its labels record them."""


class _BaseSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    debootstrap: DebootstrapBase
    registry: str | None = Field(default=None, pattern=r"^[a-z0-9][\w./:@-]*$")


class _ProfileSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    description: str
    base: _BaseSpec | None = None
    wheels: tuple[str, ...] = ()
    python_version: str = Field(pattern=r"^3\.\d+$")
    frameworks: dict[str, str] = Field(default_factory=dict)


def profiles_root() -> Path:
    """``$SANDBOX_IMAGES_DIR``, else the clone's ``images/``, else the profiles shipped in
    the package; UsageError when it is missing."""
    return _existing_dir(_default_root())


def discover_profiles(root: Path | None = None) -> dict[str, ImageProfile]:
    """Load every profile (a sub-folder with a ``profile.json``) under ``root``, by name.

    Raises:
        UsageError: the folder (:func:`profiles_root` when ``root`` is None) is missing.
        SpecError: a profile is malformed (the message names the file and the field).
    """
    folder = profiles_root() if root is None else _existing_dir(root)
    profiles = (_load_profile(spec.parent) for spec in sorted(folder.glob(f"*/{_PROFILE_FILE}")))
    return {profile.name: profile for profile in profiles}


def _load_profile(folder: Path) -> ImageProfile:
    if not _NAME_RE.match(folder.name):
        raise SpecError(str(folder), "a profile name must be lower-case letters, digits, . _ -")
    if not (folder / "Dockerfile").is_file():
        raise SpecError(str(folder), "the profile has no Dockerfile")
    spec = _read_spec(folder / _PROFILE_FILE)
    base = spec.base.debootstrap if spec.base is not None else None
    registry = spec.base.registry if spec.base is not None else None
    frameworks = dict(spec.frameworks)
    return ImageProfile(
        folder.name,
        folder,
        spec.description,
        base,
        spec.wheels,
        spec.python_version,
        frameworks,
        registry,
    )


def _default_root() -> Path:
    """``$SANDBOX_IMAGES_DIR``; else ``images/`` of the clone this package runs from (the
    source of truth); else the copy shipped inside an installed wheel."""
    configured = os.environ.get(IMAGES_DIR_ENV)
    if configured:
        return Path(configured)
    clone = Path(__file__).resolve().parents[2] / "images"
    if clone.is_dir():
        return clone
    return Path(str(importlib.resources.files("sandbox") / _SHIPPED_PROFILES))


def _existing_dir(root: Path) -> Path:
    if not root.is_dir():
        hint = f"set {IMAGES_DIR_ENV} to the images/ folder of the sandbox repository"
        raise UsageError(f"no image profiles folder at {root}; {hint}")
    return root


def _read_spec(path: Path) -> _ProfileSpec:
    try:
        return _ProfileSpec.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise SpecError(str(path), f"{where}: {error['msg']}" if where else error["msg"]) from exc


def chosen_base(engine: Engine, profile: ImageProfile) -> str | None:
    """The image ``BASE_IMAGE`` names for ``profile`` here (None: the profile has no base).

    The debootstrap base where it exists or can be made, or when the profile names no
    registry alternative; otherwise the profile's registry base (``base.registry``).
    """
    if profile.base is None:
        return None
    local = base_image_tag(profile.base)
    if profile.registry_base is None or can_debootstrap() or engine.image(local) is not None:
        return local
    return profile.registry_base


def profile_tag(
    profile: ImageProfile,
    buildargs: Mapping[str, str] | None = None,
    *,
    base_image: str | None = None,
) -> str:
    """``sandbox/<name>:<12 hex>``: a sha256 over the profile's files and build arguments.

    Files are hashed by relative path and bytes, in path order (``wheels/`` and
    ``__pycache__`` ignored); ``BASE_IMAGE`` (``base_image``, by default the debootstrap
    base tag) joins ``buildargs``.
    """
    digest = hashlib.sha256()
    for path in _profile_files(profile.folder):
        data = path.read_bytes()
        digest.update(f"file {path.relative_to(profile.folder).as_posix()} {len(data)}\n".encode())
        digest.update(data)
    for key, value in sorted(_buildargs(profile, buildargs, base_image).items()):
        digest.update(f"arg {key}={value}\n".encode())
    return f"sandbox/{profile.name}:{digest.hexdigest()[:12]}"


def from_images(
    dockerfile_text: str, buildargs: Mapping[str, str] | None = None, *, source: str = "Dockerfile"
) -> list[str]:
    """The images the ``FROM`` lines start from, with ``ARG``/``buildargs`` substituted.

    ``scratch`` and earlier stages are left out. Raises SpecError when a ``FROM`` names
    no image or uses an argument without a value.
    """
    declared: dict[str, str] = {}
    stages, images, seen_from = {"scratch"}, [], False
    for line in _CONTINUATION_RE.sub(" ", dockerfile_text).splitlines():
        keyword, *words = line.split() or [""]
        if keyword.upper() == "ARG" and not seen_from:  # only these ARGs are seen by FROM
            pairs = (word.partition("=") for word in words)
            args = buildargs or {}
            declared.update({key: args.get(key, value.strip("\"'")) for key, _, value in pairs})
        elif keyword.upper() == "FROM":
            seen_from = True
            tokens = [word for word in words if not word.startswith("--")]
            if not tokens:
                raise SpecError(source, "a FROM line names no image")
            image = _substitute(tokens[0], declared, source)
            if image.lower() not in stages and image not in images:
                images.append(image)
            if len(tokens) >= 3 and tokens[1].lower() == "as":
                stages.add(tokens[2].lower())
    return images


def is_offline(profile: ImageProfile) -> bool:
    """True when building ``profile`` needs no registry (it starts from its local base)."""
    args = _buildargs(profile)
    images = from_images(profile.dockerfile.read_text(), args, source=str(profile.dockerfile))
    return all(image == args.get("BASE_IMAGE") for image in images)


def _buildargs(
    profile: ImageProfile, extra: Mapping[str, str] | None = None, base_image: str | None = None
) -> dict[str, str]:
    if profile.base is None:
        return dict(extra or {})
    return {**(extra or {}), "BASE_IMAGE": base_image or base_image_tag(profile.base)}


def _profile_files(folder: Path) -> list[Path]:
    # wheels/ is filled per build (and git-ignored): it is not part of the profile.
    files = {path.relative_to(folder): path for path in folder.rglob("*") if path.is_file()}
    kept = [rel for rel in files if rel.parts[0] != _WHEELS_DIR and "__pycache__" not in rel.parts]
    return [files[rel] for rel in sorted(kept, key=lambda rel: rel.as_posix())]


def _substitute(reference: str, declared: Mapping[str, str], source: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        found = declared.get(name) or match.group(2)
        if not found:
            raise SpecError(source, f"FROM {reference} needs a value for build argument {name}")
        return found

    return _VAR_RE.sub(value, reference)


def list_profiles(engine: Engine, root: Path | None = None) -> list[ProfileStatus]:
    """Every profile under ``root`` with its current content tag and whether it is built."""
    statuses = []
    for profile in discover_profiles(root).values():
        base = chosen_base(engine, profile)
        info = engine.image(tag := profile_tag(profile, base_image=base))
        # Offline only where the local base exists or can be made by this process.
        local = profile.base is not None and base == base_image_tag(profile.base)
        image_id, offline = (info.id if info else None), is_offline(profile) and local
        contents = contents_of(info)
        status = ProfileStatus(
            profile.name,
            tag,
            bool(info),
            image_id,
            profile.description,
            offline,
            contents.python_version,
            contents.distributions,
        )
        statuses.append(status)
    return statuses


def ensure_image(
    engine: Engine,
    profile_or_ref: str,
    *,
    root: Path | None = None,
    on_line: OnLine = None,
    rebuild: bool = False,
) -> ResolvedImage:
    """Return a local image for a profile name, built when its content tag is absent.

    Any other name is an image reference, pulled when it is not present locally.

    Args:
        engine: the Docker engine.
        profile_or_ref: a profile name (``sklearn-1.2``) or an image reference.
        root: the profiles folder; :func:`profiles_root` when ``None``.
        on_line: receives progress lines (the steps, debootstrap, pip and build output).
        rebuild: build the profile even when its tag exists (the engine's layer cache
            still applies; the base image is reused).

    Raises:
        UsageError: the name is neither a profile nor an image reference.
        BaseImageError: the profile's base image cannot be made or pulled here.
        ImageBuildError: downloading the wheels or building failed.
        ImageNotFoundError: an image reference is absent and cannot be pulled.
    """
    folder = root if root is not None else _default_root()
    profiles = discover_profiles(folder) if folder.is_dir() else {}
    profile = profiles.get(profile_or_ref)
    if profile is None:
        return _ensure_reference(engine, profile_or_ref, profiles, folder, on_line)
    base = chosen_base(engine, profile)
    tag = profile_tag(profile, base_image=base)
    existing = None if rebuild else engine.image(tag)
    if existing is not None:
        return ResolvedImage(
            tag, existing.id, profile.name, False, existing.entrypoint, contents_of(existing)
        )
    offline = [name for name, other in profiles.items() if is_offline(other)]
    _get_bases(engine, profile, base, offline, on_line)
    info = _build_profile(engine, profile, tag, base, on_line)
    return ResolvedImage(tag, info.id, profile.name, True, info.entrypoint, contents_of(info))


def _ensure_reference(
    engine: Engine, reference: str, profiles: Mapping[str, object], folder: Path, on_line: OnLine
) -> ResolvedImage:
    info = engine.image(reference) if reference.strip() else None
    if info is None:
        if not any(mark in reference for mark in ":/@"):
            known = ", ".join(sorted(profiles)) or f"none, no profiles found in {folder}"
            raise UsageError(
                f"{reference!r} is neither an image profile (known: {known}) nor a local "
                "image; an image reference needs a tag or a registry path, e.g. python:3.11-slim"
            )
        emit(on_line, f"==> pulling {reference}")
        info = engine.pull(reference)
    contents = listed_contents(engine, info)
    return ResolvedImage(reference, info.id, None, False, info.entrypoint, contents)


def _get_bases(
    engine: Engine, profile: ImageProfile, base: str | None, offline: list[str], on_line: OnLine
) -> None:
    """Make the debootstrap base (when chosen), and pull the registry images the Dockerfile
    starts from."""
    if profile.base is not None and base == base_image_tag(profile.base):
        try:
            ensure_base_image(engine, profile.base, on_line)
        except BaseImageError as exc:
            raise BaseImageError(profile.name, exc.detail, exc.log_tail) from exc
    elif base is not None:
        emit(on_line, f"==> starting from {base}: no root or debootstrap here to make the base")
    text, source = profile.dockerfile.read_text(), str(profile.dockerfile)
    for image in from_images(text, _buildargs(profile, base_image=base), source=source):
        if engine.image(image) is not None:
            continue
        emit(on_line, f"==> pulling base image {image}")
        try:
            engine.pull(image)
        except ImageNotFoundError as exc:
            pulled = f"base image {image!r} cannot be pulled here ({exc.detail})"
            if image == profile.registry_base:
                hint = "making the base locally instead needs root and debootstrap"
                raise BaseImageError(profile.name, f"{pulled}; {hint}") from exc
            names = " or ".join(repr(name) for name in offline)
            hint = f"the {names} profile builds offline" if offline else "no profile builds offline"
            raise BaseImageError(profile.name, f"{pulled}; {hint}") from exc


def _build_profile(
    engine: Engine, profile: ImageProfile, tag: str, base: str | None, on_line: OnLine
) -> ImageInfo:
    emit(on_line, f"==> building {tag} from {profile.folder}")
    digest = tag.rpartition(":")[2]
    labels = {TOOL_LABEL: "sandbox", PROFILE_LABEL: profile.name, PROFILE_HASH_LABEL: digest}
    with tempfile.TemporaryDirectory(prefix=f"sandbox-build-{profile.name}-") as tmp:
        context = Path(tmp) / "context"
        shutil.copytree(profile.folder, context, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.rmtree(context / _WHEELS_DIR, ignore_errors=True)  # as the tag ignores it
        _download_wheels(profile, context / _WHEELS_DIR, on_line)
        buildargs = _buildargs(profile, base_image=base)
        built = engine.build(
            context, tag, profile=profile.name, buildargs=buildargs, labels=labels, on_line=on_line
        )
    emit(on_line, f"==> recording the distributions installed in {tag}")
    return record_contents(engine, built, tag, profile=profile.name, labels=labels)


def _download_wheels(profile: ImageProfile, dest: Path, on_line: OnLine) -> None:
    """Fill ``dest`` with the profile's wheels (and their dependencies) using the host's pip."""
    dest.mkdir(parents=True, exist_ok=True)
    if not profile.wheels:
        return
    emit(on_line, f"==> downloading wheels with the host's pip: {' '.join(profile.wheels)}")
    argv = [
        *(sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-input"),
        *("--progress-bar", "off", "--only-binary=:all:", "--dest", str(dest)),
        *("--python-version", profile.python_version, "--platform", _wheel_platform(profile)),
        *profile.wheels,
    ]
    code, tail = run_streaming(argv, on_line)
    if code != 0:
        raise ImageBuildError(profile.name, _pip_failure(profile.wheels, tail), tail)


def _wheel_platform(profile: ImageProfile) -> str:
    machine = platform.machine().lower()
    if machine not in _WHEEL_ARCH:
        raise ImageBuildError(profile.name, f"no wheel platform known for machine {machine!r}")
    return f"manylinux2014_{_WHEEL_ARCH[machine]}"


def _pip_failure(wheels: tuple[str, ...], tail: list[str]) -> str:
    found = [match.group(1) for line in tail if (match := _PIP_REQUIREMENT_RE.search(line))]
    requirement = found[-1] if found else ", ".join(wheels)
    reason = ([line for line in tail if line.startswith("ERROR:")] or tail or ["no output"])[-1]
    return f"the host's pip could not download wheels for {requirement!r} ({reason})"
