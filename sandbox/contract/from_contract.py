"""``sandbox spec from-contract``: a spec YAML from a script contract, with drift warnings.

Pipeline projects declare each script's contract as a Python object (``entry_point``,
``expected_input_paths``, ``expected_output_paths``, ``required_env_vars``,
``optional_env_vars``, ``expected_arguments``) or as YAML with a ``contract:`` section.
This module loads one, turns it into a :class:`~sandbox.contract.spec.ScriptSpec` and compares it
with what the entry point's source actually uses (:mod:`sandbox.contract.inference`): every
difference is one warning line.

A contract module is imported in-process, by path: when its folder is a package (has an
``__init__.py``), the package root goes on ``sys.path`` for the import, so that relative
imports (``from ..base import ScriptContract``) work.
"""

from __future__ import annotations

import importlib
import importlib.util
import shlex
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sandbox.constants import (
    CHECKPOINTS_DIR,
    CODE_PATH,
    DEFAULT_SCRIPTS_DIR,
    MODEL_DIR,
    OUTPUT_DATA_DIR,
    PROCESSING_PREFIX,
    TRAINING_DATA_DIR,
    TRAINING_INPUT_DIR,
    JobKind,
)
from sandbox.contract.drift import contract_drift, is_file_path
from sandbox.contract.inference import InferredContract, infer_contract_from_file
from sandbox.contract.resolve import find_script
from sandbox.contract.spec import ScriptSpec, describe_validation_error
from sandbox.contract.spec import parse_spec as _parse_spec
from sandbox.errors import ScriptNotFoundError, SpecError
from sandbox.results.workspace import write_text_atomic

__all__ = [
    "ContractSpec",
    "LoadedContract",
    "ScriptContract",
    "build_spec",
    "is_contract_file",
    "load_contract",
    "render_spec_yaml",
    "spec_from_contract",
]

_REQUIRED = ("entry_point", "expected_input_paths", "expected_output_paths")
_OPTIONAL = ("required_env_vars", "optional_env_vars", "expected_arguments")
_YAML_SUFFIXES = frozenset({".yaml", ".yml", ".json"})
_TRAINING_OUTPUTS = (MODEL_DIR, OUTPUT_DATA_DIR, CHECKPOINTS_DIR)
_TRAINING_ROOTS = (TRAINING_INPUT_DIR + "/", *_TRAINING_OUTPUTS)


class ScriptContract(BaseModel):
    """A script contract, as pipeline projects declare it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entry_point: str = Field(min_length=1)
    expected_input_paths: dict[str, str] = Field(default_factory=dict)
    expected_output_paths: dict[str, str] = Field(default_factory=dict)
    required_env_vars: list[str] = Field(default_factory=list)
    optional_env_vars: dict[str, str | None] = Field(default_factory=dict)
    expected_arguments: dict[str, str | None] = Field(default_factory=dict)
    description: str | None = None
    framework_requirements: dict[str, Any] = Field(default_factory=dict)
    optional_inputs: list[str] = Field(default_factory=list)
    """Input names the contract marks ``required: false``."""

    @field_validator("optional_env_vars", "expected_arguments", mode="before")
    @classmethod
    def _scalars_as_text(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        return {key: _as_text(item) for key, item in value.items()}


def _as_text(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, (int, float)) else value


@dataclass(frozen=True)
class LoadedContract:
    """A contract and where it came from."""

    contract: ScriptContract
    source: str
    """e.g. ``contracts/preprocess_contract.py:PREPROCESS_CONTRACT``."""
    folder: Path | None
    """The contract file's folder, where the entry point is looked for first."""


@dataclass(frozen=True)
class ContractSpec:
    """The spec made from a contract, its YAML, and the warnings found on the way."""

    spec: ScriptSpec
    yaml_text: str
    source: str
    script_path: Path | None
    warnings: tuple[str, ...]


