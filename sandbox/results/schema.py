"""What ``--output-format json`` prints, as a JSON schema: one document,
:class:`~sandbox.results.output.OutputDocument`, on every path (verdicts or an error).
"""

from __future__ import annotations

import json

from sandbox.results.output import OUTPUT_SCHEMA_VERSION, OutputDocument

__all__ = ["result_json_schema"]


def result_json_schema() -> str:
    """The schema of stdout under ``--output-format json``: an object holding
    ``schema_version``, ``exit_code``, ``results`` (a list of ``TestResult``, one per script,
    in the order given), ``pipeline`` (a ``PipelineResult`` or null) and ``error`` (null,
    or the message and type of the error that stopped the command)."""
    document = OutputDocument.model_json_schema(ref_template="#/$defs/{model}")
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://sandbox.dev/schemas/output-v{OUTPUT_SCHEMA_VERSION}.json",
        **document,
        "title": "sandbox --output-format json",
    }
    return json.dumps(schema, indent=2, sort_keys=True)
