"""The one module that talks to the Docker engine (through docker-py).

Everything else receives an :class:`~sandbox.container.seam.Engine` (the protocol this
module's :class:`DockerEngine` implements) and plain data (:class:`ContainerRequest`,
:class:`ContainerState`), so unit tests can hand in a fake, and every docker-py exception
is turned into a :class:`~sandbox.errors.SandboxError` here, at the seam.
"""

from __future__ import annotations

import copy
import logging
import os
import re
import socket
import tarfile
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

import docker
import docker.errors
import docker.tls
import docker.types
import requests.exceptions
import urllib3.exceptions

from sandbox.constants import TOOL_LABEL
from sandbox.container.endpoint import Endpoint, resolve_endpoint
from sandbox.container.seam import (
    ContainerHandle,
    ContainerInfo,
    ContainerRequest,
    ContainerState,
    Engine,
    ImageInfo,
    Mount,
)
from sandbox.container.transfer import (
    CopyMode,
    Transfer,
    copy_mode_setting,
    extract_safely,
    file_archive,
    mounts_archive,
)
from sandbox.container.usercache import cache_file, read_cached, write_cached
from sandbox.errors import (
    EngineUnavailableError,
    ExecutableNotFoundError,
    ImageBuildError,
    ImageNotFoundError,
    InfrastructureError,
)

__all__ = ["DockerContainer", "DockerEngine", "engine_or_connect"]

logger = logging.getLogger(__name__)


_API_TIMEOUT_S = 60
_BUILD_TIMEOUT_S = 3600


class DockerContainer:
    """A started container (a :class:`~sandbox.container.seam.ContainerHandle`); always
    call :meth:`remove` (the runner does, in ``finally``)."""

    def __init__(self, container: Any, copied: _Copied | None = None) -> None:
        self._container = container
        self._copied = copied

    @property
    def id(self) -> str:
        return str(self._container.id)

    def wait(self, timeout_s: float | None) -> int | None:
        """Wait for the exit; return its code, or ``None`` when ``timeout_s`` passed first."""
        try:
            outcome = self._container.wait(timeout=timeout_s)
        except requests.exceptions.RequestException as exc:
            # docker-py raises ConnectionError("Read timed out") when the wait times out;
            # a broken connection raises others. Tell them apart by asking the engine:
            # if it answers, the caller simply waits again.
            if self.engine_answers():
                return None
            raise InfrastructureError(f"the Docker engine stopped answering: {exc}") from exc
        except docker.errors.APIError as exc:
            raise InfrastructureError(f"waiting for container failed: {exc}") from exc
        return int(outcome.get("StatusCode", -1))

    def engine_answers(self) -> bool:
        try:
            self._container.client.ping()
        except (requests.exceptions.RequestException, docker.errors.DockerException):
            return False
        return True

    def signal(self, signal_name: str) -> None:
        """Send a signal to PID 1; a container that already exited is not an error."""
        try:
            self._container.kill(signal=signal_name)
        except docker.errors.APIError as exc:
            logger.debug("signal %s to %s ignored: %s", signal_name, self.id, str(exc))

    def state(self) -> ContainerState:
        try:
            self._container.reload()
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise InfrastructureError(f"cannot inspect container {self.id[:12]}: {exc}") from exc
        state = self._container.attrs.get("State", {})
        return ContainerState(
            status=str(state.get("Status", "")),
            exit_code=state.get("ExitCode"),
            oom_killed=bool(state.get("OOMKilled", False)),
            error=str(state.get("Error", "")),
        )

    def logs(self, *, stdout: bool, stderr: bool) -> Iterator[bytes]:
        """The output so far, in blocks of up to about 64 KiB: never whole in memory.

        Read raw and taken apart here: docker-py's own stream yields one frame per
        line, which costs more than the engine itself on a log of many short lines.
        """
        api = self._container.client.api
        params = {"stdout": int(stdout), "stderr": int(stderr), "follow": 0, "tail": "all"}
        try:
            url = api._url("/containers/{0}/logs", self.id)
            response = api._get(url, params=params, stream=True)
            api._raise_for_status(response)
            yield from _payloads(response.raw)
        except (
            docker.errors.DockerException,
            requests.exceptions.RequestException,
            urllib3.exceptions.HTTPError,  # raised by the raw read, which requests does not wrap
        ) as exc:
            logger.warning("cannot read logs of %s: %s", self.id[:12], str(exc))

    def follow_logs(self) -> Iterator[bytes]:
        """Stream stdout and stderr as they come; ends when the container exits.

        Through the engine's own client (same engine, same connection pool) without
        its read timeout: a script may be silent for longer than the API timeout, and
        the stream must not end then.
        """
        streaming = copy.copy(self._container.client.api)
        streaming.timeout = None
        yield from streaming.logs(self.id, stream=True, follow=True)

    def stats(self) -> Iterator[dict[str, Any]]:
        """The engine's stats stream; it does not end on exit (empty samples follow)."""
        yield from self._container.stats(stream=True, decode=True)

    def copy_back(self) -> Transfer | None:
        """In copy mode, bring the writable mounts' folders back to the host (streamed,
        extracted safely) and return what the copies cost; ``None`` with bind mounts."""
        copied = self._copied
        if copied is None:
            return None
        for mount in copied.mounts:
            if mount.read_only or not mount.host_path.is_dir():
                continue
            try:
                chunks, _stat = self._container.client.api.get_archive(
                    self.id, mount.container_path, chunk_size=_COPY_CHUNK
                )
                extract_safely(
                    chunks,
                    mount.host_path,
                    container_path=mount.container_path,
                    mounts=copied.mounts,
                    transfer=copied.transfer,
                )
            except docker.errors.NotFound:
                continue  # the job removed the folder: nothing to bring back
            except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
                raise InfrastructureError(
                    f"cannot copy {mount.container_path} back from the container: "
                    f"{_first_line(str(exc))}"
                ) from exc
            except (OSError, tarfile.TarError) as exc:
                raise InfrastructureError(
                    f"cannot copy {mount.container_path} back to {mount.host_path}: {exc}"
                ) from exc
        return copied.transfer

    def push(self, host_path: Path) -> None:
        """Show the container the current content of this host file under a mount (copy
        mode; a bind mount shows it already). A failure is logged, not raised."""
        copied = self._copied
        if copied is None:
            return
        target = copied.container_path_of(host_path)
        if target is None:
            return
        try:
            self._container.client.api.put_archive(
                self.id, "/", file_archive(host_path, target, copied.owner)
            )
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            logger.warning("cannot refresh %s in the container: %s", target, str(exc))

    def remove(self) -> bool:
        """Remove the container, killing it if it still runs; never raises.

        Returns False when the engine refused or did not answer (it is still there).
        """
        try:
            self._container.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            logger.warning("could not remove container %s: %s", self.id[:12], str(exc))
            return False
        return True


