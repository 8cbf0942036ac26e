"""A job's Python dependencies: wheelhouse, pre-flight check, derived images, pip hints.

Before the container starts: the requirements (``--requirements FILE``, the spec's
``requirements:``, a source tree's ``requirements.txt``) and the script's own
``pip install`` targets are downloaded into a local wheelhouse; the script's imports are
checked against the image; with ``bake`` the requirements become a layer on the profile
image instead of an install at every start. After a failed run, a pip or import failure
gets a one-line reason with the fix.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sandbox.constants import DERIVED_LABEL, PROFILE_LABEL, TOOL_LABEL
from sandbox.container.distributions import contents_of, record_contents
from sandbox.container.images import ResolvedImage
from sandbox.container.preflight import (
    DependencyReport,
    ScriptNeeds,
    check_dependencies,
    fix_for,
    module_not_found,
    scan_script,
)
from sandbox.container.seam import Engine, Mount
from sandbox.container.wheelhouse import (
    PIP_CONF_PATH,
    REQUIREMENTS_FILE,
    WHEELHOUSE_DIR,
    WHEELS_MOUNT,
    Wheelhouse,
    WheelTarget,
    ensure_wheelhouse,
    pip_config,
    pip_failure_hint,
    read_requirements,
)
from sandbox.errors import UsageError
from sandbox.results.workspace import RunFolder

__all__ = [
    "DERIVED_LABEL",
    "JobDependencies",
    "dependency_mounts",
    "derived_tag",
    "explain_failure",
    "prepare_dependencies",
]

logger = logging.getLogger(__name__)

_PIP_CONF = "pip.conf"
_DERIVED_DOCKERFILE = f"""\
ARG BASE_IMAGE
FROM ${{BASE_IMAGE}}
COPY wheels/ /tmp/sandbox-wheels/
RUN python3 -m pip install --no-index --no-cache-dir --find-links /tmp/sandbox-wheels \\
        --requirement /tmp/sandbox-wheels/{REQUIREMENTS_FILE} \\
 && rm -rf /tmp/sandbox-wheels
"""


@dataclass(frozen=True)
class JobDependencies:
    """What the runner needs to give the job its dependencies."""

    image: ResolvedImage
    """The image to run: the profile's, or the one derived from it with ``bake``."""
    wheelhouse: Wheelhouse
    needs: ScriptNeeds
    report: DependencyReport
    install_first: str | None
    """Container path of a requirements file to install before the script, if any."""

    @property
    def findings(self) -> list[str]:
        missing = self.wheelhouse.missing
        downloads = (
            f"pre-flight: the host's pip could not download {', '.join(missing)}, which the "
            "script pip-installs at start-up: that install will fail"
        )
        return [*self.report.findings, *([downloads] if missing else [])]


def prepare_dependencies(
    engine: Engine,
    image: ResolvedImage,
    script_path: Path,
    *,
    spec_requirements: Iterable[str],
    requirements_file: Path | None,
    source_dir: Path | None,
    bake: bool,
    strict: bool,
    cache_root: Path,
    on_line: Callable[[str], None] | None = None,
) -> JobDependencies:
    """Fill the wheelhouse, check the imports, and bake a derived image when asked.

    Raises:
        UsageError: ``strict`` and a module the script imports is missing, or the
            requirements file cannot be read.
        WheelhouseError: a listed requirement cannot be downloaded.
        ImageBuildError: the derived image cannot be built.
    """
    requirements = _requirements(spec_requirements, requirements_file, source_dir)
    needs = scan_script(script_path)
    target = WheelTarget.for_image(image.contents)
    wheelhouse = ensure_wheelhouse(
        cache_root / WHEELHOUSE_DIR, target, requirements, needs.pip_targets, on_line=on_line
    )
    roots = [script_path.parent, *([source_dir] if source_dir is not None else [])]
    offered = [item for item in needs.pip_targets if item not in wheelhouse.missing]
    report = check_dependencies(
        needs,
        image.contents,
        local_roots=roots,
        installed=[*requirements, *offered],
        script=script_path.stem,
    )
    if strict and report.missing:
        raise UsageError(f"--strict: {report.findings[0]}")
    install_first = wheelhouse.requirements_file
    if bake and requirements:
        image = _derived_image(engine, image, wheelhouse, on_line)
        install_first = None
    return JobDependencies(image, wheelhouse, needs, report, install_first)


