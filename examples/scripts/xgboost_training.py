#!/usr/bin/env python3
"""XGBoost training (SageMaker Training layout).

Channels: ``train`` and ``val`` (csv, csv.gz or parquet files, possibly in sub-folders)
and an optional ``config`` channel holding ``hyperparameters.json``.

Hyperparameters, later sources overriding earlier ones: built-in defaults, the
platform's ``/opt/ml/input/config/hyperparameters.json`` (all values are strings),
``--name value`` arguments (script mode), then the ``config`` channel's
``hyperparameters.json``. Known keys: ``label_name`` (default: env ``LABEL_FIELD`` or
``label``), ``num_round``, ``max_depth``, ``eta``, ``objective``, ``subsample``,
``colsample_bytree``, ``min_child_weight``, ``early_stopping_rounds``, ``seed``,
``max_categories``, ``id_columns`` (comma separated).

Writes ``xgboost_model.bst`` and ``feature_columns.json`` to the model folder
(``SM_MODEL_DIR``, default ``/opt/ml/model``), and ``val_predictions.csv`` and
``metrics.json`` to ``/opt/ml/output/data``. On failure it writes the reason to
``/opt/ml/output/failure`` and exits 1.
"""

import argparse
import json
import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import pandas as pd
import xgboost as xgb

logger = logging.getLogger(__name__)

HYPERPARAMETERS_FILE = "/opt/ml/input/config/hyperparameters.json"
FAILURE_FILE = "/opt/ml/output/failure"
MODEL_FILE_NAME = "xgboost_model.bst"
DATA_SUFFIXES = (".csv", ".csv.gz", ".parquet")
ID_COLUMN_NAMES = {"id", "uuid", "guid", "index", "row_id", "record_id"}

# name -> (type, default); a default of None means "not set"
HYPERPARAMETERS: Dict[str, Tuple[type, Any]] = {
    "label_name": (str, None),
    "num_round": (int, 100),
    "max_depth": (int, 6),
    "eta": (float, 0.3),
    "objective": (str, None),
    "subsample": (float, 1.0),
    "colsample_bytree": (float, 1.0),
    "min_child_weight": (float, 1.0),
    "early_stopping_rounds": (int, None),
    "seed": (int, 42),
    "max_categories": (int, 100),
    "id_columns": (str, ""),
}


def decode_value(raw: Any) -> Any:
    """Values arrive as strings; the SageMaker SDK JSON-encodes string values (``'"abc"'``)."""
    if isinstance(raw, str) and len(raw) >= 2 and raw[0] == raw[-1] == '"':
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def cast_hyperparameters(raw: Dict[str, Any]) -> Dict[str, Any]:
    """Cast known hyperparameters to their types; unknown ones are kept as given."""
    result: Dict[str, Any] = {name: default for name, (_, default) in HYPERPARAMETERS.items()}
    for name, value in raw.items():
        value = decode_value(value)
        if name not in HYPERPARAMETERS:
            logger.info("hyperparameter %s=%r is not used by this script", name, value)
            result[name] = value
            continue
        kind = HYPERPARAMETERS[name][0]
        try:
            result[name] = kind(float(value)) if kind is int else kind(value)
        except (TypeError, ValueError) as exc:
            problem = f"hyperparameter {name}={value!r} is not a valid {kind.__name__}"
            raise ValueError(problem) from exc
    return result


def read_json_file(path: Path) -> Dict[str, Any]:
    """Read a JSON object from ``path``."""
    with open(path, encoding="utf-8") as handle:
        content = json.load(handle)
    if not isinstance(content, dict):
        raise ValueError(f"{path} must hold a JSON object")
    logger.info("read %d hyperparameter(s) from %s", len(content), path)
    return content


def parse_hyperparameter_args(tokens: List[str]) -> Dict[str, str]:
    """``--name value`` / ``--name=value`` pairs, as script mode passes them."""
    result: Dict[str, str] = {}
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if not token.startswith("--"):
            logger.warning("ignoring argument %r", token)
            continue
        name, has_value, value = token[2:].partition("=")
        if not has_value:
            next_is_value = index < len(tokens) and not tokens[index].startswith("--")
            value = tokens[index] if next_is_value else "true"
            index += 1 if next_is_value else 0
        result[name.replace("-", "_")] = value
    return result


def load_hyperparameters(
    input_paths: Dict[str, str], environ_vars: Dict[str, Optional[str]], cli: Dict[str, str]
) -> Dict[str, Any]:
    """Merge every hyperparameter source; see the module docstring for the order."""
    raw: Dict[str, Any] = {}
    platform_file = Path(HYPERPARAMETERS_FILE)
    if platform_file.is_file():
        raw.update(read_json_file(platform_file))
    raw.update(cli)
    config_dir = input_paths.get("config")
    if config_dir and (Path(config_dir) / "hyperparameters.json").is_file():
        raw.update(read_json_file(Path(config_dir) / "hyperparameters.json"))
    hyperparameters = cast_hyperparameters(raw)
    if not hyperparameters["label_name"]:
        hyperparameters["label_name"] = environ_vars.get("LABEL_FIELD") or "label"
    return hyperparameters


