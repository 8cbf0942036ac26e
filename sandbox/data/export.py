"""``sandbox gen-data``: write a script's generated inputs into a folder, run nothing.

Each input channel's data goes to ``DIR/<folder>/``, where ``<folder>`` is the last
component of the channel's container path (``/opt/ml/processing/input/data`` -> ``data``),
or its logical name when that component would be ambiguous. Those are the names
:func:`sandbox.data.inputs.bind_inputs` matches, so ``test-script --data-source DIR`` feeds
them back, channel for channel. The data is what ``test-script`` would generate: same
spec, same seed, same bytes.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.constants import DEFAULT_SCRIPTS_DIR
from sandbox.contract.channel_content import ScriptContent
from sandbox.contract.resolve import Overrides, ResolvedScript, find_script, resolve_script
from sandbox.contract.spec import ScriptSpec
from sandbox.data.datagen import DatasetSpec, DataSize, effective_columns, generate
from sandbox.data.datagen.generate import DEFAULT_JSON_FILE
from sandbox.data.datagen.layout import plan_files
from sandbox.data.from_run import run_output
from sandbox.data.inputs import (
    channel_required,
    model_plan,
    script_content,
    shaped_dataset_for_channel,
    source_folder_keys,
)
from sandbox.data.model_artifacts import ArtifactPlan, write_artifacts
from sandbox.errors import RunNotFoundError, UsageError

__all__ = [
    "GenDataReport",
    "GenDataRequest",
    "GeneratedChannel",
    "channel_folders",
    "explain_data",
    "gen_data",
    "plan_channel_data",
    "write_channel_data",
]

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""``progress(channel, done_rows, total_rows)``."""


@dataclass(frozen=True)
class GenDataRequest:
    """One ``sandbox gen-data`` call, as plain data."""

    script: str
    out_dir: Path
    scripts_dir: Path = DEFAULT_SCRIPTS_DIR
    spec_path: Path | None = None
    overrides: Overrides = field(default_factory=Overrides)
    data_size: DataSize = DataSize.SMALL
    progress: Progress | None = None
    from_run: str | None = None
    """A previous run whose outputs feed the channels named like its output channels."""
    workspace_dir: Path = Path(".sandbox")
    """Where ``from_run`` (and a spec's ``data.from_run``) is looked up."""


@dataclass(frozen=True)
class GeneratedChannel:
    """What was written for one input channel."""

    channel: str
    folder: str
    files: tuple[str, ...]
    rows: int | None
    size_bytes: int
    columns: tuple[tuple[str, str], ...] = ()
    """(name, type) of each generated column."""
    reasons: tuple[str, ...] = ()
    """Why the data looks as it does: the lines of the script that asked for it."""


@dataclass(frozen=True)
class GenDataReport:
    """Everything ``gen-data`` wrote."""

    script: str
    out_dir: Path
    data_size: DataSize
    channels: tuple[GeneratedChannel, ...]

    def to_json_dict(self) -> dict[str, object]:
        """Plain JSON types."""
        return {
            "script": self.script,
            "out_dir": str(self.out_dir),
            "data_size": self.data_size.value,
            "channels": [
                {
                    "channel": ch.channel,
                    "folder": ch.folder,
                    "files": list(ch.files),
                    "rows": ch.rows,
                    "size_bytes": ch.size_bytes,
                    "columns": [{"name": name, "type": kind} for name, kind in ch.columns],
                    "reasons": list(ch.reasons),
                }
                for ch in self.channels
            ],
        }


def gen_data(request: GenDataRequest) -> GenDataReport:
    """Resolve the script's spec as ``test-script`` does, then write its inputs.

    Raises:
        UsageError: Unknown script, invalid spec, missing variable or argument, or an
            output folder that is not empty.
    """
    script_path = find_script(request.script, request.scripts_dir)
    resolved = resolve_script(script_path, request.spec_path, request.overrides)
    reuse = _Reuse(request.workspace_dir, request.from_run)
    return write_channel_data(
        resolved, request.out_dir, size=request.data_size, progress=request.progress, reuse=reuse
    )


@dataclass(frozen=True)
class _Reuse:
    workspace_dir: Path = Path(".sandbox")
    from_run: str | None = None


def explain_data(request: GenDataRequest) -> GenDataReport:
    """What :func:`gen_data` would write, and why, writing nothing.

    Per channel: the files it would hold, the columns and their types, and the lines
    of the script that decided them; an optional channel is listed as left out.

    Raises:
        UsageError: Unknown script, invalid spec, missing variable or argument.
    """
    script_path = find_script(request.script, request.scripts_dir)
    resolved = resolve_script(script_path, request.spec_path, request.overrides)
    return plan_channel_data(resolved, size=request.data_size)