class DockerEngine:
    """A connection to one Docker engine (an :class:`~sandbox.container.seam.Engine`);
    a context manager that closes it."""

    def __init__(self, client: Any, endpoint: Endpoint | None = None) -> None:
        self._client = client
        self._endpoint = endpoint

    def __enter__(self) -> DockerEngine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @classmethod
    def connect(cls) -> DockerEngine:
        """Connect to the engine the ``docker`` command line would use: ``DOCKER_HOST``,
        else the Docker context (``DOCKER_CONTEXT``, else the CLI config's current one),
        else the default socket.

        Raises:
            EngineUnavailableError: the engine does not answer (the message names the
                endpoint tried and where it came from), or the context does not exist.
        """
        endpoint = resolve_endpoint()
        client = None
        try:
            client = _client(endpoint)
            client.ping()
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            if client is not None:
                client.close()
            raise EngineUnavailableError(_first_line(str(exc)), endpoint.describe()) from exc
        return cls(client, endpoint)

    @property
    def endpoint(self) -> Endpoint | None:
        return self._endpoint

    def shares_files(self, image: str) -> bool:
        """Whether this engine sees this machine's files, so bind mounts work: not when
        its endpoint is not a local socket; else a probe (a file in a fresh folder,
        bound into a created container of ``image``, must be visible there). The answer
        is kept per engine for the life of the process."""
        if self._endpoint is not None and not self._endpoint.is_local_socket:
            return False
        key = self._engine_key()
        with _SHARES_LOCK:
            known = _SHARES_FILES.get(key)
            if known is None:
                known = _remembered_answers().get(key)
        if known is None:
            known = self._probe_shared_files(image)
            _remember_answer(key, known)
            logger.info("engine %s sees this machine's files: %s", key, known)
        with _SHARES_LOCK:
            _SHARES_FILES[key] = known
        return known

    def _engine_key(self) -> str:
        """The engine (endpoint and id) as seen from this host and mount namespace: the
        same key, the same answer, so it is kept across processes too."""
        host = self._endpoint.host if self._endpoint is not None else ""
        try:
            namespace = os.stat("/proc/self/ns/mnt").st_ino
        except OSError:
            namespace = 0
        return f"{host}#{self._info().get('ID', '')}#{socket.gethostname()}#{namespace}"

    def _probe_shared_files(self, image: str) -> bool:
        with tempfile.TemporaryDirectory(prefix="sandbox-probe-") as folder:
            name = f"probe-{uuid.uuid4().hex}"
            (Path(folder) / name).write_text("probe\n", encoding="utf-8")
            try:
                container = self._client.containers.create(
                    image=image,
                    entrypoint=["/probe-never-started"],
                    mounts=[
                        docker.types.Mount(
                            target="/sandbox-probe", source=folder, type="bind", read_only=True
                        )
                    ],
                    labels={TOOL_LABEL: "sandbox-probe"},
                    network_mode="none",
                )
            except docker.errors.ImageNotFound as exc:
                raise ImageNotFoundError(image, _first_line(str(exc))) from exc
            except docker.errors.APIError as exc:
                # "bind source path does not exist": the engine's host has no such folder.
                logger.debug("probe container refused: %s", str(exc))
                return False
            except requests.exceptions.RequestException as exc:
                raise InfrastructureError(f"cannot create container: {exc}") from exc
            try:
                chunks, _stat = self._client.api.get_archive(container.id, f"/sandbox-probe/{name}")
                for _chunk in chunks:
                    pass
                return True
            except docker.errors.NotFound:
                return False
            except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
                raise InfrastructureError(f"cannot probe the engine's files: {exc}") from exc
            finally:
                DockerContainer(container).remove()

    def _copies(self, request: ContainerRequest) -> bool:
        mode = request.copy_mode or copy_mode_setting()
        if mode is CopyMode.AUTO:
            return bool(request.mounts) and not self.shares_files(request.image)
        return mode is CopyMode.COPY

    def close(self) -> None:
        self._client.close()

    def server_version(self) -> str:
        return str(self._client.version().get("Version", "unknown"))

    def cgroup_version(self) -> str:
        return str(self._info().get("CgroupVersion", "1"))

    def host_resources(self) -> tuple[int, int]:
        """Return the engine host's ``(cpu_count, memory_bytes)``."""
        info = self._info()
        return int(info.get("NCPU", 0)), int(info.get("MemTotal", 0))

    def _info(self) -> dict[str, Any]:
        try:
            return dict(self._client.info())
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise InfrastructureError(f"the Docker engine did not answer: {exc}") from exc

    # Images -----------------------------------------------------------------

    def image(self, reference: str) -> ImageInfo | None:
        """The local image with that reference, or ``None``."""
        try:
            image = self._client.images.get(reference)
        except docker.errors.ImageNotFound:
            return None
        except docker.errors.APIError as exc:
            raise InfrastructureError(f"cannot inspect image {reference!r}: {exc}") from exc
        return _image_info(image)

    def images(self, label: str) -> list[ImageInfo]:
        """Local images carrying ``label`` (``key`` or ``key=value``)."""
        try:
            found = self._client.images.list(filters={"label": label})
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise InfrastructureError(f"cannot list images: {exc}") from exc
        return [_image_info(image) for image in found]

    def remove_image(self, reference: str) -> bool:
        """Remove the tag ``reference``; False when a container uses it or it is gone."""
        try:
            self._client.images.remove(reference)
        except docker.errors.NotFound:
            return False
        except docker.errors.APIError as exc:
            if exc.status_code == 409:  # a container, even a stopped one, still uses it
                return False
            raise InfrastructureError(f"cannot remove image {reference!r}: {exc}") from exc
        return True

    def pull(self, reference: str) -> ImageInfo:
        """Pull ``reference``; raise :class:`ImageNotFoundError` when it cannot be had."""
        try:
            image = self._client.images.pull(reference)
        except docker.errors.APIError as exc:
            raise ImageNotFoundError(reference, str(exc.explanation or exc)) from exc
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise ImageNotFoundError(reference, _first_line(str(exc))) from exc
        return _image_info(image)

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
        lines: list[str] = []
        try:
            stream = self._client.api.build(
                path=str(context_dir),
                tag=tag,
                buildargs=buildargs,
                labels=labels,
                rm=True,
                forcerm=True,
                pull=False,
                nocache=nocache,
                decode=True,
                timeout=_BUILD_TIMEOUT_S,
            )
            for chunk in stream:
                if "error" in chunk:
                    detail = str(chunk.get("error", "")).strip()
                    raise ImageBuildError(profile, _first_line(detail), lines[-30:])
                line = str(chunk.get("stream", "")).rstrip("\n")
                if line:
                    lines.append(line)
                    if on_line is not None:
                        on_line(line)
        except docker.errors.APIError as exc:
            raise ImageBuildError(profile, _first_line(str(exc)), lines[-30:]) from exc
        info = self.image(tag)
        if info is None:
            raise ImageBuildError(profile, "the build reported success but no image was tagged")
        return info

    def import_rootfs(self, rootfs_dir: Path, reference: str, labels: dict[str, str]) -> ImageInfo:
        """Turn a root filesystem folder into an image (``tar -C DIR -c . | docker import``)."""
        repository, _, tag = reference.rpartition(":")
        changes = [f"LABEL {key}={value}" for key, value in labels.items()]
        changes.append('CMD ["/bin/bash"]')
        # Through a file on disk, not memory: a root filesystem is ~170 MB.
        with tempfile.TemporaryDirectory(prefix="sandbox-rootfs-") as folder:
            archive_path = Path(folder) / "rootfs.tar"
            with tarfile.open(archive_path, mode="w") as archive:
                archive.add(str(rootfs_dir), arcname=".")
            try:
                self._client.api.import_image_from_file(
                    str(archive_path), repository=repository, tag=tag, changes=changes
                )
            except docker.errors.APIError as exc:
                raise InfrastructureError(f"docker import of {rootfs_dir} failed: {exc}") from exc
        info = self.image(reference)
        if info is None:
            raise InfrastructureError(f"docker import did not produce {reference}")
        return info

    # Containers -------------------------------------------------------------

    def start(self, request: ContainerRequest) -> ContainerHandle:
        """Create and start a container; if the start fails, it is removed before raising.

        Raises:
            ExecutableNotFoundError: the entry point's program is not in the image.
            ImageNotFoundError: the image is not present.
            InfrastructureError: anything else the engine refused or did not answer.
        """
        copies = self._copies(request)
        kwargs = _create_kwargs(request)
        if copies:
            kwargs.pop("mounts", None)
        try:
            container = self._client.containers.create(**kwargs)
        except docker.errors.ImageNotFound as exc:
            raise ImageNotFoundError(request.image, _first_line(str(exc))) from exc
        except (docker.errors.APIError, requests.exceptions.RequestException) as exc:
            raise InfrastructureError(f"cannot create container: {_first_line(str(exc))}") from exc
        copied = _Copied(request.mounts, _owner(request.user)) if copies else None
        handle = DockerContainer(container, copied)
        try:
            if copied is not None:
                self._copy_in(container, copied)
            container.start()
        except BaseException as exc:
            handle.remove()
            if isinstance(exc, (docker.errors.APIError, requests.exceptions.RequestException)):
                raise _start_error(exc) from exc
            raise
        return handle

    def _copy_in(self, container: Any, copied: _Copied) -> None:
        """Put every mount's host folder into the created container (one tar stream)."""
        archive = _Counted(mounts_archive(copied.mounts, copied.owner))
        started = time.monotonic()
        try:
            self._client.api.put_archive(container.id, "/", archive)
        except (OSError, tarfile.TarError) as exc:
            raise InfrastructureError(f"cannot copy the job's folders in: {exc}") from exc
        copied.transfer.bytes_in = archive.count
        copied.transfer.seconds_in = time.monotonic() - started

    def remove_labelled(self, label: str, *, stopped_only: bool = False) -> int:
        """Remove every container carrying ``label``; return how many were removed.

        With ``stopped_only``, running containers (another run in progress) are kept.
        """
        removed = 0
        for container in self._labelled(label, stopped_only):
            DockerContainer(container).remove()
            removed += 1
        return removed

    def count_labelled(self, label: str, *, stopped_only: bool = False) -> int:
        return len(self._labelled(label, stopped_only))

    def containers(self, label: str) -> list[ContainerInfo]:
        """Every container carrying ``label`` (``key=value``), in any state."""
        return [_container_info(container) for container in self._labelled(label, False)]

    def remove_container(self, container_id: str) -> bool:
        """Remove one container by id (killing it if it runs); False if it could not be."""
        try:
            container = self._client.containers.get(container_id)
        except docker.errors.NotFound:
            return True
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            logger.warning("could not find container %s: %s", container_id[:12], str(exc))
            return False
        return DockerContainer(container).remove()

    def _labelled(self, label: str, stopped_only: bool) -> list[Any]:
        filters: dict[str, Any] = {"label": label}
        if stopped_only:
            filters["status"] = ["created", "exited", "dead"]
        # ignore_removed: a container removed between the listing and its inspection
        # (another run finishing) is simply not there, not an error.
        try:
            return list(
                self._client.containers.list(all=True, filters=filters, ignore_removed=True)
            )
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise InfrastructureError(f"cannot list containers: {exc}") from exc


