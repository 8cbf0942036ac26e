"""Module constants keyed one way, the __main__ block passing main() other keys."""

import argparse
import os

CONTAINER_PATHS = {
    "MODEL_DIR": "/opt/ml/processing/input/model",
    "EVAL_DIR": "/opt/ml/processing/input/eval_data",
    "METRICS_DIR": "/opt/ml/processing/output/metrics",
}


def main(input_paths, output_paths, environ_vars, job_args):
    model_files = sorted(os.listdir(input_paths["model_input"]))
    eval_files = sorted(os.listdir(input_paths["evaluation_data"]))
    os.makedirs(output_paths["metrics_output"], exist_ok=True)
    with open(os.path.join(output_paths["metrics_output"], "seen.txt"), "w") as handle:
        handle.write(f"{len(model_files)} {len(eval_files)}\n")


if __name__ == "__main__":
    args = argparse.ArgumentParser().parse_args()
    main(
        {
            "model_input": CONTAINER_PATHS["MODEL_DIR"],
            "evaluation_data": CONTAINER_PATHS["EVAL_DIR"],
        },
        {"metrics_output": CONTAINER_PATHS["METRICS_DIR"]},
        {},
        args,
    )
