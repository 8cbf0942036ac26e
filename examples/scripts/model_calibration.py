#!/usr/bin/env python3
"""Model calibration (SageMaker Processing).

Fits an isotonic regression that maps a model's scores to calibrated probabilities.

Reads the evaluation table (csv, csv.gz, parquet or jsonl files, recursively) from
``/opt/ml/processing/input/eval_data``: the score column is named by ``SCORE_FIELD``
(default ``prob_class_1``), the binary label column by ``LABEL_FIELD`` (default
``label``). Writes the pickled calibrator to
``/opt/ml/processing/output/calibration/calibration_model.pkl`` and the Brier score and
expected calibration error before and after to
``/opt/ml/processing/output/metrics/calibration_metrics.json``.
"""

import argparse
import json
import logging
import os
import pickle
import sys
import traceback
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression

logger = logging.getLogger(__name__)

INPUT_DATA_PATH = "/opt/ml/processing/input/eval_data"
OUTPUT_CALIBRATION_PATH = "/opt/ml/processing/output/calibration"
OUTPUT_METRICS_PATH = "/opt/ml/processing/output/metrics"
MODEL_FILE_NAME = "calibration_model.pkl"
METRICS_FILE_NAME = "calibration_metrics.json"
DATA_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".jsonl")
NUM_BINS = 10


def find_data_files(input_dir: Path) -> List[Path]:
    """Data files under ``input_dir`` (sub-folders included), hidden files skipped."""
    return [
        path
        for path in sorted(input_dir.rglob("*"))
        if path.is_file()
        and path.name.lower().endswith(DATA_SUFFIXES)
        and not path.name.startswith((".", "_"))
    ]


def load_eval_data(input_dir: Path) -> pd.DataFrame:
    """Concatenate every evaluation file under ``input_dir``."""
    files = find_data_files(input_dir) if input_dir.is_dir() else []
    if not files:
        raise FileNotFoundError(f"no evaluation data ({', '.join(DATA_SUFFIXES)}) in {input_dir}")
    frames = []
    for path in files:
        if path.name.endswith(".parquet"):
            frames.append(pd.read_parquet(path))
        elif path.name.endswith(".jsonl"):
            frames.append(pd.read_json(path, lines=True))
        else:
            frames.append(pd.read_csv(path))
    logger.info("read %d file(s) from %s", len(files), input_dir)
    return pd.concat([frame for frame in frames if not frame.empty] or frames, ignore_index=True)


def scores_and_labels(df: pd.DataFrame, score_field: str, label_field: str):
    """Scores in [0, 1] and 0/1 labels; rows missing either are dropped."""
    for field, variable in ((score_field, "SCORE_FIELD"), (label_field, "LABEL_FIELD")):
        if field not in df.columns:
            raise ValueError(
                f"column {field!r} (from {variable}) is not in the evaluation data; "
                f"columns are: {', '.join(map(str, df.columns))}"
            )
    scores = pd.to_numeric(df[score_field], errors="coerce")
    labels = pd.to_numeric(df[label_field], errors="coerce")
    keep = scores.notna() & labels.notna()
    if int((~keep).sum()):
        logger.warning("dropping %d row(s) without a numeric score and label", int((~keep).sum()))
    scores = scores[keep].to_numpy(dtype="float64")
    labels = labels[keep].to_numpy(dtype="float64")
    if len(scores) < 2:
        raise ValueError("need at least two rows with a score and a label to calibrate")
    if not np.isin(labels, (0.0, 1.0)).all():
        raise ValueError(f"label column {label_field!r} must be binary (0/1)")
    if scores.min() < 0.0 or scores.max() > 1.0:
        raise ValueError(f"score column {score_field!r} must hold probabilities in [0, 1]")
    return scores, labels.astype("int64")


