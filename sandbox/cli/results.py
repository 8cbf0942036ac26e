"""The ``sandbox`` commands over stored results, and the many-scripts side of test-script.

Part of the command line (see :mod:`sandbox.cli`, which registers these commands): each
command validates, calls one library function, renders, and picks the exit code. The
error handling, consoles and JSON output are :mod:`sandbox.cli`'s, looked up when a
command runs so that this module can be imported on its own.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = [
    "RESULT_COMMANDS",
    "STATUS_CHOICES",
    "clean_workspace_command",
    "finish_test_script",
    "list_results_command",
    "report_command",
    "run_test_scripts",
    "show_result_command",
]

EXIT_OK, EXIT_FAILED = 0, 1
STATUS_CHOICES = ("PASS", "FAIL", "ERROR", "TIMEOUT", "OOM", "SKIPPED")
"""The values of :class:`sandbox.results.Status` (not imported here: startup time)."""

F = TypeVar("F", bound=Callable[..., Any])


def _handles_errors(command: F) -> F:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sandbox.cli import _handles_errors as handles_errors

        return handles_errors(command)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _console(*, stderr: bool = False) -> Any:
    from sandbox.cli import _stderr, _stdout

    return _stderr() if stderr else _stdout()


def _echo_json(payload: Any) -> None:
    from sandbox.cli import echo_json

    echo_json(payload)


_workspace_option = click.option(
    "--workspace-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".sandbox"),
    show_default=True,
    envvar="SANDBOX_WORKSPACE_DIR",
    help="The workspace holding the runs (env: SANDBOX_WORKSPACE_DIR).",
)
_format_option = click.option(
    "--output-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: stdout holds exactly one JSON document.",
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
@_format_option
@_handles_errors
def list_results_command(
    workspace_dir: Path,
    statuses: tuple[str, ...],
    script: str | None,
    last: int | None,
    output_format: str,
) -> None:
    """List the runs of the workspace, oldest first (json: one JSON list)."""
    from sandbox.render_results import render_results_table, render_skipped
    from sandbox.results import Status
    from sandbox.store import load_results

    wanted = [Status(status.upper()) for status in statuses]
    listing = load_results(workspace_dir, statuses=wanted, script=script, last=last)
    render_skipped(listing.skipped, _console(stderr=True))
    if output_format == "json":
        _echo_json([result.to_json_dict() for result in listing.results])
    else:
        render_results_table(listing.results, _console())


# show-result --------------------------------------------------------------------


@click.command("show-result")
@click.argument("run_id")
@_workspace_option
@_format_option
@_handles_errors
def show_result_command(run_id: str, workspace_dir: Path, output_format: str) -> None:
    """Show everything about one run: RUN_ID, or a unique prefix of it."""
    from sandbox.render_results import render_result_detail
    from sandbox.store import find_result

    result = find_result(workspace_dir, run_id)
    if output_format == "json":
        _echo_json(result.to_json_dict())
    else:
        render_result_detail(result, _console())


# clean-workspace ----------------------------------------------------------------


@click.command("clean-workspace")
@_workspace_option
@click.option("--older-than", metavar="AGE", help="Only runs older than AGE: 30m, 12h, 7d, 2w.")
@click.option("--keep", type=click.IntRange(min=0), help="Always keep the newest N runs.")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@_handles_errors
def clean_workspace_command(
    workspace_dir: Path, older_than: str | None, keep: int | None, dry_run: bool
) -> None:
    """Remove run folders, and the tool's leftover containers when an engine answers.

    Without --older-than or --keep, every run folder goes; generated data stays. Only a
    folder carrying the .sandbox-workspace marker is cleaned, and in it only run folders.
    """
    from sandbox.render_results import render_clean_report
    from sandbox.store import clean_workspace, parse_age

    older_than_s = parse_age(older_than) if older_than is not None else None
    report = clean_workspace(workspace_dir, older_than_s=older_than_s, keep=keep, dry_run=dry_run)
    render_clean_report(report, _console())
    sys.exit(EXIT_FAILED if report.failures else EXIT_OK)


# report -------------------------------------------------------------------------


@click.command("report")
@click.argument("run_id")
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
@_handles_errors
def report_command(run_id: str, report_format: str, output: Path, workspace_dir: Path) -> None:
    """Write the report of one run (RUN_ID, or a unique prefix of it) to a file."""
    from rich.markup import escape

    from sandbox.reports import ReportFormat, write_report

    result = write_report(workspace_dir, run_id, ReportFormat(report_format), output)
    _console().print(
        f"{report_format} report of {escape(result.run_id)} written to {escape(str(output))}",
        highlight=False,
    )


RESULT_COMMANDS = (
    list_results_command,
    show_result_command,
    clean_workspace_command,
    report_command,
)


# test-script with several scripts -----------------------------------------------


def run_test_scripts(
    names: list[str], options: dict[str, Any], make_request: Callable[[str], Any]
) -> list[Any]:
    """Run several scripts with a live progress display on stderr; results in order.

    Args:
        names: the expanded script names or paths.
        options: test-script's options (``jobs``, ``spec_path``, ``verbose``).
        make_request: builds the :class:`~sandbox.runner.RunRequest` of one name.
    """
    from sandbox.batch import run_batch
    from sandbox.errors import UsageError
    from sandbox.progress import ProgressDisplay

    if options["spec_path"] is not None:
        raise UsageError("--spec names one script: give one script with --spec")
    requests = [make_request(name) for name in names]
    stems = [Path(name).stem for name in names]
    console = _console(stderr=True)
    with ProgressDisplay(console, stems, stream_output=options["verbose"]) as display:
        return run_batch(requests, jobs=options["jobs"], observer=display)


def finish_test_script(results: list[Any], options: dict[str, Any], *, single: bool) -> None:
    """Write the JUnit file, render the results, and exit 0 (all passed) or 1."""
    from sandbox.render import render_text, render_verdict
    from sandbox.render_results import render_batch_summary

    if options["junit_xml"] is not None:
        from sandbox.report_junit import junit_xml
        from sandbox.reports import write_report_file

        write_report_file(options["junit_xml"], junit_xml(results))
    console = _console()
    if options["output_format"] == "json":
        documents = [result.to_json_dict() for result in results]
        _echo_json(documents[0] if single else documents)
    elif options["quiet"]:
        for result in results:
            render_verdict(result, console)
    elif single:
        render_text(results[0], console)
    else:
        render_batch_summary(results, console)
    sys.exit(EXIT_OK if all(result.is_successful() for result in results) else EXIT_FAILED)
