"""Which process controls a run, and whether it is still alive.

A run records its controller (host, pid, and the pid's start time) in its run folder and
on its container's labels. When that process is gone (``kill -9``, a crash), nobody will
remove the container or save a result: the next command in the workspace does both.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

__all__ = ["Controller"]


@dataclass(frozen=True)
class Controller:
    """One process on one host: ``host`` names the machine and its pid namespace."""

    host: str
    pid: int
    started: str
    """The pid's start time in clock ticks since boot (``/proc/PID/stat``), so that a
    reused pid is not taken for the controller; empty where ``/proc`` is missing."""

    @classmethod
    def current(cls) -> Controller:
        pid = os.getpid()
        return cls(host=_host(), pid=pid, started=_start_ticks(pid) or "")

    @classmethod
    def parse(cls, text: str) -> Controller | None:
        """From :meth:`label`; ``None`` when ``text`` is not one."""
        host, _, rest = text.rpartition("@")
        pid, _, started = rest.partition(":")
        if not host or not pid.isdigit():
            return None
        return cls(host=host, pid=int(pid), started=started)

    def label(self) -> str:
        return f"{self.host}@{self.pid}:{self.started}"

    def is_dead(self) -> bool:
        """True only when this is provably gone: same host, and no such process (or
        another process under its pid). A controller on another host is never dead."""
        if self.host != _host():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # a process of another user holds the pid now
            pass
        if not self.started:
            return False
        now = _start_ticks(self.pid)
        return now is not None and now != self.started


def _host() -> str:
    """The host name and the pid namespace: pids mean nothing across either."""
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        namespace = 0
    return f"{socket.gethostname()}/{namespace}"


def _start_ticks(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            text = stat.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its end.
    fields = text[text.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None
