"""A training script that records what script mode gave it."""

import argparse
import json
import os

MODEL_DIR = os.environ.get("SM_MODEL_DIR", "/opt/ml/model")
TRAIN = os.environ.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max_depth", type=int, default=3)
    parser.add_argument("--eta", type=float, default=0.3)
    args, unknown = parser.parse_known_args()
    with open("/opt/ml/input/config/hyperparameters.json") as handle:
        hyperparameters = json.load(handle)
    with open("/opt/ml/input/config/inputdataconfig.json") as handle:
        data_config = json.load(handle)
    record = {
        "argv_max_depth": args.max_depth,
        "argv_eta": args.eta,
        "unknown": unknown,
        "hyperparameters": hyperparameters,
        "data_config": data_config,
        "sm": {k: v for k, v in os.environ.items() if k.startswith("SM_")},
        "train_files": sorted(os.listdir(TRAIN)),
        "cwd": os.getcwd(),
    }
    with open(os.path.join(MODEL_DIR, "record.json"), "w") as handle:
        json.dump(record, handle, sort_keys=True)
    os.makedirs("/opt/ml/output/data", exist_ok=True)
    with open("/opt/ml/output/data/predictions.csv", "w") as handle:
        handle.write("id,score\n1,0.5\n")
    if hyperparameters.get("fail") == "yes":
        with open("/opt/ml/output/failure", "w") as handle:
            handle.write("validation AUC 0.41 is below the 0.6 threshold")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
