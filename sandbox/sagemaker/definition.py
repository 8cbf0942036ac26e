"""Run a SageMaker Pipeline definition locally, through the YAML pipelines' own machinery.

A definition (what ``Pipeline.definition()`` returns, Version 2020-12-01) is turned into
the same :class:`~sandbox.pipeline_spec.PipelineSpec` a YAML pipeline file holds: each
Processing and Training step becomes a step with a spec file (its job's fields, see
:mod:`sandbox.sagemaker.jobspec`) and its code staged as a local file; each ``Get`` of
another step's output (``Steps.X.ProcessingOutputConfig.Outputs['o'].S3Output.S3Uri``,
``Steps.X.ModelArtifacts.S3ModelArtifacts``) becomes an edge; ``Parameters`` and
``Std:Join`` are resolved with the defaults or the caller's values. The pipeline file is
written under the workspace and run by :func:`sandbox.pipeline.run_pipeline`, so edges
are checked and reported as for any pipeline. Other step types are shown as not run.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sandbox.datagen import DataSize
from sandbox.engine import Engine
from sandbox.errors import SpecError, UsageError
from sandbox.pipeline import RESULT_FILE, PipelineRequest, run_pipeline
from sandbox.pipeline_results import PipelineResult, StepResult
from sandbox.results import Status, TestResult
from sandbox.s3source import S3_CACHE_DIR, S3Cache
from sandbox.sagemaker.describe import ProcessingJobRequest, TrainingJobRequest
from sandbox.sagemaker.jobspec import JobSpec, job_spec
from sandbox.sagemaker.replay import local_image, stage_code
from sandbox.spec import ScriptSpec, describe_validation_error
from sandbox.workspace import Workspace, write_json_atomic

__all__ = ["DefinitionRequest", "run_definition"]

_DEFINITIONS_DIR = "definitions"
_STEP_REF = "sandbox-step://"
_OUTPUT_REF = re.compile(
    r"^Steps\.([^.]+)\.ProcessingOutputConfig\.Outputs\[['\"]([^'\"]+)['\"]\]\.S3Output\.S3Uri$"
)
_MODEL_REF = re.compile(r"^Steps\.([^.]+)\.ModelArtifacts\.S3ModelArtifacts$")
_RUNNABLE: dict[str, type[ProcessingJobRequest] | type[TrainingJobRequest]] = {
    "Processing": ProcessingJobRequest,
    "Training": TrainingJobRequest,
}
_PARAMETER_TYPES: dict[str, Callable[[str], Any]] = {
    "String": str,
    "Integer": int,
    "Float": float,
    "Boolean": lambda text: text.lower() == "true",
}


@dataclass(frozen=True)
class DefinitionRequest:
    """One ``sandbox test-pipeline --definition`` call, as plain data."""

    definition: Path
    parameters: Mapping[str, str] = field(default_factory=dict)
    """``--param NAME=VALUE``: overrides a parameter's default."""
    code: Mapping[str, Path] = field(default_factory=dict)
    """``--code STEP=PATH``: a step's entry script."""
    code_dir: Path | None = None
    """``--code-dir DIR``: scripts matched to steps by file name."""
    workspace: Path = Path(".sandbox")
    data_size: DataSize = DataSize.SMALL
    jobs: int = 1
    on_progress: Callable[[str], None] | None = None


@dataclass(frozen=True)
class _NotRun:
    name: str
    reason: str


