"""Model artifacts for channels a script loads a model from: real files, made in the
job's own image, cached by a hash like other generated data.

A script that calls ``Booster.load_model(".../xgboost_model.bst")`` or unpickles a
model fails on CSV shards. When the source names such files under a channel, the
channel gets them: an xgboost model trained by the image's xgboost on generated rows, a
pickled scikit-learn model, pickled dictionaries for other ``.pkl`` files, the feature
list, ``hyperparameters.json`` with the keys the code reads, and ``model.tar.gz``
holding them when the script opens the archive and not the loose files. Training runs
in a short container of the job's image (whose library versions then match); the result
is cached under ``<cache>/artifacts/<hash>/``, so a second run pays nothing.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import pickle
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from sandbox.constants import ARTIFACTS_DIR, PURPOSE_LABEL
from sandbox.container.containerize import run_labels
from sandbox.container.execute import run_container
from sandbox.container.seam import ContainerRequest, Engine, Mount
from sandbox.contract.channel_content import ChannelContent, ScriptContent
from sandbox.data.datagen import ColumnSpec, ColumnType, DatasetSpec, LayoutSpec, generate
from sandbox.errors import InfrastructureError

__all__ = [
    "ARTIFACTS_DIR",
    "ArtifactPlan",
    "Trainer",
    "artifact_plan",
    "image_trainer",
    "materialize_artifacts",
    "write_artifacts",
]

logger = logging.getLogger(__name__)

_DONE = "done"
_DATA = "data"
_KEY_LENGTH = 16
_TRAIN_ROWS = 300
_FEATURES = ("feature_1", "feature_2", "feature_3", "feature_4")
_LABEL = "label"
_TARS = (".tar.gz", ".tgz")
_TRAIN_TIMEOUT_S = 300.0
_HYPERPARAMETERS = "hyperparameters.json"
_TABLE_READS = ("csv", "parquet", "jsonl")

Trainer = Callable[[Path, Path], None]
"""``trainer(work_dir, script_file)``: run ``python3 script_file`` in the job's image with
``work_dir`` mounted writable at the same place; raise when it fails."""


@dataclass(frozen=True)
class ArtifactPlan:
    """The files a model channel gets.

    Attributes:
        models: File name -> ``xgboost``, ``sklearn`` or ``joblib`` (trained in the image).
        pickles: ``.pkl`` files holding plain dictionaries.
        texts: File name -> text content (feature list, JSON).
        archive: Name of the ``.tar.gz`` to pack every file into; None to leave them loose.
        features: Feature column names the models are trained on.
        reasons: Which line asked for what.
    """

    models: dict[str, str]
    pickles: tuple[str, ...]
    texts: dict[str, str]
    archive: str | None
    features: tuple[str, ...]
    reasons: tuple[str, ...]

    def fingerprint(self, image: str, trained: bool) -> str:
        """SHA-256 of the plan, the image that trains it, and whether models were made."""
        payload = {**asdict(self), "reasons": None, "image": image, "trained": trained}
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def artifact_plan(
    content: ChannelContent, script: ScriptContent, hyperparameters: dict[str, object]
) -> ArtifactPlan | None:
    """The artifacts a channel needs, or None when the script loads no model from it and
    no pickled table alone."""
    named = {use.relative: use for use in sorted(content.files, key=lambda use: -use.line)}
    models: dict[str, str] = {}
    pickles: list[str] = []
    texts: dict[str, str] = {}
    reasons: list[str] = []
    for name, use in sorted(named.items(), key=lambda item: item[1].line):
        kind = _model_kind(name, use.reader)
        if kind is None or "/" in name or "{" in name or "*" in name:
            continue
        if kind == "dict":
            pickles.append(name)
        elif kind in ("xgboost", "sklearn", "joblib"):
            models[name] = kind
        elif kind == "features":
            texts[name] = "".join(f"{index},{col}\n" for index, col in enumerate(_FEATURES))
        reasons.append(f"line {use.line} loads {name}: {_KIND_TEXT[kind]}")
    archive = _archive(named, models, pickles)
    # Pickled tables alone (an imputation dict an earlier step saved) are artifacts too,
    # unless the channel also holds the tables the script reads.
    tables_alone = pickles and not any(use.reader in _TABLE_READS for use in content.files)
    if not models and archive is None and not tables_alone:
        return None
    hyperparameter_uses = [use for name, use in named.items() if name.endswith(_HYPERPARAMETERS)]
    if hyperparameter_uses:
        body = {**hyperparameters, **_feature_keys(script)}
        texts[_HYPERPARAMETERS] = json.dumps(body, indent=2) + "\n"
        line = min(use.line for use in hyperparameter_uses)
        reasons.append(f"line {line} reads {_HYPERPARAMETERS}: keys {', '.join(body)}")
    return ArtifactPlan(models, tuple(pickles), texts, archive, _FEATURES, tuple(reasons))


_KIND_TEXT = {
    "xgboost": "an xgboost model trained in the image",
    "sklearn": "a pickled scikit-learn model trained in the image",
    "joblib": "a scikit-learn model saved with joblib in the image",
    "dict": "a pickled dictionary (a value per feature for an imputation table)",
    "features": "the feature list, one 'index,name' per line",
}


def _model_kind(name: str, reader: str) -> str | None:
    lowered = name.lower()
    if reader == "model" or lowered.endswith((".bst", ".ubj")):
        return "xgboost" if "xgb" in lowered or lowered.endswith(".bst") else None
    if lowered.endswith(".joblib"):
        return "joblib"
    if lowered.endswith((".pkl", ".pickle")):
        return "sklearn" if "model" in lowered and "map" not in lowered else "dict"
    if lowered.startswith("feature") and lowered.endswith(".txt"):
        return "features"
    return None


def _archive(named: Mapping[str, object], models: dict[str, str], pickles: list[str]) -> str | None:
    """The archive to pack, when the script opens one and no loose model file."""
    tars = [name for name in named if name.endswith(_TARS) and "/" not in name]
    if not tars or models or pickles:
        return None
    return tars[0]


def _feature_keys(script: ScriptContent) -> dict[str, object]:
    keys: dict[str, object] = {}
    for key in script.json_keys:
        lowered = key.lower()
        if "tab_field" in lowered or ("feature" in lowered and "list" in lowered):
            keys[key] = list(_FEATURES)
        elif "cat_field" in lowered:
            keys[key] = []
    return keys


def materialize_artifacts(
    plan: ArtifactPlan, cache_root: Path, *, image: str, trainer: Trainer | None
) -> Path:
    """The folder holding the plan's files, made (and trained) only on a cache miss.

    Raises:
        SandboxError: Training in the image failed (from ``trainer``).
    """
    trained = trainer is not None
    entry = cache_root / ARTIFACTS_DIR / plan.fingerprint(image, trained)[:_KEY_LENGTH]
    if (entry / _DONE).is_file():
        logger.debug("artifacts %s: cache hit", entry.name)
        return entry / _DATA
    entry.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{entry.name}-", dir=entry.parent))
    try:
        os.chmod(staging, 0o755)
        _build(plan, staging, trainer)
        (staging / _DONE).write_text(json.dumps({"image": image}) + "\n", encoding="utf-8")
        try:
            os.rename(staging, entry)
        except OSError:
            if not (entry / _DONE).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return entry / _DATA


def _build(plan: ArtifactPlan, staging: Path, trainer: Trainer | None) -> None:
    write_artifacts(plan, staging / _DATA, trainer, work_dir=staging)


def write_artifacts(
    plan: ArtifactPlan, target: Path, trainer: Trainer | None, *, work_dir: Path
) -> list[Path]:
    """Write the plan's files into ``target`` (new); models only with a ``trainer``.

    ``work_dir`` holds the training rows and script meanwhile (mounted in the image).
    """
    files = work_dir / "files"
    files.mkdir(parents=True)
    for name, text in plan.texts.items():
        (files / name).write_text(text, encoding="utf-8")
    for name in plan.pickles:
        (files / name).write_bytes(pickle.dumps(_pickled(name, plan.features), protocol=4))
    if plan.models and trainer is not None:
        _train(plan, work_dir, files, trainer)
    target.mkdir(parents=True)
    if plan.archive is None:
        for path in sorted(files.iterdir()):
            os.rename(path, target / path.name)
    else:
        _pack(files, target / plan.archive)
    shutil.rmtree(files)
    return sorted(target.iterdir())


def _train(plan: ArtifactPlan, staging: Path, files: Path, trainer: Trainer) -> None:
    columns = tuple(ColumnSpec(name=name, signal=0.8) for name in plan.features)
    rows = DatasetSpec(
        rows=_TRAIN_ROWS,
        columns=(*columns, ColumnSpec(name=_LABEL, type=ColumnType.LABEL)),
        label=_LABEL,
        layout=LayoutSpec(),
        file_name="train.csv",
    )
    generate(rows, staging / "train")
    job = {"models": plan.models, "features": list(plan.features), "label": _LABEL}
    (staging / "job.json").write_text(json.dumps(job), encoding="utf-8")
    script = staging / "train_models.py"
    script.write_text(_TRAIN_SCRIPT, encoding="utf-8")
    trainer(staging, script)
    shutil.rmtree(staging / "train")
    missing = [name for name in plan.models if not (files / name).is_file()]
    if missing:
        raise InfrastructureError(f"training in the image wrote no {', '.join(missing)}")


def _pickled(name: str, features: tuple[str, ...]) -> dict[str, float]:
    """An imputation table holds a value per feature (a loader calls an empty one
    unfitted); other tables (risk tables, encoders) start empty: no column to map."""
    if "imput" in name.lower():
        return {feature: 0.0 for feature in features}
    return {}


def _pack(files: Path, archive: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as tar:
        for path in sorted(files.iterdir()):
            tar.add(path, arcname=path.name)
    archive.write_bytes(buffer.getvalue())


# Runs inside the job's image: its pandas, xgboost and scikit-learn.
_TRAIN_SCRIPT = """\
import json, os, pickle, sys
import pandas as pd
here = os.path.dirname(os.path.abspath(sys.argv[0]))
job = json.load(open(os.path.join(here, "job.json")))
frame = pd.read_csv(os.path.join(here, "train", "train.csv"))
x, y = frame[job["features"]].astype(float), frame[job["label"]].astype(int)
for name, kind in job["models"].items():
    out = os.path.join(here, "files", name)
    if kind == "xgboost":
        import xgboost as xgb
        data = xgb.DMatrix(x, label=y, feature_names=job["features"])
        params = {"objective": "binary:logistic", "max_depth": 3, "nthread": 1}
        xgb.train(params, data, num_boost_round=5).save_model(out)
    else:
        from sklearn.linear_model import LogisticRegression
        model = LogisticRegression(max_iter=200).fit(x, y)
        if kind == "joblib":
            import joblib
            joblib.dump(model, out)
        else:
            with open(out, "wb") as handle:
                pickle.dump(model, handle)
"""


def image_trainer(
    engine: Engine, image: str, *, user: tuple[int, int], run_id: str, workspace_id: str
) -> Trainer:
    """A :data:`Trainer` running in a short container of ``image``, as ``user``, with no
    network, labelled like the run's containers so that clean-up finds it."""

    def train(work_dir: Path, script: Path) -> None:
        request = ContainerRequest(
            image=image,
            entrypoint=["python3", str(script)],
            command=None,
            environment={"HOME": "/tmp"},
            mounts=[Mount(work_dir, str(work_dir), read_only=False)],
            labels={
                **run_labels(run_id, "model-artifacts", workspace_id),
                PURPOSE_LABEL: "artifacts",
            },
            user=f"{user[0]}:{user[1]}",
        )
        outcome = run_container(engine, request, max_runtime_s=_TRAIN_TIMEOUT_S, watch_stats=False)
        if outcome.exit_code != 0:
            lines = [line for line in outcome.stderr.tail if line.strip()]
            tail = lines[-1:] or ["no error output"]
            raise InfrastructureError(
                f"training model artifacts in {image} failed (exit {outcome.exit_code}): {tail[0]}"
            )

    return train
