"""Container limits (sandbox.container.limits): instance type, overrides, capped to the host."""

from __future__ import annotations

import math
from typing import Any

import pytest

from sandbox.constants import DEFAULT_PIDS_LIMIT
from sandbox.container.limits import applied_limits, check_limit_options
from sandbox.contract.spec import ScriptSpec
from sandbox.errors import OptionError, UsageError
from sandbox.results.models import AppliedLimits
from tests.fakes import FakeEngine


def _limits(
    engine: FakeEngine | None = None,
    memory: str | None = None,
    cpus: float | None = None,
    **spec: Any,
) -> AppliedLimits:
    return applied_limits(
        engine or FakeEngine(),
        ScriptSpec(script="tabular.py", **spec),
        memory=memory,
        cpus=cpus,
    )


def test_no_instance_type_means_no_limits() -> None:
    limits = _limits()
    assert (limits.cpus, limits.memory_mb, limits.instance_type) == (None, None, None)
    assert limits.notes == []


def test_instance_type_that_fits_the_host() -> None:
    limits = _limits(instance_type="ml.t3.medium", max_runtime_s=300, network=True)
    assert (limits.cpus, limits.memory_mb) == (2.0, 4096.0)
    assert limits.instance_type == "ml.t3.medium"
    assert limits.max_runtime_s == 300
    assert limits.network is True
    assert limits.notes == []


def test_cpus_above_the_host_are_capped_with_a_note() -> None:
    limits = _limits(instance_type="ml.m5.xlarge")
    assert limits.cpus == 2.0
    assert limits.memory_mb == 16 * 1024
    assert len(limits.notes) == 1
    assert "2 CPUs, fewer than 4" in limits.notes[0]


def test_memory_above_the_host_is_noted_not_capped() -> None:
    limits = _limits(FakeEngine(cpus=64), instance_type="ml.m5.2xlarge")
    assert limits.memory_mb == 32 * 1024
    assert limits.cpus == 8.0
    assert limits.notes == ["the host has 24576 MiB of memory, less than the 32768 MiB limit"]


def test_overrides_win_over_the_instance_type() -> None:
    limits = _limits(instance_type="ml.m5.xlarge", memory="512m", cpus=0.5)
    assert (limits.cpus, limits.memory_mb) == (0.5, 512.0)
    assert limits.notes == []
    assert limits.instance_type == "ml.m5.xlarge"


def test_overrides_alone() -> None:
    limits = _limits(memory="2g", cpus=1.5)
    assert (limits.cpus, limits.memory_mb) == (1.5, 2048.0)


def test_explicit_limits_above_the_engine_are_refused_naming_both() -> None:
    with pytest.raises(OptionError, match=r"^--cpus '3': the engine has 2 CPUs; give at most 2$"):
        _limits(cpus=3.0)
    with pytest.raises(OptionError) as caught:
        _limits(memory="99999999t")
    assert str(caught.value) == (
        "--memory '99999999t': more than the engine's 24576 MiB of memory; "
        "give between 6 MiB and 24576 MiB"
    )


@pytest.mark.parametrize(
    ("cpus", "shown"), [(math.nan, "nan"), (math.inf, "inf"), (-1.0, "-1"), (0.0, "0")]
)
def test_cpus_that_are_not_a_positive_number_are_refused(cpus: float, shown: str) -> None:
    engine = FakeEngine()
    with pytest.raises(OptionError, match=rf"^--cpus '{shown}': give a number of CPUs of at least"):
        check_limit_options(None, cpus)
    with pytest.raises(OptionError):
        _limits(engine, cpus=cpus)
    assert engine.host_calls == 0


@pytest.mark.parametrize("memory", ["4", "1k", "5m", "0"])
def test_memory_below_dockers_minimum_is_refused(memory: str) -> None:
    with pytest.raises(
        OptionError, match=rf"^--memory '{memory}': below Docker's minimum of 6 MiB"
    ):
        check_limit_options(memory, None)


def test_memory_zero_is_not_taken_for_no_limit() -> None:
    with pytest.raises(OptionError, match="0 is no limit to Docker: leave --memory out"):
        check_limit_options("0", None)


def test_unknown_host_memory_still_bounds_what_the_api_can_carry() -> None:
    with pytest.raises(OptionError, match="more than the engine's"):
        _limits(FakeEngine(cpus=0, memory_bytes=0), memory="99999999t")
    assert _limits(FakeEngine(cpus=0, memory_bytes=0), memory="6m").memory_mb == 6.0


def test_unknown_host_figures_cap_nothing() -> None:
    limits = _limits(FakeEngine(cpus=0, memory_bytes=0), instance_type="ml.m5.4xlarge")
    assert (limits.cpus, limits.memory_mb) == (16.0, 64 * 1024)
    assert limits.notes == []


def test_bad_memory_and_unknown_instance_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="invalid memory size"):
        _limits(memory="lots")
    with pytest.raises(UsageError, match="unknown instance type"):
        _limits(instance_type="ml.nope.large")


def test_every_run_has_a_pids_limit_by_default() -> None:
    assert _limits().pids_limit == DEFAULT_PIDS_LIMIT
    assert _limits(instance_type="ml.t3.medium").pids_limit == DEFAULT_PIDS_LIMIT
    assert "1024 pids" in _limits().describe()


def test_the_spec_sets_the_pids_limit() -> None:
    assert _limits(pids_limit=64).pids_limit == 64
    assert _limits(pids_limit=64, cpus=1.0).pids_limit == 64


def test_a_pids_limit_too_small_to_start_is_refused() -> None:
    with pytest.raises(ValueError, match="greater than or equal to 16"):
        ScriptSpec(script="tabular.py", pids_limit=4)