def run_definition(request: DefinitionRequest, engine: Engine | None = None) -> PipelineResult:
    """Run the Processing and Training steps of a definition; show the others as not run.

    Raises:
        SpecError: the definition is not JSON, or a step's arguments are not valid.
        UsageError: an unknown ``--param``/``--code`` step, a reference that cannot be
            resolved locally, or a step with no code to run.
        InfrastructureError: no engine, or an image cannot be had.
    """
    source = str(request.definition)
    raw = _load(request.definition)
    parameters = _parameters(raw, request.parameters, source)
    steps = raw.get("Steps")
    if not isinstance(steps, list) or not steps:
        raise SpecError(source, "field 'Steps' missing or empty")
    _check_code_steps(request.code, steps)
    workspace = Workspace(request.workspace).ensure()
    folder = _fresh_folder(workspace, request.definition.stem)
    engine = engine or Engine.connect()
    builder = _Builder(request, parameters, folder, engine, source)
    for step in steps:
        builder.add(step)
    pipeline_file = builder.write(request.definition.stem)
    result = run_pipeline(
        PipelineRequest(
            pipeline_file=pipeline_file,
            scripts_dir=folder,
            workspace=request.workspace,
            data_size=request.data_size,
            jobs=request.jobs,
            on_progress=request.on_progress,
        ),
        engine,
    )
    return _with_definition_steps(result, builder, source)


