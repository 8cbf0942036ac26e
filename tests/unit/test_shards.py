"""`test-script --shard K/N` (sandbox.pipeline.shards) and `sandbox merge-junit`
(sandbox.report.junit_merge): offline, no Docker."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from junitparser import JUnitXml
from results_factory import make_result

from sandbox.cli.app import cli
from sandbox.errors import OptionError, UsageError
from sandbox.pipeline.shards import Shard, parse_shard, select_shard
from sandbox.report.junit import junit_xml
from sandbox.report.junit_merge import merge_junit
from sandbox.results.models import Status

NAMES = [f"scripts/step_{i:02d}.py" for i in range(23)]


@pytest.mark.parametrize("count", [1, 2, 3, 5, 23, 40])
def test_the_shards_split_every_script_exactly_once_evenly(count: int) -> None:
    shards = [select_shard(NAMES, Shard(k, count)) for k in range(1, count + 1)]
    assert sorted(name for shard in shards for name in shard) == sorted(NAMES)
    sizes = [len(shard) for shard in shards]
    assert max(sizes) - min(sizes) <= 1


def test_the_split_does_not_depend_on_the_order_given() -> None:
    shuffled = NAMES[:]
    random.Random(7).shuffle(shuffled)
    for k in (1, 2, 3):
        assert select_shard(shuffled, Shard(k, 3)) == select_shard(NAMES, Shard(k, 3))


def test_the_split_goes_by_script_name_not_folder() -> None:
    names = ["b/alpha.py", "a/beta.py", "c/gamma.py"]
    assert select_shard(names, Shard(1, 3)) == ["b/alpha.py"]
    assert select_shard(names, Shard(2, 3)) == ["a/beta.py"]


@pytest.mark.parametrize("text", ["0/3", "4/3", "1/0", "2", "a/b", "-1/3", "1/3/5"])
def test_a_bad_shard_is_refused_naming_the_option(text: str) -> None:
    with pytest.raises(OptionError, match=f"--shard '{text}'"):
        parse_shard(text)


def test_a_good_shard_parses() -> None:
    assert parse_shard(" 2/4 ") == Shard(2, 4)
    assert str(Shard(2, 4)) == "2/4"


def test_test_script_refuses_a_bad_shard_before_anything(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["test-script", "--all", "--scripts-dir", str(tmp_path), "--shard", "3/2"]
    )
    assert result.exit_code == 2
    assert "--shard '3/2': K must be from 1 to N (2)" in result.stderr


def test_an_empty_shard_passes_with_an_empty_junit_file(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.py").write_text("print('hi')\n")
    junit = tmp_path / "shard.xml"
    result = CliRunner().invoke(
        cli,
        [
            "test-script",
            "--all",
            "--scripts-dir",
            str(tmp_path),
            "--shard",
            "3/3",
            "--junit-xml",
            str(junit),
            "--workspace-dir",
            str(tmp_path / "ws"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "shard 3/3 has no script (2 in all)" in result.stderr
    root = ET.parse(junit).getroot()
    assert root.get("tests") == "0"


# merge-junit -----------------------------------------------------------------------------


def _shard_file(tmp_path: Path, name: str, statuses: list[str]) -> Path:
    results = [
        make_result(f"{name}_{i}", Status(status), execution_time=1.5)
        for i, status in enumerate(statuses)
    ]
    path = tmp_path / f"{name}.xml"
    path.write_text(junit_xml(results), encoding="utf-8")
    return path


def test_merged_junit_keeps_every_case_and_sums_the_totals(tmp_path: Path) -> None:
    first = _shard_file(tmp_path, "one", ["PASS", "FAIL"])
    second = _shard_file(tmp_path, "two", ["PASS", "SKIPPED", "TIMEOUT"])
    root = ET.fromstring(merge_junit([first, second]))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("5", "2", "1")
    assert root.get("errors") == "0"
    assert float(root.get("time", "")) == pytest.approx(7.5)
    assert len(root.findall("testsuite")) == 2
    cases = [case.get("name") for case in root.iter("testcase")]
    assert cases == ["one_0", "one_1", "two_0", "two_1", "two_2"]
    [failure] = [c for c in root.iter("testcase") if c.get("name") == "one_1"]
    assert failure.find("failure") is not None
    merged = tmp_path / "all.xml"
    merged.write_text(merge_junit([first, second]), encoding="utf-8")
    parsed = JUnitXml.fromfile(str(merged))  # a JUnit reader CI tools use
    assert sum(suite.tests for suite in parsed) == 5
    assert sum(suite.failures for suite in parsed) == 2


def test_a_bare_testsuite_root_is_merged_too(tmp_path: Path) -> None:
    bare = tmp_path / "bare.xml"
    bare.write_text(
        '<testsuite name="other" tests="2" failures="1" errors="1" time="0.5">'
        '<testcase name="x"/><testcase name="y"><error message="boom"/></testcase></testsuite>'
    )
    root = ET.fromstring(merge_junit([bare, _shard_file(tmp_path, "one", ["PASS"])]))
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "1")


@pytest.mark.parametrize(
    ("text", "problem"),
    [("not xml", "not a readable JUnit XML file"), ("<html/>", "root element <html>")],
)
def test_a_file_that_is_not_junit_is_named(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(text)
    with pytest.raises(UsageError, match=problem):
        merge_junit([path])


def test_the_merge_junit_command_writes_the_file(tmp_path: Path) -> None:
    first = _shard_file(tmp_path, "one", ["PASS"])
    second = _shard_file(tmp_path, "two", ["FAIL"])
    out = tmp_path / "all.xml"
    result = CliRunner().invoke(cli, ["merge-junit", str(first), str(second), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert ET.parse(out).getroot().get("tests") == "2"
    missing = CliRunner().invoke(cli, ["merge-junit", str(tmp_path / "nope.xml"), "-o", str(out)])
    assert missing.exit_code == 2
    assert "nope.xml: not a readable JUnit XML file" in missing.stderr


# the CI examples of the README -----------------------------------------------------------


def _readme_yaml_blocks() -> list[dict[str, Any]]:
    import re

    import yaml

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### In CI: shards, JUnit, HTML reports", 1)[1].split("\n### ", 1)[0]
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", section, re.S)]


def test_the_readme_ci_examples_are_valid_yaml_with_shards_junit_and_reports() -> None:
    github, gitlab = _readme_yaml_blocks()
    job = github["jobs"]["scripts"]
    shards = job["strategy"]["matrix"]["shard"]
    steps = "\n".join(str(step.get("run", "")) for step in job["steps"])
    assert f"--shard ${{{{ matrix.shard }}}}/{len(shards)}" in steps
    assert "sandbox report" in steps and "docker load" in steps and "docker save" in steps
    assert any(step.get("uses", "").startswith("actions/cache@") for step in job["steps"])
    merge = "\n".join(str(step.get("run", "")) for step in github["jobs"]["junit"]["steps"])
    assert "sandbox merge-junit junit-*.xml -o junit.xml" in merge

    shard_job = gitlab["sandbox"]
    assert shard_job["services"] == ["docker:27-dind"]
    assert gitlab["variables"]["DOCKER_HOST"] == "tcp://docker:2375"
    assert '--shard "$CI_NODE_INDEX/$CI_NODE_TOTAL"' in shard_job["script"][0]
    assert shard_job["parallel"] == 4
    assert shard_job["artifacts"]["reports"]["junit"] == "junit-*.xml"
    assert "reports/" in shard_job["artifacts"]["paths"]
    assert shard_job["cache"]["paths"] == [".cache/sandbox-image.tar"]
    assert gitlab["sandbox-junit"]["needs"] == ["sandbox"]
