"""Where each input channel's data comes from: a real folder, S3, or generated data.

Real folders are mounted read-only in place (never copied, never modified); S3 data is
downloaded into the workspace's S3 cache (:mod:`sandbox.data.s3source`) and generated data is
cached in the workspace by a hash of its spec; both are mounted read-only from there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.constants import JobKind
from sandbox.container.layout import InputBinding
from sandbox.contract.channel_content import ScriptContent, infer_channel_content
from sandbox.contract.inference import InferredContract
from sandbox.contract.resolve import script_environment
from sandbox.contract.spec import ChannelSpec, ScriptSpec
from sandbox.data.channel_data import ShapedDataset, shape_dataset
from sandbox.data.datagen import (
    DatasetSpec,
    DataSize,
    default_dataset,
    materialize,
    resolve_placeholders,
)
from sandbox.data.datagen.recipes import DEFAULT_HYPERPARAMETERS, DEFAULT_LABEL
from sandbox.data.from_run import RunOutput, run_output
from sandbox.data.input_checks import check_source_feeds, describe_generated
from sandbox.data.location import DataLocation, S3Uri
from sandbox.data.model_artifacts import (
    ArtifactPlan,
    Trainer,
    artifact_plan,
    materialize_artifacts,
)
from sandbox.data.s3source import S3_CACHE_DIR, S3Cache, S3DataType, S3Source
from sandbox.errors import UsageError

__all__ = [
    "InputPlan",
    "bind_inputs",
    "channel_required",
    "check_inputs",
    "dataset_for_channel",
    "model_plan",
    "script_content",
    "shaped_dataset_for_channel",
    "source_folder_keys",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InputPlan:
    """The bindings, and the folders of a data source that matched no channel."""

    bindings: list[InputBinding]
    ignored_folders: list[str] = field(default_factory=list)


def bind_inputs(
    spec: ScriptSpec,
    contract: InferredContract,
    *,
    data_source: DataLocation | None,
    explicit: Mapping[str, DataLocation],
    cache_root: Path,
    size: DataSize,
    progress: Callable[[str, int, int], None] | None = None,
    s3: S3Cache | None = None,
    script_path: Path | None = None,
    trainer: Trainer | None = None,
    image: str = "",
) -> InputPlan:
    """Bind every input channel of ``spec`` to a host folder.

    A channel's data comes from, first to last: ``explicit`` (``--input``, a folder or an
    ``s3://`` URI), the ``data_source`` folder or S3 sub-prefix named as
    :func:`source_folder_keys` says, a previous run's outputs (the channel's
    ``data.from_run``; runs are looked up in the workspace holding ``cache_root``), the
    channel's ``s3_uri``, else generated data shaped
    after what the script at ``script_path`` reads there. An optional channel (spec
    ``required: false``, or one the script checks for before reading) given no data is
    left out, as production leaves it. S3 data is downloaded into ``s3`` (default: an
    ``s3`` folder beside ``cache_root``). A channel the script loads a model from gets
    model artifacts, trained by ``trainer`` in ``image``.

    Raises:
        UsageError: An ``--input`` names no channel or no folder, or the data source
            leaves a required channel without data (never replaced by generated data).
    """
    s3 = s3 or S3Cache(cache_root.parent / S3_CACHE_DIR)
    explicit = _by_logical_name(spec, explicit)
    workspace_dir = cache_root.parent
    _check_explicit(spec, explicit)
    folders = _source_folders(data_source, s3)
    located = _locate(spec, contract, script_path, explicit, folders, workspace_dir)
    locations, content, optional = located.locations, located.content, located.optional
    if data_source is not None:
        check_source_feeds(spec, locations, data_source, folders, optional=optional)
    bindings: list[InputBinding] = []
    for name, channel in spec.inputs.items():
        location = locations[name]
        if location is None and name in optional:
            logger.info("input channel %s: optional and given no data, left out", name)
            continue
        host, source = _real_folder(location, s3)
        plan = model_plan(name, channel, spec, contract, content) if host is None else None
        if plan is not None:
            host = materialize_artifacts(plan, cache_root, image=image, trainer=trainer)
            files = ", ".join(sorted(path.name for path in host.iterdir()))
            source = f"generated model artifacts ({files})"
        elif host is None:
            dataset = dataset_for_channel(name, channel, spec, contract, content)
            host, source = _generate(name, dataset, cache_root, size, progress)
        s3_source = location if isinstance(location, S3Source) else None
        bindings.append(InputBinding(name, channel.path, host, source, s3_source))
    ignored = sorted(set(folders) - located.used_folders)
    if ignored:
        logger.info("data source folders matching no channel, ignored: %s", ", ".join(ignored))
    return InputPlan(bindings=bindings, ignored_folders=ignored)


def _locate(
    spec: ScriptSpec,
    contract: InferredContract,
    script_path: Path | None,
    explicit: Mapping[str, DataLocation],
    folders: Mapping[str, DataLocation],
    workspace_dir: Path,
) -> _Located:
    """Where each channel's data comes from, what the script reads in each, and which
    channels are optional."""
    used: set[str] = set()
    locations = {
        name: _location(name, channel, explicit, folders, used, workspace_dir)
        for name, channel in spec.inputs.items()
    }
    content = script_content(script_path, contract)
    optional = frozenset(
        name
        for name, channel in spec.inputs.items()
        if not channel_required(name, channel, content)
    )
    return _Located(locations, content, optional, frozenset(used))


@dataclass(frozen=True)
class _Located:
    locations: dict[str, Path | S3Source | RunOutput | None]
    """Each channel's data as given (``None``: nowhere)."""
    content: ScriptContent | None
    optional: frozenset[str]
    used_folders: frozenset[str]
    """The data source's folders that feed a channel."""


