"""Which Docker engine to talk to, decided as the ``docker`` command line decides it.

``DOCKER_HOST`` wins; then the context named by ``DOCKER_CONTEXT``; then the
``currentContext`` of the Docker CLI configuration (``$DOCKER_CONFIG/config.json``, else
``~/.docker/config.json``); then the default socket. A context's endpoint is in
``contexts/meta/<sha256 of its name>/meta.json`` (``Endpoints.docker.Host``) next to that
configuration, its TLS material in ``contexts/tls/<sha256>/docker/``. Plain data only: the
connection itself is made in :mod:`sandbox.container.engine`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sandbox.errors import EngineUnavailableError

__all__ = ["DEFAULT_SOCKET", "ContextTLS", "Endpoint", "resolve_endpoint"]

DEFAULT_SOCKET = "unix:///var/run/docker.sock"


@dataclass(frozen=True)
class ContextTLS:
    """A context's TLS material (files that exist, else ``None``)."""

    ca_cert: Path | None
    client_cert: Path | None
    client_key: Path | None
    verify: bool


@dataclass(frozen=True)
class Endpoint:
    """The engine address and where it came from."""

    host: str
    source: str
    context: str | None = None
    tls: ContextTLS | None = None

    @property
    def from_environment(self) -> bool:
        """``DOCKER_HOST`` chose it (its TLS settings are read from the environment too)."""
        return self.context is None and self.source == "DOCKER_HOST"

    @property
    def is_local_socket(self) -> bool:
        return self.host.startswith(("unix://", "npipe://")) or self.host.startswith("/")

    def describe(self) -> str:
        return f"{self.host} (from {self.source})"


def resolve_endpoint(
    environ: Mapping[str, str] | None = None, home: Path | None = None
) -> Endpoint:
    """The endpoint the ``docker`` command line would use in this environment.

    Raises:
        EngineUnavailableError: the named context does not exist or its metadata is not
            readable.
    """
    env = os.environ if environ is None else environ
    host = env.get("DOCKER_HOST", "")
    if host:
        return Endpoint(host=host, source="DOCKER_HOST")
    config_dir = _config_dir(env, home)
    name = env.get("DOCKER_CONTEXT", "")
    source = "DOCKER_CONTEXT"
    if not name:
        name = _current_context(config_dir / "config.json")
        source = f"currentContext in {config_dir / 'config.json'}"
    if not name or name == "default":
        return Endpoint(host=DEFAULT_SOCKET, source="the default socket")
    return _context_endpoint(config_dir, name, source)


def _config_dir(env: Mapping[str, str], home: Path | None) -> Path:
    configured = env.get("DOCKER_CONFIG", "")
    if configured:
        return Path(configured)
    return (home if home is not None else Path.home()) / ".docker"


def _current_context(config_file: Path) -> str:
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    name = config.get("currentContext") if isinstance(config, dict) else None
    return name if isinstance(name, str) else ""


def _context_endpoint(config_dir: Path, name: str, source: str) -> Endpoint:
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()
    meta_file = config_dir / "contexts" / "meta" / digest / "meta.json"
    origin = f"context {name!r} from {source}"
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except OSError:
        raise EngineUnavailableError(
            f"the Docker context {name!r} (from {source}) does not exist: no {meta_file}"
        ) from None
    except ValueError as exc:
        raise EngineUnavailableError(f"the Docker context {name!r}: {meta_file}: {exc}") from exc
    docker_endpoint = meta.get("Endpoints", {}).get("docker", {}) if isinstance(meta, dict) else {}
    host = docker_endpoint.get("Host") if isinstance(docker_endpoint, dict) else None
    if not isinstance(host, str) or not host:
        raise EngineUnavailableError(
            f"the Docker context {name!r} (from {source}) names no docker endpoint "
            f"(Endpoints.docker.Host in {meta_file})"
        )
    tls_dir = config_dir / "contexts" / "tls" / digest / "docker"
    return Endpoint(
        host=host,
        source=origin,
        context=name,
        tls=_tls(tls_dir, verify=not bool(docker_endpoint.get("SkipTLSVerify", False))),
    )


def _tls(folder: Path, *, verify: bool) -> ContextTLS | None:
    def existing(name: str) -> Path | None:
        path = folder / name
        return path if path.is_file() else None

    ca, cert, key = existing("ca.pem"), existing("cert.pem"), existing("key.pem")
    if ca is None and cert is None and key is None:
        return None
    return ContextTLS(ca_cert=ca, client_cert=cert, client_key=key, verify=verify)
