"""The ``sandbox`` commands over stored results: list-results, show-result, report, and
clean-workspace.

Each command validates, calls one library function, renders, and picks the exit code.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sandbox.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    echo_json,
    handles_errors,
    output_format_option,
    stderr_console,
    stdout_console,
)
from sandbox.cli.completion import complete_run_ids
from sandbox.constants import DEFAULT_WORKSPACE

__all__ = [
    "RESULT_COMMANDS",
    "STATUS_CHOICES",
    "clean_workspace_command",
    "list_results_command",
    "report_command",
    "show_result_command",
]

STATUS_CHOICES = ("PASS", "FAIL", "ERROR", "TIMEOUT", "OOM", "SKIPPED")
"""The values of :class:`sandbox.results.models.Status` (not imported here: startup time)."""

_workspace_option = click.option(
    "--workspace-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_WORKSPACE,
    show_default=True,
    envvar="SANDBOX_WORKSPACE_DIR",
    help="The workspace holding the runs (env: SANDBOX_WORKSPACE_DIR).",
)


# list-results -------------------------------------------------------------------


@click.command("list-results")
@_workspace_option
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(STATUS_CHOICES, case_sensitive=False),
    help="Only runs with this status (repeatable).",
)
@click.option("--script", help="Only runs of this script: a name, or a glob such as 'tab*'.")
@click.option("--last", type=click.IntRange(min=1), help="Only the newest N runs.")
@output_format_option
@handles_errors
def list_results_command(
    workspace_dir: Path,
    statuses: tuple[str, ...],
    script: str | None,
    last: int | None,
    output_format: str,
) -> None:
    """List the runs of the workspace, oldest first (json: their results, in that order)."""
    from sandbox.report.tables import render_results_table, render_skipped
    from sandbox.results.abandoned import reap_abandoned
    from sandbox.results.models import Status
    from sandbox.results.store import load_results

    wanted = [Status(status.upper()) for status in statuses]
    reap_abandoned(workspace_dir)  # runs whose controller was killed: listed as interrupted
    listing = load_results(workspace_dir, statuses=wanted, script=script, last=last)
    render_skipped(listing.skipped, stderr_console())
    if output_format == "json":
        from sandbox.results.output import results_document

        echo_json(results_document(listing.results, EXIT_OK))
    else:
        render_results_table(listing.results, stdout_console())


# show-result --------------------------------------------------------------------


@click.command("show-result")
@click.argument("run_id", shell_complete=complete_run_ids)
@_workspace_option
@output_format_option
@handles_errors
def show_result_command(run_id: str, workspace_dir: Path, output_format: str) -> None:
    """Show everything about one run: RUN_ID is an id, `latest`, `latest~N` (the Nth
    before the newest), or a unique prefix or suffix of an id."""
    from sandbox.report.tables import render_result_detail
    from sandbox.results.store import find_result

    result = find_result(workspace_dir, run_id)
    if output_format == "json":
        from sandbox.results.output import results_document

        echo_json(results_document([result], EXIT_OK))
    else:
        render_result_detail(result, stdout_console())


# clean-workspace ----------------------------------------------------------------


@click.command("clean-workspace")
@_workspace_option
@click.option("--older-than", metavar="AGE", help="Only runs older than AGE: 30m, 12h, 7d, 2w.")
@click.option("--keep", type=click.IntRange(min=0), help="Always keep the newest N runs.")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@handles_errors
def clean_workspace_command(
    workspace_dir: Path, older_than: str | None, keep: int | None, dry_run: bool
) -> None:
    """Remove run folders, and this workspace's leftover containers when an engine answers.

    Without --older-than or --keep, every run folder goes; generated data stays. Only a
    folder carrying the .sandbox-workspace marker is cleaned, and in it only run folders.
    """
    from sandbox.report.tables import render_clean_report
    from sandbox.results.store import clean_workspace, parse_age

    older_than_s = parse_age(older_than) if older_than is not None else None
    report = clean_workspace(workspace_dir, older_than_s=older_than_s, keep=keep, dry_run=dry_run)
    render_clean_report(report, stdout_console())
    sys.exit(EXIT_FAILED if report.failures else EXIT_OK)


# report -------------------------------------------------------------------------


@click.command("report")
@click.argument("run_id", shell_complete=complete_run_ids)
@click.option(
    "--format",
    "report_format",
    type=click.Choice(["html", "junit", "json"]),
    default="html",
    show_default=True,
    help="html for people (self-contained), junit or json for CI.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The file to write (atomically).",
)
@_workspace_option
@handles_errors
def report_command(run_id: str, report_format: str, output: Path, workspace_dir: Path) -> None:
    """Write the report of one run to a file: RUN_ID is an id, `latest`, `latest~N`, or a
    unique prefix or suffix of an id."""
    from rich.markup import escape

    from sandbox.report.files import ReportFormat, write_report

    result = write_report(workspace_dir, run_id, ReportFormat(report_format), output)
    stdout_console().print(
        f"{report_format} report of {escape(result.run_id)} written to {escape(str(output))}",
        highlight=False,
    )


RESULT_COMMANDS = (
    list_results_command,
    show_result_command,
    clean_workspace_command,
    report_command,
)
"""The commands over stored results, in the order the command line adds them."""
