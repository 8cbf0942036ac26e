"""Images of profiles whose content changed since they were built, found and removed.

Each edit of a profile (or a new version of the tool) builds a new tag,
``sandbox/<profile>:<hash>``; the old one stays until removed. An image is stale when it
was built from a profile this tool knows under another tag than the profile's current
one, or derived (baked requirements) from such an image. Images of profiles this tool
does not know (another checkout's own), base images, and images a container still uses
are kept: the engine refuses to remove those, and the outcome lists them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sandbox.constants import DERIVED_LABEL, PROFILE_LABEL, TOOL_LABEL
from sandbox.container.images import ImageProfile, discover_profiles, profile_tag
from sandbox.container.seam import Engine, ImageInfo

__all__ = ["PruneOutcome", "prune_images", "stale_images"]


@dataclass(frozen=True)
class PruneOutcome:
    """What :func:`prune_images` removed, and what it left because a container uses it."""

    removed: list[str] = field(default_factory=list)
    in_use: list[str] = field(default_factory=list)


def stale_images(engine: Engine, root: Path | None = None) -> list[str]:
    """The tags of this tool's images that no current profile builds, sorted."""
    profiles = discover_profiles(root)
    current = {name: _current_tags(profile) for name, profile in profiles.items()}
    stale = {
        tag
        for info in engine.images(f"{TOOL_LABEL}=sandbox")
        for tag in info.tags
        if _is_stale(info, tag, current)
    }
    return sorted(stale)


def prune_images(
    engine: Engine, root: Path | None = None, *, dry_run: bool = False
) -> PruneOutcome:
    """Remove the tags :func:`stale_images` finds; keep those a container still uses.
    With ``dry_run``, remove nothing and list them all as removed."""
    if dry_run:
        return PruneOutcome(removed=stale_images(engine, root))
    outcome = PruneOutcome()
    for tag in stale_images(engine, root):
        (outcome.removed if engine.remove_image(tag) else outcome.in_use).append(tag)
    return outcome


def _current_tags(profile: ImageProfile) -> frozenset[str]:
    """The profile's tag on each base it can be built on: on a shared engine, a user who
    is not root builds on the registry base while root builds on the local one."""
    tags = {profile_tag(profile)}
    if profile.registry_base is not None:
        tags.add(profile_tag(profile, base_image=profile.registry_base))
    return frozenset(tags)


def _is_stale(info: ImageInfo, tag: str, current: dict[str, frozenset[str]]) -> bool:
    parent = info.labels.get(DERIVED_LABEL)
    if parent is not None:
        profile = parent.rpartition(":")[0].removeprefix("sandbox/")
        return profile in current and parent not in current[profile]
    profile = info.labels.get(PROFILE_LABEL, "")
    own_name = tag.rpartition(":")[0] == f"sandbox/{profile}"
    return profile in current and own_name and tag not in current[profile]
