"""The limits a container runs under: instance type, then --memory/--cpus overrides,
and the pids limit (the spec's or ``--pids-limit``, else the default)."""

from __future__ import annotations

import math

from sandbox.constants import DEFAULT_PIDS_LIMIT
from sandbox.container.instances import instance_type, parse_memory_mb
from sandbox.container.seam import Engine
from sandbox.contract.spec import ScriptSpec
from sandbox.errors import OptionError, UsageError
from sandbox.results.models import AppliedLimits

__all__ = ["MIN_CPUS", "MIN_MEMORY_MB", "applied_limits", "check_limit_options"]

_MIB = 1024 * 1024
MIN_MEMORY_MB = 6.0
"""Docker's smallest memory limit."""
MIN_CPUS = 0.01
"""Docker's smallest CPU limit."""
_MAX_MEMORY_BYTES = 2**63 - 1
"""What the engine's API can carry, when the host's memory is not known."""


def check_limit_options(memory: str | None, cpus: float | None) -> None:
    """Check ``--memory`` and ``--cpus`` on their own, before the engine is asked.

    Raises:
        OptionError: a size that does not parse or is below Docker's 6 MiB, a CPU count
            that is not a number or is below 0.01.
    """
    if memory is not None:
        _memory_mb(memory)
    if cpus is not None and (not math.isfinite(cpus) or cpus < MIN_CPUS):
        raise OptionError(
            "--cpus", f"{cpus:g}", f"give a number of CPUs of at least {MIN_CPUS:g}, e.g. 0.5"
        )


def _memory_mb(memory: str) -> float:
    try:
        memory_mb = parse_memory_mb(memory)
    except UsageError as exc:
        raise OptionError("--memory", memory, "invalid memory size; use e.g. 512m or 4g") from exc
    if memory_mb < MIN_MEMORY_MB:
        zero = " (0 is no limit to Docker: leave --memory out for that)" if memory_mb == 0 else ""
        raise OptionError(
            "--memory",
            memory,
            f"below Docker's minimum of {MIN_MEMORY_MB:g} MiB{zero}; a plain number is "
            "bytes, use e.g. 512m or 4g",
        )
    return memory_mb


def _check_host_bounds(
    memory: str | None, memory_mb: float | None, cpus: float | None, host: tuple[int, int]
) -> None:
    """Explicit limits above what the engine has are refused (an instance type's are capped)."""
    host_cpus, host_memory_bytes = host
    if cpus is not None and host_cpus and cpus > host_cpus:
        raise OptionError(
            "--cpus", f"{cpus:g}", f"the engine has {host_cpus} CPUs; give at most {host_cpus}"
        )
    limit_bytes = host_memory_bytes or _MAX_MEMORY_BYTES
    if memory is not None and memory_mb is not None and memory_mb * _MIB > limit_bytes:
        raise OptionError(
            "--memory",
            memory,
            f"more than the engine's {limit_bytes / _MIB:.0f} MiB of memory; give between "
            f"{MIN_MEMORY_MB:g} MiB and {limit_bytes / _MIB:.0f} MiB",
        )


def applied_limits(
    engine: Engine, spec: ScriptSpec, *, memory: str | None, cpus: float | None
) -> AppliedLimits:
    """Limits from the instance type table, overridden by ``memory``/``cpus``, capped to the host.

    Where the host is smaller than the instance, the limits say so in ``notes``
    instead of pretending.

    Raises:
        OptionError: ``memory`` or ``cpus`` is invalid, or more than the engine has.
    """
    memory_mb: float | None = None
    cpu_count: float | None = None
    if spec.instance_type:
        instance = instance_type(spec.instance_type)
        memory_mb, cpu_count = instance.memory_mb, float(instance.vcpus)
    check_limit_options(memory, cpus)
    if memory is not None:
        memory_mb = _memory_mb(memory)
    if cpus is not None:
        cpu_count = cpus
    notes: list[str] = []
    pids_limit = spec.pids_limit or DEFAULT_PIDS_LIMIT
    if memory_mb is None and cpu_count is None:
        return AppliedLimits(
            max_runtime_s=spec.max_runtime_s, network=spec.network, pids_limit=pids_limit
        )
    host_cpus, host_memory_bytes = engine.host_resources()  # one API call: only when needed
    _check_host_bounds(memory, memory_mb, cpus, (host_cpus, host_memory_bytes))
    if cpu_count and host_cpus and cpu_count > host_cpus:
        notes.append(
            f"the host has {host_cpus} CPUs, fewer than {cpu_count:g}: limited to {host_cpus}"
        )
        cpu_count = float(host_cpus)
    host_memory_mb = host_memory_bytes / _MIB
    if memory_mb and host_memory_mb and memory_mb > host_memory_mb:
        notes.append(
            f"the host has {host_memory_mb:.0f} MiB of memory, "
            f"less than the {memory_mb:.0f} MiB limit"
        )
    return AppliedLimits(
        instance_type=spec.instance_type,
        cpus=cpu_count,
        memory_mb=memory_mb,
        max_runtime_s=spec.max_runtime_s,
        network=spec.network,
        pids_limit=pids_limit,
        notes=notes,
    )
