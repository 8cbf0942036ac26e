"""Instance types (sandbox.container.instances): the table, memory sizes as Docker writes them."""

from __future__ import annotations

import pytest

from sandbox.container.instances import (
    INSTANCE_TYPES,
    cpu_only_finding,
    instance_type,
    parse_memory_mb,
)
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
    assert (g4.gpus, g4.gpu_model, g4.gpu_memory_gib) == (1, "T4", 16)
    assert instance_type("ml.p4d.24xlarge").devices == "8 A100 GPUs"
    assert instance_type("ml.inf2.xlarge").devices == "1 Inferentia2 accelerator"
    assert instance_type("ml.m5.large").devices is None


@pytest.mark.parametrize(
    ("name", "vcpus", "memory_gib", "gpus"),
    [
        ("ml.m5.24xlarge", 96, 384, 0),
        ("ml.p3.2xlarge", 8, 61, 1),
        ("ml.c4.xlarge", 4, 7.5, 0),
        ("ml.r7i.48xlarge", 192, 1536, 0),
        ("ml.p5.48xlarge", 192, 2048, 8),
        ("ml.g5.12xlarge", 48, 192, 4),
        ("ml.trn1.32xlarge", 128, 512, 16),
    ],
)
def test_the_table_holds_every_family_with_its_published_sizes(
    name: str, vcpus: int, memory_gib: float, gpus: int
) -> None:
    found = instance_type(name)
    assert (found.vcpus, found.memory_gib, found.gpus) == (vcpus, memory_gib, gpus)


def test_the_table_covers_the_families() -> None:
    families = {name.split(".")[1] for name in INSTANCE_TYPES}
    assert families >= {"t2", "t3", "m4", "m5", "m5d", "m6i", "m7i", "c4", "c5", "c5d", "c6i"}
    assert families >= {"c7i", "r5", "r5d", "r6i", "r7i", "p2", "p3", "p3dn", "p4d", "p4de"}
    assert families >= {"p5", "g4dn", "g5", "g6", "inf1", "inf2", "trn1"}
    assert all(t.gpus == 0 or (t.gpu_model and t.gpu_memory_gib) for t in INSTANCE_TYPES.values())


def test_unknown_type_names_the_closest_ones() -> None:
    with pytest.raises(UsageError) as caught:
        instance_type("ml.m5.24xl")
    message = str(caught.value)
    assert "'ml.m5.24xl'" in message
    assert "closest: ml.m5.24xlarge" in message
    assert caught.value.exit_code == 2


def test_an_unknown_type_far_from_any_gives_examples() -> None:
    with pytest.raises(UsageError, match=r"'zzz'; e\.g\. ml\.t3\.medium"):
        instance_type("zzz")


def test_a_gpu_type_runs_on_cpu_with_a_finding() -> None:
    assert cpu_only_finding("p3.2xlarge") == (
        "ml.p3.2xlarge has 1 V100 GPU; the sandbox gives none: the run used CPU only"
    )
    assert cpu_only_finding("ml.m5.xlarge") is None


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
