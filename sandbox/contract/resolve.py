"""From a script name and options to the effective spec the runner executes.

The order of precedence is: command-line options, then the spec file, then what
:mod:`sandbox.contract.inference` reads in the script's source (zero-config).
"""

from __future__ import annotations

import difflib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.constants import (
    CODE_PATH,
    PROCESSING_INPUT_DIR,
    PROCESSING_PREFIX,
    TRAINING_DATA_DIR,
    TRAINING_OUTPUT_PATHS,
    JobKind,
)
from sandbox.container.hyperparameters import stringify_hyperparameters
from sandbox.contract.inference import InferredArgument, InferredContract, infer_contract_from_file
from sandbox.contract.job_args import typed_job_args
from sandbox.contract.spec import CallStyle, ScriptSpec, load_spec, parse_spec
from sandbox.contract.validation import (
    check_argument_name,
    check_env_name,
    check_env_value,
    check_image_reference,
    check_option,
    check_text_value,
)
from sandbox.data.datagen import substitute_placeholders
from sandbox.errors import ScriptIsFolderError, ScriptNotFoundError, SpecError, UsageError

__all__ = [
    "BUNDLED_EXAMPLES",
    "Overrides",
    "ResolvedScript",
    "argument_dest",
    "declared_option",
    "find_script",
    "resolve_script",
    "script_environment",
]

logger = logging.getLogger(__name__)

BUNDLED_EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scripts"


@dataclass(frozen=True)
class Overrides:
    """What the command line says; ``None`` means "not given"."""

    image: str | None = None
    call_style: CallStyle | None = None
    arguments: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    network: bool | None = None
    instance_type: str | None = None
    max_runtime_s: int | None = None
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    kind: JobKind | None = None
    pids_limit: int | None = None
    secret_env: list[str] = field(default_factory=list)
    """Names whose values are secrets; a name not in ``environment`` takes the value
    this process has (``--secret-env NAME``)."""
    allow_unknown_args: bool = False
    """Pass ``--arg`` names the script's argparse does not declare (it may read them
    another way); otherwise such a name is refused before the run."""

    def __post_init__(self) -> None:
        # Checked here, so that the error names the option rather than a spec field.
        if self.image is not None:
            check_option("--image", self.image, check_image_reference, self.image)
        for name, value in self.environment.items():
            check_option("--env", f"{name}={value}", check_env_name, name)
            check_option("--env", f"{name}={value}", check_env_value, name, value)
        for name, value in self.arguments.items():
            check_option("--arg", f"{name}={value}", check_argument_name, name)
            check_option("--arg", f"{name}={value}", check_text_value, value)


@dataclass(frozen=True)
class ResolvedScript:
    """The script, the spec it runs under, and what was read from its source."""

    script_path: Path
    spec: ScriptSpec
    contract: InferredContract
    spec_source: str
    findings: list[str] = field(default_factory=list)
    kind_reason: str = ""
    """Why this kind of job runs: the spec, the command line, or the script's paths."""


def find_script(name_or_path: str, scripts_dir: Path) -> Path:
    """A path to an existing file, or a name looked up in ``scripts_dir`` then the examples.

    Raises:
        ScriptIsFolderError: nothing found, and the name is the path of a folder.
        ScriptNotFoundError: nothing found.
    """
    direct = Path(name_or_path)
    if direct.is_file():
        return direct.resolve()
    filename = name_or_path if name_or_path.endswith(".py") else f"{name_or_path}.py"
    # The examples exist in a clone only; an installed package has none to search.
    searched = [scripts_dir, *([BUNDLED_EXAMPLES] if BUNDLED_EXAMPLES.is_dir() else [])]
    for folder in searched:
        candidate = folder / filename
        if candidate.is_file():
            if folder == BUNDLED_EXAMPLES:
                logger.info("using the bundled example %s", candidate)
            return candidate.resolve()
    if direct.is_dir():
        raise ScriptIsFolderError(name_or_path, direct.absolute())
    looked = [direct.absolute(), *((folder / filename).absolute() for folder in searched)]
    raise ScriptNotFoundError(name_or_path, looked)


def resolve_script(
    script_path: Path, spec_path: Path | None, overrides: Overrides
) -> ResolvedScript:
    """Build the effective spec and check it before anything starts."""
    contract = infer_contract_from_file(script_path)
    if overrides.kind is not None:
        contract = contract.for_kind(overrides.kind)
    if spec_path is not None:
        base = _load_spec_or_contract(spec_path, contract)
        source = str(spec_path)
        _check_spec_script(base, script_path, spec_path)
    else:
        base = _zero_config_spec(script_path, contract)
        source = "inferred from the script"
    spec = _spelled_as_declared(_apply_overrides(base, overrides, source), contract)
    _check_ready(spec, contract, script_path, allow_unknown_args=overrides.allow_unknown_args)
    return ResolvedScript(
        script_path=script_path,
        spec=spec,
        contract=contract,
        spec_source=source,
        findings=_findings(spec, contract),
        kind_reason=_kind_reason(base, overrides, contract, spec_path),
    )


