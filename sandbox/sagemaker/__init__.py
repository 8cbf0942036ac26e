"""The same job on SageMaker itself: the API requests built from a run, and jobs submitted.

:mod:`~sandbox.sagemaker.request` builds the CreateProcessingJob or CreateTrainingJob
request of a resolved script from the same mapping that writes the local run's
``processingjobconfig.json``, and checks it against botocore's own SageMaker service
model; :mod:`~sandbox.sagemaker.pipeline_export` turns a pipeline file into a SageMaker
Pipeline definition of those requests; :mod:`~sandbox.sagemaker.submit` uploads the code
and inputs, creates the job, follows it and turns its outcome into a ``TestResult``.
"""
