"""Reads the input root as its data channel, and a model folder nested inside it."""

import os

if __name__ == "__main__":
    input_paths = {
        "input_data": "/opt/ml/processing/input",
        "model_artifacts": "/opt/ml/processing/input/model_artifacts",
    }
    files = sorted(
        name
        for name in os.listdir(input_paths["input_data"])
        if name not in ("code", "model_artifacts")
    )
    artifacts = sorted(os.listdir(input_paths["model_artifacts"]))
    out = "/opt/ml/processing/output/listing"
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "listing.txt"), "w") as handle:
        handle.write(f"{files} {artifacts}\n")
