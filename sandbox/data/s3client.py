"""The one module that talks to boto3: S3 clients (and the SageMaker and CloudWatch Logs
clients a submit uses), and botocore's errors as ours.

boto3 is optional (the ``s3`` extra) and imported only here, only when S3 data is asked
for. Every botocore error becomes one line naming the URI: a
:class:`~sandbox.errors.S3SourceError` (exit 2) for what the user can fix, an
:class:`~sandbox.errors.S3UnreachableError` (exit 3) when the endpoint does not answer.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sandbox.errors import S3SourceError, S3UnreachableError, UsageError

__all__ = [
    "INSTALL_HINT",
    "endpoint_of",
    "is_missing",
    "make_client",
    "make_service_client",
    "require_boto3",
    "translated_errors",
]

INSTALL_HINT = "pip install 'sandbox[s3]'"
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
_DENIED = frozenset({"AccessDenied", "403", "AllAccessDisabled"})
_REJECTED = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"}
)


def make_client() -> Any:
    """An S3 client: the standard credential chain, ``AWS_ENDPOINT_URL(_S3)`` honoured.

    Raises:
        UsageError: boto3 is not installed.
    """
    try:
        import boto3
        from botocore.config import Config
    except ImportError as exc:
        raise _no_boto3() from exc
    config = Config(
        connect_timeout=10, read_timeout=60, retries={"max_attempts": 3, "mode": "standard"}
    )
    return boto3.session.Session().client("s3", endpoint_url=_endpoint_override(), config=config)


def make_service_client(service: str, region: str | None = None) -> Any:
    """A client of another AWS service (``sagemaker``, ``logs``), made as the S3 one:
    the standard credential chain, ``AWS_ENDPOINT_URL`` honoured.

    Raises:
        UsageError: boto3 is not installed.
    """
    try:
        import boto3
    except ImportError as exc:
        raise _no_boto3() from exc
    endpoint = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}") or os.environ.get(
        "AWS_ENDPOINT_URL"
    )
    session = boto3.session.Session(region_name=region)
    return session.client(service, endpoint_url=endpoint or None)


def require_boto3() -> None:
    """Check that boto3 can be imported, so a missing extra is reported before any work.

    Raises:
        UsageError: boto3 is not installed.
    """
    try:
        import boto3  # noqa: F401
    except ImportError as exc:
        raise _no_boto3() from exc


def endpoint_of(client: Any | None) -> str:
    """The endpoint a client talks to (or would talk to), for messages."""
    if client is not None:
        return str(client.meta.endpoint_url)
    return _endpoint_override() or "the default AWS endpoint"


def is_missing(exc: BaseException) -> bool:
    """Whether a botocore error says the object (or bucket) does not exist."""
    return _error_code(exc) in _MISSING


@contextmanager
def translated_errors(uri: str, client: Any | None) -> Iterator[None]:
    """botocore's errors raised inside, as one line naming ``uri``."""
    try:
        from botocore import exceptions as boto
    except ImportError as exc:
        raise _no_boto3() from exc
    try:
        yield
    except (boto.NoCredentialsError, boto.PartialCredentialsError) as exc:
        raise S3SourceError(
            uri,
            "no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "or AWS_PROFILE)",
        ) from exc
    except (boto.ConnectionError, boto.HTTPClientError) as exc:
        raise S3UnreachableError(uri, endpoint_of(client), str(exc)) from exc
    except boto.ClientError as exc:
        raise S3SourceError(uri, _client_problem(exc)) from exc
    except boto.BotoCoreError as exc:
        raise S3SourceError(uri, str(exc)) from exc


def _no_boto3() -> UsageError:
    return UsageError(f"S3 data needs boto3, which is not installed: {INSTALL_HINT}")


def _endpoint_override() -> str | None:
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None


def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _client_problem(exc: Any) -> str:
    code = _error_code(exc)
    error = exc.response.get("Error", {})
    if code == "NoSuchBucket":
        bucket = error.get("BucketName")
        return f"no such bucket {bucket!r}" if bucket else "no such bucket"
    if code in _MISSING:
        return "no such object"
    if code in _DENIED:
        return "access denied (check what the credentials may read)"
    if code in _REJECTED:
        return f"the credentials were rejected ({code})"
    return f"S3 refused the request: {code} {error.get('Message', '')}".strip()
