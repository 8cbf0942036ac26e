"""JUnit XML for CI: one test suite, one test case per script run.

The layout is the one CI parsers agree on (Jenkins, GitLab, GitHub test reporters):
``<testsuites><testsuite><testcase>`` with ``failure`` or ``skipped``, then
``system-out`` and ``system-err``, time in seconds. Control characters (terminal
colour codes in a script's stderr, say) are shown as visible escapes, so the file
always parses.
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from sandbox.results.models import Status, TestResult
from sandbox.results.printable import printable

__all__ = ["failure_message", "junit_xml"]

_NOT_XML_RE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MESSAGE_CHARS = 500
_FAILED = {Status.FAIL, Status.ERROR, Status.TIMEOUT, Status.OOM}


def junit_xml(results: Sequence[TestResult], *, suite_name: str = "sandbox") -> str:
    """One JUnit XML document for ``results``, in their order.

    Args:
        results: the runs, one test case each.
        suite_name: the name of the suite (and of the ``testsuites`` root).
    """
    counts = _counts(results)
    root = ET.Element("testsuites", {"name": suite_name, **counts})
    suite = ET.SubElement(root, "testsuite", {"name": suite_name, **counts})
    if results:
        suite.set("timestamp", results[0].timestamp.replace(microsecond=0).isoformat())
    suite.set("hostname", socket.gethostname())
    for result in results:
        suite.append(_testcase(result))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def failure_message(result: TestResult) -> str:
    """``"FAIL exit code 1: ValueError: ..."``: the status, the exit code and the reason."""
    code = "no exit code" if result.exit_code is None else f"exit code {result.exit_code}"
    reason = result.error_message or "no reason recorded"
    if reason.startswith(code):
        # The verdict already leads with the exit code ("exit code 137 (killed by ...)").
        return f"{result.status.value} {reason}"
    return f"{result.status.value} {code}: {reason}"


def _counts(results: Sequence[TestResult]) -> dict[str, str]:
    failures = sum(1 for r in results if r.status in _FAILED)
    skipped = sum(1 for r in results if r.status is Status.SKIPPED)
    seconds = sum(r.execution_time for r in results)
    return {
        "tests": str(len(results)),
        "failures": str(failures),
        "errors": "0",
        "skipped": str(skipped),
        "time": f"{seconds:.3f}",
    }


def _testcase(result: TestResult) -> ET.Element:
    case = ET.Element(
        "testcase",
        {
            "classname": f"sandbox.{result.kind}",
            "name": _clean(result.script_name),
            "file": _clean(result.script_path),
            "time": f"{result.execution_time:.3f}",
        },
    )
    if result.status in _FAILED:
        failure = ET.SubElement(
            case,
            "failure",
            {"message": _clean(_shortened(failure_message(result))), "type": result.status.value},
        )
        failure.text = _clean(_failure_details(result), multiline=True)
    elif result.status is Status.SKIPPED:
        ET.SubElement(case, "skipped", {"message": _clean(result.error_message or "skipped")})
    ET.SubElement(case, "system-out").text = _clean(_summary(result), multiline=True)
    if result.stderr_tail:
        lines = list(result.stderr_tail)
        log = result.stderr_log
        if log is not None and log.path and log.tail_cut:
            lines.append(f"[long lines cut; the whole stderr: {log.path}]")
        ET.SubElement(case, "system-err").text = _clean("\n".join(lines), multiline=True)
    return case


def _failure_details(result: TestResult) -> str:
    lines = [failure_message(result)]
    if result.exit_message:
        lines.append(f"exit message: {result.exit_message}")
    lines.extend(f"finding: {finding}" for finding in result.findings)
    lines.extend(f"recommendation: {advice}" for advice in result.recommendations)
    return "\n".join(lines)


def _summary(result: TestResult) -> str:
    peak = "n/a" if result.peak_memory_mb is None else f"{result.peak_memory_mb:.1f} MiB"
    return "\n".join(
        [
            f"run id: {result.run_id}",
            f"status: {result.status.value}",
            f"wall time: {result.execution_time:.3f} s",
            f"peak memory: {peak}",
            f"image: {result.image}",
            f"limits: {result.limits.describe()}",
            f"run folder: {result.run_dir}",
            # A passing testcase has no failure text: its findings (a run that read or
            # wrote nothing) would be seen nowhere else in CI.
            *(f"finding: {finding}" for finding in result.findings),
        ]
    )


def _shortened(text: str) -> str:
    """An attribute stays readable in CI summaries; the element's text has it all."""
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 3] + "..."


def _clean(text: str, *, multiline: bool = False) -> str:
    """Control characters as visible escapes; what XML 1.0 cannot carry still, U+FFFD."""
    return _NOT_XML_RE.sub("\ufffd", printable(text, multiline=multiline))