def plan_channel_data(resolved: ResolvedScript, *, size: DataSize) -> GenDataReport:
    """Every input channel's planned files, columns and reasons (see :func:`explain_data`)."""
    spec = resolved.spec
    content = script_content(resolved.script_path, resolved.contract)
    channels = []
    for name, folder in channel_folders(spec).items():
        if not channel_required(name, spec.inputs[name], content):
            channels.append(_left_out(name, folder, content))
            continue
        data = spec.inputs[name].data
        if data is not None and data.from_run is not None:
            reused = f"the outputs of run {data.from_run}: nothing generated"
            channels.append(GeneratedChannel(name, folder, (), None, 0, reasons=(reused,)))
            continue
        plan = model_plan(name, spec.inputs[name], spec, resolved.contract, content)
        if plan is not None:
            channels.append(_planned_artifacts(name, folder, plan))
            continue
        shaped = shaped_dataset_for_channel(
            name, spec.inputs[name], spec, resolved.contract, content
        )
        channels.append(_planned(name, folder, shaped.dataset, shaped.reasons, size))
    return GenDataReport(resolved.script_path.stem, Path(), size, tuple(channels))


def _left_out(name: str, folder: str, content: ScriptContent | None) -> GeneratedChannel:
    found = content.channels.get(name) if content is not None else None
    if found is not None and found.optional_line is not None:
        why = f"optional: line {found.optional_line} checks that it exists; left out"
    else:
        why = "optional (required: false); left out"
    return GeneratedChannel(name, folder, (), None, 0, reasons=(why,))


def _planned_artifacts(name: str, folder: str, plan: ArtifactPlan) -> GeneratedChannel:
    if plan.archive is not None:
        files: tuple[str, ...] = (plan.archive,)
    else:
        files = tuple(sorted([*plan.models, *plan.pickles, *plan.texts]))
    return GeneratedChannel(name, folder, files, None, 0, reasons=_artifact_reasons(plan))


def _planned(
    name: str, folder: str, dataset: DatasetSpec, reasons: tuple[str, ...], size: DataSize
) -> GeneratedChannel:
    files: list[str] = list(dataset.files)
    rows = None
    if dataset.recipe.is_table:
        rows = dataset.rows if dataset.rows is not None else size.rows
        files += [plan.relative.as_posix() for plan in plan_files(dataset, rows)]
    elif dataset.content is not None:
        files.append(dataset.file_name or DEFAULT_JSON_FILE)
    columns = tuple((column.name, column.type.value) for column in effective_columns(dataset))
    return GeneratedChannel(
        name, folder, tuple(sorted(files)), rows, 0, columns=columns, reasons=reasons
    )


def write_channel_data(
    resolved: ResolvedScript,
    out_dir: Path,
    *,
    size: DataSize = DataSize.SMALL,
    progress: Progress | None = None,
    reuse: _Reuse = _Reuse(),
) -> GenDataReport:
    """Write every input channel's generated data into ``out_dir/<folder>/``; a channel
    that ``reuse.from_run``'s outputs (or its spec's ``data.from_run``) feed gets a copy
    of them instead.

    The folders appear all at once: they are written in a staging folder beside
    ``out_dir``, then renamed into place.

    Raises:
        UsageError: ``out_dir`` is not an empty folder, or the script has no inputs.
    """
    out_dir = out_dir.absolute()
    _check_out_dir(out_dir)
    spec = resolved.spec
    content = script_content(resolved.script_path, resolved.contract)
    folders = {
        name: folder
        for name, folder in channel_folders(spec).items()
        if channel_required(name, spec.inputs[name], content)
    }
    if not folders:
        raise UsageError(f"script {resolved.script_path.stem} reads no required input channel")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.gen-data-", dir=out_dir.parent))
    try:
        channels = tuple(
            _copy_run_output(resolved, name, folder, staging, reuse)
            or _write_channel(resolved, name, folder, staging, size, progress, content)
            for name, folder in folders.items()
        )
        if reuse.from_run is not None:
            _check_reused(reuse.from_run, channels)
        _publish(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return GenDataReport(resolved.script_path.stem, out_dir, size, channels)


def channel_folders(spec: ScriptSpec) -> dict[str, str]:
    """Channel -> folder name under the output folder, chosen so that ``bind_inputs``
    gives each folder back to its own channel."""
    names = set(spec.inputs)
    counts = Counter(channel.folder_name for channel in spec.inputs.values())
    chosen: dict[str, str] = {}
    for name, channel in spec.inputs.items():
        folder = channel.folder_name
        # Two channels ending in the same folder, or a folder named like another
        # channel (which bind_inputs would match first): the logical name is unambiguous.
        ambiguous = counts[folder] > 1 or (folder in names and folder != name)
        chosen[name] = name if ambiguous else folder
    _check_round_trip(spec, chosen)
    return chosen


def _check_round_trip(spec: ScriptSpec, chosen: dict[str, str]) -> None:
    written = set(chosen.values())
    for name, channel in spec.inputs.items():
        matched = next((key for key in source_folder_keys(name, channel) if key in written), None)
        if matched != chosen[name]:
            raise UsageError(
                f"input channel {name!r}: no folder name that --data-source would give back "
                f"to it alone (tried {chosen[name]!r})"
            )


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir}: exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        raise UsageError(f"--out {out_dir}: not empty; give a new or empty folder")


