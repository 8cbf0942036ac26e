"""S3 data (sandbox.data.s3source, and its use by bind_inputs) against moto's S3 server on
loopback: listing, the ETag cache, manifests, sharding, and one-line errors."""

from __future__ import annotations

import hashlib
import json
import socket
import sys
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from sandbox.contract.inference import infer_contract
from sandbox.contract.spec import ChannelSpec, ScriptSpec, parse_spec
from sandbox.data.datagen import DataSize
from sandbox.data.inputs import bind_inputs
from sandbox.data.location import S3Uri
from sandbox.data.s3source import (
    MANIFEST_FILE,
    S3Cache,
    S3DataDistributionType,
    S3DataType,
    S3Source,
    parse_manifest,
    shard_objects,
    split_s3_uri,
)
from sandbox.errors import S3SourceError, S3UnreachableError, UsageError
from sandbox.runner import RunRequest


@pytest.fixture
def bucket(s3_env: str) -> str:
    name = f"sandbox-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


def put(bucket: str, objects: dict[str, bytes]) -> None:
    client = boto3.client("s3")
    for key, body in objects.items():
        client.put_object(Bucket=bucket, Key=key, Body=body)


class CountingClient:
    """A real client whose GetObject calls are counted through botocore's events."""

    def __init__(self) -> None:
        self.client = boto3.client("s3")
        self.gets = 0
        self.client.meta.events.register("before-call.s3.GetObject", self._count)

    def _count(self, **_kwargs: Any) -> None:
        self.gets += 1


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


# the ETag cache ---------------------------------------------------------------------


def test_a_prefix_is_downloaded_as_a_folder_and_a_second_fetch_downloads_nothing(
    bucket: str, tmp_path: Path
) -> None:
    put(bucket, {"data/a.csv": b"x,y\n1,2\n", "data/sub/b.csv": b"x\n3\n", "other/c": b"no"})
    counting = CountingClient()
    cache = S3Cache(tmp_path / "s3", client=counting.client)
    source = S3Source(f"s3://{bucket}/data")

    first = cache.fetch(source)

    assert files_of(first.folder) == {"a.csv": b"x,y\n1,2\n", "sub/b.csv": b"x\n3\n"}
    assert (first.objects, first.downloaded, counting.gets) == (2, 2, 2)
    key = hashlib.sha256(source.uri.encode()).hexdigest()[:16]
    assert first.folder == tmp_path / "s3" / key / "data"
    manifest = json.loads((tmp_path / "s3" / key / MANIFEST_FILE).read_text())
    assert set(manifest["objects"]) == {
        f"s3://{bucket}/data/a.csv",
        f"s3://{bucket}/data/sub/b.csv",
    }
    assert all(record["etag"] for record in manifest["objects"].values())
    mtimes = {path: path.stat().st_mtime_ns for path in first.folder.rglob("*.csv")}

    second = cache.fetch(source)

    assert (second.downloaded, counting.gets) == (0, 2)
    assert {path: path.stat().st_mtime_ns for path in second.folder.rglob("*.csv")} == mtimes
    assert "0 downloaded" in second.describe()


def test_only_changed_objects_are_downloaded_and_deleted_ones_disappear(
    bucket: str, tmp_path: Path
) -> None:
    put(bucket, {"p/keep.csv": b"1\n", "p/change.csv": b"old\n", "p/gone.csv": b"2\n"})
    counting = CountingClient()
    cache = S3Cache(tmp_path, client=counting.client)
    source = S3Source(f"s3://{bucket}/p/")
    cache.fetch(source)
    put(bucket, {"p/change.csv": b"new content\n"})
    boto3.client("s3").delete_object(Bucket=bucket, Key="p/gone.csv")

    again = cache.fetch(source)

    assert again.downloaded == 1 and counting.gets == 4
    assert files_of(again.folder) == {"change.csv": b"new content\n", "keep.csv": b"1\n"}


def test_a_file_changed_in_the_cache_is_downloaded_again(bucket: str, tmp_path: Path) -> None:
    put(bucket, {"p/a.csv": b"12345\n"})
    cache = S3Cache(tmp_path)
    fetched = cache.fetch(S3Source(f"s3://{bucket}/p"))
    (fetched.folder / "a.csv").write_bytes(b"1")

    again = cache.fetch(S3Source(f"s3://{bucket}/p"))

    assert again.downloaded == 1
    assert (again.folder / "a.csv").read_bytes() == b"12345\n"


# ManifestFile and distribution ------------------------------------------------------------