def spec_from_contract(
    target: str,
    *,
    scripts_dir: Path = DEFAULT_SCRIPTS_DIR,
    name: str | None = None,
    output: Path | None = None,
) -> ContractSpec:
    """Load a contract, build its spec, compare it with the script, write the YAML.

    Args:
        target: A ``.py`` file, a dotted module name, or a YAML file with ``contract:``.
        scripts_dir: Where the entry point is looked for after the contract's folder.
        name: The module-level name of the contract, when a module holds several.
        output: Write the YAML there (atomically); otherwise only return it.

    Raises:
        SpecError: The contract cannot be loaded or is not a valid contract.
    """
    loaded = load_contract(target, name=name)
    script_path = _find_entry_point(loaded.contract.entry_point, loaded.folder, scripts_dir)
    inferred, warnings = _infer(script_path, loaded.contract.entry_point, scripts_dir)
    spec, notes = build_spec(loaded.contract, inferred, source=loaded.source)
    if inferred is not None:
        warnings.extend(contract_drift(loaded.contract, inferred))
    spec_ref = str(output) if output is not None else "THIS_FILE"
    text = render_spec_yaml(spec, loaded.source, script_ref=_shown(script_path), spec_ref=spec_ref)
    if output is not None:
        write_text_atomic(output, text, mode=0o644)  # a spec to share, e.g. in the repository
    return ContractSpec(spec, text, loaded.source, script_path, (*notes, *warnings))


# loading ------------------------------------------------------------------------


def load_contract(target: str, *, name: str | None = None) -> LoadedContract:
    """The contract in a ``.py`` file, a dotted module, or a YAML ``contract:`` section.

    Raises:
        SpecError: Not found, not importable, no contract (or several), or invalid.
    """
    path = Path(target)
    if path.suffix in _YAML_SUFFIXES:
        return _from_yaml(path)
    if path.suffix == ".py" or path.is_file():
        module = _import_file(path)
        folder: Path | None = path.resolve().parent
    else:
        module = _import_dotted(target)
        module_file = getattr(module, "__file__", None)
        folder = Path(module_file).parent if module_file else None
    attribute, value = _find_contract(module, target, name)
    source = f"{target}:{attribute}"
    return LoadedContract(_validated(_contract_fields(value), source), source, folder)


def is_contract_file(path: Path) -> bool:
    """Whether a file holds a script contract rather than a spec: a ``.py`` module, or
    YAML whose top level has a ``contract:`` section."""
    if path.suffix == ".py":
        return True
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False  # the spec loader reports it
    return isinstance(raw, dict) and isinstance(raw.get("contract"), dict)


