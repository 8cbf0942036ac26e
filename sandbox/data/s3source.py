"""Real input data from S3, downloaded into a workspace cache keyed by ETag.

``--data-source s3://bucket/prefix`` holds one sub-prefix per channel; ``--input
CHANNEL=s3://bucket/prefix`` and a channel's ``s3_uri`` name one channel's data. Objects
are downloaded with boto3 (the standard AWS credential chain; ``AWS_ENDPOINT_URL_S3`` or
``AWS_ENDPOINT_URL`` for another endpoint) into ``<workspace>/s3/<hash of the URI>/data/``,
and ``<workspace>/s3/<hash>/manifest.json`` records the ETag of every key: an object whose
ETag has not changed is not downloaded again. The folder is then mounted read-only, like
any real input.

``S3DataType``: ``S3Prefix`` takes every object whose key starts with the prefix (the
prefix is a folder: ``s3://b/data`` gives ``data/a.csv`` as ``a.csv``); ``ManifestFile``
reads the manifest object ``[{"prefix": "s3://bucket/prefix/"}, "relative/key", ...]`` and
takes the keys it lists, each placed at its relative key. ``S3DataDistributionType``:
``FullyReplicated`` gives the instance every object; ``ShardedByS3Key`` gives instance
``i`` of ``n`` every ``n``-th key in key order. The sandbox runs one instance, so with
``ShardedByS3Key`` instance 0 gets every key, as on a one-instance job.

boto3 is imported only when S3 data is asked for (the ``s3`` extra), and only by
:mod:`sandbox.data.s3client`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from sandbox.data.s3client import is_missing, make_client, translated_errors
from sandbox.errors import S3SourceError
from sandbox.results.workspace import write_json_atomic

__all__ = [
    "DATA_DIR",
    "MANIFEST_FILE",
    "MANIFEST_SCHEMA_VERSION",
    "S3_CACHE_DIR",
    "S3Cache",
    "S3DataDistributionType",
    "S3DataType",
    "S3Fetch",
    "S3Source",
    "is_s3_uri",
    "parse_manifest",
    "split_s3_uri",
]

logger = logging.getLogger(__name__)

S3_CACHE_DIR = "s3"
"""The cache's folder under the workspace."""
DATA_DIR = "data"
MANIFEST_FILE = "manifest.json"
MANIFEST_SCHEMA_VERSION = 1
_KEY_LENGTH = 16
_WORKERS = 8
_COPY_CHUNK_BYTES = 1 << 20
_MAX_MANIFEST_BYTES = 64 << 20
_MANIFEST_SHAPE = 'a JSON list [{"prefix": "s3://bucket/prefix/"}, "relative/key", ...]'

T = TypeVar("T")
R = TypeVar("R")


class S3DataType(str, Enum):
    """What an input's S3 URI names (the platform's ``S3DataType``)."""

    S3_PREFIX = "S3Prefix"
    MANIFEST_FILE = "ManifestFile"


class S3DataDistributionType(str, Enum):
    """How objects are spread over instances (the platform's ``S3DataDistributionType``)."""

    FULLY_REPLICATED = "FullyReplicated"
    SHARDED_BY_S3_KEY = "ShardedByS3Key"


def is_s3_uri(value: object) -> bool:
    """True for a string that starts with ``s3://``."""
    return isinstance(value, str) and value.startswith("s3://")


