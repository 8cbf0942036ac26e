"""sandbox: run SageMaker pipeline scripts in a production-shaped local container.

The public API for calling the tool from Python (see the README, "Use from Python")::

    from sandbox import RunRequest, run_script

    result = run_script(RunRequest(script="tabular_preprocessing"))
    assert result.ok, result.error_message

Everything named in ``__all__`` is importable from here; it is loaded on first use, so
``import sandbox`` (and the command line) stays fast. Other modules are internal.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.contract.resolve import Overrides
    from sandbox.contract.spec import CallStyle, ScriptSpec
    from sandbox.data.datagen import DataSize
    from sandbox.errors import (
        InfrastructureError,
        SandboxError,
        ScriptNotFoundError,
        SpecError,
        UsageError,
    )
    from sandbox.pipeline.run import PipelineRequest, run_pipeline
    from sandbox.results.models import Status, TestResult
    from sandbox.results.pipeline import PipelineResult
    from sandbox.runner import RunRequest, run_script

__all__ = [
    "CallStyle",
    "DataSize",
    "InfrastructureError",
    "Overrides",
    "PipelineRequest",
    "PipelineResult",
    "RunRequest",
    "SandboxError",
    "ScriptNotFoundError",
    "ScriptSpec",
    "SpecError",
    "Status",
    "TestResult",
    "UsageError",
    "__version__",
    "run_pipeline",
    "run_script",
]

__version__ = "0.1.0"

_HOMES = {
    "CallStyle": "sandbox.contract.spec",
    "DataSize": "sandbox.data.datagen",
    "InfrastructureError": "sandbox.errors",
    "Overrides": "sandbox.contract.resolve",
    "PipelineRequest": "sandbox.pipeline.run",
    "PipelineResult": "sandbox.results.pipeline",
    "RunRequest": "sandbox.runner",
    "SandboxError": "sandbox.errors",
    "ScriptNotFoundError": "sandbox.errors",
    "ScriptSpec": "sandbox.contract.spec",
    "SpecError": "sandbox.errors",
    "Status": "sandbox.results.models",
    "TestResult": "sandbox.results.models",
    "UsageError": "sandbox.errors",
    "run_pipeline": "sandbox.pipeline.run",
    "run_script": "sandbox.runner",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'sandbox' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