@contextmanager
def engine_or_connect(
    engine: Engine | None, connect: Callable[[], Engine] | None = None
) -> Iterator[Engine]:
    """``engine`` as given, left open; or one connected here (``connect``, else
    :meth:`DockerEngine.connect`) and closed on leaving: an engine opened here is closed
    here."""
    if engine is not None:
        yield engine
        return
    with (connect or DockerEngine.connect)() as opened:
        yield opened


_FRAME_HEADER_BYTES = 8
_READ_BYTES = 64 * 1024


def _payloads(raw: Any) -> Iterator[bytes]:
    """The payloads of a multiplexed log stream (8-byte header: stream, 0, 0, 0, size),
    joined per block read; memory holds one block and at most one frame."""
    pending = b""
    while block := raw.read(_READ_BYTES):
        pending += block
        payloads, offset = [], 0
        while len(pending) - offset >= _FRAME_HEADER_BYTES:
            size = int.from_bytes(pending[offset + 4 : offset + 8], "big")
            end = offset + _FRAME_HEADER_BYTES + size
            if end > len(pending):
                break
            payloads.append(pending[offset + _FRAME_HEADER_BYTES : end])
            offset = end
        pending = pending[offset:]
        if payloads:
            yield b"".join(payloads)


_COPY_CHUNK = 1024 * 1024
_SHARES_FILES: dict[str, bool] = {}
_SHARES_LOCK = threading.Lock()


