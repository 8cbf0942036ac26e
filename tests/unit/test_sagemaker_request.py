"""The SageMaker requests of a run (sandbox.sagemaker.request, .validation,
.framework_images, .pipeline_export) and `sandbox export-job`: offline, no Docker."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sandbox.cli.app import cli
from sandbox.constants import JobKind
from sandbox.container.layout import InputBinding, processing_layout
from sandbox.contract.resolve import Overrides, find_script, resolve_script
from sandbox.data.location import S3Uri
from sandbox.errors import UsageError
from sandbox.pipeline.plan import plan_pipeline
from sandbox.results.workspace import Workspace
from sandbox.sagemaker.framework_images import framework_image_uri
from sandbox.sagemaker.pipeline_export import export_pipeline
from sandbox.sagemaker.request import (
    Destination,
    build_job_request,
    default_job_name,
    folder_digest,
    parse_s3_prefix,
)
from sandbox.sagemaker.validation import RequestRejected, validate_request

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "examples" / "scripts"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
PREFIX = "s3://bucket/team/jobs"
PREPROCESS_OUTPUTS = "Steps.preprocess.ProcessingOutputConfig.Outputs"


def _resolved(name: str, overrides: Overrides | None = None, spec: Path | None = None) -> Any:
    return resolve_script(find_script(name, SCRIPTS), spec, overrides or Overrides())


def _destination(job_name: str = "job-1", image: str = "img.example/sklearn:1") -> Destination:
    return Destination(PREFIX, ROLE, image, job_name, "eu-west-1")


def _preprocessing(**environment: str) -> Any:
    return _resolved(
        "tabular_preprocessing",
        Overrides(
            arguments={"job_type": "training"}, environment={"LABEL_FIELD": "label", **environment}
        ),
    )


# bundled examples pass botocore's validation -------------------------------------------


@pytest.mark.parametrize(
    ("script", "spec", "operation"),
    [
        ("tabular_preprocessing", "tabular_preprocessing.yaml", "CreateProcessingJob"),
        ("model_calibration", "model_calibration.yaml", "CreateProcessingJob"),
        ("xgboost_training", "xgboost_training.yaml", "CreateTrainingJob"),
        ("xgboost_training", None, "CreateTrainingJob"),
    ],
)
def test_the_bundled_examples_export_requests_botocore_accepts(
    script: str, spec: str | None, operation: str
) -> None:
    spec_path = REPO / "examples" / "specs" / spec if spec else None
    resolved = _resolved(script, Overrides(environment={"LABEL_FIELD": "label"}), spec_path)
    image = framework_image_uri(resolved.spec.image or "sklearn-1.2", "eu-west-1")
    request = build_job_request(resolved, _destination(image=image))
    assert request.operation == operation
    validate_request(request.operation, request.params)  # raises when refused
    validate_request(request.operation, request.printable())


def test_the_processing_request_is_the_local_job_config_with_real_places(tmp_path: Path) -> None:
    """The same mapping both ways: only S3 URIs, image, role and the job's ARN differ."""
    resolved = _preprocessing()
    request = build_job_request(resolved, _destination())
    run = Workspace(tmp_path).ensure().new_run("tabular_preprocessing")
    bindings = [
        InputBinding(name, channel.path, tmp_path, "generated")
        for name, channel in resolved.spec.inputs.items()
    ]
    layout = processing_layout(
        resolved.spec, resolved.script_path, bindings, run, image="sandbox/x", job_name="local"
    )
    local = layout.config_files["processingjobconfig.json"]
    sent = request.params
    assert (
        sent["AppSpecification"]["ContainerEntrypoint"]
        == local["AppSpecification"]["ContainerEntrypoint"]
    )
    assert sent["AppSpecification"]["ContainerArguments"] == ["--job_type", "training"]
    assert (
        sent["AppSpecification"]["ContainerArguments"]
        == local["AppSpecification"]["ContainerArguments"]
    )
    for key in ("Environment", "ProcessingResources", "StoppingCondition", "NetworkConfig"):
        assert sent[key] == local[key], key
    assert [_without_uri(i["S3Input"]) for i in sent["ProcessingInputs"]] == [
        _without_uri(i["S3Input"]) for i in local["ProcessingInputs"]
    ]
    assert [_without_uri(o["S3Output"]) for o in sent["ProcessingOutputConfig"]["Outputs"]] == [
        _without_uri(o["S3Output"]) for o in local["ProcessingOutputConfig"]["Outputs"]
    ]
    assert "ProcessingJobArn" not in sent and sent["RoleArn"] == ROLE
    assert sent["AppSpecification"]["ImageUri"] == "img.example/sklearn:1"


def _without_uri(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entry.items() if key != "S3Uri"}