def test_a_manifest_file_selects_its_keys_and_is_itself_cached_by_etag(
    bucket: str, tmp_path: Path
) -> None:
    put(bucket, {"raw/a.csv": b"a\n", "raw/deep/b.csv": b"b\n", "raw/skip.csv": b"no\n"})
    manifest = [{"prefix": f"s3://{bucket}/raw/"}, "a.csv", "deep/b.csv"]
    put(bucket, {"manifests/train.manifest": json.dumps(manifest).encode()})
    counting = CountingClient()
    cache = S3Cache(tmp_path, client=counting.client)
    source = S3Source(f"s3://{bucket}/manifests/train.manifest", S3DataType.MANIFEST_FILE)

    first = cache.fetch(source)
    assert files_of(first.folder) == {"a.csv": b"a\n", "deep/b.csv": b"b\n"}
    assert counting.gets == 3  # the manifest and its two objects

    second = cache.fetch(source)
    assert (second.downloaded, counting.gets) == (0, 3)


def test_a_manifest_naming_a_missing_object_is_one_clear_error(bucket: str, tmp_path: Path) -> None:
    manifest = [{"prefix": f"s3://{bucket}/raw/"}, "missing.csv"]
    put(bucket, {"m.json": json.dumps(manifest).encode()})
    source = S3Source(f"s3://{bucket}/m.json", S3DataType.MANIFEST_FILE)

    with pytest.raises(S3SourceError) as caught:
        S3Cache(tmp_path).fetch(source)

    assert f"s3://{bucket}/raw/missing.csv, which does not exist" in str(caught.value)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"not json", "not JSON"),
        (b'{"prefix": "s3://b/p/"}', "must be a JSON list"),
        (b'[{"prefix": "/local/p/"}, "a.csv"]', "must be a JSON list"),
        (b'[{"prefix": "s3://b/p/"}, 3]', "must be a JSON list"),
        (b'[{"prefix": "s3://b/p/"}]', "lists no objects"),
    ],
)
def test_malformed_manifests_are_refused(raw: bytes, problem: str) -> None:
    with pytest.raises(S3SourceError, match=problem):
        parse_manifest("s3://b/m.json", raw)


def test_sharded_by_s3_key_gives_the_one_instance_every_key(bucket: str, tmp_path: Path) -> None:
    put(bucket, {f"s/part-{i}.csv": b"1\n" for i in range(5)})
    source = S3Source(f"s3://{bucket}/s", distribution=S3DataDistributionType.SHARDED_BY_S3_KEY)

    fetched = S3Cache(tmp_path).fetch(source)

    assert fetched.objects == 5 and len(files_of(fetched.folder)) == 5


def test_sharding_over_two_instances_splits_the_keys_without_overlap(
    bucket: str, tmp_path: Path
) -> None:
    put(bucket, {f"s/part-{i}.csv": b"1\n" for i in range(5)})
    source = S3Source(f"s3://{bucket}/s", distribution=S3DataDistributionType.SHARDED_BY_S3_KEY)
    cache = S3Cache(tmp_path)

    zero = set(files_of(cache.fetch(source, instance_index=0, instance_count=2).folder))
    one = set(files_of(cache.fetch(source, instance_index=1, instance_count=2).folder))

    assert len(zero) == 3 and len(one) == 2 and not zero & one
    with pytest.raises(ValueError):
        shard_objects([], 2, 2)


# errors ---------------------------------------------------------------------------


def test_no_such_bucket_is_a_usage_error_naming_the_uri(s3_env: str, tmp_path: Path) -> None:
    with pytest.raises(S3SourceError) as caught:
        S3Cache(tmp_path).fetch(S3Source("s3://sandbox-no-such-bucket/data"))
    assert str(caught.value) == "s3://sandbox-no-such-bucket/data: no such bucket " + repr(
        "sandbox-no-such-bucket"
    )
    assert caught.value.exit_code == 2


def test_an_empty_prefix_is_a_usage_error(bucket: str, tmp_path: Path) -> None:
    put(bucket, {"elsewhere/a.csv": b"1\n"})
    with pytest.raises(S3SourceError, match="no objects under this prefix") as caught:
        S3Cache(tmp_path).fetch(S3Source(f"s3://{bucket}/data"))
    assert str(caught.value).startswith(f"s3://{bucket}/data: ")


