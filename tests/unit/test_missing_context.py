"""One-line hints for failures on what a local run does not bring: files of the source
tree, AWS credentials."""

from __future__ import annotations

from sandbox.constants import JobKind
from sandbox.results.missing_context import missing_context_hint

PROCESSING = JobKind.PROCESSING


def test_a_file_missing_beside_the_script_points_at_source_dir() -> None:
    message = (
        "exit code 1: FileNotFoundError: [Errno 2] No such file or directory: "
        "'/opt/ml/processing/input/code/lookup/codes.json'"
    )
    hint = missing_context_hint(message, [], kind=PROCESSING, source_dir_given=False)
    assert hint == (
        "the script looks for /opt/ml/processing/input/code/lookup/codes.json beside itself, "
        "but the code folder holds the script alone: pass --source-dir with the tree that "
        "holds lookup/codes.json"
    )
    given = missing_context_hint(message, [], kind=PROCESSING, source_dir_given=True)
    assert given is not None and "the --source-dir tree does not hold" in given


def test_a_processing_script_looking_in_the_training_code_folder_is_told_where_code_is() -> None:
    message = (
        "exit code 1: FileNotFoundError: Hyperparameters file not found at "
        "/opt/ml/code/hyperparams/hyperparameters.json."
    )
    hint = missing_context_hint(message, [], kind=PROCESSING, source_dir_given=False)
    assert hint is not None
    assert hint.startswith(
        "the script looks for /opt/ml/code/hyperparams/hyperparameters.json, in a source "
        "tree at /opt/ml/code/ that a processing job does not have"
    )
    assert "/opt/ml/processing/input/code/" in hint and "\n" not in hint


def test_no_aws_credentials_is_named() -> None:
    tail = ["botocore.exceptions.NoCredentialsError: Unable to locate credentials"]
    hint = missing_context_hint("exit code 1: x", tail, kind=PROCESSING, source_dir_given=False)
    assert hint is not None and hint.startswith("the script calls an AWS service")


def test_other_failures_get_no_hint() -> None:
    message = "exit code 1: FileNotFoundError: /opt/ml/processing/input/data/x.csv"
    assert missing_context_hint(message, [], kind=PROCESSING, source_dir_given=False) is None
    code = "exit code 1: ValueError: bad value in /opt/ml/code/x.py"
    assert missing_context_hint(code, [], kind=PROCESSING, source_dir_given=False) is None


def test_a_key_error_that_says_missing_is_not_a_missing_file() -> None:
    message = "KeyError: 'label' missing; see /opt/ml/code/README.md"
    assert missing_context_hint(message, [], kind=JobKind.TRAINING, source_dir_given=False) is None


def test_a_quoted_path_with_a_space_is_named_whole() -> None:
    message = (
        "FileNotFoundError: [Errno 2] No such file or directory: "
        "'/opt/ml/processing/input/code/my lookup/codes.json'"
    )
    hint = missing_context_hint(message, [], kind=JobKind.PROCESSING, source_dir_given=False)
    assert hint is not None
    assert "/opt/ml/processing/input/code/my lookup/codes.json beside itself" in hint
    assert hint.endswith("the tree that holds my lookup/codes.json")