def test_code_inputs_and_outputs_sit_under_the_prefix_code_content_addressed() -> None:
    request = build_job_request(_preprocessing(), _destination())
    inputs = {i["InputName"]: i["S3Input"] for i in request.params["ProcessingInputs"]}
    script = SCRIPTS / "tabular_preprocessing.py"
    assert inputs["code"]["LocalPath"] == "/opt/ml/processing/input/code"
    assert request.code.uri == inputs["code"]["S3Uri"]
    assert request.code.uri.startswith(f"{PREFIX}/code/")
    assert request.code.uri.endswith("/tabular_preprocessing.py")
    assert request.code.body == script.read_bytes()
    assert inputs["data_input"]["S3Uri"] == f"{PREFIX}/input/data_input"
    [output] = request.params["ProcessingOutputConfig"]["Outputs"]
    assert output["S3Output"]["S3Uri"] == f"{PREFIX}/job-1/output/data_output"
    # a different script is a different key
    other = build_job_request(_resolved("model_calibration"), _destination())
    assert other.code.uri.rsplit("/", 2)[1] != request.code.uri.rsplit("/", 2)[1]


def test_a_local_input_folder_gets_a_content_addressed_prefix(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "part.csv").write_text("a,label\n1,0\n")
    resolved = _preprocessing()
    first = build_job_request(resolved, _destination(), inputs={"data_input": data})
    uri = first.params["ProcessingInputs"][0]["S3Input"]["S3Uri"]
    assert uri == f"{PREFIX}/data/{folder_digest(data)}"
    assert first.uploads == {uri: data.resolve()}
    (data / "part.csv").write_text("a,label\n2,1\n")
    assert folder_digest(data) not in uri
    given = build_job_request(resolved, _destination(), inputs={"data": S3Uri("s3://real/data/")})
    assert given.params["ProcessingInputs"][0]["S3Input"]["S3Uri"] == "s3://real/data/"
    assert given.uploads == {}


def test_an_input_naming_no_channel_is_refused() -> None:
    with pytest.raises(UsageError, match="--input nope: the script has no such input channel"):
        build_job_request(_preprocessing(), _destination(), inputs={"nope": S3Uri("s3://b/x")})


def test_secret_values_are_masked_in_what_is_printed_but_sent_for_real() -> None:
    request = build_job_request(_preprocessing(DB_PASSWORD="hunter2-x"), _destination())
    assert request.params["Environment"]["DB_PASSWORD"] == "hunter2-x"
    assert request.printable()["Environment"] == {"LABEL_FIELD": "label", "DB_PASSWORD": "***"}
    assert request.secret_names == ("DB_PASSWORD",)


def test_the_training_request_is_script_mode_as_the_sdk_builds_it() -> None:
    resolved = _resolved(
        "xgboost_training",
        Overrides(
            hyperparameters={"num_round": 20, "eta": 0.3}, environment={"LABEL_FIELD": "label"}
        ),
    )
    request = build_job_request(resolved, _destination())
    params = request.params
    assert request.kind is JobKind.TRAINING
    assert params["AlgorithmSpecification"] == {
        "TrainingImage": "img.example/sklearn:1",
        "TrainingInputMode": "File",
    }
    hps = params["HyperParameters"]
    assert hps["num_round"] == "20" and hps["eta"] == "0.3"
    assert hps["sagemaker_program"] == '"xgboost_training.py"'
    assert hps["sagemaker_region"] == '"eu-west-1"'
    # network isolation: the code comes as the SDK's `code` channel
    assert params["EnableNetworkIsolation"] is True
    assert hps["sagemaker_submit_directory"] == '"/opt/ml/input/data/code/sourcedir.tar.gz"'
    channels = {c["ChannelName"]: c for c in params["InputDataConfig"]}
    assert channels["code"]["DataSource"]["S3DataSource"]["S3Uri"] == request.code.uri
    assert channels["train"]["DataSource"]["S3DataSource"]["S3Uri"] == f"{PREFIX}/input/train"
    assert channels["train"]["InputMode"] == "File"
    assert params["OutputDataConfig"] == {"S3OutputPath": f"{PREFIX}/output"}
    assert params["ResourceConfig"]["InstanceCount"] == 1
    assert params["Environment"] == {"LABEL_FIELD": "label"}


def test_a_training_job_with_network_reads_its_code_from_s3() -> None:
    resolved = _resolved("xgboost_training", Overrides(network=True))
    request = build_job_request(resolved, _destination())
    assert request.params["EnableNetworkIsolation"] is False
    assert (
        json.loads(request.params["HyperParameters"]["sagemaker_submit_directory"])
        == request.code.uri
    )
    assert "code" not in {c["ChannelName"] for c in request.params["InputDataConfig"]}


