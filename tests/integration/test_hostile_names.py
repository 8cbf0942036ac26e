"""A script that names its outputs to attack the reader, on the real engine: text output
holds no escape byte, the HTML report renders, JUnit and JSON parse; and names and
values the tool cannot use are usage errors, not engine errors."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from junitparser import Failure, JUnitXml

from sandbox.cli import cli

SCRIPTS = Path(__file__).resolve().parent / "scripts"
SHOWN_NAMES = [
    "new\\nline.txt",
    "\\x1b]0;pwn\\x07.txt",
    "\\x1b[2J.txt",
    "[bold]x[/bold]",
    "bad\\xff\\xfe.txt",
]

pytestmark = pytest.mark.usefixtures("offline_image")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"NO_COLOR": "1", "COLUMNS": "200"})


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids += [value or "" for name, value in attrs if name == "id"]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def hostile_run(engine: object, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("hostile")
    workspace, junit = root / "ws", root / "junit.xml"
    text = invoke(
        "test-script",
        str(SCRIPTS / "hostile_names.py"),
        "--workspace-dir",
        str(workspace),
        "--junit-xml",
        str(junit),
    )
    assert text.exit_code == 1, text.output
    as_json = invoke(
        "test-script",
        str(SCRIPTS / "hostile_names.py"),
        "--workspace-dir",
        str(workspace),
        "--output-format",
        "json",
    )
    assert as_json.exit_code == 1, as_json.output
    return {"root": root, "workspace": workspace, "junit": junit, "text": text, "json": as_json}


def test_text_output_holds_no_escape_byte(hostile_run: dict[str, Any]) -> None:
    out = hostile_run["text"].stdout
    assert "\x1b" not in out and "\x07" not in out
    for name in SHOWN_NAMES:
        assert f"    {name} (1 B)" in out
    assert "\\x1b]0;pwn\\x07 failed on purpose" in out


def test_show_result_holds_no_escape_byte(hostile_run: dict[str, Any]) -> None:
    (document,) = json.loads(hostile_run["json"].stdout)["results"]
    shown = invoke(
        "show-result", document["run_id"], "--workspace-dir", str(hostile_run["workspace"])
    )
    assert shown.exit_code == 0, shown.output
    assert "\x1b" not in shown.stdout
    assert "wrote \\x1b[2J [bold]names[/bold]" in shown.stdout


def test_json_is_valid_utf8_with_every_name(hostile_run: dict[str, Any]) -> None:
    stdout: str = hostile_run["json"].stdout
    stdout.encode("utf-8")  # no lone surrogate
    (document,) = json.loads(stdout)["results"]
    json.dumps(document, ensure_ascii=False).encode("utf-8")
    paths = sorted(item["path"] for item in document["outputs"]["data"])
    assert paths == sorted(
        [
            "new\nline.txt",
            "\x1b]0;pwn\x07.txt",
            "\x1b[2J.txt",
            "[bold]x[/bold]",
            "bad\\xff\\xfe.txt",
        ]
    )
    saved = Path(document["run_dir"]) / "result.json"
    json.loads(saved.read_bytes().decode("utf-8"))


def test_html_report_renders(hostile_run: dict[str, Any]) -> None:
    (document,) = json.loads(hostile_run["json"].stdout)["results"]
    report = hostile_run["root"] / "report.html"
    written = invoke(
        "report",
        document["run_id"],
        "--workspace-dir",
        str(hostile_run["workspace"]),
        "-o",
        str(report),
    )
    assert written.exit_code == 0, written.output
    page = _Page()
    page.feed(report.read_bytes().decode("utf-8"))
    assert {"verdict", "outputs", "stderr"} <= set(page.ids)
    text = "".join(page.text)
    assert "\x1b" not in text
    for name in SHOWN_NAMES:
        assert name in text


def test_junit_parses(hostile_run: dict[str, Any]) -> None:
    xml = JUnitXml.fromfile(str(hostile_run["junit"]))
    cases = [case for suite in xml for case in suite]
    assert len(cases) == 1
    failures = [r for r in cases[0].result if isinstance(r, Failure)]
    assert failures and "\\x1b]0;pwn\\x07 failed on purpose" in (failures[0].message or "")
    assert "\x1b" not in hostile_run["junit"].read_text(encoding="utf-8")


def test_a_non_ascii_output_channel_runs(engine: object, tmp_path: Path) -> None:
    result = invoke(
        "test-script",
        str(SCRIPTS / "resume_channel.py"),
        "--workspace-dir",
        str(tmp_path / "ws"),
        "--output-format",
        "json",
    )
    assert result.exit_code == 0, result.output
    (document,) = json.loads(result.stdout)["results"]
    assert document["status"] == "PASS"
    assert [item["path"] for item in document["outputs"]["résumé"]] == ["cv.txt"]
    assert (Path(document["run_dir"]) / "outputs" / "résumé" / "cv.txt").read_text() == "résumé\n"


def test_a_path_that_hides_python_is_blamed_on_env_path(engine: object, tmp_path: Path) -> None:
    result = invoke(
        "test-script",
        str(SCRIPTS / "write_file.py"),
        "--workspace-dir",
        str(tmp_path / "ws"),
        "--env",
        "PATH=/nonexist",
    )
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("sandbox: error: --env 'PATH=/nonexist': the container finds no")
    assert "python3" in lines[0]


def test_limits_beyond_the_engine_are_refused_before_a_run_folder(
    engine: object, tmp_path: Path
) -> None:
    for option, value in (("--cpus", "4096"), ("--memory", "99999999t")):
        result = invoke(
            "test-script",
            str(SCRIPTS / "write_file.py"),
            "--workspace-dir",
            str(tmp_path / "ws"),
            option,
            value,
        )
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith(f"sandbox: error: {option} '{value}': ")
        assert "engine" in result.stderr
    assert not (tmp_path / "ws" / "runs").exists() or not any((tmp_path / "ws" / "runs").iterdir())
