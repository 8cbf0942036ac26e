"""A PASS that did nothing: inputs never read, outputs left empty, or holding only
metadata about zero rows.

A declared output (from a spec file or contract) that is required and left empty makes
the run a FAIL with that reason: production would upload nothing where the next step
expects data. For channels inferred from the source, the same emptiness is a finding.
An input channel in which the job opened nothing at all is a finding too (a script may
skip an input on purpose); it is said only when the supervisor watched the channel from
the start to the end of the job, so it is never said on incomplete evidence.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Collection
from pathlib import Path

from sandbox.container.layout import JobLayout
from sandbox.contract.resolve import ResolvedScript
from sandbox.results.models import Status, TestResult

__all__ = ["INFERRED_SOURCE", "judge_hollow"]

INFERRED_SOURCE = "inferred from the script"
_ROW_COUNT_KEY = re.compile(r"(^|_)(rows?|count|records|samples|n|num)(_|$)", re.IGNORECASE)
_METADATA_LIMIT_BYTES = 64 * 1024


def judge_hollow(
    result: TestResult,
    resolved: ResolvedScript,
    layout: JobLayout,
    unread_inputs: Collection[str] = (),
) -> TestResult:
    """The result, failed or with findings when a passing run read or produced nothing.

    ``unread_inputs``: the container paths of the input channels in which the job
    provably opened nothing (``containerize.unread_inputs``).
    """
    if not result.is_successful():
        return result
    declared = resolved.spec_source != INFERRED_SOURCE
    problems: list[str] = []
    findings = [
        f"input channel {name!r} ({path}) was mounted but the script read nothing from it"
        for name, path in layout.input_paths.items()
        if posixpath.normpath(path) in unread_inputs
    ]
    for name, channel in resolved.spec.outputs.items():
        if name not in layout.outputs or result.outputs.get(name):
            continue
        text = f"output channel {name!r} ({channel.path}) is empty: production uploads nothing"
        (problems if declared and channel.required else findings).append(text)
    zero = _zero_row_metadata(layout.outputs, result)
    if zero:
        findings.append(f"the only outputs are metadata about zero rows ({zero})")
    if problems:
        return result.model_copy(
            update={
                "status": Status.FAIL,
                "error_message": "; ".join(problems),
                "findings": [*result.findings, *problems, *findings],
            }
        )
    if findings:
        return result.model_copy(update={"findings": [*result.findings, *findings]})
    return result


def _zero_row_metadata(folders: dict[str, Path], result: TestResult) -> str | None:
    """``file: key=0`` when every output file is a small JSON document and one says it
    counted zero rows; None otherwise."""
    files = [(name, item.path) for name, items in result.outputs.items() for item in items]
    if not files or any(not path.endswith(".json") for _, path in files):
        return None
    for name, relative in files:
        path = folders[name] / relative
        try:
            if path.stat().st_size > _METADATA_LIMIT_BYTES:
                return None
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        key = _zero_count(document)
        if key:
            return f"{name}/{relative}: {key}=0"
    return None


def _zero_count(document: object) -> str | None:
    if isinstance(document, dict):
        for key, value in document.items():
            if _ROW_COUNT_KEY.search(str(key)) and value == 0 and not isinstance(value, bool):
                return str(key)
            nested = _zero_count(value)
            if nested:
                return nested
    return None
