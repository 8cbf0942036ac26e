"""A previous run's outputs as a channel's input: the best data there is.

``RUN_ID`` (or a unique prefix) names a run in the workspace; ``RUN_ID/CHANNEL`` one of
its output channels and ``RUN_ID/CHANNEL/SUB/FOLDER`` a folder inside it. With only the
run id, the output channel named like the input channel (its logical name or its
folder), or for a spec's channel the run's only output channel, is taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sandbox.errors import UsageError
from sandbox.results.store import find_result
from sandbox.results.workspace import Workspace

__all__ = ["RunOutput", "run_output"]

_OUTPUTS = "outputs"


@dataclass(frozen=True)
class RunOutput:
    """A folder of a run's outputs, and how the verdict names it."""

    folder: Path
    run_id: str
    relative: str

    def describe(self) -> str:
        """``from run <id> (outputs/<channel>)``."""
        return f"from run {self.run_id} ({_OUTPUTS}/{self.relative})"


def run_output(
    workspace_dir: Path, reference: str, *, names: tuple[str, ...], only_output: bool = True
) -> RunOutput:
    """The output folder ``reference`` names, for an input channel known by ``names``;
    with ``only_output``, a run with a single output channel gives that one.

    Raises:
        UsageError: No such run (or several), no such output folder, or no output
            channel that fits the input channel.
    """
    run_id, _, rest = reference.strip("/").partition("/")
    result = find_result(workspace_dir, run_id)
    outputs = Workspace(workspace_dir).runs / result.run_id / _OUTPUTS
    relative = rest or _matching_channel(outputs, names, result.run_id, only_output)
    parts = PurePosixPath(relative).parts
    if ".." in parts or PurePosixPath(relative).is_absolute():
        raise UsageError(f"from_run {reference}: {relative!r} is not a folder of the run")
    folder = outputs.joinpath(*parts)
    if not folder.is_dir():
        raise UsageError(
            f"from_run {reference}: run {result.run_id} has no output folder {relative} "
            f"(it has: {', '.join(_channels(outputs)) or 'no outputs'})"
        )
    return RunOutput(folder.resolve(), result.run_id, relative)


def _matching_channel(outputs: Path, names: tuple[str, ...], run_id: str, only_output: bool) -> str:
    channels = _channels(outputs)
    for name in names:
        if name in channels:
            return name
    if only_output and len(channels) == 1:
        return channels[0]
    raise UsageError(
        f"run {run_id}: no output channel named {' or '.join(map(repr, names))} "
        f"(it has: {', '.join(channels) or 'no outputs'}); name one: RUN_ID/CHANNEL"
    )


def _channels(outputs: Path) -> list[str]:
    if not outputs.is_dir():
        return []
    return sorted(child.name for child in outputs.iterdir() if child.is_dir())
