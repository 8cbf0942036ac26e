"""Check a request offline against botocore's own SageMaker service model.

botocore is optional (the ``s3`` extra, with boto3); it is imported only here and in
:mod:`sandbox.sagemaker.submit`.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.errors import UsageError

__all__ = ["INSTALL_HINT", "RequestRejected", "validate_request"]

INSTALL_HINT = "pip install 'sandbox[s3]'"


class RequestRejected(UsageError):
    """botocore's parameter validation refuses the request (exit code 2)."""

    def __init__(self, operation: str, report: str) -> None:
        self.operation = operation
        self.report = report
        super().__init__(f"{operation} request rejected by botocore: {report}")


def validate_request(operation: str, params: dict[str, Any]) -> None:
    """Validate ``params`` against the input shape of ``operation`` (``CreateProcessingJob``)
    with botocore's ``ParamValidator``: types, required members, lengths, ranges, patterns
    of names such as the job name.

    Raises:
        UsageError: botocore is not installed.
        RequestRejected: The request would be refused.
    """
    try:
        import botocore.session
        from botocore.validate import ParamValidator
    except ImportError as exc:
        raise UsageError(
            f"checking a SageMaker request needs botocore, which is not installed: {INSTALL_HINT}"
        ) from exc
    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        raise RequestRejected(operation, " ".join(report.generate_report().split()))
    try:
        _check_patterns(params, shape)
    except RequestRejected as exc:
        raise RequestRejected(operation, exc.report) from None


def _check_patterns(params: Any, shape: Any, where: str = "") -> None:
    """botocore's validator leaves regular expressions and enums to the service: check
    the ones the model states (job names, role ARNs, variable names, instance types)
    here, so that a bad one fails before anything is uploaded."""
    pattern = shape.metadata.get("pattern") if shape.type_name == "string" else None
    allowed = getattr(shape, "enum", None) if shape.type_name == "string" else None
    if allowed and isinstance(params, str) and params not in allowed:
        raise RequestRejected(
            "request",
            f"Invalid value for parameter {where}, value: {params!r}, "
            f"not one of the {len(allowed)} values the service model allows "
            f"({', '.join(allowed[:4])}, ...)",
        )
    if pattern is not None and isinstance(params, str) and not _matches(pattern, params):
        raise RequestRejected(
            "request",
            f"Invalid value for parameter {where}, value: {params!r}, valid pattern: {pattern}",
        )
    if shape.type_name == "structure" and isinstance(params, dict):
        for name, value in params.items():
            if name in shape.members:
                _check_patterns(value, shape.members[name], f"{where}.{name}".lstrip("."))
    elif shape.type_name == "list" and isinstance(params, list):
        for index, item in enumerate(params):
            _check_patterns(item, shape.member, f"{where}[{index}]")
    elif shape.type_name == "map" and isinstance(params, dict):
        for key, value in params.items():
            _check_patterns(key, shape.key, f"{where} key")
            _check_patterns(value, shape.value, f"{where}[{key!r}]")


def _matches(pattern: str, value: str) -> bool:
    try:
        return re.fullmatch(pattern, value, flags=re.DOTALL) is not None
    except re.error:  # a Java-only construct: the service checks that one
        return True
