"""Script specs: what a script needs to run, as frozen pydantic models.

A spec file (YAML) states a script's entry point, channels and their container paths,
environment, arguments, image, instance type, maximum runtime, call style and the data
per input channel. A script without one still runs: :mod:`sandbox.contract.resolve` builds the
same model from what :mod:`sandbox.contract.inference` reads in its source.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from sandbox.constants import PROCESSING_PREFIX, TRAINING_OUTPUT_PATHS, JobKind
from sandbox.contract.validation import (
    check_arguments,
    check_channel_name,
    check_env_name,
    check_environment,
    check_image_reference,
)
from sandbox.data.datagen import DatasetSpec
from sandbox.data.s3source import S3DataDistributionType, S3DataType, split_s3_uri
from sandbox.errors import SpecError

__all__ = [
    "PROCESSING_PREFIX",
    "SPEC_SCHEMA_VERSION",
    "TRAINING_OUTPUT_PATHS",
    "CallStyle",
    "ChannelSpec",
    "JobKind",
    "OutputCheck",
    "ScriptSpec",
    "load_spec",
    "spec_json_schema",
]

SPEC_SCHEMA_VERSION = 1
_MAX_ENV_ENTRIES = 100
_MAX_RUNTIME_S = 777_600
MIN_PIDS_LIMIT = 16
"""Fewer processes than this leave no room for the supervisor and an interpreter."""


class CallStyle(str, Enum):
    """How the script is started inside the container."""

    ENTRYPOINT = "entrypoint"
    """As production: ``python3 /opt/ml/processing/input/code/<script>.py --arg value``."""
    MAIN = "main"
    """Import the script and call ``main(input_paths, output_paths, environ_vars, job_args)``."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OutputCheck(_Frozen):
    """What an output channel must hold after a passing run."""

    files: list[str] = Field(default_factory=list, description="Globs that must match a file.")
    columns: list[str] = Field(
        default_factory=list, description="Columns every matched table must have."
    )
    non_empty: bool = Field(default=True, description="Matched tables must have rows.")


class ChannelSpec(_Frozen):
    """One input or output channel, keyed by its logical name in the spec."""

    path: str = Field(description="Container path, e.g. /opt/ml/processing/input/data.")
    required: bool = True
    data: DatasetSpec | None = Field(
        default=None, description="How to generate this input when no real data is given."
    )
    expect: OutputCheck | None = Field(default=None, description="Checks on an output.")
    s3_uri: str | None = Field(
        default=None,
        description="Inputs only: real data at s3://bucket/prefix (or the manifest object's "
        "URI), used when neither --input nor --data-source gives this channel data.",
    )
    s3_data_type: S3DataType = Field(
        default=S3DataType.S3_PREFIX,
        description="S3Prefix (every object under the prefix) or ManifestFile.",
    )
    s3_data_distribution_type: S3DataDistributionType = Field(
        default=S3DataDistributionType.FULLY_REPLICATED,
        description="FullyReplicated or ShardedByS3Key (one instance: it gets every key).",
    )

    @field_validator("path")
    @classmethod
    def _absolute_clean_path(cls, value: str) -> str:
        if not value.startswith("/") or ".." in value.split("/"):
            raise ValueError(f"must be an absolute container path without '..', got {value!r}")
        return value.rstrip("/") or "/"

    @field_validator("s3_uri")
    @classmethod
    def _s3_uri(cls, value: str | None) -> str | None:
        if value is not None:
            split_s3_uri(value)  # a ValueError names the problem
        return value

    @property
    def folder_name(self) -> str:
        """The last path component, which ``--data-source DIR`` folders may be named by."""
        return self.path.rstrip("/").rsplit("/", 1)[-1]


