"""Secret environment values (sandbox.results.masking): which names, and where they are masked."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from sandbox.contract.spec import ScriptSpec
from sandbox.results.masking import MASK, Masker, looks_secret
from sandbox.results.models import ExecutionResult, Status, TestResult


@pytest.mark.parametrize(
    "name",
    [
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SESSION_TOKEN",
        "DB_PASSWORD",
        "DB_PASS",
        "MYSQL_PASSWD",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "HF_TOKEN",
        "GITHUBTOKEN",
        "apiKey",
        "PRIVATE_KEY_PEM",
        "BASIC_AUTH",
        "API_KEY2",
        "CLIENT_SECRETS",
    ],
)
def test_names_that_say_secret_are_secret(name: str) -> None:
    assert looks_secret(name)


@pytest.mark.parametrize(
    "name",
    ["KEYBOARD_LAYOUT", "MONKEY", "TOKENIZER_NAME", "LABEL_FIELD", "PASSENGER_COUNT", "AUTHOR"],
)
def test_names_that_merely_contain_a_word_are_not(name: str) -> None:
    assert not looks_secret(name)


def _spec() -> ScriptSpec:
    return ScriptSpec(
        script="prep.py",
        environment={
            "AWS_SECRET_ACCESS_KEY": "s3cr3tvalue",
            "DB_URL": "postgres://u:pw@db/x",
            "API_TOKEN": "ab",
            "LABEL_FIELD": "label",
        },
        secret_env=["DB_URL"],
    )


def test_secret_names_come_from_the_name_and_from_secret_env() -> None:
    masker = Masker.for_spec(_spec())
    assert masker.names == {"AWS_SECRET_ACCESS_KEY", "DB_URL", "API_TOKEN"}
    assert masker.environment(_spec().environment) == {
        "AWS_SECRET_ACCESS_KEY": MASK,
        "DB_URL": MASK,
        "API_TOKEN": MASK,
        "LABEL_FIELD": "label",
    }


def test_values_are_scrubbed_from_text_when_long_enough() -> None:
    masker = Masker.for_spec(_spec())
    text = "key=s3cr3tvalue url=postgres://u:pw@db/x token=ab label"
    assert masker.text(text) == "key=*** url=*** token=ab label"


def test_the_saved_spec_carries_no_secret_value() -> None:
    saved = Masker.for_spec(_spec()).spec(_spec())
    assert saved["environment"]["AWS_SECRET_ACCESS_KEY"] == MASK
    assert saved["environment"]["LABEL_FIELD"] == "label"
    assert saved["secret_env"] == ["DB_URL"]
    assert "s3cr3tvalue" not in str(saved) and "pw@db" not in str(saved)


def test_a_result_is_masked_in_its_spec_tails_and_messages() -> None:
    moment = datetime(2026, 1, 1, tzinfo=timezone.utc)
    result = TestResult(
        run_id="r",
        script_name="prep",
        script_path="prep.py",
        kind="processing",
        call_style="entrypoint",
        status=Status.FAIL,
        execution_time=1.0,
        error_message="exit code 1: ValueError: bad key s3cr3tvalue",
        stderr_tail=["connecting to postgres://u:pw@db/x", "ValueError: bad key s3cr3tvalue"],
        spec=_spec().model_dump(mode="json"),
        execution=ExecutionResult(
            exit_code=1,
            started_at=moment,
            finished_at=moment,
            wall_time_s=1.0,
            image="img",
            image_id="sha256:1",
            command=["python3", "prep.py"],
            stdout_tail=["token ab s3cr3tvalue"],
        ),
    )
    masked = Masker.for_spec(_spec()).result(result)
    dumped = str(masked.to_json_dict())
    assert "s3cr3tvalue" not in dumped and "pw@db" not in dumped
    assert masked.error_message == "exit code 1: ValueError: bad key ***"
    assert masked.spec["environment"]["API_TOKEN"] == MASK
    assert masked.execution is not None and masked.execution.stdout_tail == ["token ab ***"]


def test_live_output_is_masked_chunk_by_chunk() -> None:
    seen: list[bytes] = []
    Masker.for_spec(_spec()).stream(seen.append)(b"the key is s3cr3tvalue\n")
    assert seen == [b"the key is ***\n"]


def test_a_stored_stream_is_masked_even_where_a_value_is_split_between_blocks() -> None:
    masker = Masker.for_spec(_spec())
    blocks = [b"key s3cr", b"3tvalue and postgres://u:", b"pw@db/x again s3cr3tvalu", b"e\n"]
    masked = b"".join(masker.chunks(blocks))
    assert masked == b"key *** and *** again ***\n"


def test_a_stream_without_secrets_passes_unchanged() -> None:
    blocks = [b"a" * 10, b"b" * 10]
    assert list(Masker(frozenset(), ()).chunks(blocks)) == blocks
