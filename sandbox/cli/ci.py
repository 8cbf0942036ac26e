"""``sandbox merge-junit``: join the JUnit files of CI shards (``test-script --shard K/N``)."""

from __future__ import annotations

from pathlib import Path

import click

from sandbox.cli.common import escape, handles_errors, stdout_console

__all__ = ["merge_junit_command"]


@click.command("merge-junit")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The merged file to write (atomically).",
)
@handles_errors
def merge_junit_command(files: tuple[Path, ...], output: Path) -> None:
    """Join FILES (JUnit XML of several shards) into one file, totals summed."""
    from sandbox.report.files import write_report_file
    from sandbox.report.junit_merge import merge_junit

    write_report_file(output, merge_junit(files))
    stdout_console().print(
        f"{len(files)} JUnit files merged into {escape(str(output))}", highlight=False
    )