def _client(endpoint: Endpoint) -> Any:
    """A docker-py client for ``endpoint``; ``DOCKER_HOST`` keeps docker-py's reading of
    the environment (``DOCKER_TLS_VERIFY``, ``DOCKER_CERT_PATH``)."""
    if endpoint.context is None:
        return docker.from_env(timeout=_API_TIMEOUT_S)
    tls: Any = None
    if endpoint.tls is not None:
        material = endpoint.tls
        client_cert = None
        if material.client_cert is not None and material.client_key is not None:
            client_cert = (str(material.client_cert), str(material.client_key))
        tls = docker.tls.TLSConfig(
            client_cert=client_cert,
            ca_cert=str(material.ca_cert) if material.ca_cert else None,
            verify=material.verify and material.ca_cert is not None,
        )
    return docker.DockerClient(base_url=endpoint.host, tls=tls, timeout=_API_TIMEOUT_S)


@dataclass
class _Copied:
    """A copy-mode container's mounts, owner and copy figures."""

    mounts: list[Mount]
    owner: tuple[int, int]
    transfer: Transfer = field(default_factory=Transfer)

    def container_path_of(self, host_path: Path) -> str | None:
        """Where a host file under one of the mounts is in the container (the deepest)."""
        best: tuple[int, str] | None = None
        for mount in self.mounts:
            try:
                relative = host_path.relative_to(mount.host_path)
            except ValueError:
                continue
            depth = len(mount.host_path.parts)
            if best is None or depth > best[0]:
                target = mount.container_path.rstrip("/")
                path = target if relative == Path(".") else f"{target}/{relative.as_posix()}"
                best = (depth, path)
        return best[1] if best else None


