"""Run a SageMaker Pipeline definition locally, through the YAML pipelines' own machinery.

A definition (what ``Pipeline.definition()`` returns, Version 2020-12-01) is turned into
the same :class:`~sandbox.pipeline.spec.PipelineSpec` a YAML pipeline file holds: each
Processing and Training step becomes a step with a spec file (its job's fields, see
:mod:`sandbox.sagemaker.jobspec`) and its code staged as a local file; each ``Get`` of
another step's output (``Steps.X.ProcessingOutputConfig.Outputs['o'].S3Output.S3Uri``,
``Steps.X.ModelArtifacts.S3ModelArtifacts``) becomes an edge; ``Parameters`` and
``Std:Join`` are resolved with the defaults or the caller's values. The pipeline file is
written under the workspace and run by :func:`sandbox.pipeline.run.run_pipeline`, so edges
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

from sandbox.container.engine import engine_or_connect
from sandbox.container.seam import Engine
from sandbox.contract.spec import describe_validation_error
from sandbox.data.datagen import DataSize
from sandbox.data.s3source import S3_CACHE_DIR, S3Cache, is_s3_uri
from sandbox.errors import SpecError, UsageError
from sandbox.pipeline.run import PipelineRequest, run_pipeline
from sandbox.pipeline.spec import parse_pipeline_spec
from sandbox.results.models import Status, TestResult
from sandbox.results.pipeline import PipelineResult, StepResult
from sandbox.results.store import save_pipeline_result
from sandbox.results.workspace import Workspace, make_private_folder
from sandbox.sagemaker.conditions import (
    ConditionContext,
    NotEvaluable,
    PropertyFile,
    evaluate_conditions,
)
from sandbox.sagemaker.describe import ProcessingJobRequest, TrainingJobRequest
from sandbox.sagemaker.jobspec import JobSpec, job_spec
from sandbox.sagemaker.replay import local_image, stage_code, write_spec_file

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
    synthetic: bool = False
    """Generate the inputs no other step feeds instead of reading their S3 data."""
    workspace: Path = Path(".sandbox")
    data_size: DataSize = DataSize.SMALL
    jobs: int = 1
    from_step: str | None = None
    only_step: str | None = None
    on_progress: Callable[[str], None] | None = None


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
    parameters = _parameters(raw, request.parameters)
    steps = raw.get("Steps")
    if not isinstance(steps, list) or not steps:
        raise SpecError(source, "field 'Steps' missing or empty")
    _check_code_steps(request.code, steps)
    workspace = Workspace(request.workspace).ensure()
    folder = _fresh_folder(workspace, request.definition.stem)
    with engine_or_connect(engine) as connected:
        return _run_steps(request, steps, parameters, folder, connected, source)


def _run_steps(
    request: DefinitionRequest,
    steps: list[Any],
    parameters: dict[str, Any],
    folder: Path,
    engine: Engine,
    source: str,
) -> PipelineResult:
    builder = _Builder(request, parameters, folder, engine, source)
    for step in steps:
        builder.add(step)
    if not builder.steps:
        raise SpecError(source, "no Processing or Training step: nothing runs locally")
    pipeline_file = builder.write(request.definition.stem)
    result = run_pipeline(
        PipelineRequest(
            pipeline_file=pipeline_file,
            scripts_dir=folder,
            workspace=request.workspace,
            data_size=request.data_size,
            jobs=request.jobs,
            from_step=request.from_step,
            only_step=request.only_step,
            on_progress=request.on_progress,
        ),
        engine,
    )
    return _with_definition_steps(result, builder)


def _load(path: Path) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SpecError(str(path), "definition file not found") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SpecError(str(path), f"not valid JSON: {exc}") from exc
    if isinstance(raw, dict) and isinstance(raw.get("PipelineDefinition"), str):
        # A DescribePipelineDefinitionForExecution response holds the definition as text.
        try:
            raw = json.loads(raw["PipelineDefinition"])
        except json.JSONDecodeError as exc:
            raise SpecError(str(path), f"field 'PipelineDefinition': not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise SpecError(str(path), "a pipeline definition is a JSON object with 'Steps'")
    return raw


def _parameters(raw: dict[str, Any], given: Mapping[str, str]) -> dict[str, Any]:
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
                raise UsageError(
                    f"--param {name}={given[name]}: not of type {item['Type']}"
                ) from exc
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
    make_private_folder(folder)  # the steps' environment is written there
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
        self.not_run: list[dict[str, Any]] = []
        self.property_files: dict[tuple[str, str], PropertyFile] = {}
        self.model_refs: set[str] = set()
        self.findings: dict[str, list[str]] = {}

    def add(self, step: Any) -> None:
        if not isinstance(step, dict) or "Name" not in step:
            raise SpecError(self.source, "a step without 'Name'")
        name, kind = str(step["Name"]), str(step.get("Type", ""))
        model = _RUNNABLE.get(kind)
        if model is None:
            self.not_run.append(step)
            return
        for item in step.get("PropertyFiles", []):
            self.property_files[(name, str(item.get("PropertyFileName")))] = PropertyFile(
                str(item.get("OutputName")), str(item.get("FilePath"))
            )
        arguments = self.resolve(step.get("Arguments", {}), name)
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
        code = stage_code(plan, self._local_code(name, plan), folder, self.cache)
        script = code.script
        image, findings = local_image(plan.spec["image"], self.engine)
        self.findings[name] = [*findings, *plan.findings]
        if code.source_dir is not None:
            self.findings[name].append(
                f"code {plan.code_uri}: holds more than the entry script; a pipeline step "
                "mounts the script alone (replay the step's job to run the whole tree)"
            )
        fields = {**plan.spec, "script": script.name, "image": image}
        spec_file = write_spec_file(fields, folder / "spec.yaml", f"{self.source}: step {name}")
        self.steps.append(
            {
                "name": name,
                "script": str(script),
                "spec": str(spec_file),
                "environment": plan.environment,
                "inputs": self._inputs(name, plan),
            }
        )

    def _inputs(self, name: str, plan: JobSpec) -> dict[str, str]:
        """The step's inputs no other step feeds; the others become edges."""
        inputs: dict[str, str] = {}
        for channel, uri in plan.input_uris.items():
            if uri.startswith(_STEP_REF):
                self._add_edge(name, channel, uri)
            elif _STEP_REF in uri:
                raise UsageError(
                    f"step {name}: input {channel}: another step's output inside a longer "
                    "URI cannot be mapped to a local folder"
                )
            elif not self.request.synthetic:
                inputs[channel] = uri if is_s3_uri(uri) else str(Path(uri).resolve())
        return inputs

    def _add_edge(self, name: str, channel: str, uri: str) -> None:
        upstream = uri[len(_STEP_REF) :].strip("/")
        self.edges.append({"from": upstream.replace("/", ".", 1), "to": f"{name}.{channel}"})
        if uri in self.model_refs:
            self.findings[name].append(
                f"input {channel}: production gives the training job's model.tar.gz; "
                "here its model folder, unpacked"
            )

    def _local_code(self, name: str, plan: JobSpec) -> Path | None:
        if name in self.request.code:
            return self.request.code[name]
        code_dir = self.request.code_dir
        if code_dir is not None and plan.script_name and (code_dir / plan.script_name).is_file():
            return code_dir / plan.script_name
        return None

    def resolve(self, value: Any, step: str) -> Any:
        """``value`` with its ``Get`` and ``Std:Join`` resolved; another step's output
        becomes a step reference that :meth:`_add_job` turns into an edge.

        Raises:
            UsageError: a reference that cannot be resolved locally.
        """
        if isinstance(value, list):
            return [self.resolve(item, step) for item in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Get"}:
            return self._get(str(value["Get"]), step)
        if set(value) == {"Std:Join"}:
            join = value["Std:Join"]
            parts = [self.resolve(item, step) for item in join.get("Values", [])]
            return str(join.get("On", "")).join(_text(part) for part in parts)
        return {key: self.resolve(item, step) for key, item in value.items()}

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
            self.model_refs.add(f"{_STEP_REF}{model.group(1)}/model")
            return f"{_STEP_REF}{model.group(1)}/model"
        raise UsageError(f"step {step}: {reference} cannot be resolved locally")

    def write(self, name: str) -> Path:
        """The pipeline as a YAML pipeline file: the same model, checked the same way."""
        raw = {"name": name, "steps": self.steps, "edges": self.edges}
        spec = parse_pipeline_spec(raw, source=self.source)
        payload = spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        path = self.folder / "pipeline.yaml"
        path.write_text(yaml.safe_dump(payload, sort_keys=False), encoding="utf-8")
        return path


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _with_definition_steps(result: PipelineResult, builder: _Builder) -> PipelineResult:
    """Each run step with its findings, then the steps that were not run (a Condition
    evaluated where it can be), saved again."""
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
    context = ConditionContext(
        parameters=builder.parameters,
        property_files=builder.property_files,
        output_dirs={
            step.name: Path(step.run_dir) / "outputs"
            for step in result.steps
            if step.status is Status.PASS and step.run_dir
        },
    )
    settled = [entry for raw in builder.not_run for entry in _settle(raw, builder, context)]
    failed = any(step.status is Status.FAIL for step in settled)
    updated = result.model_copy(
        update={"steps": [*steps, *settled], "status": Status.FAIL if failed else result.status}
    )
    return save_pipeline_result(updated) if updated.run_dir else updated


def _settle(raw: dict[str, Any], builder: _Builder, context: ConditionContext) -> list[StepResult]:
    """A step that runs no container: a Condition (evaluated when its operands are
    known here, its branches after it), or any other type, not run."""
    name, kind = str(raw["Name"]), str(raw.get("Type") or "untyped")
    if kind != "Condition":
        return [_not_run_step(name, Status.SKIPPED, f"not run: a {kind} step is not run locally")]
    arguments = raw.get("Arguments", {})
    branches = {"if": arguments.get("IfSteps", []), "else": arguments.get("ElseSteps", [])}
    try:
        value, text = evaluate_conditions(arguments.get("Conditions", []), context)
    except NotEvaluable as exc:
        reason = f"not evaluated: {exc}"
        nested = [
            _not_run_step(str(step.get("Name")), Status.SKIPPED, f"in a branch of {name}, {reason}")
            for steps in branches.values()
            for step in steps
        ]
        return [_not_run_step(name, Status.SKIPPED, f"a Condition step, {reason}"), *nested]
    taken = "if" if value else "else"
    names = ", ".join(str(step.get("Name")) for step in branches[taken]) or "no steps"
    reason = f"evaluated here: {text} is {str(value).lower()}: the {taken} branch runs ({names})"
    settled = [_not_run_step(name, Status.SKIPPED, reason)]
    for label, steps in branches.items():
        for step in steps:
            settled.append(_branch_step(step, name, label, taken == label, text, builder))
    return settled


def _branch_step(
    step: dict[str, Any], condition: str, label: str, taken: bool, text: str, builder: _Builder
) -> StepResult:
    name, kind = str(step.get("Name")), str(step.get("Type"))
    where = f"in the {label} branch of {condition}"
    if not taken:
        return _not_run_step(name, Status.SKIPPED, f"{where}, not taken")
    if kind == "Fail":
        try:
            message = _text(
                builder.resolve(step.get("Arguments", {}).get("ErrorMessage", ""), name)
            )
        except UsageError as exc:
            message = str(exc)
        return _not_run_step(
            name,
            Status.FAIL,
            f"reached {where} ({text}): production fails here: {message}",
            selected=True,
        )
    return _not_run_step(
        name, Status.SKIPPED, f"{where} (taken): steps inside a branch are not run locally"
    )


def _not_run_step(name: str, status: Status, reason: str, *, selected: bool = False) -> StepResult:
    result = TestResult(
        run_id="",
        script_name="",
        script_path="",
        kind="",
        call_style="",
        status=status,
        error_message=reason,
    )
    return StepResult(name=name, status=status, selected=selected, result=result)
