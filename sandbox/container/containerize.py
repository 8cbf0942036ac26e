"""From a job layout to the container request: supervisor, call style, user, limits.

The entry point production would run is wrapped by our supervisor (mounted read-only at
``/opt/sandbox/bin``), which reports exact resource figures at exit; with the ``main``
call style the supervisor starts our main runner, which imports the script and calls
``main(input_paths, output_paths, environ_vars, job_args)`` with the same paths.
"""

from __future__ import annotations

import json
import os
import posixpath
from pathlib import Path

from sandbox import __version__
from sandbox.constants import (
    CONTROLLER_LABEL,
    DEFAULT_PIDS_LIMIT,
    ML_OUTPUT_DIR,
    RUN_ID_LABEL,
    SCRIPT_LABEL,
    TOOL_LABEL,
    VERSION_LABEL,
    WORKSPACE_LABEL,
)
from sandbox.container.execute import HEARTBEAT_INTERVAL_S
from sandbox.container.hyperparameters import stringify_hyperparameters
from sandbox.container.images import ResolvedImage
from sandbox.container.layout import JobLayout
from sandbox.container.seam import ContainerRequest, Mount
from sandbox.contract.job_args import typed_job_args
from sandbox.contract.resolve import ResolvedScript, argument_dest, script_environment
from sandbox.contract.spec import CallStyle
from sandbox.errors import UsageError
from sandbox.results.controller import Controller
from sandbox.results.masking import Masker
from sandbox.results.models import AppliedLimits
from sandbox.results.workspace import RunFolder

__all__ = [
    "BIN_DIR",
    "EXTRA_LABELS_ENV",
    "HEARTBEAT_TIMEOUT_ENV",
    "OUT_DIR",
    "build_request",
    "extra_labels",
    "heartbeat_file",
    "heartbeat_timeout_s",
    "main_exit_code",
    "received_signals",
    "removed_special_files",
    "report_file",
    "run_labels",
    "timeline_file",
    "unread_inputs",
]

SUPERVISOR_PYTHON = "python3"
"""The supervisor's interpreter; an image without it runs the job unsupervised."""
BIN_DIR = "/opt/sandbox/bin"
OUT_DIR = "/opt/sandbox/out"
HOME_DIR = "/tmp/sandbox-home"
_CONTAINER_FILES = Path(__file__).resolve().parent / "_container"
_REPORT = "supervisor.json"
_TIMELINE = "timeline.json"
_HEARTBEAT = "heartbeat"
_HEARTBEAT_TIMEOUT_S = 5.0
"""Short: a killed controller's job must stop within seconds (5 s, a check every 0.5 s,
then 2 s between SIGTERM and SIGKILL)."""
HEARTBEAT_TIMEOUT_ENV = "SANDBOX_HEARTBEAT_TIMEOUT_S"
_SIGNALS = "signals.json"
_MAIN_REPORT = "main.json"
_CALL = "call.json"


EXTRA_LABELS_ENV = "SANDBOX_EXTRA_LABELS"
"""``key=value,key=value`` added to every container, e.g. a CI job id to clean up by."""


def run_labels(run_id: str, script_name: str, workspace_id: str) -> dict[str, str]:
    """Labels on every container of a run, so leftovers can always be found: by run,
    by workspace, and by the process that controls it (gone: the container is an orphan)."""
    return {
        **extra_labels(),
        TOOL_LABEL: "sandbox",
        RUN_ID_LABEL: run_id,
        SCRIPT_LABEL: script_name,
        VERSION_LABEL: __version__,
        WORKSPACE_LABEL: workspace_id,
        CONTROLLER_LABEL: Controller.current().label(),
    }


def extra_labels() -> dict[str, str]:
    """The labels named by ``SANDBOX_EXTRA_LABELS``; malformed items are ignored."""
    labels: dict[str, str] = {}
    for item in os.environ.get(EXTRA_LABELS_ENV, "").split(","):
        key, sep, value = item.strip().partition("=")
        if sep and key:
            labels[key] = value
    return labels


