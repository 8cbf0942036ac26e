"""A self-contained HTML report of one run, for people.

One file with inline CSS and an inline SVG plot drawn here from ``result.timeline``
(memory in MiB and CPU percent over seconds): it fetches nothing, so it opens the same
from a CI artifact, a mail attachment or a laptop without network. Every value that
comes from a run (names, paths, stderr, spec) is escaped, control characters and bytes
that were not UTF-8 shown as visible escapes.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Sequence

import yaml

from sandbox import __version__
from sandbox.results.models import Status, TestResult, TimelineSample
from sandbox.results.printable import printable, size_text

__all__ = ["SHORT_RUN_NOTE", "render_html", "timeline_svg"]

SHORT_RUN_NOTE = "run too short for a timeline"

_PLOT_W, _PLOT_H = 760, 280
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 64, 28, 40
_TIME_STEPS_S = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 1e12)
_MEMORY_COLOUR, _CPU_COLOUR = "#1f77b4", "#d62728"
_VERDICT_COLOUR = {
    Status.PASS: "#1a7f37",
    Status.FAIL: "#cf222e",
    Status.ERROR: "#cf222e",
    Status.TIMEOUT: "#9a6700",
    Status.OOM: "#8250df",
    Status.SKIPPED: "#6e7781",
}
_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328;
background:#f6f8fa}
main{max-width:1000px;margin:0 auto;padding:24px}
header.verdict{color:#fff;padding:18px 24px;border-radius:8px}
header.verdict h1{margin:0;font-size:26px}
header.verdict p{margin:6px 0 0}
section{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:8px 20px 16px;
margin-top:16px}
h2{font-size:18px;margin:12px 0}
table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#0d1117;color:#e6edf3;padding:12px;border-radius:6px;overflow-x:auto;
font-size:13px;white-space:pre-wrap;word-break:break-word}
.note{color:#57606a;font-style:italic}
svg text{font:12px system-ui,sans-serif;fill:#57606a}
footer{color:#57606a;font-size:12px;margin:16px 0}
"""


def render_html(result: TestResult) -> str:
    """The whole report as one HTML document."""
    sections = [
        _verdict(result),
        _resources(result),
        _timeline(result),
        _outputs(result),
        _bullets("Findings", "findings", result.findings),
        _bullets("Recommendations", "recommendations", result.recommendations),
        _stderr(result),
        _spec(result),
    ]
    title = f"sandbox: {result.status.value} {result.script_name}"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(sections)
        + f"\n<footer>sandbox {_e(__version__)}, run {_e(result.run_id)}</footer>\n"
        "</main>\n</body>\n</html>\n"
    )


def _e(value: object, *, multiline: bool = False) -> str:
    return html.escape(printable(str(value), multiline=multiline), quote=True)


def _verdict(result: TestResult) -> str:
    colour = _VERDICT_COLOUR[result.status]
    reason = f"<p>{_e(result.error_message)}</p>" if result.error_message else ""
    when = result.timestamp.strftime("%Y-%m-%d %H:%M:%S %Z")
    return (
        f'<header class="verdict" id="verdict" style="background:{colour}">'
        f"<h1>{_e(result.status.value)} {_e(result.script_name)}</h1>{reason}"
        f"<p>{_e(result.kind)}, {_e(result.call_style)}; run {_e(result.run_id)} at {_e(when)}"
        "</p></header>"
    )


def _resources(result: TestResult) -> str:
    rows = [
        ("exit code", "none" if result.exit_code is None else result.exit_code),
        ("wall time", f"{result.execution_time:.2f} s"),
        ("peak memory (all processes, their page cache in)", _mib(result.peak_memory_mb)),
        ("peak RSS (largest process, shared libraries in)", _mib(result.peak_rss_mb)),
        ("CPU time", _cpu_time(result)),
        ("max CPU", _percent(result.max_cpu_percent)),
        ("limits", result.limits.describe()),
        ("image", result.image),
        ("exit message", result.exit_message or "none"),
    ]
    body = "".join(f"<tr><th>{_e(name)}</th><td>{_e(value)}</td></tr>" for name, value in rows)
    return f'<section id="resources"><h2>Resources</h2><table>{body}</table></section>'


