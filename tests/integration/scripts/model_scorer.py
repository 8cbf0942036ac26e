"""Scores evaluation rows with a saved xgboost model, a pickled encoder table and a
feature list, all read from the model channel."""

import glob
import os
import pickle

import pandas as pd
import xgboost as xgb

MODEL_DIR = "/opt/ml/processing/input/model"
EVAL_DIR = "/opt/ml/processing/input/eval_data"
OUT_DIR = "/opt/ml/processing/output/scores"

if __name__ == "__main__":
    booster = xgb.Booster()
    booster.load_model(os.path.join(MODEL_DIR, "xgb_model.bst"))
    with open(os.path.join(MODEL_DIR, "encoders.pkl"), "rb") as handle:
        encoders = pickle.load(handle)
    with open(os.path.join(MODEL_DIR, "feature_columns.txt")) as handle:
        features = [line.strip().split(",")[1] for line in handle if line.strip()]
    frames = [pd.read_csv(path) for path in sorted(glob.glob(os.path.join(EVAL_DIR, "*.csv")))]
    data = pd.concat(frames)
    scores = booster.predict(xgb.DMatrix(data[features], feature_names=features))
    os.makedirs(OUT_DIR, exist_ok=True)
    pd.DataFrame({"score": scores}).to_csv(os.path.join(OUT_DIR, "scores.csv"), index=False)
    print(f"scored {len(scores)} rows with {len(features)} features, {len(encoders)} encoders")