def dependency_mounts(deps: JobDependencies, run: RunFolder, *, network: bool) -> list[Mount]:
    """The wheelhouse, read-only, and the ``pip.conf`` that points pip at it (readable by
    whichever user the container runs as)."""
    conf = run.write_text(_PIP_CONF, pip_config(network=network), mode=0o644)
    return [
        Mount(deps.wheelhouse.folder, WHEELS_MOUNT, read_only=True),
        Mount(conf, PIP_CONF_PATH, read_only=True),
    ]


def explain_failure(
    deps: JobDependencies, stderr_tail: list[str], error_message: str | None, *, network: bool
) -> str | None:
    """The reason of a failed run, led by a pip or import failure's cause and fix."""
    hint = pip_failure_hint(stderr_tail, network=network)
    module = None if hint else module_not_found(stderr_tail)
    if module is not None:
        found = module in deps.report.missing
        seen = ", as the pre-flight check found before the run" if found else ""
        hint = f"the image lacks the module {module!r}{seen}: {fix_for(module)}"
    if hint is None:
        return error_message
    return f"{hint} ({error_message})" if error_message else hint


def derived_tag(image: ResolvedImage, requirements: Iterable[str], wheelhouse: Path) -> str:
    """``sandbox/<profile>-req:<12 hex>``: a hash of the base image and the requirements."""
    digest = hashlib.sha256(f"{image.image_id}\n".encode())
    for requirement in sorted(requirements):
        digest.update(f"requirement {requirement}\n".encode())
    digest.update(f"wheelhouse {wheelhouse.name}\n".encode())
    name = image.profile or "image"
    return f"sandbox/{name}-req:{digest.hexdigest()[:12]}"


def _requirements(
    spec_requirements: Iterable[str], requirements_file: Path | None, source_dir: Path | None
) -> list[str]:
    listed = list(spec_requirements)
    if requirements_file is not None:
        listed += read_requirements(requirements_file)
    if source_dir is not None and (source_dir / REQUIREMENTS_FILE).is_file():
        listed += read_requirements(source_dir / REQUIREMENTS_FILE)
    return list(dict.fromkeys(listed))


def _derived_image(
    engine: Engine,
    image: ResolvedImage,
    wheelhouse: Wheelhouse,
    on_line: Callable[[str], None] | None,
) -> ResolvedImage:
    tag = derived_tag(image, wheelhouse.requirements, wheelhouse.folder)
    existing = engine.image(tag)
    if existing is not None:
        return ResolvedImage(
            tag, existing.id, image.profile, False, existing.entrypoint, contents_of(existing)
        )
    name = image.profile or image.reference
    labels = {TOOL_LABEL: "sandbox", DERIVED_LABEL: image.reference}
    if image.profile:
        labels[PROFILE_LABEL] = image.profile
    logger.info("baking %s into %s", ", ".join(wheelhouse.requirements), tag)
    with tempfile.TemporaryDirectory(prefix="sandbox-derived-") as folder:
        context = Path(folder)
        shutil.copytree(wheelhouse.folder, context / "wheels")
        (context / "Dockerfile").write_text(_DERIVED_DOCKERFILE)
        built = engine.build(
            context,
            tag,
            profile=name,
            buildargs={"BASE_IMAGE": image.reference},
            labels=labels,
            on_line=on_line,
        )
    info = record_contents(engine, built, tag, profile=name, labels=labels)
    return ResolvedImage(tag, info.id, image.profile, True, info.entrypoint, contents_of(info))
