"""Instance types (sandbox.container.instances): the table, memory sizes as Docker writes them."""

from __future__ import annotations

import pytest

from sandbox.container.instances import INSTANCE_TYPES, instance_type, parse_memory_mb
from sandbox.errors import UsageError


def test_lookup_with_the_ml_prefix() -> None:
    m5 = instance_type("ml.m5.xlarge")
    assert (m5.name, m5.vcpus, m5.memory_gib, m5.gpus) == ("ml.m5.xlarge", 4, 16, 0)
    assert m5.memory_mb == 16 * 1024


def test_lookup_without_the_ml_prefix() -> None:
    assert instance_type("t3.medium") is INSTANCE_TYPES["ml.t3.medium"]
    assert instance_type("t3.medium").memory_mb == 4096


def test_gpu_types_carry_their_gpu() -> None:
    g4 = instance_type("ml.g4dn.xlarge")
    assert (g4.gpus, g4.gpu_model) == (1, "T4 16 GB")


def test_unknown_type_lists_the_known_ones() -> None:
    with pytest.raises(UsageError) as caught:
        instance_type("ml.m9.huge")
    message = str(caught.value)
    assert "'ml.m9.huge'" in message
    assert all(name in message for name in INSTANCE_TYPES)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("text", "mib"),
    [
        ("512m", 512.0),
        ("512M", 512.0),
        ("4g", 4096.0),
        ("4GiB", 4096.0),
        ("4gb", 4096.0),
        ("1.5g", 1536.0),
        ("2048k", 2.0),
        ("1t", 1024.0 * 1024),
        (" 256 m ", 256.0),
        ("1048576", 1.0),  # a bare number is bytes, as for docker --memory
        ("1024", 1024 / (1024 * 1024)),
    ],
)
def test_parse_memory_mb(text: str, mib: float) -> None:
    assert parse_memory_mb(text) == pytest.approx(mib)


@pytest.mark.parametrize("text", ["", "lots", "4x", "-1g", "g4", "4 g b i", "1,5g"])
def test_parse_memory_mb_rejects_bad_sizes(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_memory_mb(text)
    assert repr(text) in str(caught.value)
    assert "512m" in str(caught.value)
