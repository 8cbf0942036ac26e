"""Join the JUnit XML files of several shards into one document, totals summed.

Each input's ``<testsuite>`` elements (under a ``<testsuites>`` root, or the root
itself) are kept as they are; the new ``<testsuites>`` root carries the sums of their
``tests``, ``failures``, ``errors``, ``skipped`` and ``time``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from sandbox.errors import UsageError

__all__ = ["merge_junit"]

_COUNTS = ("tests", "failures", "errors", "skipped")


def merge_junit(files: Sequence[Path], *, name: str = "sandbox") -> str:
    """One JUnit XML document holding every suite of ``files``.

    Raises:
        UsageError: A file cannot be read, is not XML, or holds no JUnit suite.
    """
    suites = [suite for path in files for suite in _suites(path)]
    root = ET.Element("testsuites", {"name": name, **_totals(suites)})
    root.extend(suites)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _suites(path: Path) -> list[ET.Element]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise UsageError(f"{path}: not a readable JUnit XML file ({exc})") from exc
    if root.tag == "testsuite":
        return [root]
    if root.tag == "testsuites":
        return root.findall("testsuite")
    raise UsageError(f"{path}: not JUnit XML (root element <{root.tag}>)")


def _totals(suites: Sequence[ET.Element]) -> dict[str, str]:
    totals = {
        key: sum(_number(suite, key, len(suite.findall("testcase"))) for suite in suites)
        for key in _COUNTS
    }
    seconds = sum(_seconds(suite) for suite in suites)
    return {**{key: str(int(value)) for key, value in totals.items()}, "time": f"{seconds:.3f}"}


def _number(suite: ET.Element, key: str, cases: int) -> int:
    value = suite.get(key)
    if value is None:
        return cases if key == "tests" else 0
    try:
        return int(value)
    except ValueError as exc:
        raise UsageError(
            f"testsuite {suite.get('name', '?')!r}: {key}={value!r} is not a count"
        ) from exc


def _seconds(suite: ET.Element) -> float:
    value = suite.get("time") or "0"
    try:
        return float(value)
    except ValueError as exc:
        raise UsageError(
            f"testsuite {suite.get('name', '?')!r}: time={value!r} is not seconds"
        ) from exc