def _load(path: Path) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SpecError(str(path), "definition file not found") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SpecError(str(path), f"not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise SpecError(str(path), "a pipeline definition is a JSON object with 'Steps'")
    return raw


def _parameters(raw: dict[str, Any], given: Mapping[str, str], source: str) -> dict[str, Any]:
    declared = {item.get("Name"): item for item in raw.get("Parameters", [])}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        known = ", ".join(str(name) for name in declared) or "none"
        raise UsageError(f"--param {unknown[0]}: no such parameter (parameters: {known})")
    values: dict[str, Any] = {}
    for name, item in declared.items():
        convert = _PARAMETER_TYPES.get(item.get("Type", "String"), str)
        if name in given:
            try:
                values[name] = convert(given[name])
            except ValueError as exc:
                raise UsageError(f"--param {name}={given[name]}: not a {item['Type']}") from exc
        elif "DefaultValue" in item:
            values[name] = item["DefaultValue"]
    return values


def _check_code_steps(code: Mapping[str, Path], steps: list[Any]) -> None:
    names = [step.get("Name") for step in steps if isinstance(step, dict)]
    for name in code:
        if name not in names:
            raise UsageError(f"--code {name}: no such step (steps: {', '.join(map(str, names))})")


def _fresh_folder(workspace: Workspace, stem: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "-", stem)[:100] or "pipeline"
    folder = workspace.root / _DEFINITIONS_DIR / safe
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


class _Builder:
    """Turns definition steps into pipeline steps, spec files, staged code and edges."""

    def __init__(
        self,
        request: DefinitionRequest,
        parameters: dict[str, Any],
        folder: Path,
        engine: Engine,
        source: str,
    ) -> None:
        self.request, self.parameters, self.folder = request, parameters, folder
        self.engine, self.source = engine, source
        self.cache = S3Cache(Workspace(request.workspace).root / S3_CACHE_DIR)
        self.steps: list[dict[str, Any]] = []
        self.edges: list[dict[str, str]] = []
        self.not_run: list[_NotRun] = []
        self.findings: dict[str, list[str]] = {}

    def add(self, step: Any) -> None:
        if not isinstance(step, dict) or "Name" not in step:
            raise SpecError(self.source, "a step without 'Name'")
        name, kind = str(step["Name"]), str(step.get("Type", ""))
        model = _RUNNABLE.get(kind)
        if model is None:
            self.not_run.append(_NotRun(name, f"a {kind or 'untyped'} step is not run locally"))
            return
        arguments = self._resolve(step.get("Arguments", {}), name)
        try:
            job = model.model_validate(arguments)
        except ValidationError as exc:
            raise SpecError(
                self.source, f"step {name}: Arguments {describe_validation_error(exc)}"
            ) from exc
        self._add_job(name, job_spec(job))

    def _add_job(self, name: str, plan: JobSpec) -> None:
        folder = self.folder / name
        folder.mkdir()
        script = stage_code(plan, self._local_code(name, plan), folder, self.cache)
        image, findings = local_image(plan.spec["image"], self.engine)
        self.findings[name] = [*findings, *plan.findings]
        fields = {**plan.spec, "script": script.name, "image": image}
        try:
            spec = ScriptSpec.model_validate(fields)
        except ValidationError as exc:
            raise SpecError(self.source, f"step {name}: {describe_validation_error(exc)}") from exc
        spec_file = folder / "spec.yaml"
        payload = spec.model_dump(mode="json", exclude_none=True)
        spec_file.write_text(yaml.safe_dump(payload, sort_keys=False), encoding="utf-8")
        inputs: dict[str, str] = {}
        for channel, uri in plan.input_uris.items():
            if uri.startswith(_STEP_REF):
                upstream = uri[len(_STEP_REF) :].strip("/")
                self.edges.append(
                    {"from": upstream.replace("/", ".", 1), "to": f"{name}.{channel}"}
                )
            else:
                inputs[channel] = uri
        self.steps.append(
            {
                "name": name,
                "script": str(script),
                "spec": str(spec_file),
                "environment": plan.environment,
                "inputs": inputs,
            }
        )

    def _local_code(self, name: str, plan: JobSpec) -> Path | None:
        if name in self.request.code:
            return self.request.code[name]
        code_dir = self.request.code_dir
        if code_dir is not None and plan.script_name and (code_dir / plan.script_name).is_file():
            return code_dir / plan.script_name
        return None

    def _resolve(self, value: Any, step: str) -> Any:
        if isinstance(value, list):
            return [self._resolve(item, step) for item in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Get"}:
            return self._get(str(value["Get"]), step)
        if set(value) == {"Std:Join"}:
            join = value["Std:Join"]
            parts = [self._resolve(item, step) for item in join.get("Values", [])]
            return str(join.get("On", "")).join(_text(part) for part in parts)
        return {key: self._resolve(item, step) for key, item in value.items()}

    def _get(self, reference: str, step: str) -> Any:
        if reference.startswith("Parameters."):
            name = reference.removeprefix("Parameters.")
            if name not in self.parameters:
                raise UsageError(
                    f"step {step}: parameter {name} has no default; give --param {name}=VALUE"
                )
            return self.parameters[name]
        if reference.startswith("Execution."):
            return f"local-{reference.removeprefix('Execution.')}"
        output = _OUTPUT_REF.match(reference)
        if output:
            return f"{_STEP_REF}{output.group(1)}/{output.group(2)}"
        model = _MODEL_REF.match(reference)
        if model:
            return f"{_STEP_REF}{model.group(1)}/model"
        raise UsageError(f"step {step}: {reference} cannot be resolved locally")

    def write(self, name: str) -> Path:
        path = self.folder / "pipeline.yaml"
        payload = {"name": name, "steps": self.steps, "edges": self.edges}
        path.write_text(yaml.safe_dump(payload, sort_keys=False), encoding="utf-8")
        return path


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _with_definition_steps(
    result: PipelineResult, builder: _Builder, source: str
) -> PipelineResult:
    """Each run step with its findings, then the steps that were not run, saved again."""
    steps = [
        step.model_copy(
            update={
                "result": step.result.model_copy(
                    update={"findings": [*step.result.findings, *builder.findings[step.name]]}
                )
            }
        )
        for step in result.steps
    ]
    for not_run in builder.not_run:
        steps.append(_not_run_step(not_run))
    updated = result.model_copy(update={"steps": steps, "pipeline_file": source})
    if updated.run_dir:
        write_json_atomic(Path(updated.run_dir) / RESULT_FILE, updated.to_json_dict())
    return updated


def _not_run_step(not_run: _NotRun) -> StepResult:
    result = TestResult(
        run_id="",
        script_name="",
        script_path="",
        kind="",
        call_style="",
        status=Status.SKIPPED,
        execution_time=0.0,
        error_message=f"not run: {not_run.reason}",
    )
    return StepResult(name=not_run.name, status=Status.SKIPPED, selected=False, result=result)
