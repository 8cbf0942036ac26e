"""``sandbox test-pipeline``: run a pipeline's steps in order, each feeding the next."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from sandbox.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    data_size_option,
    echo_json,
    handles_errors,
    output_format_option,
    scripts_dir_option,
    spinner,
    stdout_console,
    with_progress,
    workspace_dir_option,
)
from sandbox.cli.replay import definition_options, run_definition_command, uses_definition
from sandbox.cli.sagemaker import export_pipeline_definition, pipeline_export_options
from sandbox.errors import UsageError

__all__ = ["test_pipeline_command"]


@click.command("test-pipeline")
@click.argument("pipeline_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@definition_options
@scripts_dir_option("Where to look up a step's script given by name.")
@workspace_dir_option("Where runs, pipeline runs and generated data are kept")
@data_size_option("Rows of generated data for inputs no edge feeds: 1k, 100k, 1M.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Independent steps run in parallel, at most this many at a time.",
)
@click.option(
    "--from",
    "from_step",
    metavar="STEP",
    help="Rerun STEP and its descendants, reusing the latest run's earlier outputs.",
)
@click.option(
    "--only",
    "only_step",
    metavar="STEP",
    help="Rerun STEP alone, reusing the latest run's outputs for its inputs.",
)
@output_format_option
@click.option(
    "--junit-xml",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write JUnit XML: one testcase per step and per edge (atomically).",
)
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a self-contained HTML report (the DAG, per-step figures), atomically.",
)
@pipeline_export_options
@handles_errors
def test_pipeline_command(**options: Any) -> None:
    """Run the steps of PIPELINE_FILE in order, each step's outputs feeding the next
    (or, with --definition, the steps of a SageMaker Pipeline definition)."""
    definition = uses_definition(options)
    if options["export"]:
        if definition:
            raise UsageError("--export goes with a PIPELINE_FILE, not --definition")
        export_pipeline_definition(options)
        return
    from sandbox.data.datagen import DataSize
    from sandbox.pipeline.run import PipelineRequest, run_pipeline
    from sandbox.report import pipeline as pipeline_report
    from sandbox.report.files import write_report_file

    request = PipelineRequest(
        pipeline_file=options["pipeline_file"],
        scripts_dir=options["scripts_dir"],
        workspace=options["workspace_dir"],
        data_size=DataSize(options["data_size"]),
        jobs=options["jobs"],
        from_step=options["from_step"],
        only_step=options["only_step"],
    )
    with spinner() as update:
        if definition:
            result = run_definition_command(options, update)
        else:
            result = run_pipeline(with_progress(request, update))
    if options["junit_xml"]:
        write_report_file(options["junit_xml"], pipeline_report.render_junit(result))
    if options["html_file"]:
        write_report_file(options["html_file"], pipeline_report.render_html(result))
    exit_code = EXIT_OK if result.is_successful() else EXIT_FAILED
    if options["output_format"] == "json":
        from sandbox.results.output import pipeline_document

        echo_json(pipeline_document(result, exit_code))
    else:
        pipeline_report.render_text(result, stdout_console())
    sys.exit(exit_code)