_BUCKET_NAME = re.compile(r"[A-Za-z0-9._-]{1,255}")
"""What S3's API takes as a bucket name (old buckets may hold capitals and '_')."""


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> ``("bucket", "some/prefix")``.

    Raises:
        ValueError: Not an ``s3://`` URI, no bucket, or an invalid bucket name.
    """
    if not is_s3_uri(uri):
        raise ValueError(f"{uri!r} is not an s3:// URI")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError(f"{uri!r} names no bucket")
    if not _BUCKET_NAME.fullmatch(bucket):
        raise ValueError(
            f"invalid S3 bucket name {bucket!r}: letters, digits, '.', '-' and '_' only"
        )
    return bucket, key


@dataclass(frozen=True)
class S3Source:
    """One channel's S3 data, as a ProcessingInput's ``S3Input`` states it."""

    uri: str
    data_type: S3DataType = S3DataType.S3_PREFIX
    distribution: S3DataDistributionType = S3DataDistributionType.FULLY_REPLICATED


@dataclass(frozen=True)
class S3Fetch:
    """A channel's S3 data, present in the cache."""

    source: S3Source
    folder: Path
    objects: int
    downloaded: int
    size_bytes: int

    def describe(self) -> str:
        """e.g. ``s3://bucket/data/ (3 objects, 0 downloaded)``."""
        return f"{self.source.uri} ({self.objects} objects, {self.downloaded} downloaded)"


@dataclass(frozen=True)
class _Object:
    bucket: str
    key: str
    etag: str
    size: int
    relative: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


