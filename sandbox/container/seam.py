"""What the rest of the tool asks of a container engine: the :class:`Engine` protocol,
and the plain data it is asked with and answers in (:class:`ContainerRequest`,
:class:`Mount`, :class:`ImageInfo`, ...), none of which needs docker-py.

Code outside :mod:`sandbox.container.engine` is written against these protocols, never
against docker-py, so the real engine (:class:`~sandbox.container.engine.DockerEngine`)
and the tests' one fake engine are interchangeable. An engine is a context manager: the
code that connects one closes it (``with DockerEngine.connect() as engine: ...``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from sandbox.constants import DEFAULT_PIDS_LIMIT
from sandbox.container.transfer import CopyMode

if TYPE_CHECKING:
    from sandbox.container.transfer import Transfer

__all__ = [
    "ContainerHandle",
    "ContainerInfo",
    "ContainerRequest",
    "ContainerState",
    "Engine",
    "ImageInfo",
    "Mount",
]


@dataclass(frozen=True)
class Mount:
    """A host folder or file bound into the container."""

    host_path: Path
    container_path: str
    read_only: bool = True


@dataclass(frozen=True)
class ContainerRequest:
    """Everything needed to create one container, in engine-neutral terms."""

    image: str
    entrypoint: list[str] | None
    command: list[str] | None
    environment: dict[str, str]
    mounts: list[Mount]
    labels: dict[str, str]
    user: str | None = None
    network_enabled: bool = False
    mem_limit_bytes: int | None = None
    nano_cpus: int | None = None
    working_dir: str | None = None
    tmpfs: dict[str, str] = field(default_factory=dict)
    name: str | None = None
    pids_limit: int = DEFAULT_PIDS_LIMIT
    copy_mode: CopyMode | None = None
    """How the mounts reach the container; ``None``: ``SANDBOX_COPY_MODE``, else auto."""


@dataclass(frozen=True)
class ContainerState:
    """The parts of ``docker inspect``'s ``State`` that the runner reads."""

    status: str
    exit_code: int | None
    oom_killed: bool
    error: str


@dataclass(frozen=True)
class ContainerInfo:
    """A container as cleaning sees it: its state, labels and times (UTC)."""

    id: str
    status: str
    labels: dict[str, str]
    created_at: datetime | None
    finished_at: datetime | None
    """``None`` while it has never stopped."""


@dataclass(frozen=True)
class ImageInfo:
    """An image as the tool lists it."""

    id: str
    tags: list[str]
    labels: dict[str, str]
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None


class ContainerHandle(Protocol):
    """A started container; always call :meth:`remove` (the runner does, in ``finally``)."""

    @property
    def id(self) -> str: ...

    def wait(self, timeout_s: float | None) -> int | None:
        """Wait for the exit; return its code, or ``None`` when ``timeout_s`` passed first."""
        ...

    def signal(self, signal_name: str) -> None:
        """Send a signal to PID 1; a container that already exited is not an error."""
        ...

    def state(self) -> ContainerState: ...

    def logs(self, *, stdout: bool, stderr: bool) -> Iterator[bytes]:
        """The output so far, in blocks (never whole in memory)."""
        ...

    def follow_logs(self) -> Iterator[bytes]:
        """Stream stdout and stderr as they come; ends when the container exits."""
        ...

    def stats(self) -> Iterator[dict[str, Any]]:
        """The engine's stats stream; it does not end on exit (empty samples follow)."""
        ...

    def engine_answers(self) -> bool:
        """Whether the engine that runs this container answers now."""
        ...

    def copy_back(self) -> Transfer | None:
        """Copy mode (an engine that does not see this machine's files): bring the
        writable mounts back to the host; ``None`` with bind mounts."""
        ...

    def push(self, host_path: Path) -> None:
        """Copy mode: show the container this host file's current content."""
        ...

    def remove(self) -> bool:
        """Remove the container, killing it if it still runs; never raises.

        Returns False when the engine refused or did not answer (it is still there).
        """
        ...


class Engine(Protocol):
    """A connection to one container engine: images, containers, labels."""

    def __enter__(self) -> Engine: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    def close(self) -> None: ...

    def server_version(self) -> str: ...

    def cgroup_version(self) -> str: ...

    def host_resources(self) -> tuple[int, int]:
        """Return the engine host's ``(cpu_count, memory_bytes)``."""
        ...

    def image(self, reference: str) -> ImageInfo | None:
        """The local image with that reference, or ``None``."""
        ...

    def images(self, label: str) -> list[ImageInfo]:
        """Local images carrying ``label`` (``key`` or ``key=value``)."""
        ...

    def pull(self, reference: str) -> ImageInfo: ...

    def remove_image(self, reference: str) -> bool:
        """Remove the tag ``reference`` (and its layers no other tag holds); False when a
        container still uses the image, or it is already gone."""
        ...

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
        """Build ``context_dir`` into ``tag``, feeding each log line to ``on_line``."""
        ...

    def import_rootfs(self, rootfs_dir: Path, reference: str, labels: dict[str, str]) -> ImageInfo:
        """Import a root filesystem folder as the image ``reference``."""
        ...

    def start(self, request: ContainerRequest) -> ContainerHandle:
        """Create and start a container."""
        ...

    def remove_labelled(self, label: str, *, stopped_only: bool = False) -> int:
        """Remove the containers carrying ``label``; return how many."""
        ...

    def count_labelled(self, label: str, *, stopped_only: bool = False) -> int: ...

    def containers(self, label: str) -> list[ContainerInfo]:
        """Every container carrying ``label`` (``key=value``), in any state."""
        ...

    def remove_container(self, container_id: str) -> bool:
        """Remove one container by id (killing it if it runs); False if it could not be."""
        ...
