"""What ``--output-format json`` prints, as a JSON schema: one result, a list of results
(several scripts), or an error document, and nothing else.

The error document is ``{"error": {"message": ..., "type": ...}, "exit_code": N}``: a
usage error (2), an infrastructure error (3), an internal error (3) or an interrupt (130).
"""

from __future__ import annotations

import json
from typing import Any

from sandbox.results.models import RESULT_SCHEMA_VERSION, TestResult

__all__ = ["error_document", "result_json_schema"]


def error_document(message: str, error_type: str, exit_code: int) -> dict[str, Any]:
    """The one JSON document printed when a command in JSON mode stops on an error."""
    return {"error": {"message": message, "type": error_type}, "exit_code": exit_code}


_ERROR_SCHEMA: dict[str, Any] = {
    "title": "ErrorDocument",
    "type": "object",
    "required": ["error", "exit_code"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type"],
            "properties": {
                "message": {"type": "string", "description": "The one line also on stderr."},
                "type": {"type": "string", "description": "The error's class, e.g. UsageError."},
            },
        },
        "exit_code": {"type": "integer", "enum": [2, 3, 130]},
    },
}


def result_json_schema() -> str:
    """The schema of stdout under ``test-script``/``show-result --output-format json``.

    A script named plainly prints one ``TestResult`` object; several scripts (more than
    one name, a glob, ``--all``) print an array of them, in the order given; any error
    that stops the command prints the error document instead.
    """
    result = TestResult.model_json_schema(ref_template="#/$defs/{model}")
    definitions = result.pop("$defs", {})
    definitions["TestResult"] = result
    definitions["ErrorDocument"] = _ERROR_SCHEMA
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://sandbox.dev/schemas/result-output-v{RESULT_SCHEMA_VERSION}.json",
        "title": "sandbox --output-format json",
        "oneOf": [
            {"$ref": "#/$defs/TestResult"},
            {"type": "array", "items": {"$ref": "#/$defs/TestResult"}},
            {"$ref": "#/$defs/ErrorDocument"},
        ],
        "$defs": definitions,
    }
    return json.dumps(schema, indent=2, sort_keys=True)
