"""One exception hierarchy for everything the tool itself cannot do.

A script that fails is a result, not an exception. These errors are for bad input
(usage or spec errors, exit code 2) and for infrastructure problems (no Docker engine,
an image that cannot be built or pulled, exit code 3). Each error keeps its data and
builds its one-line message from it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox.results.models import TestResult

__all__ = [
    "BaseImageError",
    "DiskFullError",
    "EngineUnavailableError",
    "ExecutableNotFoundError",
    "ImageBuildError",
    "ImageNotFoundError",
    "InfrastructureError",
    "OptionError",
    "RunCancelled",
    "RunNotFoundError",
    "S3SourceError",
    "S3UnreachableError",
    "SandboxError",
    "ScriptIsFolderError",
    "ScriptNotFoundError",
    "SettingsError",
    "SpecError",
    "UsageError",
    "WorkspaceError",
]


class SandboxError(Exception):
    """Base of every error the tool raises on purpose."""

    exit_code = 3
    result: TestResult | None = None
    """The ERROR result saved for the run this error stopped, once it had a run folder."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(SandboxError):
    """The user asked for something that cannot be done as asked (exit code 2)."""

    exit_code = 2


class OptionError(UsageError):
    """A command-line option's value cannot be used: ``--cpus nan: ...``."""

    def __init__(self, option: str, value: str, problem: str) -> None:
        self.option = option
        self.value = value
        self.problem = problem
        super().__init__(f"{option} {value!r}: {problem}")


class SettingsError(UsageError):
    """A settings file (``[tool.sandbox]`` or ``sandbox.toml``) holds a key or value the
    command line cannot take: ``pyproject.toml: [tool.sandbox] imge: unknown setting``."""

    def __init__(self, path: str, key: str, problem: str) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        super().__init__(f"{path}: {key}: {problem}")


class SpecError(UsageError):
    """A spec file, or a spec built from options, is invalid."""

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        self.problem = problem
        super().__init__(f"{source}: {problem}")


class ScriptNotFoundError(UsageError):
    """No script of that name or path exists."""

    def __init__(self, name: str, searched: list[Path]) -> None:
        self.name = name
        self.searched = searched
        where = ", ".join(str(path) for path in searched) or "nowhere"
        super().__init__(f"script {name!r} not found (looked in {where})")


class ScriptIsFolderError(UsageError):
    """A script was named by the path of a folder."""

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path
        super().__init__(f"script {name!r}: {path} is a folder, not a script file")


class RunCancelled(SandboxError):
    """The controller was interrupted before this run's container started (exit 130)."""

    exit_code = 130

    def __init__(self, script: str) -> None:
        self.script = script
        super().__init__(f"run of {script} cancelled before its container started")


class InfrastructureError(SandboxError):
    """The machine cannot do the job: no engine, no image, no disk (exit code 3)."""

    exit_code = 3


class DiskFullError(InfrastructureError):
    """The workspace's disk is full (or the quota spent) before a run could record it."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{reason} while writing {path}")


class EngineUnavailableError(InfrastructureError):
    """No Docker engine answers at ``endpoint`` (``DOCKER_HOST``, or the default socket)."""

    def __init__(self, detail: str, endpoint: str | None = None) -> None:
        self.detail = detail
        self.endpoint = endpoint or _docker_endpoint()
        super().__init__(
            f"no Docker engine answers at {self.endpoint} ({detail}). "
            "Linux: install Docker Engine (Debian/Ubuntu: apt-get install docker.io), then "
            "'sudo systemctl start docker'; macOS: start Docker Desktop, or 'colima start'; "
            "CI: add a docker service (docker:dind) and set DOCKER_HOST to it"
        )


def _docker_endpoint() -> str:
    """Where the Docker client looks: ``DOCKER_HOST``, or the default socket."""
    host = os.environ.get("DOCKER_HOST")
    return f"DOCKER_HOST={host}" if host else "unix:///var/run/docker.sock (DOCKER_HOST unset)"


class ExecutableNotFoundError(InfrastructureError):
    """The program a container was asked to start is not in its image."""

    def __init__(self, executable: str) -> None:
        self.executable = executable
        super().__init__(f"the image has no {executable!r} to start")


class ImageNotFoundError(InfrastructureError):
    """An image reference is not present locally and cannot be pulled."""

    def __init__(self, reference: str, detail: str) -> None:
        self.reference = reference
        self.detail = detail
        super().__init__(f"image {reference!r} is not present and cannot be pulled: {detail}")


class ImageBuildError(InfrastructureError):
    """Building an image profile failed."""

    def __init__(self, profile: str, detail: str, log_tail: list[str] | None = None) -> None:
        self.profile = profile
        self.detail = detail
        self.log_tail = log_tail or []
        super().__init__(f"image profile {profile!r} failed to build: {detail}")


class BaseImageError(ImageBuildError):
    """The base image a profile starts from cannot be had on this machine."""


class WorkspaceError(UsageError):
    """The workspace folder cannot be used as asked."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"workspace {path}: {problem}")


class RunNotFoundError(UsageError):
    """No run of that id (or unique id prefix) has a readable result in the workspace."""

    def __init__(self, run_id: str, workspace: Path, detail: str) -> None:
        self.run_id = run_id
        self.workspace = workspace
        self.detail = detail
        super().__init__(f"run {run_id!r}: {detail} (workspace {workspace})")


class S3SourceError(UsageError):
    """S3 data cannot be had as asked: no credentials, no bucket, nothing under a prefix."""

    def __init__(self, uri: str, problem: str) -> None:
        self.uri = uri
        self.problem = problem
        super().__init__(f"{uri}: {problem}")


class S3UnreachableError(InfrastructureError):
    """The S3 endpoint does not answer (exit code 3)."""

    def __init__(self, uri: str, endpoint: str, detail: str) -> None:
        self.uri = uri
        self.endpoint = endpoint
        self.detail = detail
        super().__init__(f"{uri}: cannot reach the S3 endpoint {endpoint} ({detail})")
