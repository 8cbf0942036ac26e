"""The tests' one fake :class:`~sandbox.container.seam.Engine`: in memory, recording calls.

It implements the whole protocol, so it goes wherever an engine does (no ``type: ignore``);
a test configures it (images present or pullable, container handles to hand out, the
host's size, labelled containers) or subclasses it to change one behaviour.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from sandbox.container.seam import ContainerHandle, ContainerInfo, ContainerRequest, ImageInfo
from sandbox.errors import ImageNotFoundError

GIB = 1024**3


def image_info(reference: str, labels: dict[str, str] | None = None) -> ImageInfo:
    """An image as the engine lists it, with an id derived from its reference."""
    digest = hashlib.sha256(reference.encode()).hexdigest()
    return ImageInfo(id=f"sha256:{digest}", tags=[reference], labels=labels or {})


class FakeEngine:
    """An engine in memory.

    Images: ``present`` are there, ``pullable`` can be pulled (others fail as a registry
    would), builds and imports are recorded and then present. Containers: :meth:`start`
    records the request and hands out the next of ``handles`` (none: the test expected no
    container). Labels: ``labelled`` holds the label sets of containers; removing by label
    records the label and drops them. ``listed`` are the containers :meth:`containers`
    lists (by one ``key=value`` label); removing one by id records the id and drops it.
    """

    def __init__(
        self,
        *,
        present: Iterable[str] = (),
        pullable: Iterable[str] = (),
        handles: Iterable[ContainerHandle] = (),
        cpus: int = 2,
        memory_bytes: int = 24 * GIB,
        labelled: Iterable[dict[str, str]] = (),
        listed: Iterable[ContainerInfo] = (),
    ) -> None:
        self.present = {reference: image_info(reference) for reference in present}
        self.pullable = set(pullable)
        self.handles = list(handles)
        self.cpus, self.memory_bytes = cpus, memory_bytes
        self.labelled = [dict(labels) for labels in labelled]
        self.listed = list(listed)
        self.removed_ids: list[str] = []
        self.in_use: set[str] = set()
        """Image references a container uses: :meth:`remove_image` refuses them."""
        self.removed_images: list[str] = []
        self.pulls: list[str] = []
        self.builds: list[dict[str, Any]] = []
        self.requests: list[ContainerRequest] = []
        self.removed: list[str] = []
        self.host_calls = 0
        self.closed = False

    def __enter__(self) -> FakeEngine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.closed = True

    def server_version(self) -> str:
        return "fake"

    def cgroup_version(self) -> str:
        return "2"

    def host_resources(self) -> tuple[int, int]:
        self.host_calls += 1
        return self.cpus, self.memory_bytes

    # Images ---------------------------------------------------------------------------

    def image(self, reference: str) -> ImageInfo | None:
        return self.present.get(reference)

    def images(self, label: str) -> list[ImageInfo]:
        key, _, value = label.partition("=")
        return [
            info
            for info in self.present.values()
            if key in info.labels and (not value or info.labels[key] == value)
        ]

    def remove_image(self, reference: str) -> bool:
        if reference in self.in_use or reference not in self.present:
            return False
        del self.present[reference]
        self.removed_images.append(reference)
        return True

    def pull(self, reference: str) -> ImageInfo:
        self.pulls.append(reference)
        if reference not in self.pullable:
            raise ImageNotFoundError(reference, "lookup registry-1.docker.io: no such host")
        self.present[reference] = image_info(reference)
        return self.present[reference]

    def build(
        self,
        context_dir: Path,
        tag: str,
        *,
        profile: str,
        buildargs: dict[str, str],
        labels: dict[str, str],
        on_line: Callable[[str], None] | None = None,
        nocache: bool = False,
    ) -> ImageInfo:
        files = sorted(p.relative_to(context_dir).as_posix() for p in context_dir.rglob("*"))
        self.builds.append(
            {
                "tag": tag,
                "files": files,
                "profile": profile,
                "buildargs": buildargs,
                "labels": labels,
                "on_line": on_line,
                "nocache": nocache,
            }
        )
        self.present[tag] = image_info(tag, labels)
        return self.present[tag]

    def import_rootfs(self, rootfs_dir: Path, reference: str, labels: dict[str, str]) -> ImageInfo:
        self.present[reference] = image_info(reference, labels)
        return self.present[reference]

    # Containers -----------------------------------------------------------------------

    def start(self, request: ContainerRequest) -> ContainerHandle:
        self.requests.append(request)
        if not self.handles:
            raise AssertionError(f"no container expected (image {request.image})")
        return self.handles.pop(0)

    def remove_labelled(self, label: str, *, stopped_only: bool = False) -> int:
        self.removed.append(label)
        hits = self._matching(label)
        self.labelled = [labels for labels in self.labelled if labels not in hits]
        return len(hits)

    def count_labelled(self, label: str, *, stopped_only: bool = False) -> int:
        return len(self._matching(label))

    def containers(self, label: str) -> list[ContainerInfo]:
        key, _, value = label.partition("=")
        return [info for info in self.listed if info.labels.get(key) == value]

    def remove_container(self, container_id: str) -> bool:
        self.removed_ids.append(container_id)
        self.listed = [info for info in self.listed if info.id != container_id]
        return True

    def _matching(self, label: str) -> list[dict[str, str]]:
        key, _, value = label.partition("=")
        return [
            labels
            for labels in self.labelled
            if key in labels and (not value or labels[key] == value)
        ]
