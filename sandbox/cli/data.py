"""``sandbox gen-data``: write a script's generated input data to folders; run nothing.

The command validates, calls one library function, renders, and picks the exit code.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from sandbox.cli.common import (
    arg_option,
    data_size_option,
    echo_json,
    env_option,
    escape,
    handles_errors,
    hyperparameters_option,
    output_format_option,
    parse_hyperparameters,
    parse_pairs,
    scripts_dir_option,
    spec_option,
    stderr_console,
    stdout_console,
    workspace_dir_option,
)
from sandbox.cli.completion import complete_scripts

__all__ = ["gen_data_command"]

_LISTED_FILES = 3


@click.command("gen-data")
@click.argument("script", shell_complete=complete_scripts)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write, new or empty: one folder per input channel.",
)
@click.option(
    "--from-run",
    "from_run",
    metavar="RUN_ID",
    help="Copy a previous run's outputs into the input channels named like its output "
    "channels (RUN_ID/CHANNEL[/SUB] names one); generate the rest.",
)
@workspace_dir_option("Where --from-run looks for the run")
@click.option(
    "--explain",
    is_flag=True,
    help="Print per channel the files, columns and types it would make, and the line of "
    "the script that asked for each; write nothing.",
)
@spec_option
@scripts_dir_option()
@arg_option
@env_option
@data_size_option()
@hyperparameters_option
@output_format_option
@handles_errors
def gen_data_command(**options: Any) -> None:
    """Write SCRIPT's generated input data into --out DIR, one folder per channel; run
    nothing. `sandbox test-script SCRIPT --data-source DIR` feeds the folders back."""
    from sandbox.cli.progressbar import DelayedProgress
    from sandbox.contract.resolve import Overrides
    from sandbox.data.datagen import DataSize
    from sandbox.data.export import GenDataRequest, explain_data, gen_data
    from sandbox.errors import UsageError

    if options["out_dir"] is None and not options["explain"]:
        raise UsageError("gen-data: give --out DIR (or --explain to write nothing)")
    overrides = Overrides(
        arguments=parse_pairs("--arg", options["args"]),
        environment=parse_pairs("--env", options["envs"]),
        hyperparameters=parse_hyperparameters(options["hyperparameters"]),
    )
    request = GenDataRequest(
        script=options["script"],
        out_dir=options["out_dir"] or Path(),
        scripts_dir=options["scripts_dir"],
        spec_path=options["spec_path"],
        overrides=overrides,
        data_size=DataSize(options["data_size"]),
        from_run=options["from_run"],
        workspace_dir=options["workspace_dir"],
    )
    if options["explain"]:
        report = explain_data(request)
    else:
        with DelayedProgress(stderr_console()) as bars:
            report = gen_data(replace(request, progress=bars.update))
    if options["output_format"] == "json":
        echo_json(report.to_json_dict())
    elif options["explain"]:
        _render_explain(report)
    else:
        _render_gen_data(report, options)


def _render_explain(report: Any) -> None:
    console = stdout_console()
    for channel in report.channels:
        console.print(f"channel {channel.channel} (folder {channel.folder}/)", markup=False)
        files = ", ".join(channel.files) or "none"
        console.print(f"  files: {files}", markup=False, highlight=False)
        if channel.columns:
            columns = ", ".join(f"{name} ({kind})" for name, kind in channel.columns)
            console.print(f"  columns: {columns}", markup=False, highlight=False)
        for reason in channel.reasons or ("the default data for this channel",):
            console.print(f"  why: {reason}", markup=False, highlight=False)


def _render_gen_data(report: Any, options: dict[str, Any]) -> None:
    from rich.table import Table

    from sandbox.cli.hints import test_script_hint

    out_dir = options["out_dir"]
    table = Table("channel", "folder", "files", "rows", "bytes")
    for channel in report.channels:
        table.add_row(
            escape(channel.channel),
            escape(f"{out_dir}/{channel.folder}"),
            escape(_files_cell(channel.files)),
            "" if channel.rows is None else f"{channel.rows:,}",
            f"{channel.size_bytes:,}",
        )
    console = stdout_console()
    console.print(table)
    console.print(
        "feed them back with: "
        + test_script_hint(options["script"], options, data_source=str(out_dir)),
        markup=False,
        highlight=False,
    )


def _files_cell(files: tuple[str, ...]) -> str:
    listed = ", ".join(files[:_LISTED_FILES])
    more = f", ... ({len(files)} files)" if len(files) > _LISTED_FILES else ""
    return listed + more
