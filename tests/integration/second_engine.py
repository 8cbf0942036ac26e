"""A second Docker engine that does not see this machine's ``/tmp``, for the copy mode.

``dockerd`` runs in its own mount and network namespaces (``unshare --mount --net
--propagation private``) with a private tmpfs over ``/tmp`` (and over ``/run/containerd``,
so that it starts its own containerd), on its own socket, exec root, pid file and cgroup
parent, with no bridge and no iptables rules: the main engine is not touched. Its own
network namespace matters: ``dockerd --bridge none`` deletes any ``docker0`` it sees,
which in the machine's namespace is the main engine's bridge. Its data root is on disk and is
kept between sessions, named by the image id it holds, so the ~1 GB image is loaded once.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

__all__ = ["SecondEngine", "SecondEngineUnavailable", "second_engine"]

_DATA_ROOT_PREFIX = "/var/lib/sandbox-test-dockerd-"
_START_TIMEOUT_S = 60.0
_UNSHARE = ["unshare", "--mount", "--net", "--propagation", "private"]


class SecondEngineUnavailable(Exception):
    """The second engine cannot run here (not root, no dockerd, no namespaces)."""


@dataclass(frozen=True)
class SecondEngine:
    host: str
    """``unix:///run/sandbox-test-dockerd-<id>.sock``"""
    data_root: Path
    log: Path


def _docker(
    host: str, *args: str, stdin: IO[bytes] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["docker", "-H", host, *args], stdin=stdin)


@contextlib.contextmanager
def second_engine(image_reference: str, image_id: str) -> Iterator[SecondEngine]:
    """Start the engine, make sure it holds the image, yield it; always tear it down.

    Raises:
        SecondEngineUnavailable: this machine cannot run a second engine.
    """
    for program in ("dockerd", "unshare", "docker"):
        if shutil.which(program) is None:
            raise SecondEngineUnavailable(f"no {program} on PATH")
    if os.geteuid() != 0:
        raise SecondEngineUnavailable("a second dockerd needs root (mount namespace, cgroups)")
    run_id = uuid.uuid4().hex[:10]
    run_dir = Path(f"/run/sandbox-test-dockerd-{run_id}")
    socket = Path(f"{run_dir}.sock")
    with contextlib.ExitStack() as stack:
        data_root, keep = _data_root(image_id, run_id, stack)
        stack.callback(_remove_unless_kept, data_root, keep)
        run_dir.mkdir(mode=0o700)
        stack.callback(shutil.rmtree, run_dir, True)
        stack.callback(socket.unlink, True)
        (run_dir / "daemon.json").write_text("{}\n")  # not the machine's /etc/docker one
        log = data_root.parent / f"{data_root.name}.{run_id}.log"
        stack.callback(log.unlink, True)
        main_bridge = Path("/sys/class/net/docker0")
        had_bridge = main_bridge.exists()
        process = _start(run_dir, socket, data_root, log, run_id)
        stack.callback(_stop, process)
        host = f"unix://{socket}"
        _wait_until_it_answers(host, process, log)
        assert main_bridge.exists() or not had_bridge, "the second dockerd removed docker0"
        _load_image(host, image_reference)
        yield SecondEngine(host=host, data_root=data_root, log=log)


def _data_root(image_id: str, run_id: str, stack: contextlib.ExitStack) -> tuple[Path, bool]:
    """The kept data root for this image, locked for this session; a fresh one (removed
    afterwards) when another session holds it."""
    kept = Path(_DATA_ROOT_PREFIX + image_id.removeprefix("sha256:")[:12])
    lock_file = open(f"{kept}.lock", "a+")  # noqa: SIM115 - held until the stack closes
    stack.callback(lock_file.close)
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fresh = Path(_DATA_ROOT_PREFIX + run_id)
        fresh.mkdir(mode=0o700)
        return fresh, False
    kept.mkdir(mode=0o700, exist_ok=True)
    return kept, True


def _remove_unless_kept(data_root: Path, keep: bool) -> None:
    if not keep:
        # Layers are owned by many users and some are read-only: rm handles them.
        subprocess.run(["rm", "-rf", "--one-file-system", str(data_root)], check=False)


def _start(
    run_dir: Path, socket: Path, data_root: Path, log: Path, run_id: str
) -> subprocess.Popen[bytes]:
    dockerd = [
        "dockerd",
        "--config-file", str(run_dir / "daemon.json"),
        "--host", f"unix://{socket}",
        "--data-root", str(data_root),
        "--exec-root", str(run_dir / "exec"),
        "--pidfile", str(run_dir / "dockerd.pid"),
        "--bridge", "none",
        "--iptables=false",
        "--ip-masq=false",
        "--cgroup-parent", f"sandbox-test-dockerd-{run_id}",
    ]  # fmt: skip
    # A private /tmp: neither the main engine's nor this client's temporary folders
    # exist for this engine; a private /run/containerd: it starts its own containerd.
    inner = (
        "mount -t tmpfs -o mode=1777 tmpfs /tmp && "
        "{ [ ! -d /run/containerd ] || mount -t tmpfs tmpfs /run/containerd; } && "
        'exec "$@"'
    )
    with open(log, "ab") as output:
        return subprocess.Popen(
            [*_UNSHARE, "sh", "-c", inner, "sh", *dockerd],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_until_it_answers(host: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SecondEngineUnavailable(f"dockerd exited: {_tail(log)}")
        if _docker(host, "version").returncode == 0:
            return
        time.sleep(0.5)
    raise SecondEngineUnavailable(f"dockerd did not answer in {_START_TIMEOUT_S:g} s: {_tail(log)}")


def _load_image(host: str, reference: str) -> None:
    """``docker save`` from the main engine piped into ``docker load`` on this one,
    unless the kept data root holds it already."""
    present = _docker(host, "image", "inspect", reference)
    if present.returncode == 0:
        return
    save = subprocess.Popen(["docker", "save", reference], stdout=subprocess.PIPE)
    assert save.stdout is not None
    load = _docker(host, "load", "--quiet", stdin=save.stdout)
    save.stdout.close()
    if save.wait() != 0 or load.returncode != 0:
        raise RuntimeError(f"could not load {reference} into {host}: {load.stderr!r}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to dockerd (it stops its containers and containerd), then SIGKILL; the
    namespace and its mounts end with it."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _tail(log: Path) -> str:
    try:
        lines = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return " | ".join(lines[-3:]) if lines else "no output"
