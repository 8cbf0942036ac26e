"""The job submitted to SageMaker is the job checked locally: a local run's
processingjobconfig.json against the request `submit` sends (to moto's server)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from sandbox.contract.resolve import Overrides, find_script, resolve_script
from sandbox.results.models import Status
from sandbox.runner import RunRequest, run_script
from sandbox.sagemaker.request import Destination, build_job_request
from sandbox.sagemaker.submit import Clients, SubmitOptions, submit_job

pytestmark = pytest.mark.usefixtures("offline_image")

SCRIPTS = Path(__file__).resolve().parents[2] / "examples" / "scripts"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


def test_the_submitted_request_is_the_local_runs_job_config(
    engine: Any, s3_env: str, tmp_path: Path
) -> None:
    overrides = Overrides(
        arguments={"job_type": "training"},
        environment={"LABEL_FIELD": "label", "SERVICE_TOKEN": "tok-123456"},
        instance_type="ml.m5.large",
        max_runtime_s=900,
    )
    local = run_script(
        RunRequest(
            script="tabular_preprocessing",
            scripts_dir=SCRIPTS,
            overrides=overrides,
            workspace=tmp_path / "ws",
        ),
        engine,
    )
    assert local.status is Status.PASS, local.stderr_tail
    config = json.loads((Path(local.run_dir) / "config" / "processingjobconfig.json").read_text())

    bucket = f"sandbox-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    resolved = resolve_script(find_script("tabular_preprocessing", SCRIPTS), None, overrides)
    destination = Destination(f"s3://{bucket}/p", ROLE, "img.example/sk:1", "prep-same-job")
    request = build_job_request(resolved, destination)
    remote = submit_job(
        resolved, request, tmp_path / "ws", Clients.connect(), SubmitOptions(poll_interval_s=0)
    )
    sent = request.params
    kept = boto3.client("sagemaker").describe_processing_job(ProcessingJobName="prep-same-job")

    app = config["AppSpecification"]
    assert sent["AppSpecification"]["ContainerEntrypoint"] == app["ContainerEntrypoint"]
    assert sent["AppSpecification"]["ContainerArguments"] == app["ContainerArguments"]
    assert kept["AppSpecification"] == sent["AppSpecification"]
    # the config file on disk masks the secret; the request carries the real value
    assert config["Environment"] == {"LABEL_FIELD": "label", "SERVICE_TOKEN": "***"}
    assert sent["Environment"] == {"LABEL_FIELD": "label", "SERVICE_TOKEN": "tok-123456"}
    assert request.printable()["Environment"] == config["Environment"]
    for key in ("ProcessingResources", "StoppingCondition", "NetworkConfig"):
        assert sent[key] == config[key], key
    assert sent["ProcessingResources"]["ClusterConfig"]["InstanceType"] == "ml.m5.large"
    assert sent["StoppingCondition"] == {"MaxRuntimeInSeconds": 900}
    for key in ("StoppingCondition", "NetworkConfig"):
        assert kept[key] == sent[key], key

    def shape(inputs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
        return [
            (i["InputName"], {k: v for k, v in i["S3Input"].items() if k != "S3Uri"})
            for i in inputs
        ]

    assert shape(sent["ProcessingInputs"]) == shape(config["ProcessingInputs"])
    assert kept["ProcessingInputs"] == sent["ProcessingInputs"]
    outputs = sent["ProcessingOutputConfig"]["Outputs"]
    local_outputs = config["ProcessingOutputConfig"]["Outputs"]
    assert [o["OutputName"] for o in outputs] == [o["OutputName"] for o in local_outputs]
    assert [o["S3Output"]["LocalPath"] for o in outputs] == [
        o["S3Output"]["LocalPath"] for o in local_outputs
    ]
    assert remote.status is Status.PASS
    assert remote.spec == local.spec
