"""Names and lines from a script, shown safely (sandbox.results.printable) by every renderer."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html.parser import HTMLParser

import pytest
from results_factory import make_result
from rich.console import Console

from sandbox.report.html import render_html
from sandbox.report.junit import junit_xml
from sandbox.report.tables import render_batch_summary, render_result_detail
from sandbox.report.text import render_text
from sandbox.results.models import OutputFile, Status, TestResult
from sandbox.results.printable import json_safe, json_safe_text, printable, printable_markup

# What a hostile script names its files: the last is b"bad\xff\xfe.txt" as os.listdir gives it.
HOSTILE = [
    "new\nline.txt",
    "\x1b]0;pwn\x07.txt",
    "\x1b[2J.txt",
    "[bold]x[/bold]",
    "bad\udcff\udcfe.txt",
]


Renderer = Callable[[TestResult, Console], None]


def _recorded(console: Console) -> str:
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("new\nline.txt", "new\\nline.txt"),
        ("\x1b]0;pwn\x07.txt", "\\x1b]0;pwn\\x07.txt"),
        ("\x1b[2J.txt", "\\x1b[2J.txt"),
        ("bad\udcff\udcfe.txt", "bad\\xff\\xfe.txt"),
        ("tab\there\r", "tab\\there\\r"),
        ("c1 \x9b2J", "c1 \\x9b2J"),
        ("bidi \u202eexe.txt", "bidi \\u202eexe.txt"),
        ("lone \ud800", "lone \\ud800"),
        ("résumé [bold]x[/bold] a\\b", "résumé [bold]x[/bold] a\\b"),
    ],
)
def test_printable_shows_what_a_terminal_would_act_on(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_multiline_keeps_newlines_only() -> None:
    assert printable("a\nb\x1b[2J", multiline=True) == "a\nb\\x1b[2J"


def test_markup_is_literal() -> None:
    console = Console(file=io.StringIO(), color_system=None, width=200)
    console.print(printable_markup("[bold]x[/bold] \x1b[31m"))
    assert _recorded(console) == "[bold]x[/bold] \\x1b[31m\n"


def test_json_safe_keeps_controls_exact_and_makes_bytes_valid_unicode() -> None:
    value = {"bad\udcff": ["\x1b[2J", "bad\udcfe.txt", 3, None]}
    safe = json_safe(value)
    assert safe == {"bad\\xff": ["\x1b[2J", "bad\\xfe.txt", 3, None]}
    json.dumps(safe, ensure_ascii=False).encode("utf-8")  # no lone surrogate left
    assert json_safe_text("résumé") == "résumé"


def _hostile_result(status: Status = Status.FAIL) -> TestResult:
    return make_result(
        "hostile",
        status,
        outputs={"data": [OutputFile(channel="data", path=name, size_bytes=1) for name in HOSTILE]},
        findings=["file \x1b[2J.txt: no rows"],
        error_message="exit code 1: \x1b]0;pwn\x07 [bold]boom[/bold]",
        stderr_tail=["\x1b[2J cleared", "bad \udcff byte"],
        exit_message="\x1b[31mred",
    )


def _text(render: Renderer, result: TestResult) -> str:
    console = Console(file=io.StringIO(), color_system=None, width=200, soft_wrap=True)
    render(result, console)
    return _recorded(console)


@pytest.mark.parametrize("render", [render_text, render_result_detail])
def test_text_output_holds_no_escape_and_no_interpreted_markup(render: Renderer) -> None:
    out = _text(render, _hostile_result())
    assert "\x1b" not in out and "\x07" not in out
    assert "\udcff" not in out
    for shown in ["\\x1b]0;pwn\\x07.txt", "\\x1b[2J.txt", "new\\nline.txt", "bad\\xff\\xfe.txt"]:
        assert shown in out
    assert "[bold]x[/bold]" in out
    assert "[bold]boom[/bold]" in out
    assert "\\x1b[2J cleared" in out


def test_batch_summary_holds_no_escape() -> None:
    console = Console(file=io.StringIO(), color_system=None, width=200)
    render_batch_summary([_hostile_result()], console)
    out = _recorded(console)
    assert "\x1b" not in out
    assert "\\x1b]0;pwn\\x07" in out


def test_html_report_renders_with_visible_escapes() -> None:
    page = render_html(_hostile_result())
    page.encode("utf-8")  # raised UnicodeEncodeError on surrogates
    assert "\x1b" not in page
    parser = _Cells()
    parser.feed(page)
    for shown in ["new\\nline.txt", "\\x1b]0;pwn\\x07.txt", "[bold]x[/bold]", "bad\\xff\\xfe.txt"]:
        assert shown in parser.cells


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_cell = tag == "td"

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.cells.append(data)


def test_junit_parses_and_shows_escapes() -> None:
    document = junit_xml([_hostile_result()])
    root = ET.fromstring(document.encode("utf-8"))
    failure = root.find("./testsuite/testcase/failure")
    assert failure is not None
    assert "\\x1b]0;pwn\\x07" in failure.get("message", "")
    system_err = root.find("./testsuite/testcase/system-err")
    assert system_err is not None and system_err.text is not None
    assert system_err.text.splitlines() == ["\\x1b[2J cleared", "bad \\xff byte"]


def test_result_json_is_valid_utf8_and_keeps_names() -> None:
    payload = _hostile_result().to_json_dict()
    text = json.dumps(payload, ensure_ascii=False)
    text.encode("utf-8")
    paths = [item["path"] for item in json.loads(text)["outputs"]["data"]]
    assert paths == [*HOSTILE[:4], "bad\\xff\\xfe.txt"]
