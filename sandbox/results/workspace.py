"""The workspace folder: one folder per run, a data cache, atomic JSON files."""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sandbox.constants import CONTROLLER_FILE, RESULT_FILE
from sandbox.errors import WorkspaceError
from sandbox.results.controller import Controller

__all__ = [
    "CONTROLLER_FILE",
    "MARKER_FILE",
    "PRIVATE_FILE_MODE",
    "PRIVATE_FOLDER_MODE",
    "RunFolder",
    "Workspace",
    "make_private_folder",
    "new_run_id",
    "write_json_atomic",
    "write_text_atomic",
]

MARKER_FILE = ".sandbox-workspace"
"""Written at the workspace root, so that cleaning refuses folders the tool did not make.
It also holds the workspace's id (``id: <hex>``), which every container of it carries."""
_MARKER_HEADER = "sandbox workspace\n"
_ID_PREFIX = "id: "


def new_run_id(script_name: str) -> str:
    """A run id unique and sortable by time, e.g. ``20261129-034512-123456-tabular-1a2b``."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
    safe_name = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in script_name)[:40]
    return f"{stamp}-{safe_name}-{secrets.token_hex(2)}"


PRIVATE_FILE_MODE = 0o600
PRIVATE_FOLDER_MODE = 0o700
"""Run folders are the user's alone: they hold the script's logs and outputs."""


def make_private_folder(folder: Path) -> None:
    """Create ``folder`` (and missing parents) readable by its owner alone."""
    folder.mkdir(mode=PRIVATE_FOLDER_MODE, parents=True, exist_ok=True)
    os.chmod(folder, PRIVATE_FOLDER_MODE)


def write_text_atomic(path: Path, text: str, *, mode: int = PRIVATE_FILE_MODE) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it into place.

    The file is private to its owner unless ``mode`` says otherwise.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, payload: Any, *, mode: int = PRIVATE_FILE_MODE) -> None:
    """Write ``payload`` as indented JSON, atomically (private unless ``mode`` says)."""
    write_text_atomic(path, json.dumps(payload, indent=2, sort_keys=False) + "\n", mode=mode)


@dataclass(frozen=True)
class RunFolder:
    """The folders of one run, as laid out on the host."""

    run_id: str
    root: Path

    @property
    def outputs(self) -> Path:
        return self.root / "outputs"

    @property
    def config(self) -> Path:
        return self.root / "config"

    @property
    def ml_output(self) -> Path:
        """Bound at ``/opt/ml/output`` (exit message, failure reason)."""
        return self.root / "ml-output"

    @property
    def supervisor(self) -> Path:
        """Bound at ``/opt/sandbox/out``: the supervisor's and main runner's reports."""
        return self.root / "sandbox"

    @property
    def inputs(self) -> Path:
        """Copies of inputs that had to be staged (most inputs are mounted in place)."""
        return self.root / "inputs"

    @property
    def result_file(self) -> Path:
        return self.root / RESULT_FILE

    @property
    def controller_file(self) -> Path:
        return self.root / CONTROLLER_FILE

    def controller(self) -> Controller | None:
        """The process that controls (or controlled) this run, if it was recorded."""
        try:
            payload = json.loads(self.controller_file.read_text(encoding="utf-8"))
            return Controller(str(payload["host"]), int(payload["pid"]), str(payload["started"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write_json(
        self,
        relative: str | Path,
        payload: Any,
        *,
        mode: int = PRIVATE_FILE_MODE,
        owner: tuple[int, int] | None = None,
    ) -> Path:
        """Write ``payload`` as JSON to a file of this run folder, atomically: the one way
        the tool writes into a run folder (the container writes its outputs, the log
        stream its logs). ``owner``: hand the file to the user the container runs as."""
        path = self._inside(relative)
        write_json_atomic(path, payload, mode=mode)
        return _handed_to(path, owner)

    def write_text(
        self,
        relative: str | Path,
        text: str,
        *,
        mode: int = PRIVATE_FILE_MODE,
        owner: tuple[int, int] | None = None,
    ) -> Path:
        """Write ``text`` to a file of this run folder, atomically (see :meth:`write_json`)."""
        path = self._inside(relative)
        write_text_atomic(path, text, mode=mode)
        return _handed_to(path, owner)

    def _inside(self, relative: str | Path) -> Path:
        if Path(relative).is_absolute() or ".." in Path(relative).parts:
            raise ValueError(f"{relative}: not a path inside the run folder")
        return self.root / relative

    def create(self) -> RunFolder:
        """Make the run's folders, private to the user, and record the process that
        controls the run (the next command settles the run if that process dies)."""
        for folder in (self.root, self.outputs, self.config, self.ml_output, self.supervisor):
            make_private_folder(folder)
        controller = Controller.current()
        self.write_json(
            CONTROLLER_FILE,
            {"host": controller.host, "pid": controller.pid, "started": controller.started},
        )
        return self


def _handed_to(path: Path, owner: tuple[int, int] | None) -> Path:
    if owner is not None and os.getuid() == 0:
        os.chown(path, *owner)
    return path


class Workspace:
    """The tool's folder (default ``./.sandbox``): runs, generated data, image probes."""

    def __init__(self, root: Path) -> None:
        self.root = root.absolute()

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def data_cache(self) -> Path:
        return self.root / "data"

    def ensure(self) -> Workspace:
        """Create the workspace, or check that an existing folder is one of ours."""
        if self.root.exists() and not self.root.is_dir():
            raise WorkspaceError(self.root, "exists and is not a folder")
        marker = self.root / MARKER_FILE
        if self.root.exists() and any(self.root.iterdir()) and not marker.exists():
            raise WorkspaceError(self.root, f"is not empty and has no {MARKER_FILE} marker")
        try:
            self.runs.mkdir(parents=True, exist_ok=True)
            self.data_cache.mkdir(parents=True, exist_ok=True)
            self.identity()
        except OSError as exc:
            raise WorkspaceError(self.root, f"cannot be written: {exc.strerror}") from exc
        return self

    def identity(self) -> str:
        """The workspace's id, made (and the marker with it) on first use."""
        fd = os.open(self.root / MARKER_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "r+", encoding="utf-8") as marker:
            # Under a lock, and only ever appended to: concurrent first runs agree on one id.
            fcntl.flock(marker, fcntl.LOCK_EX)
            text = marker.read()
            found = _marker_id(text)
            if found is not None:
                return found
            new_id = secrets.token_hex(8)
            header = "\n" if text and not text.endswith("\n") else ("" if text else _MARKER_HEADER)
            marker.write(f"{header}{_ID_PREFIX}{new_id}\n")
            return new_id

    def read_identity(self) -> str | None:
        """The workspace's id, or ``None`` when it has none yet (nothing is written)."""
        try:
            return _marker_id((self.root / MARKER_FILE).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            return None

    def new_run(self, script_name: str) -> RunFolder:
        run_id = new_run_id(script_name)
        return RunFolder(run_id=run_id, root=self.runs / run_id).create()

    def run(self, run_id: str) -> RunFolder:
        return RunFolder(run_id=run_id, root=self.runs / run_id)


def _marker_id(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith(_ID_PREFIX) and line[len(_ID_PREFIX) :].strip():
            return line[len(_ID_PREFIX) :].strip()
    return None