def test_the_training_code_archive_is_the_same_bytes_each_time() -> None:
    resolved = _resolved("xgboost_training")
    first = build_job_request(resolved, _destination())
    second = build_job_request(resolved, _destination(job_name="job-2"))
    assert first.code == second.code
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(first.code.body), mode="r:gz") as archive:
        assert archive.getnames() == ["xgboost_training.py"]


# names, prefixes, images -----------------------------------------------------------------


@pytest.mark.parametrize(
    "stem", ["tabular_preprocessing", "__x__", "é" * 10, "a" * 200, "model.v2 (final)"]
)
def test_default_job_names_are_valid_for_the_api(stem: str) -> None:
    import re

    name = default_job_name(stem, datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name), name
    assert name.endswith("20260102-030405")


def test_an_s3_prefix_must_name_a_bucket() -> None:
    assert parse_s3_prefix("s3://bucket/a/b/") == "s3://bucket/a/b"
    with pytest.raises(UsageError, match="--s3-prefix"):
        parse_s3_prefix("bucket/a")


def test_framework_images_by_profile_and_region() -> None:
    assert (
        framework_image_uri("sklearn-1.2", "us-east-1")
        == "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
    )
    assert (
        framework_image_uri("xgboost-1.7", "eu-west-1")
        == "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    )
    assert framework_image_uri("sklearn-1.2", "cn-north-1").endswith(
        ".amazonaws.com.cn/sagemaker-scikit-learn:1.2-1-cpu-py3"
    )
    with pytest.raises(UsageError, match=r"--image-uri is needed.*'py311'"):
        framework_image_uri("py311", "us-east-1")
    with pytest.raises(UsageError, match=r"--image-uri is needed.*mars-1"):
        framework_image_uri("sklearn-1.2", "mars-1")


# validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"RoleArn": "role"}, "Invalid length for parameter RoleArn"),
        ({"RoleArn": "arn:aws:iam::12:role/too-short-account"}, "RoleArn"),
        ({"ProcessingJobName": "bad_name"}, "ProcessingJobName"),
        ({"StoppingCondition": {"MaxRuntimeInSeconds": "600"}}, "MaxRuntimeInSeconds"),
        ({"Surprise": 1}, 'Unknown parameter in input: "Surprise"'),
    ],
)
def test_botocore_refuses_a_bad_request_with_its_own_message(
    change: dict[str, Any], message: str
) -> None:
    request = build_job_request(_preprocessing(), _destination())
    with pytest.raises(RequestRejected, match=message) as caught:
        validate_request(request.operation, {**request.params, **change})
    assert caught.value.exit_code == 2
    assert caught.value.operation == "CreateProcessingJob"


def test_an_instance_type_the_service_model_does_not_list_is_refused() -> None:
    resolved = _resolved("model_calibration", Overrides(instance_type="ml.m5.xlarge"))
    params = build_job_request(resolved, _destination()).params
    params["ProcessingResources"]["ClusterConfig"]["InstanceType"] = "ml.bogus"
    with pytest.raises(RequestRejected, match=r"ClusterConfig\.InstanceType, value: 'ml\.bogus'"):
        validate_request("CreateProcessingJob", params)


# the pipeline definition -----------------------------------------------------------------


def test_the_bundled_pipeline_exports_steps_with_gets_and_depends_on() -> None:
    plan = plan_pipeline(
        REPO / "examples" / "pipelines" / "preprocess_train_calibrate.yaml", SCRIPTS
    )
    exported = export_pipeline(
        plan, s3_prefix=PREFIX, role_arn=ROLE, region="us-east-1", image_uri=lambda _step: "img:1"
    )
    definition = json.loads(json.dumps(exported.definition))  # plain JSON
    assert definition["Version"] == "2020-12-01"
    steps = {step["Name"]: step for step in definition["Steps"]}
    assert [s["Name"] for s in definition["Steps"]] == ["preprocess", "training", "calibration"]
    assert {name: s["Type"] for name, s in steps.items()} == {
        "preprocess": "Processing",
        "training": "Training",
        "calibration": "Processing",
    }
    assert "DependsOn" not in steps["preprocess"]
    assert steps["training"]["DependsOn"] == ["preprocess"]
    assert steps["calibration"]["DependsOn"] == ["training"]
    train = {c["ChannelName"]: c for c in steps["training"]["Arguments"]["InputDataConfig"]}
    assert train["train"]["DataSource"]["S3DataSource"]["S3Uri"] == {
        "Std:Join": {
            "On": "/",
            "Values": [{"Get": f"{PREPROCESS_OUTPUTS}['data_output'].S3Output.S3Uri"}, "train"],
        }
    }
    [eval_data] = [
        i
        for i in steps["calibration"]["Arguments"]["ProcessingInputs"]
        if i["InputName"] == "eval_data"
    ]
    values = eval_data["S3Input"]["S3Uri"]["Std:Join"]["Values"]
    assert values[0] == {"Get": "Steps.training.OutputDataConfig.S3OutputPath"}
    assert values[-1] == "output.tar.gz"
    assert all("JobName" not in key for step in steps.values() for key in step["Arguments"])
    # each step's Arguments is the request export-job prints for it (without the name)
    assert (
        steps["preprocess"]["Arguments"]["AppSpecification"]
        == exported.requests["preprocess"].params["AppSpecification"]
    )


