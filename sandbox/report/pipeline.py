"""Render a pipeline result: rich text, JUnit XML, and a self-contained HTML report.

Every renderer returns or prints what it makes and writes no file; the CLI decides
where it goes. The HTML page needs no network: its styles and the SVG of the DAG are
inline.
"""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from rich.console import Console
from rich.table import Table
from rich.text import Text

from sandbox.report.fit import Column, fit_table, prose
from sandbox.report.text import STATUS_STYLE
from sandbox.results.models import Status
from sandbox.results.pipeline import EdgeCheck, PipelineResult, StepResult
from sandbox.results.printable import printable, printable_markup

__all__ = ["render_html", "render_json", "render_junit", "render_text"]

_COLOUR = {
    Status.PASS: "#2e7d32",
    Status.FAIL: "#c62828",
    Status.ERROR: "#b71c1c",
    Status.TIMEOUT: "#f9a825",
    Status.OOM: "#8e24aa",
    Status.SKIPPED: "#9e9e9e",
}
_FAILURES = (Status.FAIL, Status.TIMEOUT, Status.OOM)
_NODE_W, _NODE_H, _GAP_X, _GAP_Y, _MARGIN = 190, 54, 80, 26, 16


def render_json(result: PipelineResult) -> str:
    """Exactly one JSON document."""
    return json.dumps(result.to_json_dict(), indent=2)


# text -------------------------------------------------------------------------


def render_text(result: PipelineResult, console: Console) -> None:
    """A verdict line, a table of steps, a table of edges, the timings."""
    style = STATUS_STYLE[result.status]
    console.print(
        f"[{style}]{result.status.value}[/] pipeline {printable_markup(result.pipeline_name)}: "
        f"{len(result.steps)} step(s), {len(result.edges)} edge(s) in {result.wall_time_s:.2f} s"
    )
    _render_steps(result.steps, console)
    if result.edges:
        console.print(_edges_table(result.edges))
    path = " -> ".join(result.critical_path) or "none"
    console.print(f"  critical path: {result.critical_path_s:.2f} s ({printable_markup(path)})")
    console.print(
        f"  jobs: {result.jobs}; pipeline folder: {printable_markup(result.run_dir)}", style="dim"
    )


def _render_steps(steps: list[StepResult], console: Console) -> None:
    """The steps as a table that fits the console (run ids whole), then for each step that
    did not pass, or reused an earlier run's outputs, its note on a line of its own."""
    columns = [
        Column("step", [Text(printable(step.name)) for step in steps]),
        Column("status", [Text(step.status.value, STATUS_STYLE[step.status]) for step in steps]),
        Column("run id", [Text(printable(step.result.run_id or "-")) for step in steps]),
        Column("time", [f"{step.wall_time_s:.2f} s" for step in steps], 1, "right"),
        Column("peak memory", [_memory(step) for step in steps], 2, "right"),
        Column("script", [Text(printable(step.result.script_name)) for step in steps], 3),
    ]
    console.print(fit_table(columns, console.width).table)
    for step in steps:
        note = step.reason if step.status is not Status.PASS else None
        if step.reused_from:
            note = f"reused from {step.reused_from}" + (f": {note}" if note else "")
        if note:
            console.print(prose(f"{printable(step.name)}: {printable(note)}"), soft_wrap=False)


def _memory(step: StepResult) -> str:
    return f"{step.peak_memory_mb:.1f} MiB" if step.peak_memory_mb is not None else "-"


def _edges_table(edges: list[EdgeCheck]) -> Table:
    table = Table("edge", "check", "message")
    for edge in edges:
        status = f"[{STATUS_STYLE[edge.status]}]{edge.status.value}[/]"
        table.add_row(printable_markup(edge.label), status, printable_markup(edge.message))
    return table


# JUnit ------------------------------------------------------------------------


def render_junit(result: PipelineResult) -> str:
    """JUnit XML: one testcase per step and one per edge, in one testsuite."""
    suite = ET.Element("testsuite", _suite_attributes(result))
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("pipeline_file", result.pipeline_file),
        ("pipeline_run_id", result.pipeline_run_id),
        ("critical_path_s", f"{result.critical_path_s:.3f}"),
        ("critical_path", " -> ".join(result.critical_path)),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": value})
    for step in result.steps:
        suite.append(_step_case(result.pipeline_name, step))
    for edge in result.edges:
        suite.append(_edge_case(result.pipeline_name, edge))
    root = ET.Element("testsuites", {"name": "sandbox pipeline"})
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _suite_attributes(result: PipelineResult) -> dict[str, str]:
    statuses = [step.status for step in result.steps] + [edge.status for edge in result.edges]
    return {
        "name": f"pipeline {result.pipeline_name}",
        "tests": str(len(statuses)),
        "failures": str(sum(status in _FAILURES for status in statuses)),
        "errors": str(statuses.count(Status.ERROR)),
        "skipped": str(statuses.count(Status.SKIPPED)),
        "time": f"{result.wall_time_s:.3f}",
        "timestamp": result.started_at.isoformat(),
    }