class ScriptSpec(_Frozen):
    """Everything the sandbox needs to run one script as production would."""

    schema_version: int = SPEC_SCHEMA_VERSION
    script: str = Field(description="The entry point file name, e.g. preprocess.py.")
    kind: JobKind = JobKind.PROCESSING
    image: str | None = Field(default=None, description="Image profile name or image reference.")
    command: list[str] = Field(
        default_factory=lambda: ["python3"], description="Interpreter the entry point runs under."
    )
    container_entrypoint: list[str] | None = Field(
        default=None,
        description="ContainerEntrypoint verbatim; replaces command + script when set.",
    )
    container_arguments: list[str] | None = Field(
        default=None, description="ContainerArguments verbatim; replaces `arguments` when set."
    )
    arguments: dict[str, str] = Field(
        default_factory=dict, description="Job arguments: passed as --NAME VALUE, job_args.NAME."
    )
    environment: dict[str, str] = Field(default_factory=dict)
    secret_env: list[str] = Field(
        default_factory=list,
        description="Variables whose values are secrets: passed to the container, masked "
        "wherever the tool writes; one not in `environment` takes the caller's value.",
    )
    required_env: list[str] = Field(default_factory=list)
    inputs: dict[str, ChannelSpec] = Field(default_factory=dict)
    outputs: dict[str, ChannelSpec] = Field(default_factory=dict)
    hyperparameters: dict[str, Any] = Field(
        default_factory=dict, description="Training only: written as strings, as the platform does."
    )
    instance_type: str | None = Field(default=None, description="e.g. ml.m5.xlarge")
    max_runtime_s: int | None = Field(
        default=None,
        ge=1,
        le=_MAX_RUNTIME_S,
        validation_alias=AliasChoices("max_runtime_s", "MaxRuntimeInSeconds"),
    )
    call_style: CallStyle = CallStyle.ENTRYPOINT
    pids_limit: int | None = Field(
        default=None,
        ge=MIN_PIDS_LIMIT,
        description="Most processes and threads at once (default 1024): stops a fork bomb.",
    )
    network: bool = Field(
        default=False,
        description="False isolates the network, as production's EnableNetworkIsolation.",
    )
    framework_requirements: dict[str, str] = Field(
        default_factory=dict,
        description="Packages the script needs from its image, e.g. {torch: ==2.1.0} "
        "(from a contract's framework_requirements).",
    )
    requirements: list[str] = Field(
        default_factory=list,
        description="pip requirements installed before the script starts, from a local "
        "wheelhouse the host's pip fills (the job needs no network); the script's own "
        "`pip install` of them works too.",
    )
    bake: bool = Field(
        default=False,
        description="Bake `requirements` into an image derived from the profile, built once.",
    )

    @field_validator("environment")
    @classmethod
    def _valid_environment(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > _MAX_ENV_ENTRIES:
            raise ValueError(f"at most {_MAX_ENV_ENTRIES} entries, got {len(value)}")
        return check_environment(value)

    @field_validator("arguments")
    @classmethod
    def _valid_arguments(cls, value: dict[str, str]) -> dict[str, str]:
        return check_arguments(value)

    @field_validator("image")
    @classmethod
    def _valid_image(cls, value: str | None) -> str | None:
        return value if value is None else check_image_reference(value)

    @field_validator("secret_env")
    @classmethod
    def _valid_secret_names(cls, value: list[str]) -> list[str]:
        for name in value:
            check_env_name(name)
        return list(dict.fromkeys(value))

    @field_validator("inputs", "outputs")
    @classmethod
    def _valid_channel_names(cls, value: dict[str, ChannelSpec]) -> dict[str, ChannelSpec]:
        for name in value:
            check_channel_name(name)
        return value

    @field_validator("command", "container_entrypoint", "container_arguments")
    @classmethod
    def _platform_list_limits(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return value
        if not 1 <= len(value) <= 100 or any(len(item) > 256 for item in value):
            raise ValueError("must hold 1-100 strings of at most 256 characters")
        return value

    @property
    def script_name(self) -> str:
        """The script's name without folder and ``.py``."""
        return Path(self.script).stem


def load_spec(path: Path) -> ScriptSpec:
    """Load and validate a YAML (or JSON) spec file.

    Raises:
        SpecError: the file is missing, not YAML, or not a valid spec; the message names
            the file and the first offending field.
    """
    import yaml  # lazily: ~12 ms of every CLI start, and most runs have no spec file

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SpecError(str(path), "spec file not found") from exc
    except UnicodeDecodeError as exc:
        raise SpecError(str(path), f"not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:
        raise SpecError(str(path), f"cannot be read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise SpecError(str(path), f"not valid YAML: {_yaml_problem(exc)}") from exc
    if not isinstance(raw, dict):
        raise SpecError(str(path), "a spec must be a mapping of fields")
    return parse_spec(raw, source=str(path))


def parse_spec(raw: dict[str, Any], *, source: str) -> ScriptSpec:
    """Validate a spec given as a mapping; errors name ``source`` and the field."""
    try:
        return ScriptSpec.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(source, describe_validation_error(exc)) from exc


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming the first failing field, e.g. ``field 'inputs.data.pth': ...``."""
    errors = exc.errors()
    # A typo shows as "unknown field" and, for a required field, "Field required" too:
    # name the typo, which is what the user typed.
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    where = ".".join(str(part) for part in error["loc"])
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown field (check the spelling)"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"field {where!r}: {message}{more}"


def spec_json_schema() -> str:
    """The spec's JSON schema, for editors and validation in CI."""
    schema = ScriptSpec.model_json_schema()
    schema["$id"] = f"https://sandbox.dev/schemas/script-spec-v{SPEC_SCHEMA_VERSION}.json"
    return json.dumps(schema, indent=2, sort_keys=True)


def _yaml_problem(exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).strip().splitlines()[0]
    return f"line {mark.line + 1}: {problem}" if mark is not None else str(problem)