def _load_spec_or_contract(path: Path, contract: InferredContract) -> ScriptSpec:
    """A spec file, or a script contract (a ``.py`` contract module, or YAML whose
    top level is a ``contract:`` section) turned into the spec it states."""
    from sandbox.contract.from_contract import build_spec, is_contract_file, load_contract

    if not is_contract_file(path):
        return load_spec(path)
    loaded = load_contract(str(path))
    spec, notes = build_spec(loaded.contract, contract, source=loaded.source)
    for note in notes:
        logger.info("%s", note)
    return spec


def _kind_reason(
    base: ScriptSpec, overrides: Overrides, contract: InferredContract, spec_path: Path | None
) -> str:
    if overrides.kind is not None:
        return f"--kind {overrides.kind.value} on the command line"
    if spec_path is not None and "kind" in base.model_fields_set:
        return f"the spec file says kind: {base.kind.value}"
    return contract.kind_reason


def script_environment(spec: ScriptSpec, contract: InferredContract) -> dict[str, str]:
    """The values the script works with: its own defaults, then the spec's environment.

    The container's environment is the spec's alone, as in production; this is what a
    script's ``__main__`` gathers with ``os.environ.get(NAME, default)``.
    """
    defaults = {name: value for name, value in contract.optional_env.items() if value}
    return {**defaults, **spec.environment}


def _zero_config_spec(script_path: Path, contract: InferredContract) -> ScriptSpec:
    raw = {
        "script": script_path.name,
        "kind": contract.kind.value,
        "inputs": {name: {"path": path} for name, path in contract.inputs.items()},
        "outputs": {name: {"path": path} for name, path in contract.outputs.items()},
        "required_env": list(contract.required_env),
    }
    # A channel named by a path in the source may not be a valid name: say so, naming it.
    return parse_spec(raw, source=f"script {script_path.name}")


def _check_spec_script(spec: ScriptSpec, script_path: Path, spec_path: Path) -> None:
    if Path(spec.script).name != script_path.name:
        raise SpecError(
            str(spec_path), f"field 'script' names {spec.script!r}, not {script_path.name!r}"
        )


def _apply_overrides(spec: ScriptSpec, overrides: Overrides, source: str) -> ScriptSpec:
    updates: dict[str, Any] = {
        key: value
        for key, value in {
            "image": overrides.image,
            "call_style": overrides.call_style,
            "network": overrides.network,
            "instance_type": overrides.instance_type,
            "max_runtime_s": overrides.max_runtime_s,
            "kind": overrides.kind,
            "pids_limit": overrides.pids_limit,
        }.items()
        if value is not None
    }
    updates["arguments"] = {**spec.arguments, **overrides.arguments}
    secret_env = list(dict.fromkeys([*spec.secret_env, *overrides.secret_env]))
    environment = {**spec.environment, **overrides.environment}
    updates["secret_env"] = secret_env
    updates["environment"] = {**environment, **_secret_values(secret_env, environment)}
    updates["hyperparameters"] = {**spec.hyperparameters, **overrides.hyperparameters}
    raw = {**spec.model_dump(exclude_unset=False, mode="json"), **_jsonable(updates)}
    return parse_spec(raw, source=source)


def _secret_values(names: list[str], environment: dict[str, str]) -> dict[str, str]:
    """The caller's values of the secret variables the spec and command line do not set.

    Raises:
        UsageError: a secret variable is set nowhere.
    """
    values: dict[str, str] = {}
    for name in names:
        if name in environment:
            continue
        if name not in os.environ:
            raise UsageError(
                f"secret variable {name}: not set in this environment and not given "
                f"with --env {name}=VALUE"
            )
        values[name] = os.environ[name]
    return values


def _jsonable(updates: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.value if hasattr(v, "value") else v) for k, v in updates.items()}


def _spelled_as_declared(spec: ScriptSpec, contract: InferredContract) -> ScriptSpec:
    """Each argument keyed by the option string the script declares (``--job-type``),
    whichever spelling was given (``job_type``, ``job-type``), so the command line holds
    what the script's argparse accepts."""
    spelled: dict[str, str] = {}
    for name, value in spec.arguments.items():
        argument = contract.arguments.get(argument_dest(name))
        option = declared_option(argument) if argument and argument.option_strings else ""
        # `--job-type` is kept as `job-type` (the layout adds the dashes); `-j` as is.
        spelled[option.removeprefix("--") if option else name] = value
    if spelled == spec.arguments:
        return spec
    return spec.model_copy(update={"arguments": spelled})


