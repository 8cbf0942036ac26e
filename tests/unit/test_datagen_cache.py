"""The data set cache (sandbox.data.datagen.cache): fingerprints and materialize."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.data.datagen import DatasetSpec, DataSize, dataset_fingerprint, materialize
from sandbox.data.datagen import cache as datagen_cache


def test_fingerprint_is_stable_and_sensitive_to_spec_and_size() -> None:
    spec = DatasetSpec()
    fingerprint = dataset_fingerprint(spec, DataSize.SMALL)
    assert fingerprint == dataset_fingerprint(DatasetSpec(), DataSize.SMALL)
    assert len(fingerprint) == 64
    assert fingerprint != dataset_fingerprint(spec, DataSize.MEDIUM)
    assert fingerprint != dataset_fingerprint(DatasetSpec(seed=7), DataSize.SMALL)


def test_fingerprint_ignores_size_when_rows_are_explicit() -> None:
    spec = DatasetSpec(rows=10)
    assert dataset_fingerprint(spec, DataSize.SMALL) == dataset_fingerprint(spec, DataSize.LARGE)


@pytest.fixture
def generate_calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Counts calls of `generate` made by the cache."""
    calls: list[Path] = []
    real_generate = datagen_cache.generate

    def counting_generate(spec: DatasetSpec, out_dir: Path, **options: object) -> list[Path]:
        calls.append(out_dir)
        return real_generate(spec, out_dir, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(datagen_cache, "generate", counting_generate)
    return calls


def test_materialize_generates_once_then_reuses(tmp_path: Path, generate_calls: list[Path]) -> None:
    spec = DatasetSpec(rows=50)
    data = materialize(spec, tmp_path, size=DataSize.SMALL)
    entry = tmp_path / dataset_fingerprint(spec, DataSize.SMALL)[:16]
    assert data == entry / "data"
    assert [path.name for path in data.iterdir()] == ["part-00000.csv"]
    mtime = (data / "part-00000.csv").stat().st_mtime_ns

    again = materialize(spec, tmp_path, size=DataSize.SMALL)
    assert again == data
    assert len(generate_calls) == 1
    assert (data / "part-00000.csv").stat().st_mtime_ns == mtime
    assert [path.name for path in tmp_path.iterdir()] == [entry.name]  # no staging left


def test_marker_sits_beside_the_data_and_describes_it(tmp_path: Path) -> None:
    spec = DatasetSpec(rows=5)
    data = materialize(spec, tmp_path, size=DataSize.SMALL)
    marker = json.loads((data.parent / "done").read_text())
    assert marker["schema_version"] == 1
    assert marker["fingerprint"] == dataset_fingerprint(spec, DataSize.SMALL)
    assert marker["files"] == ["part-00000.csv"]
    assert not (data / "done").exists()


def test_incomplete_entry_is_regenerated(tmp_path: Path, generate_calls: list[Path]) -> None:
    spec = DatasetSpec(rows=5)
    entry = tmp_path / dataset_fingerprint(spec, DataSize.SMALL)[:16]
    (entry / "data").mkdir(parents=True)
    (entry / "data" / "half-written.csv").write_text("x")
    data = materialize(spec, tmp_path, size=DataSize.SMALL)
    assert len(generate_calls) == 1
    assert sorted(path.name for path in data.iterdir()) == ["part-00000.csv"]
    assert (entry / "done").is_file()


def test_failed_generation_leaves_no_entry(tmp_path: Path) -> None:
    spec = DatasetSpec(label="${UNSET}", rows=5)
    with pytest.raises(Exception, match="UNSET"):
        materialize(spec, tmp_path, size=DataSize.SMALL)
    assert list(tmp_path.iterdir()) == []