def check_inputs(
    spec: ScriptSpec,
    contract: InferredContract,
    *,
    data_source: DataLocation | None,
    explicit: Mapping[str, DataLocation],
    script_path: Path | None = None,
    workspace_dir: Path = Path(".sandbox"),
) -> None:
    """The checks of :func:`bind_inputs` that need no download: run them before a run
    folder exists, so that a refused data source leaves nothing behind.

    Raises:
        UsageError: As :func:`bind_inputs`, for ``--input`` and a local data source.
    """
    _check_explicit(spec, explicit)
    for name, channel in spec.inputs.items():
        if channel.data is not None and channel.data.from_run is not None and name not in explicit:
            run_output(workspace_dir, channel.data.from_run, names=(name, channel.folder_name))
    if not isinstance(data_source, Path):
        return
    folders: dict[str, DataLocation] = dict(_local_folders(data_source))
    located = _locate(spec, contract, script_path, explicit, folders, workspace_dir)
    check_source_feeds(spec, located.locations, data_source, folders, optional=located.optional)


def source_folder_keys(name: str, channel: ChannelSpec) -> tuple[str, str]:
    """The data-source folder names that feed a channel, first match wins: its logical
    name, then its container path's last component."""
    return name, channel.folder_name


def _by_logical_name(
    spec: ScriptSpec, explicit: Mapping[str, DataLocation]
) -> dict[str, DataLocation]:
    """``--input`` may name a channel by its production name (its folder's name) as
    well as by the logical name the script's ``__main__`` gives it."""
    folders = {channel.folder_name: name for name, channel in spec.inputs.items()}
    return {
        name if name in spec.inputs else folders.get(name, name): path
        for name, path in explicit.items()
    }


def _check_explicit(spec: ScriptSpec, explicit: Mapping[str, DataLocation]) -> None:
    for name, location in explicit.items():
        if name not in spec.inputs:
            known = ", ".join(spec.inputs) or "none"
            raise UsageError(f"--input {name}: no such input channel (channels: {known})")
        if isinstance(location, Path) and not location.is_dir():
            raise UsageError(f"--input {name}: {location} is not a folder")


def _source_folders(data_source: DataLocation | None, s3: S3Cache) -> dict[str, DataLocation]:
    if data_source is None:
        return {}
    if isinstance(data_source, S3Uri):
        prefixes = s3.channel_prefixes(data_source.uri)
        return {name: S3Uri(uri) for name, uri in prefixes.items()}
    return dict(_local_folders(data_source))


def _local_folders(data_source: Path) -> dict[str, Path]:
    if not data_source.is_dir():
        raise UsageError(f"--data-source {data_source}: not a folder")
    return {
        child.name: child.resolve() for child in sorted(data_source.iterdir()) if child.is_dir()
    }


def _location(
    name: str,
    channel: ChannelSpec,
    explicit: Mapping[str, DataLocation],
    folders: Mapping[str, DataLocation],
    used: set[str],
    workspace_dir: Path,
) -> Path | S3Source | RunOutput | None:
    if name in explicit:
        return _as_location(explicit[name], channel, channel.s3_data_type)
    if channel.data is not None and channel.data.from_run is not None:
        return run_output(workspace_dir, channel.data.from_run, names=(name, channel.folder_name))
    for key in source_folder_keys(name, channel):
        if key in folders:
            used.add(key)
            # A data source's sub-prefix is a folder of objects, whatever the channel says.
            return _as_location(folders[key], channel, S3DataType.S3_PREFIX)
    if channel.s3_uri is not None:
        return S3Source(channel.s3_uri, channel.s3_data_type, channel.s3_data_distribution_type)
    return None


