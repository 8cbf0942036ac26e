"""``sandbox replay``: run a production SageMaker job locally, beside its own verdict."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from sandbox.cli.common import (
    data_size_option,
    exit_with_result,
    handles_errors,
    output_format_option,
    parse_pairs,
    spinner,
    with_progress,
    workspace_dir_option,
)
from sandbox.errors import UsageError

__all__ = ["definition_options", "replay_command", "run_definition_command", "uses_definition"]


@click.command("replay")
@click.argument("job")
@click.option(
    "--code",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The entry script, instead of the job's code in S3.",
)
@click.option(
    "--input",
    "inputs",
    multiple=True,
    metavar="CHANNEL=PATH",
    help="Feed one input channel from a folder or s3://bucket/prefix instead of the "
    "job's own data (repeatable).",
)
@click.option("--synthetic", is_flag=True, help="Generate every input instead of reading S3.")
@data_size_option()
@workspace_dir_option()
@output_format_option
@click.option(
    "--junit-xml",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write JUnit XML (for CI).",
)
@handles_errors
def replay_command(**options: Any) -> None:
    """Run JOB locally as production ran it: a saved DescribeProcessingJob or
    DescribeTrainingJob response (JSON), or a job name or ARN to describe."""
    from sandbox.cli.run import data_location
    from sandbox.data.datagen import DataSize
    from sandbox.sagemaker.replay import ReplayRequest, replay_job

    request = ReplayRequest(
        job=options["job"],
        code=options["code"],
        inputs={
            name: data_location(f"--input {name}", value)
            for name, value in parse_pairs("--input", options["inputs"]).items()
        },
        synthetic=options["synthetic"],
        data_size=DataSize(options["data_size"]),
        workspace=options["workspace_dir"],
    )
    with spinner() as update:
        result = replay_job(with_progress(request, update))
    if options["junit_xml"] is not None:
        from sandbox.report.files import write_report_file
        from sandbox.report.junit import junit_xml

        write_report_file(options["junit_xml"], junit_xml([result]))
    exit_with_result(result, options["output_format"])


def definition_options(command: Any) -> Any:
    """The ``test-pipeline`` options of a SageMaker Pipeline definition."""
    options = [
        click.option(
            "--definition",
            type=click.Path(dir_okay=False, path_type=Path),
            help="A SageMaker Pipeline definition (JSON, what Pipeline.definition() returns).",
        ),
        click.option(
            "--param",
            "params",
            multiple=True,
            metavar="NAME=VALUE",
            help="With --definition: a pipeline parameter's value (repeatable).",
        ),
        click.option(
            "--code",
            "codes",
            multiple=True,
            metavar="STEP=PATH",
            help="With --definition: a step's entry script instead of its code in S3.",
        ),
        click.option(
            "--synthetic",
            is_flag=True,
            help="With --definition: generate the inputs no step feeds instead of reading S3.",
        ),
        click.option(
            "--code-dir",
            type=click.Path(file_okay=False, path_type=Path),
            help="With --definition: scripts matched to the steps by file name.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def uses_definition(options: dict[str, Any]) -> bool:
    """Whether ``test-pipeline`` runs a definition; its options go with one only.

    Raises:
        UsageError: both or neither of PIPELINE_FILE and --definition, or a definition
            option without --definition.
    """
    if (options["definition"] is None) == (options["pipeline_file"] is None):
        raise UsageError("give a PIPELINE_FILE (YAML) or --definition PIPELINE.json (one)")
    given = [
        option
        for option, key in (
            ("--param", "params"),
            ("--code", "codes"),
            ("--code-dir", "code_dir"),
            ("--synthetic", "synthetic"),
        )
        if options[key]
    ]
    if options["definition"] is None and given:
        raise UsageError(f"{given[0]} goes with --definition PIPELINE.json")
    return options["definition"] is not None


def run_definition_command(options: dict[str, Any], update: Callable[[str], None]) -> Any:
    """``test-pipeline --definition``: run the definition, return its PipelineResult."""
    from sandbox.data.datagen import DataSize
    from sandbox.sagemaker.definition import DefinitionRequest, run_definition

    request = DefinitionRequest(
        definition=options["definition"],
        parameters=parse_pairs("--param", options["params"]),
        code={step: Path(path) for step, path in parse_pairs("--code", options["codes"]).items()},
        code_dir=options["code_dir"],
        synthetic=options["synthetic"],
        workspace=options["workspace_dir"],
        data_size=DataSize(options["data_size"]),
        jobs=options["jobs"],
        from_step=options["from_step"],
        only_step=options["only_step"],
    )
    return run_definition(with_progress(request, update))