def test_missing_credentials_are_one_line_naming_the_uri(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(S3SourceError) as caught:
        S3Cache(tmp_path).fetch(S3Source(f"s3://{bucket}/data"))
    message = str(caught.value)
    assert message.startswith(f"s3://{bucket}/data: no AWS credentials found")
    assert "\n" not in message and caught.value.exit_code == 2


def test_an_unreachable_endpoint_is_an_infrastructure_error(
    s3_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    with pytest.raises(S3UnreachableError) as caught:
        S3Cache(tmp_path).fetch(S3Source("s3://some-bucket/data"))
    assert caught.value.exit_code == 3
    assert f"cannot reach the S3 endpoint http://127.0.0.1:{port}" in str(caught.value)
    assert str(caught.value).startswith("s3://some-bucket/data: ")


def test_without_boto3_the_error_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(UsageError) as caught:
        S3Cache(tmp_path).fetch(S3Source("s3://bucket/data"))
    assert "pip install 'sandbox[s3]'" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_s3_uris_are_split_and_checked() -> None:
    assert split_s3_uri("s3://bucket/a/b/") == ("bucket", "a/b/")
    assert split_s3_uri("s3://bucket") == ("bucket", "")
    for bad in ("s3://", "s3:///key", "/local/path", "https://bucket/x"):
        with pytest.raises(ValueError):
            split_s3_uri(bad)


# bind_inputs with S3 ----------------------------------------------------------------

SCRIPT = """
import pandas as pd
if __name__ == "__main__":
    pd.read_csv("/opt/ml/processing/input/data/a.csv")
    pd.read_csv("/opt/ml/processing/input/config/c.json")
    open("/opt/ml/processing/output/out.csv", "w").write("x")
"""


def _spec(**inputs: dict[str, Any]) -> ScriptSpec:
    return parse_spec(
        {
            "script": "s.py",
            "inputs": inputs,
            "outputs": {"out": {"path": "/opt/ml/processing/output"}},
        },
        source="test",
    )


def test_a_data_source_prefix_feeds_each_channel_from_its_sub_prefix(
    bucket: str, tmp_path: Path
) -> None:
    put(bucket, {"run/data/a.csv": b"a\n1\n", "run/config/c.json": b"{}", "run/extra/x": b"1"})
    spec = _spec(
        data_input={"path": "/opt/ml/processing/input/data"},
        config={"path": "/opt/ml/processing/input/config"},
    )

    plan = bind_inputs(
        spec,
        infer_contract(SCRIPT),
        data_source=S3Uri(f"s3://{bucket}/run"),
        explicit={},
        cache_root=tmp_path / "data",
        size=DataSize.SMALL,
    )

    by_channel = {binding.channel: binding for binding in plan.bindings}
    assert by_channel["data_input"].source.startswith(f"s3://{bucket}/run/data/ (1 objects")
    assert files_of(by_channel["data_input"].host_path) == {"a.csv": b"a\n1\n"}
    assert files_of(by_channel["config"].host_path) == {"c.json": b"{}"}
    assert by_channel["config"].host_path.is_relative_to(tmp_path / "s3")
    assert plan.ignored_folders == ["extra"]


def test_explicit_s3_inputs_and_a_spec_s3_uri_override_generated_data(
    bucket: str, tmp_path: Path
) -> None:
    put(bucket, {"a/a.csv": b"a\n", "m/list.json": b"", "c/c.json": b"{}"})
    manifest = [{"prefix": f"s3://{bucket}/c/"}, "c.json"]
    put(bucket, {"m/list.json": json.dumps(manifest).encode()})
    spec = _spec(
        data_input={"path": "/opt/ml/processing/input/data"},
        config={
            "path": "/opt/ml/processing/input/config",
            "s3_uri": f"s3://{bucket}/m/list.json",
            "s3_data_type": "ManifestFile",
        },
    )

    plan = bind_inputs(
        spec,
        infer_contract(SCRIPT),
        data_source=None,
        explicit={"data_input": S3Uri(f"s3://{bucket}/a")},
        cache_root=tmp_path / "data",
        size=DataSize.SMALL,
        s3=S3Cache(tmp_path / "cache"),
    )

    sources = {binding.channel: binding.source for binding in plan.bindings}
    assert sources["data_input"].startswith(f"s3://{bucket}/a (1 objects")
    assert sources["config"].startswith(f"s3://{bucket}/m/list.json (1 objects")
    assert files_of(plan.bindings[1].host_path) == {"c.json": b"{}"}


def test_a_data_source_prefix_without_sub_prefixes_is_refused(bucket: str, tmp_path: Path) -> None:
    put(bucket, {"flat/a.csv": b"1\n"})
    with pytest.raises(S3SourceError, match="no sub-prefixes"):
        bind_inputs(
            _spec(data_input={"path": "/opt/ml/processing/input/data"}),
            infer_contract(SCRIPT),
            data_source=S3Uri(f"s3://{bucket}/flat"),
            explicit={},
            cache_root=tmp_path / "data",
            size=DataSize.SMALL,
        )


def test_an_s3_input_without_a_bucket_is_refused_where_the_request_is_made() -> None:
    with pytest.raises(UsageError, match=r"inputs\[data_input\]: 's3://' names no bucket"):
        RunRequest(script="x", inputs={"data_input": "s3://"})
    with pytest.raises(UsageError, match=r"data_source: 's3:///p' names no bucket"):
        RunRequest(script="x", data_source="s3:///p")
    parsed = RunRequest(script="x", data_source="s3://b/p", inputs={"a": "some/dir"})
    assert parsed.data_source == S3Uri("s3://b/p")
    assert parsed.inputs == {"a": Path("some/dir")}


def test_channel_spec_s3_fields_are_validated_and_typos_still_refused() -> None:
    channel = ChannelSpec(path="/opt/ml/processing/input/data", s3_uri="s3://b/p")
    assert channel.s3_data_type is S3DataType.S3_PREFIX
    assert channel.s3_data_distribution_type is S3DataDistributionType.FULLY_REPLICATED
    with pytest.raises(ValueError, match="names no bucket"):
        ChannelSpec(path="/opt/ml/processing/input/data", s3_uri="s3:///p")
    with pytest.raises(ValueError, match="s3_data_type"):
        ChannelSpec(path="/opt/ml/processing/input/data", s3_data_type="Prefix")
    with pytest.raises(ValueError, match="s3_url"):
        ChannelSpec.model_validate({"path": "/opt/ml/processing/input/data", "s3_url": "s3://b"})


def test_the_command_refuses_an_s3_uri_without_a_bucket_before_asking_for_docker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from click.testing import CliRunner

    from sandbox.cli import cli
    from sandbox.container.engine import DockerEngine

    def refuse(cls: type[DockerEngine]) -> DockerEngine:
        raise AssertionError("DockerEngine.connect() was called")

    monkeypatch.setattr(DockerEngine, "connect", classmethod(refuse))
    for option in (["--data-source", "s3://"], ["--input", "data=s3:///key"]):
        result = CliRunner().invoke(cli, ["test-script", "tabular_preprocessing", *option])
        assert result.exit_code == 2, result.output
        assert "names no bucket" in result.stderr


def test_the_job_config_names_the_real_s3_input_and_the_spec_s3_types(tmp_path: Path) -> None:
    from sandbox.container.layout import InputBinding, processing_layout
    from sandbox.results.workspace import RunFolder

    script = tmp_path / "s.py"
    script.write_text("print(1)\n")
    spec = _spec(
        data_input={"path": "/opt/ml/processing/input/data"},
        config={
            "path": "/opt/ml/processing/input/config",
            "s3_data_type": "ManifestFile",
            "s3_data_distribution_type": "ShardedByS3Key",
        },
    )
    real = S3Source("s3://bucket/raw/", S3DataType.S3_PREFIX)
    bindings = [
        InputBinding("data_input", "/opt/ml/processing/input/data", tmp_path, "s3", real),
        InputBinding("config", "/opt/ml/processing/input/config", tmp_path, "generated"),
    ]
    run = RunFolder(run_id="r1", root=tmp_path / "run").create()

    layout = processing_layout(spec, script, bindings, run, image="img", job_name="job")

    inputs = {
        entry["InputName"]: entry["S3Input"]
        for entry in layout.config_files["processingjobconfig.json"]["ProcessingInputs"]
    }
    assert inputs["data_input"]["S3Uri"] == "s3://bucket/raw/"
    assert inputs["data_input"]["S3DataType"] == "S3Prefix"
    assert inputs["config"]["S3Uri"].startswith("s3://sandbox-local/job/input/config")
    assert inputs["config"]["S3DataType"] == "ManifestFile"
    assert inputs["config"]["S3DataDistributionType"] == "ShardedByS3Key"
    assert inputs["code"]["S3DataDistributionType"] == "FullyReplicated"


def test_the_command_names_the_extra_before_asking_for_docker_when_boto3_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from click.testing import CliRunner

    from sandbox.cli import cli
    from sandbox.container.engine import DockerEngine

    def refuse(cls: type[DockerEngine]) -> DockerEngine:
        raise AssertionError("DockerEngine.connect() was called")

    monkeypatch.setattr(DockerEngine, "connect", classmethod(refuse))
    monkeypatch.setitem(sys.modules, "boto3", None)
    result = CliRunner().invoke(
        cli, ["test-script", "tabular_preprocessing", "--data-source", "s3://bucket/run"]
    )
    assert result.exit_code == 2, result.output
    assert "pip install 'sandbox[s3]'" in result.stderr