# the command -----------------------------------------------------------------------------


def _export(*args: str) -> Any:
    return CliRunner().invoke(
        cli,
        ["export-job", *args, "--s3-prefix", PREFIX, "--scripts-dir", str(SCRIPTS)],
        env={"SANDBOX_ROLE_ARN": ROLE, "AWS_REGION": "eu-west-1"},
    )


def test_export_job_prints_the_request_alone_on_stdout() -> None:
    result = _export(
        "tabular_preprocessing",
        "--arg",
        "job_type=training",
        "--env",
        "LABEL_FIELD=label",
        "--secret-env",
        "LABEL_FIELD",
        "--job-name",
        "prep-1",
        "--max-runtime",
        "600",
        "--instance-type",
        "ml.m5.large",
    )
    assert result.exit_code == 0, result.output
    request = json.loads(result.stdout)
    assert request["ProcessingJobName"] == "prep-1"
    assert request["RoleArn"] == ROLE
    assert request["AppSpecification"]["ImageUri"].startswith("141502667606.dkr.ecr.eu-west-1.")
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 600}
    assert request["ProcessingResources"]["ClusterConfig"]["InstanceType"] == "ml.m5.large"
    assert request["Environment"] == {"LABEL_FIELD": "***"}
    assert "LABEL_FIELD are shown as ***" in result.stderr


def test_export_job_refused_by_botocore_is_exit_2_with_its_message() -> None:
    result = _export("model_calibration", "--role", "arn:aws:iam::1:role/x")
    assert result.exit_code == 2
    assert "CreateProcessingJob request rejected by botocore" in result.stderr
    assert "RoleArn" in result.stderr
    assert result.stdout == ""


def test_export_job_needs_a_role() -> None:
    result = CliRunner().invoke(
        cli,
        ["export-job", "model_calibration", "--s3-prefix", PREFIX, "--scripts-dir", str(SCRIPTS)],
        env={"SANDBOX_ROLE_ARN": None},
    )
    assert result.exit_code == 2
    assert "Missing option '--role'" in result.output


def test_export_job_runs_the_entry_point_of_a_main_call_style_spec(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("script: model_calibration.py\ncall_style: main\n")
    result = _export("model_calibration", "--spec", str(spec))
    assert result.exit_code == 0, result.output
    assert "the job runs the entry point, as production does" in result.stderr
    entrypoint = json.loads(result.stdout)["AppSpecification"]["ContainerEntrypoint"]
    assert entrypoint == ["python3", "/opt/ml/processing/input/code/model_calibration.py"]


def test_export_job_takes_only_the_entrypoint_call_style() -> None:
    result = _export("model_calibration", "--call-style", "main")
    assert result.exit_code == 2
    assert "'main' is not 'entrypoint'" in result.output


def test_export_job_without_botocore_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "botocore" or m.startswith("botocore.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "botocore", None)  # import botocore -> ImportError
    result = _export("model_calibration")
    assert result.exit_code == 2
    assert "needs botocore, which is not installed: pip install 'sandbox[s3]'" in result.stderr


def test_test_pipeline_export_prints_a_definition() -> None:
    result = CliRunner().invoke(
        cli,
        [
            "test-pipeline",
            str(REPO / "examples" / "pipelines" / "preprocess_train_calibrate.yaml"),
            "--export",
            "--s3-prefix",
            PREFIX,
            "--role",
            ROLE,
        ],
    )
    assert result.exit_code == 0, result.output
    definition = json.loads(result.stdout)
    assert [step["Type"] for step in definition["Steps"]] == [
        "Processing",
        "Training",
        "Processing",
    ]
    image = definition["Steps"][0]["Arguments"]["AppSpecification"]["ImageUri"]
    assert image.endswith("/sagemaker-scikit-learn:1.2-1-cpu-py3")


def test_test_pipeline_export_needs_a_prefix_and_a_role() -> None:
    result = CliRunner().invoke(
        cli,
        [
            "test-pipeline",
            str(REPO / "examples" / "pipelines" / "preprocess_train_calibrate.yaml"),
            "--export",
        ],
        env={"SANDBOX_ROLE_ARN": None},
    )
    assert result.exit_code == 2
    assert "--export needs --s3-prefix and --role" in result.stderr
