"""The text report (sandbox.report.text): each memory figure says what it measures."""

from __future__ import annotations

import io

import pytest
from results_factory import make_result
from rich.console import Console

from sandbox.report.text import render_text


@pytest.mark.parametrize("width", [80, 120])
def test_each_memory_figure_says_what_it_measures(width: int) -> None:
    buffer = io.StringIO()
    render_text(
        make_result(peak_memory_mb=173.3, peak_rss_mb=225.4),
        Console(file=buffer, color_system=None, width=width),
    )
    lines = buffer.getvalue().splitlines()
    memory = next(line for line in lines if "peak memory" in line)
    rss = next(line for line in lines if "peak RSS" in line)
    assert "173.3 MiB (all processes, their page cache in)" in memory
    assert "225.4 MiB (largest process, shared libraries in)" in rss
