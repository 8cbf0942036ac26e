"""``sandbox export-job`` and ``sandbox submit``: the same job on SageMaker itself.

``export-job`` prints the CreateProcessingJob (or CreateTrainingJob) request production
would get for a script, checked against botocore's service model; ``submit`` sends it
and follows the job to a verdict. ``test-pipeline --export`` prints a pipeline's
SageMaker Pipeline definition through :func:`export_pipeline_definition`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from sandbox.cli.common import (
    arg_option,
    echo_json,
    env_option,
    exit_with_result,
    handles_errors,
    hyperparameters_option,
    output_format_option,
    parse_hyperparameters,
    parse_pairs,
    scripts_dir_option,
    spec_option,
    spinner,
    stderr_console,
    workspace_dir_option,
)
from sandbox.errors import UsageError

__all__ = [
    "SAGEMAKER_COMMANDS",
    "export_job_command",
    "export_pipeline_definition",
    "pipeline_export_options",
    "submit_command",
]

_DEFAULT_REGION = "us-east-1"


def _destination_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Where the job runs: S3 prefix, role, image URI, region, job name."""
    for option in reversed(
        [
            click.option(
                "--s3-prefix",
                required=True,
                metavar="s3://BUCKET/PREFIX",
                help="Where code, inputs and outputs live on S3.",
            ),
            click.option(
                "--role",
                "role_arn",
                envvar="SANDBOX_ROLE_ARN",
                required=True,
                metavar="ARN",
                help="The job's IAM role (env: SANDBOX_ROLE_ARN).",
            ),
            click.option(
                "--image-uri",
                metavar="URI",
                help="The ECR image production runs (default: the SageMaker framework image "
                "the profile stands in for, in --region).",
            ),
            click.option(
                "--region",
                envvar=["AWS_REGION", "AWS_DEFAULT_REGION"],
                default=_DEFAULT_REGION,
                show_default=True,
                help="AWS region (env: AWS_REGION, AWS_DEFAULT_REGION).",
            ),
        ]
    ):
        command = option(command)
    return command


def _job_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The test-script options that shape a job."""
    for option in reversed(
        [
            click.argument("script"),
            scripts_dir_option(),
            spec_option,
            click.option(
                "--contract",
                "contract_path",
                type=click.Path(dir_okay=False, exists=True, path_type=Path),
                help="A script contract (.py or step-interface YAML) instead of a spec.",
            ),
            arg_option,
            env_option,
            click.option(
                "--secret-env",
                "secret_envs",
                multiple=True,
                metavar="NAME",
                help="A variable whose value is a secret: masked in what is printed.",
            ),
            click.option(
                "--input",
                "inputs",
                multiple=True,
                metavar="CHANNEL=DIR|s3://...",
                help="A channel's data: a folder (uploaded, content-addressed) or an S3 URI.",
            ),
            click.option("--image", help="Image profile the script is checked with locally."),
            click.option("--instance-type", help="e.g. ml.m5.xlarge."),
            click.option("--max-runtime", type=click.IntRange(1, 777600), help="Seconds."),
            click.option("--network/--no-network", default=None, help="Network isolation off/on."),
            hyperparameters_option,
            click.option(
                "--kind",
                type=click.Choice(["processing", "training"]),
                help="The job's kind, whatever the script's paths suggest.",
            ),
            click.option(
                "--call-style",
                type=click.Choice(["entrypoint"]),
                help="Only entrypoint: SageMaker has no way to call main().",
            ),
            click.option(
                "--allow-unknown-args",
                is_flag=True,
                help="Pass --arg names the script's argparse does not declare.",
            ),
            click.option("--job-name", help="Default: <script>-<UTC time>."),
            _destination_options,
        ]
    ):
        command = option(command)
    return command


@click.command("export-job")
@_job_options
@handles_errors
def export_job_command(**options: Any) -> None:
    """Print the CreateProcessingJob / CreateTrainingJob request production would get
    for SCRIPT, checked against botocore's SageMaker service model."""
    request = _job_request(options)
    echo_json(request.printable())
    console = stderr_console()
    console.print(f"sandbox: {request.operation} request, checked with botocore", highlight=False)
    if request.secret_names:
        console.print(
            f"sandbox: the values of {', '.join(request.secret_names)} are shown as ***; "
            "`sandbox submit` passes the real values",
            highlight=False,
        )


@click.command("submit")
@_job_options
@workspace_dir_option()
@output_format_option
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0.0),
    default=15.0,
    show_default=True,
    help="Seconds between status polls.",
)
@click.option("-v", "--verbose", is_flag=True, help="Stream the job's CloudWatch logs to stderr.")
@handles_errors
def submit_command(**options: Any) -> None:
    """Upload SCRIPT and its local inputs, run the job on SageMaker, download its
    outputs into a run folder, and judge it as test-script does (Ctrl-C stops the job)."""
    from sandbox.sagemaker.submit import Clients, SubmitOptions, submit_job

    resolved, request = _resolved_request(options)
    console = stderr_console()
    on_log = (
        (lambda line: console.print(line, markup=False, highlight=False))
        if options["verbose"]
        else None
    )
    with spinner() as update:
        result = submit_job(
            resolved,
            request,
            options["workspace_dir"],
            Clients.connect(options["region"]),
            SubmitOptions(
                poll_interval_s=options["poll_interval"],
                on_status=lambda status: update(f"{request.job_name}: {status}"),
                on_log=on_log,
            ),
        )
    exit_with_result(result, options["output_format"])


