"""``sandbox spec``: spec files — their JSON schemas, and a spec made from a contract."""

from __future__ import annotations

from pathlib import Path

import click

from sandbox.cli.common import handles_errors
from sandbox.constants import DEFAULT_SCRIPTS_DIR

__all__ = ["spec_group"]


@click.group("spec")
def spec_group() -> None:
    """Script spec files."""


@spec_group.command("from-contract")
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
    default=DEFAULT_SCRIPTS_DIR,
    show_default=True,
    help="Where to look for the entry point when it is not next to the contract.",
)
@click.option("--name", help="The contract's module-level name, when the module holds several.")
@handles_errors
def from_contract_command(
    contract: str, output: Path | None, scripts_dir: Path, name: str | None
) -> None:
    """Make a spec from a script contract: a .py file or module holding a contract
    object (entry_point, expected_input_paths, ...), or YAML with a `contract:` section.
    Where the contract and the script's own source differ, warnings go to stderr."""
    from sandbox.contract.from_contract import spec_from_contract

    result = spec_from_contract(contract, scripts_dir=scripts_dir, name=name, output=output)
    for warning in result.warnings:
        click.echo(f"sandbox: warning: {warning}", err=True)
    if output is None:
        click.echo(result.yaml_text, nl=False)
    else:
        click.echo(f"wrote {output}", err=True)


@spec_group.command("schema")
@handles_errors
def spec_schema() -> None:
    """Print the spec's JSON schema."""
    from sandbox.contract.spec import spec_json_schema

    click.echo(spec_json_schema())


@spec_group.command("pipeline-schema")
@handles_errors
def spec_pipeline_schema() -> None:
    """Print the pipeline file's JSON schema."""
    from sandbox.pipeline.spec import pipeline_json_schema

    click.echo(pipeline_json_schema())


@spec_group.command("result-schema")
@handles_errors
def spec_result_schema() -> None:
    """Print the JSON schema of what --output-format json prints: one document holding
    the exit code and the results (a list, whatever their number), or the error."""
    from sandbox.results.schema import result_json_schema

    click.echo(result_json_schema())
