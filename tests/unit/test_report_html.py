"""The HTML report (sandbox.report.html): self-contained, escaped, with a plot drawn here."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from results_factory import cut_tail_result, make_result

from sandbox.report.html import SHORT_RUN_NOTE, _nice_ceiling, render_html
from sandbox.results.models import Artifact, Status, TimelineSample


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text, of an HTML document."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def by_id(self, element_id: str) -> dict[str, str]:
        found = [attrs for _, attrs in self.tags if attrs.get("id") == element_id]
        assert found, f"no element with id {element_id!r}"
        return found[0]

    def has_id(self, element_id: str) -> bool:
        return any(attrs.get("id") == element_id for _, attrs in self.tags)

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def points(polyline: dict[str, str]) -> list[tuple[float, float]]:
    pairs = [pair.split(",") for pair in polyline["points"].split()]
    return [(float(x), float(y)) for x, y in pairs]


def test_report_has_verdict_figures_plot_outputs_findings_and_spec() -> None:
    result = make_result(
        "prep",
        Status.FAIL,
        findings=["symlinks in outputs are not uploaded"],
        recommendations=["use an instance type with more memory"],
        spec={"script": "prep.py", "arguments": {"job_type": "training"}},
        artifacts=[Artifact(name="model.tar.gz", path="/x/model.tar.gz", size_bytes=3 * 1024**2)],
    )
    page = Elements(render_html(result))
    text = page.all_text
    assert "FAIL prep" in text and "exit code 1: ValueError: boom" in text
    assert "120.0 MiB" in text and "ml.m5.large: 2 CPUs, 8192 MiB" in text
    assert "a.csv" in text and "2.0 KiB" in text and "3.0 MiB" in text
    assert "symlinks in outputs are not uploaded" in text
    assert "use an instance type with more memory" in text
    assert "job_type: training" in text
    assert "ValueError: boom" in text
    memory = points(page.by_id("memory-line"))
    cpu = points(page.by_id("cpu-line"))
    assert len(memory) == 3 and len(cpu) == 2  # the first sample has no CPU figure
    xs = [x for x, _ in memory]
    assert xs == sorted(xs) and xs[0] < xs[-1]
    assert memory[0][1] > memory[-1][1]  # more memory is higher on the page (smaller y)


def test_a_short_run_says_so_and_still_shows_peaks() -> None:
    result = make_result(
        "quick", timeline=[TimelineSample(t_s=0.0, memory_mb=3.0)], max_cpu_percent=42.0
    )
    page = Elements(render_html(result))
    assert page.has_id("no-timeline")
    assert f"{SHORT_RUN_NOTE} (1 sample(s)); peak memory 120.0 MiB" in page.all_text
    assert "42% of one core" in page.all_text
    assert not page.has_id("memory-line") and not page.has_id("timeline-plot")


def test_everything_from_the_run_is_escaped() -> None:
    hostile = "<script>alert(1)</script>"
    result = make_result(
        hostile,
        Status.FAIL,
        error_message=f'bad "{hostile}"',
        stderr_tail=["</pre><img src=x onerror=alert(1)>", hostile],
        findings=[hostile],
        spec={"environment": {"X": hostile}},
        outputs={},
    )
    html = render_html(result)
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    page = Elements(html)
    assert [tag for tag, _ in page.tags].count("script") == 0
    assert hostile in page.all_text  # shown literally, as text


def test_the_report_fetches_nothing() -> None:
    html = render_html(make_result("a"))
    for needle in ("src=", "href=", "@import", "url(", "<link", "<script"):
        assert needle not in html
    assert html.count("http") == 1  # only the SVG namespace, which is not fetched
    assert 'xmlns="http://www.w3.org/2000/svg"' in html


def test_no_outputs_no_findings_no_stderr_no_spec_are_said_plainly() -> None:
    text = Elements(
        render_html(make_result("a", outputs={}, stderr_tail=[], spec={}, timeline=[]))
    ).all_text
    for phrase in ("no output files", "no findings", "no recommendations", "empty", "no spec"):
        assert phrase in text


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [(0.2, 1.0), (7.0, 8.0), (11.0, 12.0), (100.3, 120.0), (120.0, 120.0), (230.0, 250.0)],
)
def test_axis_tops_are_round_numbers(value: float, ceiling: float) -> None:
    assert _nice_ceiling(value) == ceiling


def test_a_cut_stderr_tail_points_to_the_whole_log() -> None:
    page = render_html(cut_tail_result())
    assert "the whole stderr (100.0 MiB): /ws/runs/r/stderr.log" in page