def _as_location(
    location: DataLocation, channel: ChannelSpec, data_type: S3DataType
) -> Path | S3Source:
    if isinstance(location, Path):
        return location
    return S3Source(location.uri, data_type, channel.s3_data_distribution_type)


def _real_folder(
    location: Path | S3Source | RunOutput | None, s3: S3Cache
) -> tuple[Path | None, str]:
    if location is None:
        return None, ""
    if isinstance(location, RunOutput):
        return location.folder, location.describe()
    if isinstance(location, S3Source):
        fetched = s3.fetch(location)
        return fetched.folder, fetched.describe()
    return location.resolve(), f"from {location}"


_LABEL_HYPERPARAMETERS = ("label_name", "label_field", "label_column", "label")


def _data_environment(spec: ScriptSpec, contract: InferredContract) -> dict[str, str]:
    """The environment the script will see, with the defaults it falls back to, plus
    ``LABEL_FIELD`` when a hyperparameter names the label."""
    env = script_environment(spec, contract)
    for key in _LABEL_HYPERPARAMETERS:
        if key in spec.hyperparameters and "LABEL_FIELD" not in env:
            env["LABEL_FIELD"] = str(spec.hyperparameters[key])
    return env


def _generate(
    name: str,
    dataset: DatasetSpec,
    cache_root: Path,
    size: DataSize,
    progress: Callable[[str, int, int], None] | None,
) -> tuple[Path, str]:
    report = (lambda done, total: progress(name, done, total)) if progress else None
    host = materialize(dataset, cache_root, size=size, progress=report)
    return host, describe_generated(dataset, size)


def script_content(script_path: Path | None, contract: InferredContract) -> ScriptContent | None:
    """What the script's source reads in each input channel; None without a source."""
    if script_path is None:
        return None
    try:
        source = script_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return infer_channel_content(source, contract.inputs)


def channel_required(name: str, channel: ChannelSpec, content: ScriptContent | None) -> bool:
    """False for ``required: false``, and for a channel the script checks for before it
    reads it (unless the spec says how to generate its data)."""
    if not channel.required:
        return False
    found = content.channels.get(name) if content is not None else None
    return channel.data is not None or found is None or not found.optional


def model_plan(
    name: str,
    channel: ChannelSpec,
    spec: ScriptSpec,
    contract: InferredContract,
    content: ScriptContent | None,
) -> ArtifactPlan | None:
    """The model artifacts a channel gets, when the script loads a model from it and the
    spec says nothing of its data."""
    found = content.channels.get(name) if content is not None else None
    if found is None or content is None or channel.data is not None:
        return None
    env = _data_environment(spec, contract)
    hyperparameters = {"label_name": env.get("LABEL_FIELD") or DEFAULT_LABEL}
    return artifact_plan(found, content, {**hyperparameters, **DEFAULT_HYPERPARAMETERS})


def _model_features(content: ScriptContent | None) -> tuple[str, ...]:
    """Feature columns of the models any channel gets: the tables must hold them too."""
    if content is None:
        return ()
    for found in content.channels.values():
        plan = artifact_plan(found, content, {})
        if plan is not None and plan.models:
            return plan.features
    return ()


def dataset_for_channel(
    name: str,
    channel: ChannelSpec,
    spec: ScriptSpec,
    contract: InferredContract,
    content: ScriptContent | None = None,
) -> DatasetSpec:
    """The data set generated for an input channel, placeholders resolved: what
    ``test-script`` mounts and ``gen-data`` writes."""
    return shaped_dataset_for_channel(name, channel, spec, contract, content).dataset


def shaped_dataset_for_channel(
    name: str,
    channel: ChannelSpec,
    spec: ScriptSpec,
    contract: InferredContract,
    content: ScriptContent | None = None,
) -> ShapedDataset:
    """:func:`dataset_for_channel`, with the reasons the script's source gave for it."""
    env = _data_environment(spec, contract)
    if channel.data is not None:
        return ShapedDataset(resolve_placeholders(channel.data, env), ("the spec's data",))
    base = default_dataset(
        name,
        env=env,
        column_env_vars=contract.column_env_vars,
        training=spec.kind is JobKind.TRAINING,
    )
    if content is None:
        return ShapedDataset(resolve_placeholders(base, env))
    shaped = shape_dataset(
        name, base, content, arguments=spec.arguments, features=_model_features(content)
    )
    return ShapedDataset(resolve_placeholders(shaped.dataset, env), shaped.reasons)