def _mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} MiB"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}% of one core"


def _cpu_time(result: TestResult) -> str:
    if result.cpu_user_s is None:
        return "n/a"
    return f"{result.cpu_user_s:.2f} s user, {result.cpu_system_s or 0:.2f} s system"


def _timeline(result: TestResult) -> str:
    if len(result.timeline) < 2:
        body = (
            f'<p class="note" id="no-timeline">{SHORT_RUN_NOTE} ({len(result.timeline)} '
            f"sample(s)); peak memory {_e(_mib(result.peak_memory_mb))}, max CPU "
            f"{_e(_percent(result.max_cpu_percent))}</p>"
        )
    else:
        body = timeline_svg(result.timeline)
    return f'<section id="timeline"><h2>Memory and CPU over time</h2>{body}</section>'


def _outputs(result: TestResult) -> str:
    rows = [
        f'<tr><td>{_e(f.channel)}</td><td>{_e(f.path)}</td><td class="num">'
        f"{_e(size_text(f.size_bytes))}</td></tr>"
        for files in result.outputs.values()
        for f in files
    ]
    rows += [
        f'<tr><td>(artifact)</td><td>{_e(a.name)}</td><td class="num">'
        f"{_e(size_text(a.size_bytes))}</td></tr>"
        for a in result.artifacts
    ]
    if not rows:
        return '<section id="outputs"><h2>Outputs</h2><p class="note">no output files</p></section>'
    head = '<tr><th>channel</th><th>file</th><th class="num">size</th></tr>'
    return f'<section id="outputs"><h2>Outputs</h2><table>{head}{"".join(rows)}</table></section>'


def _bullets(title: str, anchor: str, items: Sequence[str]) -> str:
    if not items:
        body = f'<p class="note">no {title.lower()}</p>'
    else:
        body = "<ul>" + "".join(f"<li>{_e(item)}</li>" for item in items) + "</ul>"
    return f'<section id="{anchor}"><h2>{_e(title)}</h2>{body}</section>'


def _stderr(result: TestResult) -> str:
    if not result.stderr_tail:
        return '<section id="stderr"><h2>stderr</h2><p class="note">empty</p></section>'
    text = "\n".join(result.stderr_tail)
    title = f"stderr (last {len(result.stderr_tail)} lines)"
    log = result.stderr_log
    note = ""
    if log is not None and log.path and log.tail_cut:
        whole = (
            f"long lines are cut here; the whole stderr ({size_text(log.size_bytes)}): {log.path}"
        )
        note = f'<p class="note">{_e(whole)}</p>'
    pre = f"<pre>{_e(text, multiline=True)}</pre>"
    return f'<section id="stderr"><h2>{_e(title)}</h2>{note}{pre}</section>'


def _spec(result: TestResult) -> str:
    if not result.spec:
        return '<section id="spec"><h2>Spec</h2><p class="note">no spec recorded</p></section>'
    try:
        text = yaml.safe_dump(result.spec, sort_keys=False)
    except yaml.YAMLError:
        text = json.dumps(result.spec, indent=2, default=str)
    return f'<section id="spec"><h2>Spec used</h2><pre>{_e(text, multiline=True)}</pre></section>'


# The plot ---------------------------------------------------------------------


