"""A pipeline file as a SageMaker Pipeline definition (schema version 2020-12-01).

Each step becomes a ``Processing`` or ``Training`` step whose ``Arguments`` are the
request :mod:`sandbox.sagemaker.request` builds for it (without the job name, which the
pipeline gives each execution); an edge becomes ``DependsOn`` and, in the downstream
step's input, a ``Get`` of the upstream step's output location.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.constants import TRAINING_OUTPUT_PATHS, JobKind
from sandbox.container.training import training_output_paths
from sandbox.data.location import DataLocation, S3Uri
from sandbox.errors import SpecError
from sandbox.pipeline.plan import PipelinePlan, PlannedEdge, PlannedStep
from sandbox.sagemaker.request import (
    Destination,
    JobRequest,
    build_job_request,
    default_job_name,
)
from sandbox.sagemaker.validation import validate_request

__all__ = ["PIPELINE_DEFINITION_VERSION", "PipelineExport", "export_pipeline"]

PIPELINE_DEFINITION_VERSION = "2020-12-01"
_EDGE_BUCKET = "s3://sandbox-pipeline-edge"
"""Stands in for an edge-fed input until the request is checked, then becomes a ``Get``."""


@dataclass(frozen=True)
class PipelineExport:
    """The definition, and each step's request (code and local data to upload)."""

    definition: dict[str, Any]
    requests: dict[str, JobRequest]


def export_pipeline(
    plan: PipelinePlan,
    *,
    s3_prefix: str,
    role_arn: str,
    region: str,
    image_uri: Callable[[PlannedStep], str],
) -> PipelineExport:
    """The SageMaker Pipeline definition of ``plan``; every step's request is checked
    against botocore's service model first.

    ``image_uri`` gives the image each step runs (its profile's framework image, or the
    one the user named).

    Raises:
        RequestRejected: A step's request would be refused.
        SpecError: An edge leaves from an output SageMaker keeps nowhere (checkpoints).
    """
    steps, requests = [], {}
    for name in plan.order:
        step = plan.steps[name]
        inbound = plan.inbound(name)
        edge_uris = {
            edge.target.channel: S3Uri(f"{_EDGE_BUCKET}/{name}/{edge.target.channel}")
            for edge in inbound
        }
        destination = Destination(
            s3_prefix, role_arn, image_uri(step), default_job_name(name), region
        )
        inputs: dict[str, DataLocation] = {**step.real_inputs, **edge_uris}
        request = build_job_request(step.resolved, destination, inputs=inputs)
        validate_request(request.operation, request.params)
        requests[name] = request
        gets = {
            uri.uri: _upstream(plan, edge, str(plan.file))
            for edge, uri in zip(inbound, edge_uris.values(), strict=True)
        }
        steps.append(_step(name, request, gets, sorted({edge.source.step for edge in inbound})))
    definition = {
        "Version": PIPELINE_DEFINITION_VERSION,
        "Metadata": {},
        "Parameters": [],
        "PipelineExperimentConfig": {
            "ExperimentName": {"Get": "Execution.PipelineName"},
            "TrialName": {"Get": "Execution.PipelineExecutionId"},
        },
        "Steps": steps,
    }
    return PipelineExport(definition, requests)


def _step(
    name: str, request: JobRequest, gets: Mapping[str, Any], depends_on: list[str]
) -> dict[str, Any]:
    arguments = {
        key: value
        for key, value in request.params.items()
        if key not in ("ProcessingJobName", "TrainingJobName")
    }
    step: dict[str, Any] = {
        "Name": name,
        "Type": "Training" if request.kind is JobKind.TRAINING else "Processing",
        "Arguments": _substituted(arguments, gets),
    }
    if depends_on:
        step["DependsOn"] = depends_on
    return step


def _substituted(payload: Any, gets: Mapping[str, Any]) -> Any:
    if isinstance(payload, str):
        return gets.get(payload, payload)
    if isinstance(payload, dict):
        return {key: _substituted(value, gets) for key, value in payload.items()}
    if isinstance(payload, list):
        return [_substituted(item, gets) for item in payload]
    return payload


def _upstream(plan: PipelinePlan, edge: PlannedEdge, source: str) -> Any:
    """Where the upstream step's output lands, as the pipeline's property reference."""
    upstream = plan.steps[edge.source.step]
    channel = edge.source.channel
    if upstream.resolved.spec.kind is JobKind.TRAINING:
        path = training_output_paths(upstream.resolved.spec).get(channel, "")
        location = _training_output(upstream.name, path, source, edge.label)
    else:
        outputs = f"Steps.{upstream.name}.ProcessingOutputConfig.Outputs"
        location = {"Get": f"{outputs}['{channel}'].S3Output.S3Uri"}
    if not edge.source.sub_path:
        return location
    return {"Std:Join": {"On": "/", "Values": [location, edge.source.sub_path]}}


def _training_output(step: str, path: str, source: str, label: str) -> Any:
    """A training job leaves ``model.tar.gz`` and ``output.tar.gz`` under its output path."""
    if path == TRAINING_OUTPUT_PATHS["model"]:
        return {"Get": f"Steps.{step}.ModelArtifacts.S3ModelArtifacts"}
    if path != TRAINING_OUTPUT_PATHS["output_data"]:
        raise SpecError(
            source,
            f"edge {label}: SageMaker uploads only /opt/ml/model and /opt/ml/output/data "
            "of a training job",
        )
    return {
        "Std:Join": {
            "On": "/",
            "Values": [
                {"Get": f"Steps.{step}.OutputDataConfig.S3OutputPath"},
                {"Get": f"Steps.{step}.TrainingJobName"},
                "output",
                "output.tar.gz",
            ],
        }
    }