class S3Cache:
    """Downloads S3 data into ``root`` (the workspace's ``s3`` folder).

    Args:
        root: The cache folder; one sub-folder per URI.
        client: An S3 client; made with :func:`make_client` on first use when absent.
    """

    def __init__(self, root: Path, client: Any | None = None) -> None:
        self.root = root
        self._client = client

    def channel_prefixes(self, uri: str) -> dict[str, str]:
        """Sub-prefixes of ``uri`` by folder name: the channels ``--data-source`` offers.

        Raises:
            S3SourceError: Bad URI, no credentials, no bucket, or no sub-prefix.
            S3UnreachableError: The endpoint does not answer.
        """
        bucket, key = _checked_uri(uri)
        folder = key if not key or key.endswith("/") else f"{key}/"
        names: dict[str, str] = {}
        with translated_errors(uri, self._client):
            paginator = self._s3().get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=bucket, Prefix=folder, Delimiter="/"):
                for common in page.get("CommonPrefixes", []):
                    name = common["Prefix"][len(folder) :].rstrip("/")
                    if name:
                        names[name] = f"s3://{bucket}/{common['Prefix']}"
        if not names:
            raise S3SourceError(
                uri, "holds no sub-prefixes; --data-source wants one per input channel"
            )
        return names

    def fetch(
        self, source: S3Source, *, instance_index: int = 0, instance_count: int = 1
    ) -> S3Fetch:
        """Bring the objects of ``source`` into the cache; download only changed ETags.

        Raises:
            S3SourceError: Bad URI or manifest, no credentials, no bucket, no objects.
            S3UnreachableError: The endpoint does not answer.
        """
        entry = self.root / hashlib.sha256(source.uri.encode("utf-8")).hexdigest()[:_KEY_LENGTH]
        previous = _read_cache_manifest(entry)
        if previous.get("data_type") != source.data_type.value:
            previous = {}
        with translated_errors(source.uri, self._client):
            if source.data_type is S3DataType.MANIFEST_FILE:
                objects, listing = self._manifest_objects(source.uri, previous)
            else:
                objects, listing = self._prefix_objects(source.uri), None
            if source.distribution is S3DataDistributionType.SHARDED_BY_S3_KEY:
                objects = shard_objects(objects, instance_index, instance_count)
            _check_placement(source.uri, objects)
            objects, downloaded = self._sync(objects, entry, previous.get("objects", {}))
        _write_cache_manifest(entry, source, objects, listing)
        logger.info("%s: %d objects, %d downloaded", source.uri, len(objects), downloaded)
        return S3Fetch(
            source=source,
            folder=entry / DATA_DIR,
            objects=len(objects),
            downloaded=downloaded,
            size_bytes=sum(obj.size for obj in objects),
        )

    def _s3(self) -> Any:
        if self._client is None:
            self._client = make_client()
        return self._client

    # listing ------------------------------------------------------------------

    def _prefix_objects(self, uri: str) -> list[_Object]:
        bucket, prefix = _checked_uri(uri)
        objects = [
            _Object(bucket, key, etag, size, _safe_relative(uri, key, _under_prefix(key, prefix)))
            for key, etag, size in self._list(bucket, prefix)
            if not key.endswith("/")  # "folder" marker objects
        ]
        if not objects:
            raise S3SourceError(uri, "no objects under this prefix")
        return objects

    def _list(self, bucket: str, prefix: str) -> Iterator[tuple[str, str, int]]:
        paginator = self._s3().get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"], _etag(item["ETag"]), int(item["Size"])

    def _manifest_objects(
        self, uri: str, previous: dict[str, Any]
    ) -> tuple[list[_Object], dict[str, Any]]:
        bucket, key = _checked_uri(uri)
        if not key or key.endswith("/"):
            raise S3SourceError(uri, "a ManifestFile URI names the manifest object itself")
        etag = _etag(self._s3().head_object(Bucket=bucket, Key=key)["ETag"])
        cached = previous.get("listing") or {}
        if cached.get("etag") == etag:
            prefix, relatives = cached["prefix"], list(cached["keys"])
        else:
            body = self._s3().get_object(Bucket=bucket, Key=key)["Body"]
            prefix, relatives = parse_manifest(uri, body.read(_MAX_MANIFEST_BYTES + 1))
        base_bucket, base_key = split_s3_uri(prefix)

        def head(relative: str) -> _Object:
            object_key = base_key + relative
            found = self._head(uri, base_bucket, object_key)
            return _Object(
                base_bucket, object_key, *found, _safe_relative(uri, object_key, relative)
            )

        objects = _parallel(head, relatives)
        return objects, {"etag": etag, "prefix": prefix, "keys": relatives}

    def _head(self, uri: str, bucket: str, key: str) -> tuple[str, int]:
        try:
            response = self._s3().head_object(Bucket=bucket, Key=key)
        except Exception as exc:
            if is_missing(exc):
                raise S3SourceError(
                    uri, f"the manifest lists s3://{bucket}/{key}, which does not exist"
                ) from exc
            raise
        return _etag(response["ETag"]), int(response["ContentLength"])

    # downloading --------------------------------------------------------------

    def _sync(
        self, objects: list[_Object], entry: Path, cached: dict[str, Any]
    ) -> tuple[list[_Object], int]:
        data = entry / DATA_DIR
        data.mkdir(parents=True, exist_ok=True)
        _remove_unlisted(data, {obj.relative for obj in objects})
        missing = [obj for obj in objects if not _is_cached(obj, cached.get(obj.uri), data)]
        fresh = {obj.uri: obj for obj in _parallel(lambda o: self._download(o, entry), missing)}
        return [fresh.get(obj.uri, obj) for obj in objects], len(missing)

    def _download(self, obj: _Object, entry: Path) -> _Object:
        response = self._s3().get_object(Bucket=obj.bucket, Key=obj.key)
        target = entry / DATA_DIR / obj.relative
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=entry, prefix=".part-")
        try:
            with os.fdopen(handle, "wb") as stream:
                shutil.copyfileobj(response["Body"], stream, _COPY_CHUNK_BYTES)
            os.chmod(temporary, 0o644)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        # The ETag of what was actually downloaded, should the object change meanwhile.
        return replace(obj, etag=_etag(response["ETag"]), size=target.stat().st_size)


def parse_manifest(uri: str, raw: bytes) -> tuple[str, list[str]]:
    """The prefix and relative keys of a SageMaker manifest file.

    Raises:
        S3SourceError: Not JSON, or not ``[{"prefix": "s3://..."}, "key", ...]``.
    """
    if len(raw) > _MAX_MANIFEST_BYTES:
        raise S3SourceError(uri, f"the manifest is larger than {_MAX_MANIFEST_BYTES >> 20} MB")
    try:
        entries = json.loads(raw)
    except ValueError as exc:
        problem = f"the manifest is not JSON ({exc}); expected {_MANIFEST_SHAPE}"
        raise S3SourceError(uri, problem) from exc
    head = entries[0] if isinstance(entries, list) and entries else None
    prefix = head.get("prefix") if isinstance(head, dict) else None
    keys = entries[1:] if isinstance(entries, list) else []
    if not is_s3_uri(prefix) or not all(isinstance(key, str) and key for key in keys):
        raise S3SourceError(uri, f"the manifest must be {_MANIFEST_SHAPE}")
    assert isinstance(prefix, str)
    try:
        split_s3_uri(prefix)
    except ValueError as exc:
        raise S3SourceError(uri, f"the manifest's prefix: {exc}") from exc
    if not keys:
        raise S3SourceError(uri, "the manifest lists no objects")
    return prefix, keys


