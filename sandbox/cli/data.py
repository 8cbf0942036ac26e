"""The ``sandbox`` commands about input data and specs: ``gen-data``, ``spec from-contract``.

Part of the command line (:mod:`sandbox.cli` registers these commands): each command
validates, calls one library function, renders, and picks the exit code. The error
handling, consoles and option parsers are :mod:`sandbox.cli`'s, looked up when a command
runs so that this module can be imported on its own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from sandbox.errors import UsageError

__all__ = ["data_location", "from_contract_command", "gen_data_command"]

F = TypeVar("F", bound=Callable[..., Any])
_LISTED_FILES = 3


def _handles_errors(command: F) -> F:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sandbox.cli import _handles_errors as handles_errors

        return handles_errors(command)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def data_location(option: str, value: str) -> Path | str:
    """A folder, or an ``s3://`` URI kept as text (a ``Path`` would fold its ``//``).

    Raises:
        UsageError: An ``s3://`` URI without a bucket, or boto3 is not installed.
    """
    from sandbox.s3client import require_boto3
    from sandbox.s3source import is_s3_uri, split_s3_uri

    if not is_s3_uri(value):
        return Path(value)
    try:
        split_s3_uri(value)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from exc
    require_boto3()
    return value


# gen-data ---------------------------------------------------------------------


@click.command("gen-data")
@click.argument("script")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write, new or empty: one folder per input channel.",
)
@click.option(
    "--spec", "spec_path", type=click.Path(dir_okay=False, path_type=Path), help="Spec file (YAML)."
)
@click.option(
    "--scripts-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("scripts"),
    show_default=True,
    help="Where to look up a script given by name.",
)
@click.option(
    "--arg", "args", multiple=True, metavar="NAME=VALUE", help="Job argument: --NAME VALUE."
)
@click.option("--env", "envs", multiple=True, metavar="NAME=VALUE", help="Environment variable.")
@click.option(
    "--data-size",
    type=click.Choice(["small", "medium", "large"]),
    default="small",
    show_default=True,
    help="Rows of generated data: 1k, 100k, 1M.",
)
@click.option(
    "--hyperparameters",
    metavar="FILE_OR_JSON",
    help="Training hyperparameters: a JSON file or a JSON object.",
)
@click.option(
    "--output-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: stdout holds exactly one JSON document.",
)
@_handles_errors
def gen_data_command(**options: Any) -> None:
    """Write SCRIPT's generated input data into --out DIR, one folder per channel; run
    nothing. `sandbox test-script SCRIPT --data-source DIR` feeds the folders back."""
    from sandbox.cli import _hyperparameters, _pairs, _stderr, echo_json
    from sandbox.datagen import DataSize
    from sandbox.gendata import GenDataRequest, gen_data
    from sandbox.progressbar import DelayedProgress
    from sandbox.resolve import Overrides

    overrides = Overrides(
        arguments=_pairs("--arg", options["args"]),
        environment=_pairs("--env", options["envs"]),
        hyperparameters=_hyperparameters(options["hyperparameters"]),
    )
    with DelayedProgress(_stderr()) as bars:
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

    from sandbox.cli import _stdout

    table = Table("channel", "folder", "files", "rows", "bytes")
    for channel in report.channels:
        table.add_row(
            channel.channel,
            f"{out_dir}/{channel.folder}",
            _files_cell(channel.files),
            "" if channel.rows is None else f"{channel.rows:,}",
            f"{channel.size_bytes:,}",
        )
    console = _stdout()
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


# spec from-contract -----------------------------------------------------------


@click.command("from-contract")
@click.argument("contract", metavar="MODULE_OR_FILE")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the spec there (atomically) instead of stdout.",
)
@click.option(
    "--scripts-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("scripts"),
    show_default=True,
    help="Where to look for the entry point when it is not next to the contract.",
)
@click.option("--name", help="The contract's module-level name, when the module holds several.")
@_handles_errors
def from_contract_command(
    contract: str, output: Path | None, scripts_dir: Path, name: str | None
) -> None:
    """Make a spec from a script contract: a .py file or module holding a contract
    object (entry_point, expected_input_paths, ...), or YAML with a `contract:` section.
    Where the contract and the script's own source differ, warnings go to stderr."""
    from sandbox.contract_import import spec_from_contract

    result = spec_from_contract(contract, scripts_dir=scripts_dir, name=name, output=output)
    for warning in result.warnings:
        click.echo(f"sandbox: warning: {warning}", err=True)
    if output is None:
        click.echo(result.yaml_text, nl=False)
    else:
        click.echo(f"wrote {output}", err=True)