def declared_option(argument: InferredArgument) -> str:
    """The option string a script declares for an argument: its first long one."""
    options = argument.option_strings
    return next((o for o in options if o.startswith("--")), options[0] if options else "")


def _shown(argument: InferredArgument) -> str:
    """How a message names an argument: as the script declares it."""
    return declared_option(argument) if argument.option_strings else argument.name


def _check_ready(
    spec: ScriptSpec,
    contract: InferredContract,
    script_path: Path,
    *,
    allow_unknown_args: bool = False,
) -> None:
    script = script_path.stem
    _check_paths(spec, script)
    missing = [
        name
        for name in dict.fromkeys([*spec.required_env, *contract.required_env])
        if name not in spec.environment
    ]
    if missing:
        name = missing[0]
        how = contract.env_reads.get(name)
        read = f"read as {how}" if how else "the spec lists it as required"
        raise UsageError(
            f"script {script} needs environment variable {name} ({read}); pass --env {name}=VALUE"
        )
    if spec.call_style is CallStyle.MAIN and not contract.has_main:
        raise UsageError(f"script {script} defines no main(); use --call-style entrypoint")
    _check_flags(spec, contract, script)
    if spec.call_style is CallStyle.MAIN:
        # The values main() will get must convert as argparse would convert them.
        given = {argument_dest(name): value for name, value in spec.arguments.items()}
        typed_job_args(
            {**stringify_hyperparameters(spec.hyperparameters), **given}, contract.arguments
        )
    if spec.container_arguments is None and spec.kind is JobKind.PROCESSING:
        _check_arguments(spec, contract, script)
        # main() gets a namespace, where an extra attribute harms nobody.
        entrypoint = spec.call_style is CallStyle.ENTRYPOINT
        if entrypoint and not (allow_unknown_args or contract.parses_known_args):
            _check_unknown_arguments(spec, contract, script)
    _check_output_placeholders(spec, contract, script)


_FLAG_ACTIONS = frozenset({"store_true", "store_false", "store_const", "count"})


def _check_flags(spec: ScriptSpec, contract: InferredContract, script: str) -> None:
    """A flag takes no value on a command line: ``--arg debug=false`` would pass
    ``--debug false``, which argparse refuses, so say it before anything runs."""
    for name, value in spec.arguments.items():
        argument = contract.arguments.get(argument_dest(name))
        if argument is not None and argument.action in _FLAG_ACTIONS and value != "":
            shown = _shown(argument)
            raise UsageError(
                f"script {script}: {shown} is a flag and takes no value; "
                f"pass --arg {shown.lstrip('-')}= to set it, or leave it out"
            )


def _check_output_placeholders(spec: ScriptSpec, contract: InferredContract, script: str) -> None:
    """``${VAR}`` in output checks must resolve now: after the run is too late to say so."""
    env = script_environment(spec, contract)
    for name, channel in spec.outputs.items():
        for column in channel.expect.columns if channel.expect else []:
            substitute_placeholders(column, env, source=script, where=f"output {name} column")


def _check_paths(spec: ScriptSpec, script: str) -> None:
    _check_distinct_paths(spec, script)
    if spec.kind is JobKind.TRAINING:
        _check_training_paths(spec, script)
        return
    for direction, channels in (("input", spec.inputs), ("output", spec.outputs)):
        for name, channel in channels.items():
            if not channel.path.startswith(PROCESSING_PREFIX):
                raise SpecError(
                    script,
                    f"{direction} channel {name!r}: path {channel.path} must start "
                    f"with {PROCESSING_PREFIX}",
                )
            if channel.path == CODE_PATH or channel.path.startswith(CODE_PATH + "/"):
                raise SpecError(script, f"{direction} channel {name!r}: {CODE_PATH} holds the code")


def _check_distinct_paths(spec: ScriptSpec, script: str) -> None:
    """Two channels on one path, or a writable output inside a read-only input, cannot
    be mounted: say so now rather than let the engine refuse."""
    seen: dict[str, str] = {}
    for direction, channels in (("input", spec.inputs), ("output", spec.outputs)):
        for name, channel in channels.items():
            if channel.path in seen:
                raise SpecError(
                    script,
                    f"{direction} channel {name!r}: path {channel.path} is also "
                    f"channel {seen[channel.path]!r}",
                )
            seen[channel.path] = name
    for out_name, output in spec.outputs.items():
        for in_name, source in spec.inputs.items():
            if output.path.startswith(source.path + "/"):
                raise SpecError(
                    script,
                    f"output channel {out_name!r}: {output.path} lies inside input "
                    f"channel {in_name!r}, which is read-only",
                )
    _check_nesting(spec, script)


