"""Strings from a script (file names, channel names, output lines) made safe to show.

A script names its files as it likes: a newline, a terminal escape (``ESC]0;...BEL``
retitles the terminal, ``ESC[2J`` clears it), or bytes that are not UTF-8, which Python
keeps as lone surrogates (``surrogateescape``). :func:`printable` turns each of them
into a visible escape (``\\n``, ``\\x1b``, ``\\xff``), so a terminal, an HTML page or an
XML file shows the name and obeys none of it. :func:`json_safe` does the same for the
surrogates alone, so that JSON stays valid UTF-8 while keeping control characters
exact (JSON escapes those itself).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["json_safe", "json_safe_text", "printable", "printable_markup", "size_text"]

# C0 and C1 controls and DEL, bidirectional overrides (which reorder what is shown),
# the Unicode line separators, and lone surrogates.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)
_UNSAFE_EXCEPT_NEWLINE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPED_BYTES = range(0xDC80, 0xDD00)
"""``surrogateescape`` keeps an undecodable byte ``0xNN`` as ``U+DCNN``."""


def printable(text: str, *, multiline: bool = False) -> str:
    """``text`` with every character that a terminal, HTML or XML would act on shown as
    an escape: ``"a\\x1b[2J"`` -> ``"a\\\\x1b[2J"``. Printable characters (``é`` too) stay.

    Args:
        text: a name or a line from a script.
        multiline: keep newlines (for a block of lines shown as such).
    """
    pattern = _UNSAFE_EXCEPT_NEWLINE if multiline else _UNSAFE
    return pattern.sub(_escape, text)


def printable_markup(text: str, *, multiline: bool = False) -> str:
    """:func:`printable` ``text`` as literal rich markup: ``[bold]`` in a name stays text."""
    from rich.markup import escape  # lazily: JSON output never needs rich

    return escape(printable(text, multiline=multiline))


def json_safe_text(text: str) -> str:
    """``text`` as valid Unicode: a byte that was not UTF-8 (a lone surrogate) as ``\\xNN``."""
    return _SURROGATE.sub(_escape, text)


def json_safe(value: Any) -> Any:
    """``value`` (plain JSON types) with every string, key or value, made :func:`json_safe_text`."""
    if isinstance(value, str):
        return json_safe_text(value)
    if isinstance(value, dict):
        return {json_safe(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_safe(item) for item in value]
    return value


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if code in _ESCAPED_BYTES:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def size_text(size_bytes: int) -> str:
    """A byte count as people read it: ``512 B``, ``1.5 KiB``, ``2.0 MiB``, ``3.1 GiB``."""
    value = float(size_bytes)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
