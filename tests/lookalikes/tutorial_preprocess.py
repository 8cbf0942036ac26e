"""Look-alike of the SDK tutorial preprocessing script: one CSV read straight from the
input root, train and test features written to their own folders under /opt/ml/processing."""

import argparse
import os

import pandas as pd

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-test-split-ratio", type=float, default=0.3)
    args, _ = parser.parse_known_args()

    input_data_path = os.path.join("/opt/ml/processing/input", "census-income.csv")
    df = pd.read_csv(input_data_path)
    df = df.dropna()
    cut = int(len(df) * (1 - args.train_test_split_ratio))
    train, test = df.iloc[:cut], df.iloc[cut:]

    train_features_output_path = os.path.join("/opt/ml/processing/train", "train_features.csv")
    test_features_output_path = os.path.join("/opt/ml/processing/test", "test_features.csv")
    train.to_csv(train_features_output_path, header=False, index=False)
    test.to_csv(test_features_output_path, header=False, index=False)
    print(f"wrote {len(train)} train and {len(test)} test rows")
