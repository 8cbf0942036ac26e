"""Declares the input root as its data channel but reads only the model folder nested in it."""

import os

if __name__ == "__main__":
    input_paths = {
        "input_data": "/opt/ml/processing/input",
        "model_artifacts": "/opt/ml/processing/input/model_artifacts",
    }
    artifacts = sorted(os.listdir(input_paths["model_artifacts"]))
    out = "/opt/ml/processing/output/listing"
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "listing.txt"), "w") as handle:
        handle.write(f"{artifacts}\n")