def _from_yaml(path: Path) -> LoadedContract:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpecError(str(path), f"cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise SpecError(str(path), f"not valid YAML: {exc}") from exc
    section = raw.get("contract") if isinstance(raw, dict) else None
    if not isinstance(section, dict):
        raise SpecError(str(path), "expected a mapping with a 'contract:' section")
    if _is_step_interface(section):
        section = _from_step_interface(section, f"{path} (contract)")
    return LoadedContract(_validated(section, f"{path} (contract)"), str(path), path.parent)


_STEP_INTERFACE_KEYS = frozenset({"inputs", "outputs", "job_arguments", "env_vars"})


def _is_step_interface(section: Mapping[str, Any]) -> bool:
    """A step-interface contract (``inputs:``/``outputs:`` of ``{path, required}``,
    ``job_arguments``, ``env_vars: {required, optional}``) rather than the flat form."""
    return bool(_STEP_INTERFACE_KEYS & set(section)) and "expected_input_paths" not in section


def _from_step_interface(section: Mapping[str, Any], source: str) -> dict[str, Any]:
    """The flat contract fields of a step-interface ``contract:`` section."""
    inputs = _channel_paths(section.get("inputs"), "inputs", source)
    outputs = _channel_paths(section.get("outputs"), "outputs", source)
    env = section.get("env_vars") or {}
    if not isinstance(env, Mapping):
        raise SpecError(source, "env_vars: expected a mapping with required and optional")
    arguments: dict[str, Any] = {}
    for item in section.get("job_arguments") or []:
        flag = item.get("flag") if isinstance(item, Mapping) else None
        if not isinstance(flag, str) or not flag.strip("-"):
            raise SpecError(source, f"job_arguments: expected {{flag, source}}, got {item!r}")
        arguments[flag.lstrip("-")] = item.get("value")
    flat: dict[str, Any] = {
        "entry_point": section.get("entry_point"),
        "expected_input_paths": {name: path for name, (path, _) in inputs.items()},
        "expected_output_paths": {name: path for name, (path, _) in outputs.items()},
        "required_env_vars": list(env.get("required") or []),
        "optional_env_vars": dict(env.get("optional") or {}),
        "expected_arguments": arguments,
        "framework_requirements": dict(section.get("framework_requirements") or {}),
        "optional_inputs": [name for name, (_, required) in inputs.items() if not required],
    }
    if section.get("description") is not None:
        flat["description"] = str(section["description"]).strip()
    return flat  # other keys (source_dir, skip_inputs, ...) describe the pipeline


def _channel_paths(channels: Any, field_name: str, source: str) -> dict[str, tuple[str, bool]]:
    """``{name: {path, required}}`` (or ``{name: path}``) -> name -> (path, required)."""
    if channels is None:
        return {}
    if not isinstance(channels, Mapping):
        raise SpecError(source, f"{field_name}: expected a mapping of channel name to path")
    found: dict[str, tuple[str, bool]] = {}
    for name, value in channels.items():
        if isinstance(value, str):
            found[name] = (value, True)
        elif isinstance(value, Mapping) and isinstance(value.get("path"), str):
            found[name] = (value["path"], bool(value.get("required", True)))
        else:
            raise SpecError(source, f"{field_name}.{name}: expected a path or {{path, required}}")
    return found


def _validated(data: Mapping[str, Any], source: str) -> ScriptContract:
    try:
        return ScriptContract.model_validate(dict(data))
    except ValidationError as exc:
        raise SpecError(source, describe_validation_error(exc)) from exc


def _import_file(path: Path) -> ModuleType:
    if not path.is_file():
        raise SpecError(str(path), "contract file not found")
    path = path.resolve()
    root, dotted = _package_root(path)
    with _importing(root, str(path)):
        if "." in dotted:
            return importlib.import_module(dotted)
        unique = f"_sandbox_contract_{abs(hash(str(path))):x}"
        spec = importlib.util.spec_from_file_location(unique, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[unique] = module  # dataclasses look their module up while executing
        try:
            spec.loader.exec_module(module)
        finally:
            sys.modules.pop(unique, None)
        return module


def _import_dotted(name: str) -> ModuleType:
    with _importing(Path.cwd(), name, forget=False):
        return importlib.import_module(name)


def _package_root(path: Path) -> tuple[Path, str]:
    """The folder above the file's package, and the file's dotted module name in it."""
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return folder, ".".join(parts)


@contextmanager
def _importing(root: Path, what: str, *, forget: bool = True) -> Iterator[None]:
    """``root`` on ``sys.path`` for the import; modules loaded from under it are
    forgotten afterwards (so two contract trees with the same package names do not mix);
    any error becomes a SpecError naming ``what``."""
    sys.path.insert(0, str(root))
    before = set(sys.modules)
    try:
        yield
    except ModuleNotFoundError as exc:
        raise SpecError(what, f"cannot import: {exc}") from exc
    except (Exception, SystemExit) as exc:
        raise SpecError(what, f"cannot import: {type(exc).__name__}: {exc}") from exc
    finally:
        sys.path.remove(str(root))
        if forget:
            _forget_modules_under(root, set(sys.modules) - before)


def _forget_modules_under(root: Path, names: set[str]) -> None:
    for module_name in names:
        module_file = getattr(sys.modules.get(module_name), "__file__", None)
        if module_file and Path(module_file).resolve().is_relative_to(root):
            del sys.modules[module_name]


def _find_contract(module: ModuleType, target: str, name: str | None) -> tuple[str, Any]:
    if name is not None:
        if not hasattr(module, name):
            raise SpecError(target, f"no module-level name {name!r}")
        return name, getattr(module, name)
    found = {
        attribute: value
        for attribute, value in vars(module).items()
        if not attribute.startswith("_")
        and not isinstance(value, (type, ModuleType))
        and (_looks_like_contract(value) or (_is_contract_name(attribute) and _is_mapping(value)))
    }
    named = {attribute: value for attribute, value in found.items() if _is_contract_name(attribute)}
    pool = named or found
    distinct = {id(value): attribute for attribute, value in sorted(pool.items(), reverse=True)}
    if not distinct:
        raise SpecError(
            target,
            "no contract found: expected a module-level object with entry_point, "
            "expected_input_paths and expected_output_paths (or one named CONTRACT/*_CONTRACT)",
        )
    if len(distinct) > 1:
        names = ", ".join(sorted(distinct.values()))
        raise SpecError(target, f"several contracts ({names}); pick one with --name")
    attribute = next(iter(distinct.values()))
    return attribute, pool[attribute]


def _is_contract_name(attribute: str) -> bool:
    return attribute == "CONTRACT" or attribute.endswith("_CONTRACT")


def _is_mapping(value: Any) -> bool:
    return isinstance(value, Mapping)


def _looks_like_contract(value: Any) -> bool:
    if isinstance(value, Mapping):
        return all(key in value for key in _REQUIRED)
    return all(hasattr(value, key) for key in _REQUIRED)


def _contract_fields(value: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key in (*_REQUIRED, *_OPTIONAL):
        if isinstance(value, Mapping):
            if key in value:
                fields[key] = value[key]
        elif hasattr(value, key):
            fields[key] = getattr(value, key)
    required = fields.get("required_env_vars")
    if isinstance(required, (set, frozenset)):
        fields["required_env_vars"] = sorted(required)
    elif isinstance(required, tuple):
        fields["required_env_vars"] = list(required)
    return {key: item for key, item in fields.items() if item is not None}


# the script ---------------------------------------------------------------------


def _find_entry_point(entry_point: str, folder: Path | None, scripts_dir: Path) -> Path | None:
    if folder is not None:
        for candidate in (folder / entry_point, folder / Path(entry_point).name):
            if candidate.is_file():
                return candidate.resolve()
    try:
        return find_script(entry_point, scripts_dir)
    except ScriptNotFoundError:
        return None


def _infer(
    script_path: Path | None, entry_point: str, scripts_dir: Path
) -> tuple[InferredContract | None, list[str]]:
    if script_path is None:
        return None, [
            f"entry point {entry_point} not found next to the contract nor in {scripts_dir} "
            "(--scripts-dir): the script's own paths were not compared"
        ]
    try:
        return infer_contract_from_file(script_path), []
    except SpecError as exc:
        return None, [f"cannot read the entry point ({exc}): its paths were not compared"]


# the spec -----------------------------------------------------------------------


def build_spec(
    contract: ScriptContract, inferred: InferredContract | None, *, source: str = "contract"
) -> tuple[ScriptSpec, list[str]]:
    """The spec a contract states, and notes on what could not be carried over as is.

    Raises:
        SpecError: The result is not a valid spec (e.g. an invalid channel name).
    """
    notes: list[str] = []
    optional = set(contract.optional_inputs)
    kind = _kind(contract, inferred)
    inputs = _channels(contract.expected_input_paths, "input", kind, inferred, notes)
    outputs = _channels(contract.expected_output_paths, "output", kind, inferred, notes)
    notes.extend(
        f"contract gives argument --{name} no value: pass --arg {name}=VALUE"
        for name, value in contract.expected_arguments.items()
        if value is None
    )
    raw = {
        "script": PurePosixPath(contract.entry_point).name,
        "kind": kind.value,
        "arguments": {k: v for k, v in contract.expected_arguments.items() if v is not None},
        # Step builders set every optional variable to its default when config is silent.
        "environment": {k: v for k, v in contract.optional_env_vars.items() if v is not None},
        "required_env": list(contract.required_env_vars),
        "inputs": {
            name: {"path": path, **({"required": False} if name in optional else {})}
            for name, path in inputs.items()
        },
        "outputs": {name: {"path": path} for name, path in outputs.items()},
        "framework_requirements": {
            str(k): str(v) for k, v in contract.framework_requirements.items()
        },
    }
    return _parse_spec(raw, source=source), notes


def _kind(contract: ScriptContract, inferred: InferredContract | None) -> JobKind:
    paths = [*contract.expected_input_paths.values(), *contract.expected_output_paths.values()]
    if any(path.startswith(PROCESSING_PREFIX) for path in paths):
        return JobKind.PROCESSING
    if any(path.startswith(_TRAINING_ROOTS) for path in paths):
        return JobKind.TRAINING
    return inferred.kind if inferred is not None else JobKind.PROCESSING


def _channels(
    declared: dict[str, str],
    direction: str,
    kind: JobKind,
    inferred: InferredContract | None,
    notes: list[str],
) -> dict[str, str]:
    channels: dict[str, str] = {}
    for name, raw_path in declared.items():
        path = raw_path.rstrip("/") or "/"
        if kind is JobKind.TRAINING and direction == "input" and path == TRAINING_DATA_DIR:
            channels.update(_training_channels(name, inferred, notes))
            continue
        folder, problem = _channel_folder(path, direction, kind)
        if problem:
            notes.append(f"contract {direction} {name} -> {raw_path}: {problem}")
        if folder is None:
            continue
        twin = next((other for other, known in channels.items() if known == folder), None)
        if twin is not None:
            notes.append(f"contract {direction}s {twin} and {name} share {folder}: kept {twin}")
            continue
        channels[name] = folder
    return channels


def _channel_folder(path: str, direction: str, kind: JobKind) -> tuple[str | None, str]:
    """The folder a channel mounts for a contract path, and why it differs, if it does."""
    if kind is JobKind.TRAINING:
        return _training_folder(path, direction)
    if not path.startswith(PROCESSING_PREFIX):
        return None, f"outside {PROCESSING_PREFIX}, left out of the spec"
    if path == CODE_PATH or path.startswith(CODE_PATH + "/"):
        return None, f"{CODE_PATH} holds the code, left out of the spec"
    return _folder_of(path)


def _training_folder(path: str, direction: str) -> tuple[str | None, str]:
    if direction == "output":
        if not path.startswith(_TRAINING_OUTPUTS):
            return None, f"not one of {', '.join(_TRAINING_OUTPUTS)}, left out of the spec"
        return _folder_of(path)
    if not path.startswith(TRAINING_DATA_DIR + "/"):
        return None, f"not a channel under {TRAINING_DATA_DIR}/, left out of the spec"
    channel = "/".join(path.split("/")[:6])  # /opt/ml/input/data/<channel>
    if channel != path:
        return channel, f"a path inside channel folder {channel}: the spec mounts the folder"
    return path, ""


def _folder_of(path: str) -> tuple[str, str]:
    if is_file_path(path):
        parent = path.rsplit("/", 1)[0]
        return parent, f"names a file: the spec mounts its folder {parent}"
    return path, ""


def _training_channels(
    name: str, inferred: InferredContract | None, notes: list[str]
) -> dict[str, str]:
    found = {
        channel: path
        for channel, path in (inferred.inputs.items() if inferred is not None else ())
        if path.startswith(TRAINING_DATA_DIR + "/")
    }
    if found:
        listed = ", ".join(found)
        notes.append(
            f"contract input {name} -> {TRAINING_DATA_DIR} is the whole data folder: "
            f"the spec has the script's channels ({listed})"
        )
    else:
        notes.append(
            f"contract input {name} -> {TRAINING_DATA_DIR} is the whole data folder and the "
            "script names no channel: add inputs /opt/ml/input/data/<channel> to the spec"
        )
    return found


def _shown(path: Path | None) -> str | None:
    """``path`` relative to the current folder when it is below it, as a user would type it."""
    if path is None:
        return None
    try:
        return str(path.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def render_spec_yaml(
    spec: ScriptSpec, source: str, *, script_ref: str | None = None, spec_ref: str = "THIS_FILE"
) -> str:
    """The spec as commented YAML, without fields left at their defaults, under a header
    naming the command that runs it: the script (``script_ref``, by default its name), the
    spec file, and an ``--env`` for each required variable the spec gives no value."""
    body = spec.model_dump(mode="json", exclude_defaults=True)
    ordered = {"script": spec.script, "kind": spec.kind.value, **body}
    given = {*spec.environment, *spec.secret_env}
    envs = [w for n in spec.required_env if n not in given for w in ("--env", f"{n}=VALUE")]
    command = ["sandbox", "test-script", script_ref or spec.script_name, "--spec", spec_ref, *envs]
    header = (
        f"# Spec made by `sandbox spec from-contract` from {source}.\n#   {shlex.join(command)}\n"
    )
    return header + yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True)