def load_channel(channel_dir: Path) -> pd.DataFrame:
    """Read every csv/parquet file under a channel folder (sub-folders included)."""
    if not channel_dir.is_dir():
        raise FileNotFoundError(f"channel folder {channel_dir} does not exist")
    files = [
        path
        for path in sorted(channel_dir.rglob("*"))
        if path.is_file()
        and path.name.lower().endswith(DATA_SUFFIXES)
        and not path.name.startswith((".", "_"))
    ]
    if not files:
        raise FileNotFoundError(f"no csv or parquet files under {channel_dir}")
    frames = [pd.read_parquet(p) if p.name.endswith(".parquet") else pd.read_csv(p) for p in files]
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        raise ValueError(f"every data file under {channel_dir} is empty")
    logger.info("read %d file(s) from %s", len(files), channel_dir)
    return pd.concat(frames, ignore_index=True)


def is_id_column(name: str, extra_ids: List[str]) -> bool:
    lowered = str(name).lower()
    return lowered in ID_COLUMN_NAMES or lowered.endswith("_id") or name in extra_ids


def select_features(
    train_df: pd.DataFrame, label: str, hyperparameters: Dict[str, Any]
) -> Tuple[List[str], Dict[str, List[str]]]:
    """Feature columns and, for each non-numeric one, its categories (from train)."""
    extra_ids = [c.strip() for c in hyperparameters["id_columns"].split(",") if c.strip()]
    features: List[str] = []
    categories: Dict[str, List[str]] = {}
    for column in train_df.columns:
        if column == label or is_id_column(column, extra_ids):
            continue
        series = train_df[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            features.append(column)
            continue
        values = sorted(series.dropna().astype(str).unique())
        if len(values) > hyperparameters["max_categories"]:
            logger.info("dropping %s: %d categories (max_categories)", column, len(values))
            continue
        features.append(column)
        categories[column] = values
    if not features:
        raise ValueError("no usable feature columns in the training data")
    return features, categories


def to_matrix(
    df: pd.DataFrame, features: List[str], categories: Dict[str, List[str]]
) -> np.ndarray:
    """Numeric matrix: category codes for non-numeric columns, NaN for unseen values."""
    columns = []
    for column in features:
        series = df[column] if column in df.columns else pd.Series(np.nan, index=df.index)
        if column in categories:
            codes = {value: float(code) for code, value in enumerate(categories[column])}
            series = series.astype(str).map(codes).where(series.notna())
        numeric = pd.to_numeric(series, errors="coerce")
        columns.append(numeric.to_numpy(dtype="float64", na_value=np.nan))
    return np.column_stack(columns) if columns else np.empty((len(df), 0))


def labels_of(df: pd.DataFrame, label: str, channel: str) -> np.ndarray:
    """Integer labels of a channel; rows must all carry one."""
    if label not in df.columns:
        raise ValueError(
            f"label column {label!r} not in the {channel} data "
            f"(columns: {', '.join(map(str, df.columns))}); set label_name or LABEL_FIELD"
        )
    values = pd.to_numeric(df[label], errors="coerce")
    if values.isna().any() or bool((values < 0).any()) or bool((values != values.round()).any()):
        raise ValueError(
            f"label column {label!r} in {channel} must hold class codes 0, 1, ...; "
            "found missing, negative, fractional or non-numeric values (run preprocessing first)"
        )
    return values.astype("int64").to_numpy()


def booster_params(hyperparameters: Dict[str, Any], num_classes: int) -> Dict[str, Any]:
    objective = hyperparameters["objective"]
    if objective is None:
        objective = "binary:logistic" if num_classes <= 2 else "multi:softprob"
    if objective == "multi:softmax":  # same trees; softprob also gives the probabilities
        objective = "multi:softprob"
    if not objective.startswith(("binary:", "multi:")):
        raise ValueError(f"objective {objective!r}: this script trains classifiers only")
    params = {
        "objective": objective,
        "max_depth": hyperparameters["max_depth"],
        "eta": hyperparameters["eta"],
        "subsample": hyperparameters["subsample"],
        "colsample_bytree": hyperparameters["colsample_bytree"],
        "min_child_weight": hyperparameters["min_child_weight"],
        "seed": hyperparameters["seed"],
    }
    if objective.startswith("multi:"):
        params["num_class"] = num_classes
    return params


def predict_frame(
    booster: xgb.Booster, matrix: np.ndarray, val_df: pd.DataFrame, label: str, extra_ids: List[str]
) -> pd.DataFrame:
    """Predictions on val: id columns, label, and one ``prob_class_<k>`` per class."""
    best_iteration = getattr(booster, "best_iteration", None)
    rounds = (0, best_iteration + 1) if best_iteration is not None else (0, 0)
    scores = booster.predict(xgb.DMatrix(matrix), iteration_range=rounds)
    if scores.ndim == 1:
        scores = np.column_stack([1.0 - scores, scores])
    keep = [c for c in val_df.columns if is_id_column(c, extra_ids)] + [label]
    result = val_df[keep].reset_index(drop=True)
    for k in range(scores.shape[1]):
        result[f"prob_class_{k}"] = scores[:, k]
    return result


def compute_metrics(labels: np.ndarray, predictions: pd.DataFrame) -> Dict[str, Any]:
    """Accuracy, and AUC when the problem is binary and val holds both classes."""
    probabilities = predictions.filter(like="prob_class_").to_numpy()
    metrics: Dict[str, Any] = {
        "num_val_rows": len(labels),
        "accuracy": float((probabilities.argmax(axis=1) == labels).mean()),
    }
    if probabilities.shape[1] == 2 and len(np.unique(labels)) == 2:
        from sklearn.metrics import roc_auc_score

        metrics["auc"] = float(roc_auc_score(labels, probabilities[:, 1]))
    return metrics


def main(
    input_paths: Dict[str, str],
    output_paths: Dict[str, str],
    environ_vars: Dict[str, Optional[str]],
    job_args: argparse.Namespace,
) -> Dict[str, Any]:
    """Train on the ``train`` channel, evaluate on ``val``, write model and outputs.

    Returns the metrics written to ``metrics.json``.
    """
    for key in ("train", "val"):
        if key not in input_paths:
            raise ValueError(f"input_paths must contain {key!r}")
    hyperparameters = load_hyperparameters(
        input_paths, environ_vars, getattr(job_args, "hyperparameters", {}) or {}
    )
    label = hyperparameters["label_name"]
    train_df = load_channel(Path(input_paths["train"]))
    val_df = load_channel(Path(input_paths["val"]))
    features, categories = select_features(train_df, label, hyperparameters)
    logger.info("training on %d feature(s): %s", len(features), features)

    train_labels, val_labels = labels_of(train_df, label, "train"), labels_of(val_df, label, "val")
    num_classes = int(max(train_labels.max(), val_labels.max())) + 1
    dtrain = xgb.DMatrix(to_matrix(train_df, features, categories), label=train_labels)
    val_matrix = to_matrix(val_df, features, categories)
    dval = xgb.DMatrix(val_matrix, label=val_labels)
    booster = xgb.train(
        booster_params(hyperparameters, num_classes),
        dtrain,
        num_boost_round=hyperparameters["num_round"],
        evals=[(dtrain, "train"), (dval, "val")],
        early_stopping_rounds=hyperparameters["early_stopping_rounds"],
        verbose_eval=False,
    )
    extra_ids = [c.strip() for c in hyperparameters["id_columns"].split(",") if c.strip()]
    predictions = predict_frame(booster, val_matrix, val_df, label, extra_ids)
    metrics = compute_metrics(val_labels, predictions)
    metrics.update(num_train_rows=len(train_labels), num_features=len(features))

    save_model(booster, Path(output_paths["model"]), features, categories, label)
    save_outputs(Path(output_paths["output_data"]), predictions, metrics)
    print(f"training finished: {json.dumps(metrics, sort_keys=True)}")
    return metrics


def save_model(
    booster: xgb.Booster,
    model_dir: Path,
    features: List[str],
    categories: Dict[str, List[str]],
    label: str,
) -> None:
    model_dir.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(model_dir / MODEL_FILE_NAME))
    columns = {"feature_columns": features, "categories": categories, "label_name": label}
    (model_dir / "feature_columns.json").write_text(json.dumps(columns, indent=2), encoding="utf-8")
    logger.info("saved model to %s", model_dir)