def _check_nesting(spec: ScriptSpec, script: str) -> None:
    """Channels nested in a read-only input, inputs nested in an output (uploaded with
    it), or a channel over the code folder cannot be laid out as production has them.

    Outputs may nest in outputs (all writable, like folders of one upload), and the
    processing input root may hold other input channels and the code folder: production
    downloads every input under it, and the layout mounts its entries one by one.
    """
    channels = [
        (direction, name, channel.path)
        for direction, channels in (("input", spec.inputs), ("output", spec.outputs))
        for name, channel in channels.items()
    ]
    for outer_direction, outer_name, outer in channels:
        if outer_direction == "input" and outer == PROCESSING_INPUT_DIR:
            continue
        if CODE_PATH.startswith(outer + "/"):
            raise SpecError(
                script,
                f"{outer_direction} channel {outer_name!r}: {outer} lies over the code "
                f"folder {CODE_PATH}; give the channel a folder of its own",
            )
        for inner_direction, inner_name, inner in channels:
            writable = outer_direction == inner_direction == "output"
            if inner.startswith(outer + "/") and not writable:
                raise SpecError(
                    script,
                    f"{inner_direction} channel {inner_name!r}: {inner} lies inside "
                    f"{outer_direction} channel {outer_name!r} ({outer}); two mounts "
                    "cannot nest: give each channel a folder of its own",
                )


def _check_training_paths(spec: ScriptSpec, script: str) -> None:
    for name, channel in spec.inputs.items():
        parent, _, folder = channel.path.rpartition("/")
        if parent != TRAINING_DATA_DIR or not folder:
            raise SpecError(
                script,
                f"training input channel {name!r}: path {channel.path} must be "
                f"{TRAINING_DATA_DIR}/<channel>",
            )
        if not name.isascii():
            # The platform's pattern, and SM_CHANNEL_<NAME> must be a variable name.
            raise SpecError(
                script, f"training input channel {name!r}: a training channel name is ASCII"
            )
    known = ", ".join(TRAINING_OUTPUT_PATHS.values())
    for name, channel in spec.outputs.items():
        if channel.path not in TRAINING_OUTPUT_PATHS.values():
            raise SpecError(
                script,
                f"training output channel {name!r}: path {channel.path} is not one of {known}",
            )


def _check_arguments(spec: ScriptSpec, contract: InferredContract, script: str) -> None:
    # argparse turns --job-type into job_type: compare by that destination name.
    given = {argument_dest(name): value for name, value in spec.arguments.items()}
    for name, argument in contract.arguments.items():
        value = given.get(name)
        shown = _shown(argument)
        if value is None and argument.required:
            choices = f" (one of {', '.join(argument.choices)})" if argument.choices else ""
            raise UsageError(
                f"script {script} needs argument {shown}{choices}; "
                f"pass --arg {shown.lstrip('-')}=VALUE"
            )
        if value is not None and argument.choices and value not in argument.choices:
            raise UsageError(
                f"script {script}: argument {shown} must be one of "
                f"{', '.join(argument.choices)}, got {value!r}"
            )


def _check_unknown_arguments(spec: ScriptSpec, contract: InferredContract, script: str) -> None:
    """An ``--arg`` the script's argparse does not declare would stop it with
    "unrecognized arguments": say so now, with the closest declared option."""
    if not contract.arguments:
        return  # no argparse options known: the script may not parse its arguments
    declared = {
        option: argument
        for argument in contract.arguments.values()
        for option in (argument.option_strings or (argument.name,))
    }
    for name in spec.arguments:
        if argument_dest(name) in contract.arguments:
            continue
        given = name if name.startswith("-") else f"--{name}"
        close = difflib.get_close_matches(
            argument_dest(given), [argument_dest(o) for o in declared], n=1, cutoff=0.5
        )
        match = next((o for o in declared if close and argument_dest(o) == close[0]), None)
        hint = f"; did you mean {match}?" if match else ""
        options = ", ".join(_shown(a) for a in contract.arguments.values())
        raise UsageError(
            f"script {script} declares no argument {given} (it takes {options}){hint} "
            "Pass --allow-unknown-args if it reads it another way"
        )


def argument_dest(name: str) -> str:
    """The attribute argparse stores an option under: ``--job-type`` -> ``job_type``."""
    return name.lstrip("-").replace("-", "_")


def _findings(spec: ScriptSpec, contract: InferredContract) -> list[str]:
    findings = [
        f"reads optional environment variable {name} with no default, and it is not set"
        for name, default in contract.optional_env.items()
        if default is None and name not in spec.environment
    ]
    if contract.relative_imports:
        findings.append(
            "imports relative to a package ("
            + ", ".join(contract.relative_imports)
            + "): it cannot run as a lone file; pass --source-dir with the package's root"
        )
    return findings