def report_file(run: RunFolder) -> Path:
    return run.supervisor / _REPORT


def received_signals(run: RunFolder) -> list[int]:
    """The signals the supervisor (PID 1) received, as it recorded them on arrival."""
    try:
        signals = json.loads((run.supervisor / _SIGNALS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [int(s) for s in signals if isinstance(s, int)] if isinstance(signals, list) else []


def timeline_file(run: RunFolder) -> Path:
    """The supervisor's samples of the cgroup, written at exit."""
    return run.supervisor / _TIMELINE


def main_exit_code(run: RunFolder) -> int | None:
    """The code of a ``sys.exit`` inside ``main`` (main call style), if there was one."""
    try:
        report = json.loads((run.supervisor / _MAIN_REPORT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    code = report.get("sys_exit_code")
    return int(code) if code is not None else None


def removed_special_files(run: RunFolder) -> list[str]:
    """Device nodes, FIFOs and sockets the supervisor removed from a root job's outputs,
    as ``path (kind)``."""
    try:
        report = json.loads(report_file(run).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    removed = report.get("removed_special_files") if isinstance(report, dict) else None
    return [str(item) for item in removed] if isinstance(removed, list) else []


def unread_inputs(run: RunFolder) -> set[str]:
    """The container paths of the input channels in which the job provably opened
    nothing: watched from before it started to its end, with no event lost."""
    try:
        report = json.loads(report_file(run).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    reads = report.get("input_reads") if isinstance(report, dict) else None
    if not isinstance(reads, dict):
        return set()
    return {
        posixpath.normpath(str(path))
        for path, record in reads.items()
        if isinstance(record, dict) and record.get("state") == "unread"
    }


def build_request(
    resolved: ResolvedScript,
    layout: JobLayout,
    run: RunFolder,
    image: ResolvedImage,
    limits: AppliedLimits,
    *,
    owner: tuple[int, int],
    as_root: bool,
    labels: dict[str, str],
    supervised: bool = True,
) -> ContainerRequest:
    """The container that runs the job, as ``owner`` unless ``as_root``.

    ``supervised``: under our supervisor (exact figures, signal forwarding, hand-back
    of root-owned outputs); without it, for images that have no ``python3``.
    """
    spec = resolved.spec
    program = _program(resolved, layout, run, owner)
    if not program:
        raise UsageError(
            f"script {resolved.script_path.stem}: nothing to start (the image has no "
            "ENTRYPOINT and no ContainerArguments were given)"
        )
    if layout.install_first is not None:
        program = _installing_first(resolved.spec.command[0], layout.install_first, program)
    root_run = as_root or owner == (0, 0)
    entrypoint = [*_supervisor(owner, layout, as_root), "--", *program] if supervised else program
    environment = dict(layout.environment)
    if not root_run:
        environment["HOME"] = HOME_DIR
    return ContainerRequest(
        image=image.reference,
        entrypoint=entrypoint,
        command=None,
        environment=environment,
        mounts=[
            *layout.mounts,
            Mount(_CONTAINER_FILES, BIN_DIR, read_only=True),
            Mount(run.supervisor, OUT_DIR, read_only=False),
        ],
        labels=labels,
        user="0:0" if as_root else f"{owner[0]}:{owner[1]}",
        network_enabled=spec.network,
        mem_limit_bytes=int(limits.memory_mb * 1024 * 1024) if limits.memory_mb else None,
        nano_cpus=int(limits.cpus * 1e9) if limits.cpus else None,
        pids_limit=limits.pids_limit or DEFAULT_PIDS_LIMIT,
        tmpfs={} if root_run else {HOME_DIR: "rw,exec,mode=1777"},
        working_dir=layout.working_dir,
    )


def _installing_first(python: str, requirements: str, program: list[str]) -> list[str]:
    """``pip install -r requirements`` before the program, as the SDK's ``runproc.sh``
    does with a source tree's ``requirements.txt``; a failed install stops the job."""
    script = f'{python} -m pip install --no-warn-script-location -r "$0" && exec "$@"'
    return ["/bin/sh", "-c", script, requirements, *program]


def heartbeat_file(run: RunFolder) -> Path:
    """Touched by the controller while it waits; watched by the supervisor."""
    return run.supervisor / _HEARTBEAT


def heartbeat_timeout_s() -> float:
    """Silence after which the supervisor stops an abandoned job (default 5 s).

    Raises:
        UsageError: ``SANDBOX_HEARTBEAT_TIMEOUT_S`` is not a number of seconds at least
            three heartbeats long.
    """
    raw = os.environ.get(HEARTBEAT_TIMEOUT_ENV)
    if raw is None:
        return _HEARTBEAT_TIMEOUT_S
    shortest = 3 * HEARTBEAT_INTERVAL_S
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value >= shortest or value == float("inf"):
        raise UsageError(f"{HEARTBEAT_TIMEOUT_ENV}={raw!r}: give seconds, at least {shortest:g}")
    return value


def _supervisor(owner: tuple[int, int], layout: JobLayout, as_root: bool) -> list[str]:
    # python3 with -I -S: the job's PYTHONPATH and site-packages are not the supervisor's.
    command = [SUPERVISOR_PYTHON, "-I", "-S", f"{BIN_DIR}/supervisor.py"]
    command += [
        "--report",
        f"{OUT_DIR}/{_REPORT}",
        "--signals",
        f"{OUT_DIR}/{_SIGNALS}",
        "--timeline",
        f"{OUT_DIR}/{_TIMELINE}",
    ]
    command += ["--heartbeat", f"{OUT_DIR}/{_HEARTBEAT}"]
    command += ["--heartbeat-timeout", f"{heartbeat_timeout_s():g}"]
    for path in layout.input_paths.values():
        command += ["--watch-input", path]
    if layout.input_paths:
        command += ["--watch-skip", layout.code_dir]
    if as_root:
        # Also for a root owner: outputs are made safe to keep (see supervisor.hand_back).
        command += _hand_back(owner, layout)
    return command


def _program(
    resolved: ResolvedScript, layout: JobLayout, run: RunFolder, owner: tuple[int, int]
) -> list[str]:
    if resolved.spec.call_style is CallStyle.ENTRYPOINT:
        return [*layout.entrypoint, *layout.arguments]
    masker = Masker.for_spec(resolved.spec)
    call = {
        "script": layout.script_target,
        "code_dir": layout.code_dir,
        "input_paths": layout.input_paths,
        "output_paths": layout.output_paths,
        # Secret values stay out of this file: the main runner reads them from its
        # environment, which holds the real ones.
        "environ_vars": masker.environment(
            {**script_environment(resolved.spec, resolved.contract), **layout.environment}
        ),
        "secret_env": sorted(masker.names),
        "job_args": _job_args(resolved),
        "report": f"{OUT_DIR}/{_MAIN_REPORT}",
    }
    # A private file the container's user must read.
    run.write_json(run.supervisor.relative_to(run.root) / _CALL, call, owner=owner)
    python = resolved.spec.command[0]
    return [python, f"{BIN_DIR}/main_runner.py", f"{OUT_DIR}/{_CALL}"]


def _job_args(resolved: ResolvedScript) -> dict[str, object]:
    """What the script's own argparse would give for the same command line: its typed
    defaults, then the arguments (and hyperparameters) given, converted as it would."""
    hyperparameters = stringify_hyperparameters(resolved.spec.hyperparameters)
    given = {argument_dest(name): value for name, value in resolved.spec.arguments.items()}
    return typed_job_args({**hyperparameters, **given}, resolved.contract.arguments)


def _hand_back(owner: tuple[int, int], layout: JobLayout) -> list[str]:
    paths = [*layout.output_paths.values(), ML_OUTPUT_DIR, OUT_DIR]
    options = ["--chown", f"{owner[0]}:{owner[1]}"]
    for path in paths:
        options += ["--chown-path", path]
    return options
