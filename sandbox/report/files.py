"""Reports of stored runs as files: HTML for people, JUnit XML and JSON for CI."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

from sandbox.errors import UsageError
from sandbox.report.html import render_html
from sandbox.report.junit import junit_xml
from sandbox.results.models import TestResult
from sandbox.results.store import find_result
from sandbox.results.workspace import write_text_atomic

__all__ = ["ReportFormat", "render_report", "write_report", "write_report_file"]


class ReportFormat(str, Enum):
    """The kinds of report file."""

    HTML = "html"
    JUNIT = "junit"
    JSON = "json"


def render_report(result: TestResult, report_format: ReportFormat) -> str:
    """The report of one run as text, in ``report_format``."""
    if report_format is ReportFormat.HTML:
        return render_html(result)
    if report_format is ReportFormat.JUNIT:
        return junit_xml([result])
    return json.dumps(result.to_json_dict(), indent=2) + "\n"


def write_report(
    workspace_dir: Path, run_id: str, report_format: ReportFormat, output: Path
) -> TestResult:
    """Write the report of a stored run (id or unique prefix) to ``output``, atomically.

    Raises:
        RunNotFoundError: no readable result for that run.
        UsageError: ``output`` cannot be written.
    """
    result = find_result(workspace_dir, run_id)
    write_report_file(output, render_report(result, report_format))
    return result


def write_report_file(output: Path, text: str) -> None:
    """Write a report atomically; a path that cannot be written is a usage error."""
    try:
        write_text_atomic(output, text)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc
