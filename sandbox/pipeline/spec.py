"""Pipeline specs: steps (scripts) and edges (an output channel feeding an input channel).

A pipeline file is YAML validated by frozen, strict pydantic models, so a typo is an
error naming the file and the field. This module checks the file on its own (names,
edge syntax, unknown steps); :mod:`sandbox.pipeline.plan` checks it against each
step's resolved channels and orders the steps.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sandbox.contract.spec import CallStyle, describe_validation_error
from sandbox.contract.validation import (
    check_arguments,
    check_environment,
    check_image_reference,
)
from sandbox.data.location import as_location
from sandbox.errors import SpecError

__all__ = [
    "PIPELINE_SCHEMA_VERSION",
    "EdgeSpec",
    "Endpoint",
    "PipelineSpec",
    "StepSpec",
    "load_pipeline_spec",
    "parse_endpoint",
    "parse_pipeline_spec",
    "pipeline_json_schema",
]

PIPELINE_SCHEMA_VERSION = 1
_STEP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_CHANNEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class StepSpec(_Frozen):
    """One step: a script and what it runs with (these override its spec file)."""

    name: str = Field(description="Step name: letters, digits, '_' and '-' (no dots).")
    script: str = Field(
        description="Script name or path, relative to the pipeline file's folder or --scripts-dir."
    )
    spec: str | None = Field(
        default=None, description="Spec file (YAML), relative to the pipeline file's folder."
    )
    image: str | None = Field(default=None, description="Image profile or image reference.")
    arguments: dict[str, str] = Field(default_factory=dict, description="--NAME VALUE.")
    environment: dict[str, str] = Field(default_factory=dict)
    call_style: CallStyle | None = None
    hyperparameters: dict[str, Any] = Field(default_factory=dict, description="Training only.")
    instance_type: str | None = Field(default=None, description="e.g. ml.m5.xlarge")
    inputs: dict[str, str] = Field(
        default_factory=dict,
        description="Input channel -> a real folder (relative to the pipeline file's folder) "
        "or an s3:// URI, for channels no edge feeds; the others get generated data.",
    )

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _STEP_NAME.match(value):
            raise ValueError(f"invalid step name {value!r} (letters, digits, '_', '-')")
        return value

    @field_validator("image")
    @classmethod
    def _valid_image(cls, value: str | None) -> str | None:
        return value if value is None else check_image_reference(value)

    @field_validator("environment")
    @classmethod
    def _valid_environment(cls, value: dict[str, str]) -> dict[str, str]:
        return check_environment(value)

    @field_validator("inputs")
    @classmethod
    def _valid_inputs(cls, value: dict[str, str]) -> dict[str, str]:
        for channel, location in value.items():
            try:
                as_location(location)
            except ValueError as exc:
                raise ValueError(f"{channel}: {exc}") from exc
        return value

    @field_validator("arguments")
    @classmethod
    def _valid_arguments(cls, value: dict[str, str]) -> dict[str, str]:
        return check_arguments(value)


class EdgeSpec(_Frozen):
    """``from: step.output_channel[/sub/folder]`` feeds ``to: step.input_channel``."""

    from_: str = Field(
        alias="from", description="step.output_channel, optionally /sub/folder inside it."
    )
    to: str = Field(description="step.input_channel")

    @property
    def label(self) -> str:
        """``a.out/train -> b.train``."""
        return f"{self.from_} -> {self.to}"


class PipelineSpec(_Frozen):
    """A pipeline: its steps and the edges between them."""

    schema_version: int = PIPELINE_SCHEMA_VERSION
    name: str | None = Field(default=None, description="Defaults to the file name.")
    steps: list[StepSpec] = Field(min_length=1)
    edges: list[EdgeSpec] = Field(default_factory=list)

    @field_validator("steps")
    @classmethod
    def _unique_steps(cls, value: list[StepSpec]) -> list[StepSpec]:
        seen: set[str] = set()
        for step in value:
            if step.name in seen:
                raise ValueError(f"step name {step.name!r} appears twice")
            seen.add(step.name)
        return value

    def step(self, name: str) -> StepSpec:
        """The step of that name (KeyError when there is none)."""
        return {step.name: step for step in self.steps}[name]


@dataclass(frozen=True)
class Endpoint:
    """One end of an edge: ``step.channel`` plus, on the output side, a sub-folder."""

    step: str
    channel: str
    sub_path: str = ""

    @property
    def label(self) -> str:
        suffix = f"/{self.sub_path}" if self.sub_path else ""
        return f"{self.step}.{self.channel}{suffix}"


def parse_endpoint(text: str, *, allow_sub_path: bool) -> Endpoint:
    """``"pre.data_output/train"`` -> ``Endpoint("pre", "data_output", "train")``.

    Raises:
        ValueError: the text is not ``step.channel`` (with ``/sub`` where allowed).
    """
    step, dot, rest = text.strip().partition(".")
    channel, _, sub_path = rest.partition("/")
    if not dot or not _STEP_NAME.match(step) or not _CHANNEL_NAME.match(channel):
        raise ValueError(f"{text!r} is not step.channel")
    sub = PurePosixPath(sub_path) if sub_path else None
    if sub is not None and (not allow_sub_path or ".." in sub.parts or sub.is_absolute()):
        raise ValueError(f"{text!r}: an input channel takes no sub-folder")
    return Endpoint(step, channel, sub.as_posix() if sub is not None else "")


def load_pipeline_spec(path: Path) -> PipelineSpec:
    """Load and validate a pipeline file (YAML).

    Raises:
        SpecError: the file is missing, not YAML, not a valid pipeline, or an edge
            names a step that does not exist; the message names the file.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SpecError(str(path), "pipeline file not found") from exc
    except yaml.YAMLError as exc:
        raise SpecError(str(path), f"not valid YAML: {exc}".splitlines()[0]) from exc
    if not isinstance(raw, dict):
        raise SpecError(str(path), "a pipeline must be a mapping with 'steps' and 'edges'")
    return parse_pipeline_spec(raw, source=str(path))


def parse_pipeline_spec(raw: dict[str, Any], *, source: str) -> PipelineSpec:
    """Validate a pipeline given as a mapping; errors name ``source``."""
    try:
        spec = PipelineSpec.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(source, describe_validation_error(exc)) from exc
    _check_edge_syntax(spec, source)
    return spec


def _check_edge_syntax(spec: PipelineSpec, source: str) -> None:
    names = [step.name for step in spec.steps]
    for edge in spec.edges:
        try:
            ends = (
                parse_endpoint(edge.from_, allow_sub_path=True),
                parse_endpoint(edge.to, allow_sub_path=False),
            )
        except ValueError as exc:
            raise SpecError(source, f"edge {edge.label}: {exc}") from exc
        for end in ends:
            if end.step not in names:
                raise SpecError(
                    source,
                    f"edge {edge.label}: unknown step {end.step!r} (steps: {', '.join(names)})",
                )


def pipeline_json_schema() -> str:
    """The pipeline file's JSON schema, for editors and validation in CI."""
    schema = PipelineSpec.model_json_schema(by_alias=True)
    schema["$id"] = f"https://sandbox.dev/schemas/pipeline-spec-v{PIPELINE_SCHEMA_VERSION}.json"
    return json.dumps(schema, indent=2, sort_keys=True)
