"""Where each input channel's data comes from: a real folder, or generated data.

Real folders are mounted read-only in place (never copied, never modified); generated
data is cached in the workspace by a hash of its spec and mounted read-only from there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.datagen import DataSize, default_dataset, materialize, resolve_placeholders
from sandbox.errors import UsageError
from sandbox.inference import InferredContract, JobKind
from sandbox.layout import InputBinding
from sandbox.spec import ChannelSpec, ScriptSpec

__all__ = ["InputPlan", "bind_inputs"]

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
    data_source: Path | None,
    explicit: Mapping[str, Path],
    cache_root: Path,
    size: DataSize,
    progress: Callable[[str, int, int], None] | None = None,
) -> InputPlan:
    """Bind every input channel of ``spec`` to a host folder."""
    _check_explicit(spec, explicit)
    folders = _source_folders(data_source)
    bindings: list[InputBinding] = []
    used: set[str] = set()
    for name, channel in spec.inputs.items():
        host, source = _real_folder(name, channel, explicit, folders, used)
        if host is None:
            host = _generate(name, channel, spec, contract, cache_root, size, progress)
            source = f"generated ({size.value})"
        bindings.append(InputBinding(name, channel.path, host, source))
    ignored = sorted(set(folders) - used)
    if ignored:
        logger.info("data source folders matching no channel, ignored: %s", ", ".join(ignored))
    return InputPlan(bindings=bindings, ignored_folders=ignored)


def _check_explicit(spec: ScriptSpec, explicit: Mapping[str, Path]) -> None:
    for name, path in explicit.items():
        if name not in spec.inputs:
            known = ", ".join(spec.inputs) or "none"
            raise UsageError(f"--input {name}: no such input channel (channels: {known})")
        if not path.is_dir():
            raise UsageError(f"--input {name}: {path} is not a folder")


def _source_folders(data_source: Path | None) -> dict[str, Path]:
    if data_source is None:
        return {}
    if not data_source.is_dir():
        raise UsageError(f"--data-source {data_source}: not a folder")
    return {
        child.name: child.resolve() for child in sorted(data_source.iterdir()) if child.is_dir()
    }


def _real_folder(
    name: str,
    channel: ChannelSpec,
    explicit: Mapping[str, Path],
    folders: dict[str, Path],
    used: set[str],
) -> tuple[Path | None, str]:
    if name in explicit:
        return explicit[name].resolve(), f"folder {explicit[name]}"
    for key in (name, channel.folder_name):
        if key in folders:
            used.add(key)
            return folders[key], f"folder {folders[key]}"
    return None, ""


_LABEL_HYPERPARAMETERS = ("label_name", "label_field", "label_column", "label")


def _data_environment(spec: ScriptSpec, contract: InferredContract) -> dict[str, str]:
    """The environment the script will see, with the defaults it falls back to, plus
    ``LABEL_FIELD`` when a hyperparameter names the label."""
    defaults = {name: value for name, value in contract.optional_env.items() if value}
    env = {**defaults, **spec.environment}
    for key in _LABEL_HYPERPARAMETERS:
        if key in spec.hyperparameters and "LABEL_FIELD" not in env:
            env["LABEL_FIELD"] = str(spec.hyperparameters[key])
    return env


def _generate(
    name: str,
    channel: ChannelSpec,
    spec: ScriptSpec,
    contract: InferredContract,
    cache_root: Path,
    size: DataSize,
    progress: Callable[[str, int, int], None] | None,
) -> Path:
    env = _data_environment(spec, contract)
    dataset = channel.data or default_dataset(
        name,
        env=env,
        column_env_vars=contract.column_env_vars,
        training=spec.kind is JobKind.TRAINING,
    )
    dataset = resolve_placeholders(dataset, env)
    report = (lambda done, total: progress(name, done, total)) if progress else None
    return materialize(dataset, cache_root, size=size, progress=report)
