"""Instance types as data, and the container limits they imply."""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass
from importlib import resources

from sandbox.errors import UsageError

__all__ = [
    "INSTANCE_TYPES",
    "InstanceType",
    "cpu_only_finding",
    "instance_type",
    "parse_memory_mb",
]

_TABLE = "instance_types.csv"
"""The table of SageMaker ML instance types, in ``sandbox/container/data``."""
_ACCELERATORS = ("Inferentia", "Trainium")
"""Device models that are AWS accelerator chips rather than GPUs."""


@dataclass(frozen=True)
class InstanceType:
    """One ``ml.*`` instance type: vCPUs, memory and GPUs as EC2 publishes them."""

    name: str
    vcpus: int
    memory_gib: float
    gpus: int = 0
    gpu_model: str | None = None
    gpu_memory_gib: float | None = None

    @property
    def memory_mb(self) -> float:
        return self.memory_gib * 1024

    @property
    def devices(self) -> str | None:
        """Its GPUs or accelerator chips in words (``1 V100 GPU``), ``None`` without any."""
        if not self.gpus:
            return None
        kind = "accelerator" if str(self.gpu_model).startswith(_ACCELERATORS) else "GPU"
        return f"{self.gpus} {self.gpu_model} {kind}{'s' if self.gpus > 1 else ''}"


def _row(row: dict[str, str]) -> InstanceType:
    return InstanceType(
        name=row["name"],
        vcpus=int(row["vcpus"]),
        memory_gib=float(row["memory_gib"]),
        gpus=int(row["gpus"]),
        gpu_model=row["gpu_model"] or None,
        gpu_memory_gib=float(row["gpu_memory_gib"]) if row["gpu_memory_gib"] else None,
    )


def _load() -> dict[str, InstanceType]:
    text = resources.files("sandbox.container").joinpath("data", _TABLE).read_text("utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return {row["name"]: _row(row) for row in csv.DictReader(lines)}


INSTANCE_TYPES: dict[str, InstanceType] = _load()


def instance_type(name: str) -> InstanceType:
    """Look up an instance type; the error names the closest known ones."""
    key = name if name.startswith("ml.") else f"ml.{name}"
    try:
        return INSTANCE_TYPES[key]
    except KeyError:
        close = difflib.get_close_matches(key, INSTANCE_TYPES, n=5, cutoff=0.6)
        hint = f"closest: {', '.join(close)}" if close else f"e.g. {', '.join(_EXAMPLES)}"
        raise UsageError(
            f"unknown instance type {name!r}; {hint} ({len(INSTANCE_TYPES)} known, "
            "see the README's instance types)"
        ) from None


def cpu_only_finding(name: str) -> str | None:
    """What a run of a GPU (or accelerator) type lacked here: the container is given no
    device, so the script ran on the CPU and memory limits alone."""
    instance = instance_type(name)
    if instance.devices is None:
        return None
    return f"{instance.name} has {instance.devices}; the sandbox gives none: the run used CPU only"


_EXAMPLES = ("ml.t3.medium", "ml.m5.xlarge", "ml.c5.2xlarge", "ml.g4dn.xlarge")


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_FACTOR_MB = {"": 1 / (1024 * 1024), "k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}


def parse_memory_mb(text: str) -> float:
    """Parse a size as Docker writes it (``512m``, ``4g``, ``4GiB``, bytes) into MiB."""
    match = _SIZE.match(text)
    if match is None:
        raise UsageError(f"invalid memory size {text!r}; use e.g. 512m or 4g")
    return float(match.group(1)) * _FACTOR_MB[match.group(2).lower()]