def _job_request(options: dict[str, Any]) -> Any:
    return _resolved_request(options)[1]


def _resolved_request(options: dict[str, Any]) -> tuple[Any, Any]:
    """Resolve the script as test-script does, and build its request (checked)."""
    from sandbox.cli.run import data_location
    from sandbox.contract.resolve import find_script, resolve_script
    from sandbox.contract.spec import CallStyle
    from sandbox.sagemaker.request import (
        Destination,
        build_job_request,
        default_job_name,
        parse_s3_prefix,
    )
    from sandbox.sagemaker.validation import validate_request

    prefix = parse_s3_prefix(options["s3_prefix"])
    if options["contract_path"] is not None and options["spec_path"] is not None:
        raise UsageError("--spec and --contract both describe the run: give one")
    script_path = find_script(options["script"], options["scripts_dir"])
    resolved = resolve_script(
        script_path, options["contract_path"] or options["spec_path"], _overrides(options)
    )
    if resolved.spec.call_style is CallStyle.MAIN:
        stderr_console().print(
            f"sandbox: script {script_path.stem}: the spec's main call style is a local "
            "convenience; the job runs the entry point, as production does",
            highlight=False,
        )
    destination = Destination(
        s3_prefix=prefix,
        role_arn=options["role_arn"],
        image_uri=_image_uri(options, resolved.spec.image),
        job_name=options["job_name"] or default_job_name(script_path.stem),
        region=options["region"],
    )
    inputs = {
        name: data_location(f"--input {name}", value)
        for name, value in parse_pairs("--input", options["inputs"]).items()
    }
    request = build_job_request(resolved, destination, inputs=inputs)
    validate_request(request.operation, request.params)
    return resolved, request


def _overrides(options: dict[str, Any]) -> Any:
    from sandbox.constants import JobKind
    from sandbox.contract.resolve import Overrides
    from sandbox.contract.spec import CallStyle

    return Overrides(
        image=options["image"],
        call_style=CallStyle(options["call_style"]) if options["call_style"] else None,
        arguments=parse_pairs("--arg", options["args"]),
        environment=parse_pairs("--env", options["envs"]),
        network=options["network"],
        instance_type=options["instance_type"],
        max_runtime_s=options["max_runtime"],
        secret_env=list(options["secret_envs"]),
        hyperparameters=parse_hyperparameters(options["hyperparameters"]),
        kind=JobKind(options["kind"]) if options["kind"] else None,
        allow_unknown_args=options["allow_unknown_args"],
    )


def _image_uri(options: dict[str, Any], profile: str | None) -> str:
    from sandbox.constants import DEFAULT_IMAGE
    from sandbox.sagemaker.framework_images import framework_image_uri

    if options["image_uri"]:
        return str(options["image_uri"])
    return framework_image_uri(profile or DEFAULT_IMAGE, options["region"])


# test-pipeline --export ---------------------------------------------------------------


def pipeline_export_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--export`` and where the exported steps run (test-pipeline's options)."""
    for option in reversed(
        [
            click.option(
                "--export",
                is_flag=True,
                help="Print the SageMaker Pipeline definition of the steps instead of "
                "running them (needs --s3-prefix and --role).",
            ),
            click.option("--s3-prefix", metavar="s3://BUCKET/PREFIX", help="With --export."),
            click.option(
                "--role",
                "role_arn",
                envvar="SANDBOX_ROLE_ARN",
                metavar="ARN",
                help="With --export.",
            ),
            click.option("--image-uri", metavar="URI", help="With --export: every step's image."),
            click.option(
                "--region",
                envvar=["AWS_REGION", "AWS_DEFAULT_REGION"],
                default=_DEFAULT_REGION,
                show_default=True,
                help="With --export.",
            ),
        ]
    ):
        command = option(command)
    return command


def export_pipeline_definition(options: dict[str, Any]) -> None:
    """Print the pipeline's SageMaker Pipeline definition (test-pipeline ``--export``).

    Raises:
        UsageError: --s3-prefix or --role is missing, or a step cannot be exported.
    """
    from sandbox.pipeline.plan import plan_pipeline
    from sandbox.sagemaker.pipeline_export import export_pipeline
    from sandbox.sagemaker.request import parse_s3_prefix

    if not options["s3_prefix"] or not options["role_arn"]:
        raise UsageError("--export needs --s3-prefix and --role (or SANDBOX_ROLE_ARN)")
    plan = plan_pipeline(options["pipeline_file"], options["scripts_dir"])
    exported = export_pipeline(
        plan,
        s3_prefix=parse_s3_prefix(options["s3_prefix"]),
        role_arn=options["role_arn"],
        region=options["region"],
        image_uri=lambda step: _image_uri(options, step.resolved.spec.image),
    )
    echo_json(exported.definition)


SAGEMAKER_COMMANDS = [export_job_command, submit_command]
"""The commands this module adds to the ``sandbox`` group."""
