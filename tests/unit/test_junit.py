"""JUnit XML (sandbox.report.junit), read back with a JUnit parser as CI would read it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from junitparser import Failure, JUnitXml, Skipped
from results_factory import cut_tail_result, make_result

from sandbox.report.junit import failure_message, junit_xml
from sandbox.results.models import Status


def parse(text: str) -> list[Any]:
    suites = list(JUnitXml.fromstring(text))
    assert len(suites) == 1
    return suites


def test_one_testcase_per_script_with_failures_and_times() -> None:
    results = [
        make_result("prep", execution_time=2.25),
        make_result("train", Status.FAIL, execution_time=0.5),
        make_result("calib", Status.TIMEOUT, exit_code=None, error_message="stopped after 5 s"),
    ]
    (suite,) = parse(junit_xml(results))
    assert (suite.name, suite.tests, suite.failures, suite.errors) == ("sandbox", 3, 2, 0)
    cases = {case.name: case for case in suite}
    assert list(cases) == ["prep", "train", "calib"]
    assert cases["prep"].is_passed and cases["prep"].time == 2.25
    assert cases["prep"].classname == "sandbox.processing"

    (failure,) = cases["train"].result
    assert isinstance(failure, Failure)
    assert failure.message == "FAIL exit code 1: ValueError: boom"
    assert failure.type == "FAIL"
    assert cases["train"].system_err == "Traceback (most recent call last):\nValueError: boom"
    assert "run id: " + results[1].run_id in cases["train"].system_out

    (timeout,) = cases["calib"].result
    assert timeout.message == "TIMEOUT no exit code: stopped after 5 s"


def test_a_passing_testcase_shows_its_findings() -> None:
    finding = "input channel 'train' (/opt/ml/processing/input/train) was mounted but the script"
    (suite,) = parse(junit_xml([make_result("prep", findings=[finding + " read nothing"])]))
    (case,) = list(suite)
    assert case.is_passed
    assert f"finding: {finding} read nothing" in case.system_out.splitlines()


def test_message_puts_the_exit_code_once() -> None:
    killed = make_result(
        "hog", Status.OOM, exit_code=137, error_message="exit code 137 (killed by signal 9): x"
    )
    assert failure_message(killed) == "OOM exit code 137 (killed by signal 9): x"
    plain = make_result("a", Status.FAIL, exit_code=2, error_message="schema mismatch")
    assert failure_message(plain) == "FAIL exit code 2: schema mismatch"


def test_skipped_results_are_skipped_testcases() -> None:
    (suite,) = parse(junit_xml([make_result("a", Status.SKIPPED, error_message="no data")]))
    (case,) = list(suite)
    (skipped,) = case.result
    assert isinstance(skipped, Skipped) and skipped.message == "no data"
    assert suite.skipped == 1 and suite.failures == 0


def test_terminal_colours_and_control_characters_still_parse() -> None:
    stderr = ["\x1b[31mERROR\x1b[0m bad \x00 byte", '<tag> & "quotes" ]]>']
    result = make_result("ansi", Status.FAIL, stderr_tail=stderr, error_message="\x1b[1mboom\x07")
    (suite,) = parse(junit_xml([result]))
    (case,) = list(suite)
    assert "ERROR" in case.system_err and "\x1b" not in case.system_err
    assert '<tag> & "quotes" ]]>' in case.system_err
    assert "boom" in case.result[0].message


def test_a_long_reason_is_shortened_in_the_attribute_only() -> None:
    reason = "schema mismatch: " + "x" * 2000
    (suite,) = parse(junit_xml([make_result("a", Status.FAIL, error_message=reason)]))
    (failure,) = next(iter(suite)).result
    assert len(failure.message) == 500 and failure.message.endswith("...")
    assert reason in failure.text


def test_element_order_is_the_schema_order() -> None:
    root = ET.fromstring(junit_xml([make_result("a", Status.FAIL)]))
    case = root.find("testsuite/testcase")
    assert case is not None
    assert [child.tag for child in case] == ["failure", "system-out", "system-err"]
    assert root.tag == "testsuites" and root.get("tests") == "1"


def test_no_results_is_an_empty_suite() -> None:
    (suite,) = parse(junit_xml([]))
    assert suite.tests == 0 and list(suite) == []


def test_a_cut_stderr_tail_points_to_the_whole_log() -> None:
    (suite,) = parse(junit_xml([cut_tail_result()]))
    (case,) = list(suite)
    assert case.system_err.endswith("[long lines cut; the whole stderr: /ws/runs/r/stderr.log]")
