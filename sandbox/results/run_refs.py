"""Short references to a stored run: ``latest``, ``latest~N``, or a unique prefix or suffix
of its id, resolved against the run ids of a workspace (which sort by time)."""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["match_run_reference"]

_LATEST_RE = re.compile(r"^latest(?:~(\d+))?$")


def match_run_reference(run_ids: Sequence[str], reference: str) -> list[str]:
    """The run ids ``reference`` names, oldest first: one when it is unambiguous.

    Args:
        run_ids: the workspace's run ids, oldest first.
        reference: a whole id; ``latest`` (the newest run) or ``latest~N`` (the Nth
            before it); or a prefix or a suffix of ids.

    Returns:
        The matching ids: none, one, or (an ambiguous reference) several.
    """
    if not reference:
        return []
    latest = _LATEST_RE.match(reference)
    if latest:
        back = int(latest.group(1) or 0)
        return [run_ids[-1 - back]] if back < len(run_ids) else []
    if reference in run_ids:
        return [reference]
    return [r for r in run_ids if r.startswith(reference) or r.endswith(reference)]
