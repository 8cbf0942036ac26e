"""Look-alike of the SDK tutorial evaluation script: a model.tar.gz from the model
channel, test rows from the test channel, a report in /opt/ml/processing/evaluation."""

import json
import pathlib
import tarfile

import pandas as pd

if __name__ == "__main__":
    model_path = "/opt/ml/processing/model/model.tar.gz"
    with tarfile.open(model_path) as tar:
        tar.extractall(path=".")
    threshold = float(pathlib.Path("threshold.txt").read_text())

    test_path = "/opt/ml/processing/test/test.csv"
    df = pd.read_csv(test_path, header=None)
    predictions = (df.iloc[:, 1] > threshold).astype(int)
    accuracy = float((predictions == df.iloc[:, 0]).mean())

    output_dir = "/opt/ml/processing/evaluation"
    pathlib.Path(output_dir).mkdir(parents=True, exist_ok=True)
    evaluation_path = f"{output_dir}/evaluation.json"
    with open(evaluation_path, "w") as f:
        f.write(json.dumps({"metrics": {"accuracy": {"value": accuracy}}}))