def timeline_svg(samples: Sequence[TimelineSample]) -> str:
    """An SVG line plot: memory (MiB, left axis) and CPU (percent, right axis) over seconds."""
    t_max = max(s.t_s for s in samples) or 1.0
    mem_max = _nice_ceiling(max(s.memory_mb for s in samples))
    cpus = [(s.t_s, s.cpu_percent) for s in samples if s.cpu_percent is not None]
    cpu_max = _nice_ceiling(max([100.0, *(c for _, c in cpus)]))
    memory = [(s.t_s, s.memory_mb) for s in samples]
    parts = [
        _grid(t_max, mem_max, cpu_max),
        _polyline("memory-line", _MEMORY_COLOUR, _points(memory, t_max, mem_max)),
    ]
    if len(cpus) >= 2:
        parts.append(_polyline("cpu-line", _CPU_COLOUR, _points(cpus, t_max, cpu_max)))
    parts.append(_legend(has_cpu=len(cpus) >= 2))
    return (
        f'<svg id="timeline-plot" xmlns="http://www.w3.org/2000/svg" width="{_PLOT_W}" '
        f'height="{_PLOT_H}" viewBox="0 0 {_PLOT_W} {_PLOT_H}" role="img">'
        f"<title>memory (MiB) and CPU (%) over {t_max:.1f} s, {len(samples)} samples</title>"
        + "".join(parts)
        + "</svg>"
    )


def _x(t_s: float, t_max: float) -> float:
    return _LEFT + t_s / t_max * (_PLOT_W - _LEFT - _RIGHT)


def _y(value: float, top_value: float) -> float:
    return _PLOT_H - _BOTTOM - value / top_value * (_PLOT_H - _TOP - _BOTTOM)


def _points(series: Iterable[tuple[float, float]], t_max: float, top: float) -> str:
    return " ".join(f"{_x(t, t_max):.1f},{_y(v, top):.1f}" for t, v in series)


def _polyline(element_id: str, colour: str, points: str) -> str:
    return (
        f'<polyline id="{element_id}" fill="none" stroke="{colour}" stroke-width="2.5" '
        f'stroke-linejoin="round" points="{points}"/>'
    )


def _grid(t_max: float, mem_max: float, cpu_max: float) -> str:
    bottom, right = _PLOT_H - _BOTTOM, _PLOT_W - _RIGHT
    lines = [
        f'<rect x="{_LEFT}" y="{_TOP}" width="{right - _LEFT}" height="{bottom - _TOP}" '
        'fill="#fbfcfd" stroke="#d0d7de"/>'
    ]
    for step in range(5):
        fraction = step / 4
        y = _y(fraction * mem_max, mem_max)
        lines.append(
            f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#eaeef2"/>'
        )
        lines.append(_label(_LEFT - 6, y + 4, f"{fraction * mem_max:g}", "end"))
        lines.append(_label(right + 6, y + 4, f"{fraction * cpu_max:g}", "start"))
    lines.extend(_time_ticks(t_max, bottom))
    lines.append(_label((_LEFT + right) / 2, _PLOT_H - 4, "seconds", "middle"))
    lines.append(_label(_LEFT - 6, _TOP - 8, "MiB", "end"))
    lines.append(_label(right + 6, _TOP - 8, "CPU %", "start"))
    return "".join(lines)


def _time_ticks(t_max: float, bottom: float) -> list[str]:
    """Ticks at round seconds (0.5, 1, 2, 5, 10 ... apart), at most six of them."""
    step = next(s for s in _TIME_STEPS_S if t_max / s <= 6)
    count = int(t_max / step + 1e-9)
    return [
        _label(_x(i * step, t_max), bottom + 16, f"{i * step:g}", "middle")
        for i in range(count + 1)
    ]


def _label(x: float, y: float, text: str, anchor: str) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{_e(text)}</text>'


def _legend(*, has_cpu: bool) -> str:
    items = [("memory MiB", _MEMORY_COLOUR)] + ([("CPU %", _CPU_COLOUR)] if has_cpu else [])
    parts = []
    for index, (name, colour) in enumerate(items):
        x = _LEFT + 12 + index * 130
        parts.append(
            f'<line x1="{x}" y1="{_TOP + 14}" x2="{x + 24}" y2="{_TOP + 14}" stroke="{colour}" '
            f'stroke-width="3"/>' + _label(x + 30, _TOP + 18, name, "start")
        )
    return "".join(parts)


def _nice_ceiling(value: float) -> float:
    """The smallest round number (1, 1.2, 1.5, 2, 2.5 ... 8 times a power of ten) that is
    >= ``value``, and at least 1: the top of an axis with four even steps."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for factor in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if factor * power >= value:
            return float(factor * power)
    return float(10 * power)
