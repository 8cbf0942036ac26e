"""Instance types as data, and the container limits they imply."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sandbox.errors import UsageError

__all__ = ["INSTANCE_TYPES", "InstanceType", "instance_type", "parse_memory_mb"]


@dataclass(frozen=True)
class InstanceType:
    """One ``ml.*`` instance type: vCPUs, memory and GPUs as EC2 publishes them."""

    name: str
    vcpus: int
    memory_gib: float
    gpus: int = 0
    gpu_model: str | None = None

    @property
    def memory_mb(self) -> float:
        return self.memory_gib * 1024


def _table(*rows: tuple[str, int, float, int, str | None]) -> dict[str, InstanceType]:
    return {name: InstanceType(name, cpus, mem, gpus, gpu) for name, cpus, mem, gpus, gpu in rows}


INSTANCE_TYPES: dict[str, InstanceType] = _table(
    ("ml.t3.medium", 2, 4, 0, None),
    ("ml.t3.large", 2, 8, 0, None),
    ("ml.t3.xlarge", 4, 16, 0, None),
    ("ml.m5.large", 2, 8, 0, None),
    ("ml.m5.xlarge", 4, 16, 0, None),
    ("ml.m5.2xlarge", 8, 32, 0, None),
    ("ml.m5.4xlarge", 16, 64, 0, None),
    ("ml.c5.xlarge", 4, 8, 0, None),
    ("ml.c5.2xlarge", 8, 16, 0, None),
    ("ml.r5.large", 2, 16, 0, None),
    ("ml.r5.xlarge", 4, 32, 0, None),
    ("ml.g4dn.xlarge", 4, 16, 1, "T4 16 GB"),
    ("ml.g5.xlarge", 4, 16, 1, "A10G 24 GB"),
)


def instance_type(name: str) -> InstanceType:
    """Look up an instance type; the error lists the known ones."""
    key = name if name.startswith("ml.") else f"ml.{name}"
    try:
        return INSTANCE_TYPES[key]
    except KeyError:
        known = ", ".join(INSTANCE_TYPES)
        raise UsageError(f"unknown instance type {name!r}; known: {known}") from None


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_FACTOR_MB = {"": 1 / (1024 * 1024), "k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}


def parse_memory_mb(text: str) -> float:
    """Parse a size as Docker writes it (``512m``, ``4g``, ``4GiB``, bytes) into MiB."""
    match = _SIZE.match(text)
    if match is None:
        raise UsageError(f"invalid memory size {text!r}; use e.g. 512m or 4g")
    return float(match.group(1)) * _FACTOR_MB[match.group(2).lower()]
