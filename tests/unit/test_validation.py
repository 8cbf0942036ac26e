"""Names and values checked before anything runs (sandbox.contract.validation), and the spec
fields that carry them: the same reason from a spec file and from an option."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.contract.resolve import Overrides, resolve_script
from sandbox.contract.spec import parse_spec
from sandbox.contract.validation import (
    check_argument_name,
    check_channel_name,
    check_env_value,
    check_image_reference,
)
from sandbox.data.s3source import split_s3_uri
from sandbox.errors import OptionError, SpecError
from sandbox.pipeline.spec import parse_pipeline_spec


@pytest.mark.parametrize(
    "reference",
    [
        "sklearn-1.2",
        "python:3.11-slim",
        "sandbox/sklearn-1.2:14a085ff4033",
        "registry.example.com:5000/team/image:v1.2_3",
        "localhost/image",
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
        "image@sha256:" + "a" * 64,
        "dd98e039d2b0",
    ],
)
def test_image_references_of_docker_s_grammar_pass(reference: str) -> None:
    assert check_image_reference(reference) == reference


@pytest.mark.parametrize(
    "reference", ["", "../../etc", "Bad:Ref:x", "UPPER", "a b", "img:", "/etc", "img:tag:x"]
)
def test_other_image_references_are_refused(reference: str) -> None:
    with pytest.raises(ValueError, match=r"empty|not an image reference"):
        check_image_reference(reference)


@pytest.mark.parametrize("name", ["résumé", "data", "train_v2", "a.b-c", "数据"])
def test_channel_names_may_be_letters_of_any_script(name: str) -> None:
    assert check_channel_name(name) == name


@pytest.mark.parametrize("name", ["_hidden", "a b", "a/b", "..", "x" * 65, "new\nline", ""])
def test_other_channel_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="invalid channel name"):
        check_channel_name(name)


@pytest.mark.parametrize("name", ["job_type", "job-type", "--job_type", "n_estimators", "a.b"])
def test_argument_names_pass(name: str) -> None:
    assert check_argument_name(name) == name


@pytest.mark.parametrize("name", ["a b", "a\nb", "a=b", "", "-", "--"])
def test_argument_names_with_spaces_or_newlines_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="invalid argument name"):
        check_argument_name(name)


def test_a_path_must_be_absolute_folders() -> None:
    assert check_env_value("PATH", "/usr/local/bin:/usr/bin") == "/usr/local/bin:/usr/bin"
    assert check_env_value("OTHER", "relative") == "relative"
    for bad in ("nonexist", "/usr/bin:", "/usr/bin:bin", ""):
        with pytest.raises(ValueError, match="replaces the image's PATH"):
            check_env_value("PATH", bad)


def test_values_must_be_utf8_without_nul() -> None:
    with pytest.raises(ValueError, match="NUL"):
        check_env_value("A", "x\x00")
    with pytest.raises(ValueError, match="not valid UTF-8"):
        check_env_value("A", "x\udcff")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("image", "", "field 'image': Value error, empty"),
        ("image", "../../etc", "field 'image': Value error, not an image reference"),
        ("environment", {"PATH": "bin"}, "field 'environment': Value error, PATH='bin'"),
        ("environment", {"1X": "a"}, "field 'environment': Value error, invalid variable name"),
        ("arguments", {"a b": "1"}, "field 'arguments': Value error, invalid argument name 'a b'"),
        ("arguments", {"a": "x\x00"}, "field 'arguments': Value error, contains a NUL byte"),
        ("outputs", {"a b": {"path": "/opt/ml/processing/output/x"}}, "invalid channel name"),
    ],
)
def test_spec_fields_give_the_same_reasons(field: str, value: object, message: str) -> None:
    with pytest.raises(SpecError, match=r"^spec\.yaml: ") as caught:
        parse_spec({"script": "a.py", field: value}, source="spec.yaml")
    assert message in str(caught.value)


def test_pipeline_step_fields_are_checked_too() -> None:
    raw = {"steps": [{"name": "a", "script": "a.py", "image": "../x"}]}
    with pytest.raises(SpecError, match="not an image reference"):
        parse_pipeline_spec(raw, source="p.yaml")


def test_overrides_name_the_option_and_value() -> None:
    with pytest.raises(OptionError, match=r"^--image '': empty"):
        Overrides(image="")
    with pytest.raises(OptionError, match=r"^--env 'PATH=x': PATH='x' replaces"):
        Overrides(environment={"PATH": "x"})
    with pytest.raises(OptionError, match=r"^--arg 'a\\nb=1': invalid argument name"):
        Overrides(arguments={"a\nb": "1"})


def test_a_non_ascii_output_path_in_the_source_is_a_channel(tmp_path: Path) -> None:
    script = tmp_path / "resume.py"
    script.write_text(
        'import os\nOUT = "/opt/ml/processing/output/résumé"\nos.makedirs(OUT, exist_ok=True)\n',
        encoding="utf-8",
    )
    resolved = resolve_script(script, None, Overrides())
    assert resolved.spec.outputs["résumé"].path == "/opt/ml/processing/output/résumé"


def test_an_invalid_channel_name_from_the_source_is_a_spec_error(tmp_path: Path) -> None:
    script = tmp_path / "hidden.py"
    script.write_text(
        'import os\nOUT = "/opt/ml/processing/output/_hidden"\nos.makedirs(OUT)\n', encoding="utf-8"
    )
    with pytest.raises(SpecError, match=r"^script hidden\.py: .*invalid channel name '_hidden'"):
        resolve_script(script, None, Overrides())


def test_an_invalid_bucket_name_is_named() -> None:
    with pytest.raises(ValueError, match=r"^invalid S3 bucket name 'Bad_Bucket!'"):
        split_s3_uri("s3://Bad_Bucket!/x")
    assert split_s3_uri("s3://Old_Bucket.Name/x") == ("Old_Bucket.Name", "x")
