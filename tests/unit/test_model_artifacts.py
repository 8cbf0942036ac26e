"""Model artifacts for channels a script loads a model from: what is planned, how it
is packed, and the cache that makes a second run train nothing."""

from __future__ import annotations

import json
import pickle
import tarfile
from pathlib import Path

from sandbox.contract.channel_content import infer_channel_content
from sandbox.contract.inference import infer_contract
from sandbox.data.model_artifacts import artifact_plan, materialize_artifacts

SCRIPTS = Path(__file__).resolve().parents[1] / "integration" / "scripts"
HYPERPARAMETERS = {"label_name": "label", "num_round": "5"}


def plan_for(source: str, channel: str):  # type: ignore[no-untyped-def]
    content = infer_channel_content(source, infer_contract(source).inputs)
    return artifact_plan(content.channels[channel], content, HYPERPARAMETERS)


class FakeTrainer:
    """Writes each model file the way the image would, and counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, work_dir: Path, script: Path) -> None:
        self.calls += 1
        job = json.loads((work_dir / "job.json").read_text())
        assert (work_dir / "train" / "train.csv").is_file()
        for name in job["models"]:
            (work_dir / "files" / name).write_bytes(b"model")


def test_a_loaded_model_gets_a_trained_model_pickles_and_the_feature_list() -> None:
    plan = plan_for((SCRIPTS / "model_scorer.py").read_text(), "model")

    assert plan is not None
    assert plan.models == {"xgb_model.bst": "xgboost"}
    assert plan.pickles == ("encoders.pkl",)
    assert plan.texts["feature_columns.txt"].splitlines()[0] == "0,feature_1"
    assert plan.archive is None


def test_a_channel_without_a_model_gets_no_artifacts() -> None:
    assert plan_for((SCRIPTS / "model_scorer.py").read_text(), "eval_data") is None


def test_an_opened_archive_packs_the_files_the_script_looks_for_inside(tmp_path: Path) -> None:
    source = """
import json, os, tarfile
MODEL = "/opt/ml/processing/input/model"
with tarfile.open(os.path.join(MODEL, "model.tar.gz")) as tar:
    tar.extractall("/tmp/m")
hp = json.load(open(os.path.join("/tmp/m", "hyperparameters.json")))
if not os.path.exists(os.path.join(MODEL, "model.tar.gz/hyperparameters.json")):
    pass
"""
    plan = plan_for(source, "model")
    assert plan is not None and plan.archive == "model.tar.gz"

    folder = materialize_artifacts(plan, tmp_path, image="img", trainer=None)

    with tarfile.open(folder / "model.tar.gz") as tar:
        assert tar.getnames() == ["hyperparameters.json"]
        member = tar.extractfile("hyperparameters.json")
        assert member is not None and json.load(member)["label_name"] == "label"


def test_trained_artifacts_are_cached_so_a_second_run_trains_nothing(tmp_path: Path) -> None:
    plan = plan_for((SCRIPTS / "model_scorer.py").read_text(), "model")
    assert plan is not None
    trainer = FakeTrainer()

    first = materialize_artifacts(plan, tmp_path, image="img", trainer=trainer)
    second = materialize_artifacts(plan, tmp_path, image="img", trainer=trainer)
    other_image = materialize_artifacts(plan, tmp_path, image="img2", trainer=trainer)

    assert trainer.calls == 2, "one training per image, none for the cache hit"
    assert first == second != other_image
    assert sorted(path.name for path in first.iterdir()) == [
        "encoders.pkl",
        "feature_columns.txt",
        "xgb_model.bst",
    ]
    assert pickle.loads((first / "encoders.pkl").read_bytes()) == {}
    assert not (first.parent / "train").exists(), "training rows are not left in the cache"


def test_an_imputation_table_holds_a_value_per_feature(tmp_path: Path) -> None:
    source = """
import os, pickle
MODEL = "/opt/ml/processing/input/model"
booster.load_model(os.path.join(MODEL, "xgboost_model.bst"))
with open(os.path.join(MODEL, "impute_dict.pkl"), "rb") as handle:
    impute = pickle.load(handle)
"""
    plan = plan_for(source, "model")
    assert plan is not None

    folder = materialize_artifacts(plan, tmp_path, image="img", trainer=FakeTrainer())

    table = pickle.loads((folder / "impute_dict.pkl").read_bytes())
    assert table == {feature: 0.0 for feature in plan.features}


def test_a_channel_holding_only_a_pickled_table_gets_it_not_csv_shards() -> None:
    plan = plan_for((SCRIPTS / "table_applier.py").read_text(), "model_artifacts")

    assert plan is not None
    assert plan.pickles == ("impute_dict.pkl",)
    assert plan.models == {}
    source = """
import pickle, pandas as pd
DATA = "/opt/ml/processing/input/data"
frame = pd.read_csv(DATA + "/rows.csv")
encoder = pickle.load(open(DATA + "/encoder.pkl", "rb"))
"""
    assert plan_for(source, "data") is None, "a data channel keeps its tables"
