"""Input data of a run: generated data, real folders, S3, and their caches.

Owns where each input channel's data comes from (:mod:`.inputs`), synthetic data generation
(:mod:`.datagen`), S3 downloads into the workspace cache (:mod:`.s3source`, the one boto3 seam
:mod:`.s3client`), data shaped to what each channel holds (:mod:`.channel_data`), checks
of real inputs against it (:mod:`.input_checks`), an earlier run's outputs as inputs
(:mod:`.from_run`), model artifacts trained in the image for a model channel
(:mod:`.model_artifacts`), and writing generated inputs into a folder (:mod:`.export`).
"""

from __future__ import annotations