def save_outputs(output_dir: Path, predictions: pd.DataFrame, metrics: Dict[str, Any]) -> None:
    output_dir.mkdir(parents=True, exist_ok=True)
    predictions.to_csv(output_dir / "val_predictions.csv", index=False)
    (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    logger.info("wrote predictions and metrics to %s", output_dir)


def write_failure(message: str) -> None:
    """Leave the reason where SageMaker reads it (``FailureReason``), if we may."""
    try:
        with open(FAILURE_FILE, "w", encoding="utf-8") as handle:
            handle.write(message[:1024])
    except OSError as exc:
        logger.warning("cannot write %s: %s", FAILURE_FILE, exc)


if __name__ == "__main__":
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    parser = argparse.ArgumentParser(description="XGBoost training", allow_abbrev=False)
    args, unknown = parser.parse_known_args()
    args.hyperparameters = parse_hyperparameter_args(unknown)

    input_paths = {
        "train": "/opt/ml/input/data/train",
        "val": "/opt/ml/input/data/val",
        "config": "/opt/ml/input/data/config",
    }
    output_paths = {
        "model": os.environ.get("SM_MODEL_DIR", "/opt/ml/model"),
        "output_data": "/opt/ml/output/data",
    }
    environ_vars = {"LABEL_FIELD": os.environ.get("LABEL_FIELD")}
    try:
        main(input_paths, output_paths, environ_vars, args)
    except Exception as exc:
        logger.error("training failed:\n%s", traceback.format_exc())
        write_failure(f"{type(exc).__name__}: {exc}")
        sys.exit(1)