def _step_case(pipeline: str, step: StepResult) -> ET.Element:
    case = ET.Element(
        "testcase",
        {"classname": f"{pipeline}.steps", "name": step.name, "time": f"{step.wall_time_s:.3f}"},
    )
    _outcome(case, step.status, step.reason or step.status.value, step.result.stderr_tail)
    if step.run_dir:
        ET.SubElement(case, "system-out").text = f"run folder: {step.run_dir}"
    return case


def _edge_case(pipeline: str, edge: EdgeCheck) -> ET.Element:
    case = ET.Element(
        "testcase", {"classname": f"{pipeline}.edges", "name": edge.label, "time": "0.000"}
    )
    _outcome(case, edge.status, edge.message or edge.status.value, [])
    return case


def _outcome(case: ET.Element, status: Status, message: str, detail: list[str]) -> None:
    if status is Status.PASS:
        return
    tag = {Status.SKIPPED: "skipped", Status.ERROR: "error"}.get(status, "failure")
    element = ET.SubElement(case, tag, {"message": message[:1000]})
    if tag != "skipped":
        element.set("type", status.value)
        element.text = "\n".join([message, *detail])


# HTML -------------------------------------------------------------------------


def render_html(result: PipelineResult) -> str:
    """One self-contained HTML page: the DAG as inline SVG, then per-step figures."""
    title = _e(f"{result.status.value} pipeline {result.pipeline_name}")
    body = "\n".join(
        [
            f"<h1><span class='badge' style='background:{_COLOUR[result.status]}'>"
            f"{result.status.value}</span> pipeline {_e(result.pipeline_name)}</h1>",
            _summary_html(result),
            _dag_svg(result),
            "<h2>Steps</h2>",
            _steps_html(result.steps),
            "<h2>Edges</h2>",
            _edges_html(result.edges),
        ]
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title}</title><style>{_CSS}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:24px;color:#212121}"
    "table{border-collapse:collapse;margin:8px 0 24px}"
    "td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}"
    ".badge{color:#fff;border-radius:4px;padding:2px 8px;font-size:.8em}"
    "pre{background:#f5f5f5;padding:6px;max-height:240px;overflow:auto;margin:0}"
    ".dim{color:#757575}"
)


def _e(text: str, *, multiline: bool = False) -> str:
    return html.escape(printable(text, multiline=multiline))


def _summary_html(result: PipelineResult) -> str:
    rows = [
        ("pipeline file", result.pipeline_file),
        ("run", f"{result.pipeline_run_id} (jobs: {result.jobs})"),
        ("started", result.started_at.isoformat()),
        ("wall time", f"{result.wall_time_s:.2f} s"),
        ("critical path", f"{result.critical_path_s:.2f} s: {' -> '.join(result.critical_path)}"),
        ("folder", result.run_dir),
    ]
    return _table(["", ""], [[_e(k), _e(v)] for k, v in rows], header_row=False)


def _steps_html(steps: list[StepResult]) -> str:
    header = ["step", "status", "script", "wall time", "peak memory", "peak RSS", "CPU user/sys"]
    header += ["max CPU", "exit code", "memory over time", "reason", "run folder"]
    return _table(header, [_step_row(step) for step in steps])


def _step_row(step: StepResult) -> list[str]:
    r = step.result
    cpu = f"{r.cpu_user_s:.2f} / {r.cpu_system_s or 0:.2f} s" if r.cpu_user_s is not None else "-"
    reason = step.reason or ""
    if step.reused_from:
        reason = f"reused from {step.reused_from}. {reason}"
    tail = "\n".join(r.stderr_tail[-20:]) if step.status is not Status.PASS else ""
    return [
        _e(step.name),
        _badge(step.status),
        _e(r.script_name),
        f"{step.wall_time_s:.2f} s",
        _mib(step.peak_memory_mb),
        _mib(r.peak_rss_mb),
        cpu,
        f"{r.max_cpu_percent:.0f}%" if r.max_cpu_percent is not None else "-",
        _e(str(r.exit_code)) if r.exit_code is not None else "-",
        _sparkline([(s.t_s, s.memory_mb) for s in r.timeline]),
        _e(reason) + (f"<pre>{_e(tail, multiline=True)}</pre>" if tail else ""),
        f"<span class='dim'>{_e(step.run_dir)}</span>",
    ]


def _edges_html(edges: list[EdgeCheck]) -> str:
    rows = [[_e(e.from_), _e(e.to), _badge(e.status), _e(e.message)] for e in edges]
    return _table(["from", "to", "check", "message"], rows)


def _table(header: list[str], rows: Iterable[list[str]], *, header_row: bool = True) -> str:
    head = "<tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>"
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table>{head if header_row else ''}{body}</table>"


