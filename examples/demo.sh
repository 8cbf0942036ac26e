#!/usr/bin/env bash
# The bundled examples, each run in a production-shaped container; every run must PASS.
# The first run builds the offline image profile (sklearn-1.2) once, then reuses it.
set -euo pipefail
cd "$(dirname "$0")/.."
sandbox=".venv/bin/sandbox"
workspace=".sandbox"

run() {
  echo
  echo "\$ sandbox $*"
  "$sandbox" "$@" --workspace-dir "$workspace"
}

"$sandbox" images build sklearn-1.2
# Zero-config: channels, arguments and environment are read from the scripts themselves.
run test-script tabular_preprocessing --arg job_type=training --env LABEL_FIELD=label
run test-script xgboost_training
run test-script tabular_preprocessing --arg job_type=training --env LABEL_FIELD=label --call-style main
# With specs: generated data shaped by the spec, instance limits, output checks.
run test-script tabular_preprocessing --spec examples/specs/tabular_preprocessing.yaml
run test-script xgboost_training --spec examples/specs/xgboost_training.yaml
run test-script model_calibration --spec examples/specs/model_calibration.yaml
# A pipeline: preprocessing -> training -> calibration, each output feeding the next step.
run test-pipeline examples/pipelines/preprocess_train_calibrate.yaml --jobs 2
echo
echo "demo: every example passed"
