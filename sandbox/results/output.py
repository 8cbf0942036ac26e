"""The one JSON document a command prints under ``--output-format json``.

Every command that prints verdicts (``test-script`` with one script or many,
``test-pipeline``, ``replay``, ``submit``, ``show-result``, ``list-results``) prints an
:class:`OutputDocument`, whatever the number of results::

    {"schema_version": 1, "exit_code": 0, "results": [TestResult, ...],
     "pipeline": null, "error": null}

``results`` holds the verdicts in the order the scripts were given (or the runs listed);
a pipeline's verdict is ``pipeline``, each of its steps carrying its whole result, and
``results`` is then empty (a result is kept once). A command of any kind that stops on an
error prints the same document with ``error`` set and no result: a usage error (2), an
infrastructure or internal error (3), or an interrupt (130).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sandbox.results.models import TestResult
from sandbox.results.pipeline import PipelineResult

__all__ = [
    "OUTPUT_SCHEMA_VERSION",
    "ErrorInfo",
    "OutputDocument",
    "error_document",
    "pipeline_document",
    "results_document",
]

OUTPUT_SCHEMA_VERSION = 1
"""The version of the document's shape; each result keeps its own ``schema_version``."""

_VERDICT_EXIT_CODES = (0, 1)


class ErrorInfo(BaseModel):
    """What stopped the command."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(description="The one line also on stderr.")
    type: str = Field(description="The error's class, e.g. UsageError.")


class OutputDocument(BaseModel):
    """Stdout of a command under ``--output-format json``: its verdicts, or its error."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = Field(description="The version of this document's shape.")
    exit_code: Literal[0, 1, 2, 3, 130] = Field(
        description="The command's own exit code: for a command that runs scripts, 0 all "
        "passed and 1 any did not; a command that shows saved results (show-result, "
        "list-results) exits 0 whatever they hold (read each result's status); 2 usage "
        "error, 3 infrastructure error, 130 interrupted."
    )
    results: list[TestResult] = Field(
        description="The verdicts, in the order given; empty for a pipeline and on an error."
    )
    pipeline: PipelineResult | None = Field(
        description="test-pipeline's verdict (each step with its result); null otherwise."
    )
    error: ErrorInfo | None = Field(
        description="What stopped the command (exit code 2, 3 or 130); null otherwise."
    )

    @model_validator(mode="after")
    def _error_or_verdicts(self) -> OutputDocument:
        if (self.error is None) != (self.exit_code in _VERDICT_EXIT_CODES):
            raise ValueError("error is set exactly when the exit code is 2, 3 or 130")
        if self.error is not None and (self.results or self.pipeline is not None):
            raise ValueError("an error document holds no result")
        return self


def _document(
    exit_code: int,
    *,
    results: Sequence[TestResult] = (),
    pipeline: PipelineResult | None = None,
    error: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "schema_version": OUTPUT_SCHEMA_VERSION,
        "exit_code": exit_code,
        "results": [result.to_json_dict() for result in results],
        "pipeline": None if pipeline is None else pipeline.to_json_dict(),
        "error": error,
    }


def results_document(results: Sequence[TestResult], exit_code: int) -> dict[str, Any]:
    """The document of a command that ran or shows ``results`` and exits ``exit_code``."""
    return _document(exit_code, results=results)


def pipeline_document(pipeline: PipelineResult, exit_code: int) -> dict[str, Any]:
    """The document of a pipeline run."""
    return _document(exit_code, pipeline=pipeline)


def error_document(message: str, error_type: str, exit_code: int) -> dict[str, Any]:
    """The document printed when a command in JSON mode stops on an error."""
    return _document(exit_code, error={"message": message, "type": error_type})
