"""Spread many scripts over CI runners: ``--shard K/N`` picks a stable part of them.

The scripts are sorted by name (the file's stem, then the whole path), and shard ``K``
takes every ``N``-th one starting at the ``K``-th: the same list gives every runner the
same split whatever order it was given in, every script lands in exactly one shard, and
the shards' sizes differ by one at most.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sandbox.errors import OptionError

__all__ = ["Shard", "parse_shard", "select_shard"]

_SHARD = re.compile(r"(\d+)/(\d+)")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (from 1) of ``count``."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``"2/4"`` -> ``Shard(2, 4)``.

    Raises:
        OptionError: Not ``K/N`` with ``1 <= K <= N``.
    """
    match = _SHARD.fullmatch(text.strip())
    if match is None:
        raise OptionError("--shard", text, "expected K/N, e.g. 2/4")
    index, count = int(match[1]), int(match[2])
    if not 1 <= index <= count:
        raise OptionError("--shard", text, f"K must be from 1 to N ({count})")
    return Shard(index, count)


def select_shard(names: Sequence[str], shard: Shard) -> list[str]:
    """The scripts of ``shard``, in the order the split gives them."""
    ordered = sorted(names, key=lambda name: (Path(name).stem, name))
    return [name for i, name in enumerate(ordered) if i % shard.count == shard.index - 1]