def _badge(status: Status) -> str:
    return f"<span class='badge' style='background:{_COLOUR[status]}'>{status.value}</span>"


def _mib(value: float | None) -> str:
    return f"{value:.1f} MiB" if value is not None else "-"


def _sparkline(points: list[tuple[float, float]], width: int = 140, height: int = 28) -> str:
    """Memory over time as a tiny inline SVG polyline; '-' without samples."""
    if len(points) < 2:
        return "-"
    t_max = max(t for t, _ in points) or 1.0
    m_max = max(m for _, m in points) or 1.0
    coords = " ".join(
        f"{t / t_max * (width - 2) + 1:.1f},{height - 1 - m / m_max * (height - 2):.1f}"
        for t, m in points
    )
    return (
        f"<svg width='{width}' height='{height}' role='img' aria-label='memory over time'>"
        f"<polyline fill='none' stroke='#1565c0' stroke-width='1.5' points='{coords}'/>"
        f"<title>peak {m_max:.1f} MiB over {t_max:.1f} s</title></svg>"
    )


# the DAG as SVG ------------------------------------------------------------------


def _step_of(endpoint: str) -> str:
    return endpoint.split(".", 1)[0]


def _layers(result: PipelineResult) -> dict[str, int]:
    """Each step's column: the longest chain of steps that feeds it."""
    names = [step.name for step in result.steps]
    feeds = [(_step_of(edge.from_), _step_of(edge.to)) for edge in result.edges]
    layer = dict.fromkeys(names, 0)
    for _ in names:  # at most len(names) relaxations in a DAG
        for source, target in feeds:
            if source in layer and target in layer:
                layer[target] = max(layer[target], layer[source] + 1)
    return layer


def _positions(result: PipelineResult) -> dict[str, tuple[int, int]]:
    layers = _layers(result)
    rows: dict[int, int] = {}
    positions: dict[str, tuple[int, int]] = {}
    for step in result.steps:
        column = layers[step.name]
        row = rows.get(column, 0)
        rows[column] = row + 1
        x = _MARGIN + column * (_NODE_W + _GAP_X)
        positions[step.name] = (x, _MARGIN + row * (_NODE_H + _GAP_Y))
    return positions


def _dag_svg(result: PipelineResult) -> str:
    positions = _positions(result)
    width = max((x for x, _ in positions.values()), default=0) + _NODE_W + 2 * _MARGIN
    height = max((y for _, y in positions.values()), default=0) + _NODE_H + 2 * _MARGIN
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        "role='img' aria-label='pipeline graph' font-family='sans-serif' font-size='12'>",
        "<defs><marker id='arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='8' "
        "markerHeight='8' orient='auto'><path d='M0,0 L10,5 L0,10 z' fill='#616161'/>"
        "</marker></defs>",
    ]
    parts += [_edge_svg(edge, positions) for edge in result.edges]
    parts += [_node_svg(step, *positions[step.name]) for step in result.steps]
    parts.append("</svg>")
    return "\n".join(parts)


def _edge_svg(edge: EdgeCheck, positions: dict[str, tuple[int, int]]) -> str:
    (sx, sy), (tx, ty) = positions[_step_of(edge.from_)], positions[_step_of(edge.to)]
    x1, y1, x2, y2 = sx + _NODE_W, sy + _NODE_H // 2, tx, ty + _NODE_H // 2
    colour = "#616161" if edge.status is Status.PASS else _COLOUR[edge.status]
    dash = " stroke-dasharray='5,4'" if edge.status is Status.SKIPPED else ""
    tip = _e(f"{edge.label}: {edge.status.value} {edge.message}")
    return (
        f"<g class='edge'><title>{tip}</title><path d='M{x1},{y1} C{x1 + 40},{y1} {x2 - 40},{y2} "
        f"{x2},{y2}' fill='none' stroke='{colour}' stroke-width='2'{dash} "
        "marker-end='url(#arrow)'/></g>"
    )


def _node_svg(step: StepResult, x: int, y: int) -> str:
    colour = _COLOUR[step.status]
    tip = _e(f"{step.name}: {step.status.value} {step.reason or ''}".strip())
    figures = f"{step.status.value} {step.wall_time_s:.1f} s"
    if step.peak_memory_mb is not None:
        figures += f", {step.peak_memory_mb:.0f} MiB"
    return (
        f"<g class='step' data-status='{step.status.value}'><title>{tip}</title>"
        f"<rect x='{x}' y='{y}' width='{_NODE_W}' height='{_NODE_H}' rx='8' fill='{colour}'/>"
        f"<text x='{x + 10}' y='{y + 22}' fill='#fff' font-weight='bold'>"
        f"{_e(step.name)}</text>"
        f"<text x='{x + 10}' y='{y + 40}' fill='#fff'>{_e(figures)}</text></g>"
    )
