"""Render stored results for people: the runs table, one run in full, a batch summary,
and what cleaning removed. Every renderer writes to the rich console it is given."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import yaml
from rich.console import Console
from rich.text import Text

from sandbox.report.fit import Column, fit_table, prose
from sandbox.report.text import STATUS_STYLE, reason_line, render_text
from sandbox.results.models import Status, TestResult
from sandbox.results.printable import printable, printable_markup
from sandbox.results.store import CleanReport, SkippedRun

__all__ = [
    "render_batch_summary",
    "render_clean_report",
    "render_result_detail",
    "render_results_table",
    "render_skipped",
]

_STDERR_LINES_SHOWN = 20
"""As many as :func:`sandbox.report.text.render_text` shows for a failed run."""


def render_results_table(results: Sequence[TestResult], console: Console) -> None:
    """One row per run, oldest first: run id, status, wall time, and as many of script,
    peak memory, when and image as fit the console; run ids are never cut or wrapped."""
    if not results:
        console.print("no results")
        return
    columns = [
        Column("run id", [Text(printable(r.run_id)) for r in results]),
        Column("status", [_status(r.status) for r in results]),
        Column("wall time", [f"{r.execution_time:.2f} s" for r in results], 1, "right"),
        Column("script", [Text(printable(r.script_name)) for r in results], 3),
        Column("peak memory", [_mib(r.peak_memory_mb) for r in results], 2, "right"),
        Column("when", [r.timestamp.astimezone().strftime("%m-%d %H:%M") for r in results], 4),
        Column("image", [Text(printable(r.image.removeprefix("sandbox/"))) for r in results], 5),
    ]
    console.print(fit_table(columns, console.width).table)


def render_skipped(skipped: Sequence[SkippedRun], console: Console) -> None:
    """One note line: how many run folders have no readable result, and the first few."""
    if not skipped:
        return
    shown = ", ".join(f"{s.run_id} ({s.reason})" for s in skipped[:3])
    more = f", and {len(skipped) - 3} more" if len(skipped) > 3 else ""
    shown = printable_markup(shown)
    console.print(
        f"note: {len(skipped)} run folder(s) skipped, no readable result: {shown}{more}",
        highlight=False,
    )


def render_result_detail(result: TestResult, console: Console) -> None:
    """Everything about one run: the verdict and figures, the stderr tail, the spec."""
    when = result.timestamp.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    console.print(f"run {printable_markup(result.run_id)} at {when}", style="bold", highlight=False)
    render_text(result, console)
    if result.kind_reason:
        console.print(
            f"  kind: {printable_markup(result.kind)} ({printable_markup(result.kind_reason)})"
        )
    for artifact in result.artifacts:
        console.print(f"  artifact {printable_markup(artifact.name)}: {artifact.size_bytes} bytes")
    if result.timeline:
        console.print(f"  timeline: {len(result.timeline)} samples")
    if result.is_successful() and result.stderr_tail:
        _print_lines("stderr (last lines)", result.stderr_tail, console)
    elif len(result.stderr_tail) > _STDERR_LINES_SHOWN:
        hidden = len(result.stderr_tail) - _STDERR_LINES_SHOWN
        console.print(
            f"  ({hidden} earlier stderr lines in {printable_markup(result.run_dir)}/stderr.log)"
        )
    if result.execution and result.execution.stdout_tail:
        _print_lines("stdout (last lines)", result.execution.stdout_tail, console)
    if result.spec:
        console.print("  spec used:")
        spec_yaml = yaml.safe_dump(result.spec, sort_keys=False).rstrip()
        console.print(
            Text(printable("    " + spec_yaml.replace("\n", "\n    "), multiline=True)),
            highlight=False,
        )


def render_batch_summary(
    results: Sequence[TestResult],
    console: Console,
    show_command: Callable[[TestResult], str] | None = None,
) -> None:
    """A table of every run of a batch, a count line, and for each run that did not pass
    its whole reason and the command that shows it (``show_command``, given the result).

    The reason is a column only when every reason fits whole; otherwise it is a line of
    its own under the table, never cut.
    """
    columns = [
        Column("script", [Text(printable(r.script_name)) for r in results]),
        Column("status", [_status(r.status) for r in results]),
        Column("wall time", [f"{r.execution_time:.2f} s" for r in results], 1, "right"),
        Column("peak memory", [_mib(r.peak_memory_mb) for r in results], 2, "right"),
        Column("reason", [_reason(r) for r in results], 3),
    ]
    fitted = fit_table(columns, console.width)
    console.print(fitted.table)
    failed = [r for r in results if not r.is_successful()]
    style = "bold green" if not failed else "bold red"
    console.print(
        f"[{style}]{len(results)} script(s): {len(results) - len(failed)} passed, "
        f"{len(failed)} not passed[/]"
    )
    for result in failed:
        console.print(Text(f"  {printable(result.script_name)}:"), highlight=False)
        if "reason" in fitted.dropped:
            console.print(prose(printable(reason_line(result)), indent=4), soft_wrap=False)
        show = show_command or (lambda r: f"sandbox show-result {r.run_id}")
        where = show(result) if result.run_id else "no run folder"
        console.print(Text(f"    {printable(where)}"), highlight=False)


def render_clean_report(report: CleanReport, console: Console) -> None:
    """What was (or, in a dry run, would be) removed, one line per run folder."""
    verb = "would remove" if report.dry_run else "removed"
    for run_id in report.interrupted_runs:
        console.print(
            f"saved run {printable_markup(run_id)} as interrupted: its controller died",
            highlight=False,
        )
    for run_id in report.removed_runs:
        console.print(f"{verb} run {printable_markup(run_id)}", highlight=False)
    for run_id, problem in report.failures.items():
        console.print(
            f"[red]could not remove run {printable_markup(run_id)}:[/] {printable_markup(problem)}"
        )
    for skipped in report.skipped_runs:
        console.print(
            f"skipped run {printable_markup(skipped.run_id)}: {printable_markup(skipped.reason)}",
            highlight=False,
        )
    mib = report.freed_bytes / (1024 * 1024)
    console.print(
        f"{verb} {len(report.removed_runs)} run folder(s) ({mib:.1f} MiB), "
        f"kept {report.kept_runs}{_skipped_count(report)}, in {printable_markup(report.workspace)}",
        highlight=False,
    )
    if report.containers_removed is None:
        console.print("no Docker engine answered: containers not checked", highlight=False)
    else:
        console.print(
            f"{verb} {report.containers_removed} leftover container(s) of this workspace",
            highlight=False,
        )


def _skipped_count(report: CleanReport) -> str:
    count = len(report.skipped_runs)
    return f", skipped {count} that may still be running" if count else ""


def _print_lines(title: str, lines: Sequence[str], console: Console) -> None:
    console.print(f"  {title}:")
    for line in lines:
        console.print(Text(f"    {printable(line)}"), highlight=False)


def _status(status: Status) -> Text:
    return Text(status.value, style=STATUS_STYLE[status])


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} MiB"


def _reason(result: TestResult) -> Text:
    return Text("" if result.is_successful() else printable(reason_line(result)))
