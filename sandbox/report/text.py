"""Render results for people (rich text) and tools (JSON)."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from sandbox.results.models import Status, TestResult
from sandbox.results.printable import printable_markup, size_text

__all__ = ["STATUS_STYLE", "reason_line", "render_json", "render_text", "render_verdict"]

STATUS_STYLE = {
    Status.PASS: "bold green",
    Status.FAIL: "bold red",
    Status.ERROR: "bold red",
    Status.TIMEOUT: "bold yellow",
    Status.OOM: "bold magenta",
    Status.SKIPPED: "dim",
}
_STDERR_LINES_SHOWN = 20


def render_json(result: TestResult) -> str:
    """Exactly one JSON document."""
    return json.dumps(result.to_json_dict(), indent=2)


def render_verdict(result: TestResult, console: Console, *, with_reason: bool = False) -> None:
    """The verdict line alone: ``PASS name (processing, entrypoint) in 1.23 s``; with
    ``with_reason``, any verdict but PASS ends with the first line of its reason."""
    style = STATUS_STYLE[result.status]
    reason = ""
    if with_reason and result.status is not Status.PASS:
        reason = f": {printable_markup(reason_line(result))}"
    console.print(
        f"[{style}]{result.status.value}[/] {printable_markup(result.script_name)} "
        f"({result.kind}, {result.call_style}) in {result.execution_time:.2f} s{reason}",
        highlight=False,
    )


def reason_line(result: TestResult) -> str:
    """The first line of a result's reason, whole: ``exit code 1: KeyError: 'label'``."""
    text = (result.error_message or "").strip()
    if not text:
        return f"exit code {result.exit_code}" if result.exit_code else "no reason recorded"
    return text.splitlines()[0]


def render_text(result: TestResult, console: Console) -> None:
    """A verdict line, the figures, outputs, findings and, on failure, the stderr tail."""
    render_verdict(result, console)
    if result.error_message:
        console.print(f"  reason: {printable_markup(result.error_message)}")
    console.print(_figures(result))
    for channel, files in result.outputs.items():
        total = sum(f.size_bytes for f in files)
        console.print(
            f"  output {printable_markup(channel)}: {len(files)} file(s), {size_text(total)}"
        )
        for item in files[:10]:
            console.print(f"    {printable_markup(item.path)} ({size_text(item.size_bytes)})")
        if len(files) > 10:
            console.print(f"    ... {len(files) - 10} more")
    for channel, source in result.inputs.items():
        named = _with_production_name(result, channel)
        console.print(f"  input {printable_markup(named)}: {printable_markup(source)}")
    for finding in result.findings:
        console.print(f"  [yellow]finding:[/] {printable_markup(finding)}")
    for advice in result.recommendations:
        console.print(f"  [cyan]recommendation:[/] {printable_markup(advice)}")
    if result.exit_message:
        console.print(f"  exit message: {printable_markup(result.exit_message)}")
    if not result.is_successful() and result.stderr_tail:
        console.print("  stderr (last lines):")
        for line in result.stderr_tail[-_STDERR_LINES_SHOWN:]:
            console.print(f"    {printable_markup(line)}", highlight=False)
        log = result.stderr_log
        if log is not None and log.path and log.tail_cut:
            console.print(f"    (long lines cut; the whole stderr: {printable_markup(log.path)})")
    console.print(f"  run folder: {printable_markup(result.run_dir)}", style="dim")


def _with_production_name(result: TestResult, channel: str) -> str:
    """``model_input (production name model)`` when the script's name for a channel is
    not its folder's name, which ``--input`` and ``--data-source`` also accept."""
    inputs = result.spec.get("inputs") if isinstance(result.spec, dict) else None
    path = (inputs or {}).get(channel, {}).get("path", "")
    folder = str(path).rstrip("/").rsplit("/", 1)[-1]
    return f"{channel} (production name {folder})" if folder and folder != channel else channel


def _figures(result: TestResult) -> Table:
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_row("  exit code", str(result.exit_code))
    table.add_row("  image", printable_markup(result.image))
    table.add_row("  limits", printable_markup(result.limits.describe()))
    if result.peak_memory_mb is not None:
        table.add_row(
            "  peak memory", f"{result.peak_memory_mb:.1f} MiB (all processes, their page cache in)"
        )
    if result.peak_rss_mb is not None:
        table.add_row(
            "  peak RSS", f"{result.peak_rss_mb:.1f} MiB (largest process, shared libraries in)"
        )
    if result.cpu_user_s is not None:
        table.add_row(
            "  CPU", f"{result.cpu_user_s:.2f} s user, {result.cpu_system_s or 0:.2f} s system"
        )
    if result.max_cpu_percent is not None:
        table.add_row("  max CPU", f"{result.max_cpu_percent:.0f}% of one core")
    for note in result.limits.notes:
        table.add_row("  note", printable_markup(note))
    return table