def _write_channel(
    resolved: ResolvedScript,
    name: str,
    folder: str,
    staging: Path,
    size: DataSize,
    progress: Progress | None,
    content: ScriptContent | None,
) -> GeneratedChannel:
    spec, contract = resolved.spec, resolved.contract
    target = staging / folder
    plan = model_plan(name, spec.inputs[name], spec, contract, content)
    if plan is not None:
        return _write_artifacts(name, folder, plan, target, staging)
    shaped = shaped_dataset_for_channel(name, spec.inputs[name], spec, contract, content)
    dataset = shaped.dataset
    report = (lambda done, total: progress(name, done, total)) if progress else None
    files = generate(dataset, target, size=size, progress=report)
    rows = None
    if dataset.recipe.is_table:
        rows = dataset.rows if dataset.rows is not None else size.rows
    logger.debug("channel %s: %d files in %s", name, len(files), folder)
    return GeneratedChannel(
        channel=name,
        folder=folder,
        files=tuple(path.relative_to(target).as_posix() for path in files),
        rows=rows,
        size_bytes=sum(path.stat().st_size for path in files),
        columns=tuple((column.name, column.type.value) for column in effective_columns(dataset)),
        reasons=shaped.reasons,
    )


def _copy_run_output(
    resolved: ResolvedScript, name: str, folder: str, staging: Path, reuse: _Reuse
) -> GeneratedChannel | None:
    channel = resolved.spec.inputs[name]
    own = channel.data.from_run if channel.data is not None else None
    reference = own or reuse.from_run
    if reference is None:
        return None
    try:
        found = run_output(
            reuse.workspace_dir,
            reference,
            names=source_folder_keys(name, channel),
            only_output=own is not None,
        )
    except RunNotFoundError:
        raise
    except UsageError:
        if own is not None:
            raise
        return None  # --from-run feeds the channels it has outputs for; others are generated
    target = staging / folder
    shutil.copytree(found.folder, target)
    files = sorted(path for path in target.rglob("*") if path.is_file())
    return GeneratedChannel(
        channel=name,
        folder=folder,
        files=tuple(path.relative_to(target).as_posix() for path in files),
        rows=None,
        size_bytes=sum(path.stat().st_size for path in files),
        reasons=(found.describe(),),
    )


def _check_reused(from_run: str, channels: tuple[GeneratedChannel, ...]) -> None:
    if not any(reason.startswith("from run ") for ch in channels for reason in ch.reasons):
        raise UsageError(
            f"--from-run {from_run}: no output channel of that run is named like an input "
            f"channel ({', '.join(ch.channel for ch in channels)}); give a spec with "
            "data: {from_run: RUN_ID/CHANNEL} for the channel it should feed"
        )


def _write_artifacts(
    name: str, folder: str, plan: ArtifactPlan, target: Path, staging: Path
) -> GeneratedChannel:
    work_dir = Path(tempfile.mkdtemp(prefix=f".{folder}-artifacts-", dir=staging))
    try:
        files = write_artifacts(plan, target, None, work_dir=work_dir)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    return GeneratedChannel(
        channel=name,
        folder=folder,
        files=tuple(path.name for path in files),
        rows=None,
        size_bytes=sum(path.stat().st_size for path in files),
        reasons=_artifact_reasons(plan),
    )


def _artifact_reasons(plan: ArtifactPlan) -> tuple[str, ...]:
    reasons = list(plan.reasons)
    if plan.models:
        reasons.append(
            f"{', '.join(plan.models)}: trained by test-script in the job's image, "
            "not written here (gen-data runs no container)"
        )
    if plan.archive is not None:
        reasons.append(f"packed into {plan.archive}, which the script opens")
    return tuple(reasons)


def _publish(staging: Path, out_dir: Path) -> None:
    os.chmod(staging, 0o755)  # mkdtemp makes it private; the data is meant to be shared
    try:
        if out_dir.is_dir():
            out_dir.rmdir()  # empty, checked before generating
        os.rename(staging, out_dir)
    except OSError as exc:
        raise UsageError(f"--out {out_dir}: cannot be written ({exc.strerror})") from exc
