"""``sandbox gen-data``: write a script's generated input data to folders; run nothing.

The command validates, calls one library function, renders, and picks the exit code.
"""

from __future__ import annotations

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
)

__all__ = ["gen_data_command"]

_LISTED_FILES = 3


@click.command("gen-data")
@click.argument("script")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write, new or empty: one folder per input channel.",
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
    from sandbox.datagen import DataSize
    from sandbox.gendata import GenDataRequest, gen_data
    from sandbox.progressbar import DelayedProgress
    from sandbox.resolve import Overrides

    overrides = Overrides(
        arguments=parse_pairs("--arg", options["args"]),
        environment=parse_pairs("--env", options["envs"]),
        hyperparameters=parse_hyperparameters(options["hyperparameters"]),
    )
    with DelayedProgress(stderr_console()) as bars:
        report = gen_data(
            GenDataRequest(
                script=options["script"],
                out_dir=options["out_dir"],
                scripts_dir=options["scripts_dir"],
                spec_path=options["spec_path"],
                overrides=overrides,
                data_size=DataSize(options["data_size"]),
                progress=bars.update,
            )
        )
    if options["output_format"] == "json":
        echo_json(report.to_json_dict())
    else:
        _render_gen_data(report, options["script"], options["out_dir"])


def _render_gen_data(report: Any, script: str, out_dir: Path) -> None:
    from rich.table import Table

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
        f"feed them back with: sandbox test-script {script} --data-source {out_dir}",
        markup=False,
        highlight=False,
    )


def _files_cell(files: tuple[str, ...]) -> str:
    listed = ", ".join(files[:_LISTED_FILES])
    more = f", ... ({len(files)} files)" if len(files) > _LISTED_FILES else ""
    return listed + more
