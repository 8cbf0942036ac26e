"""Where a channel's given data lives: a local folder or an S3 prefix, told apart once.

``--data-source``, ``--input``, a pipeline step's ``inputs`` and a replayed job's inputs
arrive as text; :func:`as_location` turns each into a :class:`~pathlib.Path` or an
:class:`S3Uri` at that edge, and the code behind it asks ``isinstance`` instead of
looking at strings again. An S3 URI is kept as text (a ``Path`` would fold its ``//``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from sandbox.data.s3source import is_s3_uri, split_s3_uri

__all__ = ["DataLocation", "S3Uri", "as_location"]


@dataclass(frozen=True)
class S3Uri:
    """An ``s3://bucket/prefix`` URI whose bucket was checked when it was made."""

    uri: str

    def __post_init__(self) -> None:
        split_s3_uri(self.uri)  # ValueError: no bucket, or an invalid bucket name

    @property
    def bucket(self) -> str:
        return split_s3_uri(self.uri)[0]

    def __str__(self) -> str:
        return self.uri


DataLocation: TypeAlias = Path | S3Uri
"""A local folder, or an S3 prefix."""


def as_location(value: str | Path | S3Uri) -> DataLocation:
    """``s3://...`` text as an :class:`S3Uri`, any other text as a ``Path``.

    Raises:
        ValueError: An ``s3://`` URI without a bucket, or with an invalid bucket name.
    """
    if isinstance(value, (Path, S3Uri)):
        return value
    return S3Uri(value) if is_s3_uri(value) else Path(value)