class _Counted:
    """An iterator of chunks that counts the bytes it hands out."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self.count = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.count += len(chunk)
            yield chunk


def _owner(user: str | None) -> tuple[int, int]:
    uid, _, gid = (user or "0:0").partition(":")
    try:
        return int(uid), int(gid or uid)
    except ValueError:
        return 0, 0


def _create_kwargs(request: ContainerRequest) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "image": request.image,
        "entrypoint": request.entrypoint,
        "command": request.command,
        "environment": request.environment,
        "mounts": [
            docker.types.Mount(
                target=mount.container_path,
                source=str(mount.host_path),
                type="bind",
                read_only=mount.read_only,
            )
            for mount in request.mounts
        ],
        "labels": request.labels,
        "user": request.user,
        "working_dir": request.working_dir,
        "tmpfs": request.tmpfs or None,
        "name": request.name,
        "detach": True,
        "pids_limit": request.pids_limit,
        # No device nodes (a root script could mknod the host's disk), and no privilege
        # gained through setuid binaries.
        "cap_drop": ["MKNOD"],
        "security_opt": ["no-new-privileges"],
    }
    if not request.network_enabled:
        kwargs["network_mode"] = "none"
    if request.mem_limit_bytes is not None:
        kwargs["mem_limit"] = request.mem_limit_bytes
        # Equal swap and memory limits make the limit hard, as on an instance without swap.
        kwargs["memswap_limit"] = request.mem_limit_bytes
    if request.nano_cpus is not None:
        kwargs["nano_cpus"] = request.nano_cpus
    return {key: value for key, value in kwargs.items() if value is not None}


_MISSING_EXECUTABLE = re.compile(
    r'exec: "([^"]+)": (?:executable file not found|stat [^:]+: no such file or directory)'
)


def _start_error(exc: Exception) -> InfrastructureError:
    missing = _MISSING_EXECUTABLE.search(str(exc))
    if missing:
        return ExecutableNotFoundError(missing.group(1))
    return InfrastructureError(f"cannot start container: {_first_line(str(exc))}")


def _container_info(container: Any) -> ContainerInfo:
    attrs = container.attrs or {}
    state = attrs.get("State") or {}
    return ContainerInfo(
        id=str(container.id),
        status=str(state.get("Status", "")),
        labels=dict((attrs.get("Config") or {}).get("Labels") or {}),
        created_at=_timestamp(attrs.get("Created")),
        finished_at=_timestamp(state.get("FinishedAt")),
    )


def _timestamp(text: Any) -> datetime | None:
    """Docker's RFC 3339 time (nanoseconds, ``Z``); ``None`` for its zero time."""
    if not isinstance(text, str) or text.startswith("0001-"):
        return None
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?", text)
    if match is None:
        return None
    fraction = (match.group(2) or "0")[:6].ljust(6, "0")
    stamp = datetime.strptime(f"{match.group(1)}.{fraction}", "%Y-%m-%dT%H:%M:%S.%f")
    return stamp.replace(tzinfo=timezone.utc)


def _image_info(image: Any) -> ImageInfo:
    config = image.attrs.get("Config") or {}
    return ImageInfo(
        id=str(image.id),
        tags=list(image.tags),
        labels=dict(image.labels or {}),
        entrypoint=list(config["Entrypoint"]) if config.get("Entrypoint") else None,
        cmd=list(config["Cmd"]) if config.get("Cmd") else None,
    )


def _first_line(text: str) -> str:
    stripped = text.strip()
    return stripped.splitlines()[0] if stripped else "unknown error"


def _answers_file() -> Path:
    """Where the probe's answers are kept for later processes: the user's cache folder."""
    return cache_file("engine-files.json")


def _remembered_answers() -> dict[str, bool]:
    """Earlier probes' answers; an unreadable, foreign or linked file counts as none."""
    answers = read_cached(_answers_file())
    if not isinstance(answers, dict):
        return {}
    return {str(key): value for key, value in answers.items() if isinstance(value, bool)}


def _remember_answer(key: str, shares: bool) -> None:
    """Add one answer to the cache file, atomically; a failure only costs a later probe."""
    write_cached(_answers_file(), {**_remembered_answers(), key: shares})
