"""Container limits (sandbox.container.limits): instance type, overrides, capped to the host."""

from __future__ import annotations

from typing import Any

import pytest
from fakes import FakeEngine

from sandbox.container.limits import applied_limits
from sandbox.contract.spec import ScriptSpec
from sandbox.errors import UsageError
from sandbox.results.models import AppliedLimits


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


def test_override_above_the_host_is_capped_too() -> None:
    limits = _limits(cpus=3.0)
    assert limits.cpus == 2.0
    assert "fewer than 3" in limits.notes[0]


def test_unknown_host_figures_cap_nothing() -> None:
    limits = _limits(FakeEngine(cpus=0, memory_bytes=0), instance_type="ml.m5.4xlarge")
    assert (limits.cpus, limits.memory_mb) == (16.0, 64 * 1024)
    assert limits.notes == []


def test_bad_memory_and_unknown_instance_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="invalid memory size"):
        _limits(memory="lots")
    with pytest.raises(UsageError, match="unknown instance type"):
        _limits(instance_type="ml.nope.large")