def shard_objects(objects: Sequence[_Object], index: int, count: int) -> list[_Object]:
    """ShardedByS3Key: instance ``index`` of ``count`` gets every ``count``-th key."""
    if not 0 <= index < count:
        raise ValueError(f"instance {index} of {count}")
    return sorted(objects, key=lambda obj: obj.uri)[index::count]


def _checked_uri(uri: str) -> tuple[str, str]:
    try:
        return split_s3_uri(uri)
    except ValueError as exc:
        raise S3SourceError(uri, str(exc)) from exc


def _under_prefix(key: str, prefix: str) -> str:
    """Where an object lands: its key below the prefix, taken as a folder."""
    if not prefix or prefix.endswith("/"):
        return key[len(prefix) :]
    if key.startswith(prefix + "/"):
        return key[len(prefix) + 1 :]
    # The prefix names one object, or matches siblings (`data` matches `data2/x`).
    parent = prefix.rpartition("/")[0]
    return key[len(parent) + 1 :] if parent else key


def _safe_relative(uri: str, key: str, relative: str) -> str:
    path = PurePosixPath(relative)
    if not relative or path.is_absolute() or ".." in path.parts or not path.parts:
        raise S3SourceError(uri, f"object key {key!r} cannot be placed as a file in a folder")
    return path.as_posix()


def _check_placement(uri: str, objects: Sequence[_Object]) -> None:
    files = {obj.relative for obj in objects}
    folders = {parent.as_posix() for rel in files for parent in PurePosixPath(rel).parents}
    clash = sorted(files & folders)
    if clash:
        raise S3SourceError(uri, f"{clash[0]!r} is both an object and a folder of objects")


def _is_cached(obj: _Object, record: dict[str, Any] | None, data: Path) -> bool:
    if not record or record.get("etag") != obj.etag or record.get("path") != obj.relative:
        return False
    target = data / obj.relative
    return target.is_file() and target.stat().st_size == obj.size


def _remove_unlisted(data: Path, wanted: set[str]) -> None:
    """Files the source no longer holds go, and so do folders left empty."""
    for path in sorted(data.rglob("*"), reverse=True):
        relative = path.relative_to(data).as_posix()
        if path.is_dir() and not path.is_symlink():
            if not any(path.iterdir()):
                path.rmdir()
        elif relative not in wanted:
            path.unlink()


def _parallel(work: Callable[[T], R], items: Sequence[T]) -> list[R]:
    if len(items) <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(min(_WORKERS, len(items)), thread_name_prefix="s3") as pool:
        futures = [pool.submit(work, item) for item in items]
        try:
            return [future.result() for future in futures]
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _etag(raw: str) -> str:
    return raw.strip('"')


def _read_cache_manifest(entry: Path) -> dict[str, Any]:
    try:
        recorded = json.loads((entry / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(recorded, dict) or recorded.get("schema_version") != MANIFEST_SCHEMA_VERSION:
        return {}
    return recorded


def _write_cache_manifest(
    entry: Path, source: S3Source, objects: Sequence[_Object], listing: dict[str, Any] | None
) -> None:
    write_json_atomic(
        entry / MANIFEST_FILE,
        {
            "schema_version": MANIFEST_SCHEMA_VERSION,
            "uri": source.uri,
            "data_type": source.data_type.value,
            "listing": listing,
            "objects": {
                obj.uri: {"etag": obj.etag, "size": obj.size, "path": obj.relative}
                for obj in objects
            },
        },
    )
