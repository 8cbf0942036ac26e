"""The limits a container runs under: instance type, then --memory/--cpus overrides."""

from __future__ import annotations

from sandbox.container.engine import Engine
from sandbox.container.instances import instance_type, parse_memory_mb
from sandbox.contract.spec import ScriptSpec
from sandbox.results.models import AppliedLimits

__all__ = ["applied_limits"]

_MIB = 1024 * 1024


def applied_limits(
    engine: Engine, spec: ScriptSpec, *, memory: str | None, cpus: float | None
) -> AppliedLimits:
    """Limits from the instance type table, overridden by ``memory``/``cpus``, capped to the host.

    Where the host is smaller than the instance, the limits say so in ``notes``
    instead of pretending.
    """
    memory_mb: float | None = None
    cpu_count: float | None = None
    if spec.instance_type:
        instance = instance_type(spec.instance_type)
        memory_mb, cpu_count = instance.memory_mb, float(instance.vcpus)
    if memory is not None:
        memory_mb = parse_memory_mb(memory)
    if cpus is not None:
        cpu_count = cpus
    notes: list[str] = []
    if memory_mb is None and cpu_count is None:
        return AppliedLimits(max_runtime_s=spec.max_runtime_s, network=spec.network)
    host_cpus, host_memory_bytes = engine.host_resources()  # one API call: only when needed
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
        notes=notes,
    )