def brier_score(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean((probabilities - labels) ** 2))


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Weighted gap between mean score and positive rate over equal-width bins."""
    bins = np.minimum((probabilities * NUM_BINS).astype("int64"), NUM_BINS - 1)
    error = 0.0
    for index in range(NUM_BINS):
        in_bin = bins == index
        if in_bin.any():
            gap = abs(probabilities[in_bin].mean() - labels[in_bin].mean())
            error += in_bin.mean() * gap
    return float(error)


def fit_calibrator(scores: np.ndarray, labels: np.ndarray) -> IsotonicRegression:
    calibrator = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    calibrator.fit(scores, labels)
    return calibrator


def main(
    input_paths: Dict[str, str],
    output_paths: Dict[str, str],
    environ_vars: Dict[str, Optional[str]],
    job_args: Optional[argparse.Namespace] = None,
) -> Dict[str, Any]:
    """Fit the calibrator on ``eval_data``; write it and its metrics.

    Returns the metrics written to ``calibration_metrics.json``.
    """
    if "eval_data" not in input_paths:
        raise ValueError("input_paths must contain 'eval_data'")
    for key in ("calibration_output", "metrics_output"):
        if key not in output_paths:
            raise ValueError(f"output_paths must contain {key!r}")
    score_field = environ_vars.get("SCORE_FIELD") or "prob_class_1"
    label_field = environ_vars.get("LABEL_FIELD") or "label"

    df = load_eval_data(Path(input_paths["eval_data"]))
    scores, labels = scores_and_labels(df, score_field, label_field)
    calibrator = fit_calibrator(scores, labels)
    calibrated = calibrator.predict(scores)
    metrics = {
        "method": "isotonic",
        "num_samples": len(labels),
        "positive_rate": float(labels.mean()),
        "brier_score_before": brier_score(scores, labels),
        "brier_score_after": brier_score(calibrated, labels),
        "ece_before": expected_calibration_error(scores, labels),
        "ece_after": expected_calibration_error(calibrated, labels),
        "score_field": score_field,
        "label_field": label_field,
    }
    write_outputs(calibrator, metrics, output_paths)
    print(
        f"calibrated {metrics['num_samples']} rows: Brier {metrics['brier_score_before']:.4f} "
        f"-> {metrics['brier_score_after']:.4f}"
    )
    return metrics


def write_outputs(
    calibrator: IsotonicRegression, metrics: Dict[str, Any], output_paths: Dict[str, str]
) -> None:
    calibration_dir = Path(output_paths["calibration_output"])
    metrics_dir = Path(output_paths["metrics_output"])
    calibration_dir.mkdir(parents=True, exist_ok=True)
    metrics_dir.mkdir(parents=True, exist_ok=True)
    with open(calibration_dir / MODEL_FILE_NAME, "wb") as handle:
        pickle.dump(calibrator, handle)
    with open(metrics_dir / METRICS_FILE_NAME, "w", encoding="utf-8") as handle:
        json.dump(metrics, handle, indent=2)
    logger.info("wrote calibrator to %s and metrics to %s", calibration_dir, metrics_dir)


if __name__ == "__main__":
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    parser = argparse.ArgumentParser(description="Isotonic calibration of model scores")
    parser.add_argument(
        "--job_type",
        type=str,
        default="calibration",
        choices=["training", "validation", "testing", "calibration"],
    )
    args = parser.parse_args()

    input_paths = {"eval_data": INPUT_DATA_PATH}
    output_paths = {
        "calibration_output": OUTPUT_CALIBRATION_PATH,
        "metrics_output": OUTPUT_METRICS_PATH,
    }
    environ_vars = {
        "SCORE_FIELD": os.environ.get("SCORE_FIELD", "prob_class_1"),
        "LABEL_FIELD": os.environ.get("LABEL_FIELD", "label"),
    }
    try:
        main(input_paths, output_paths, environ_vars, args)
    except Exception:
        logger.error("calibration failed:\n%s", traceback.format_exc())
        sys.exit(1)
