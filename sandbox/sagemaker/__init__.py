"""SageMaker API requests and responses, both ways.

Outward, the same job on SageMaker itself: :mod:`~sandbox.sagemaker.request` builds the
CreateProcessingJob or CreateTrainingJob request of a resolved script from the same
mapping that writes the local run's ``processingjobconfig.json``, and checks it against
botocore's own SageMaker service model (:mod:`~sandbox.sagemaker.validation`);
:mod:`~sandbox.sagemaker.pipeline_export` turns a pipeline file into a SageMaker Pipeline
definition of those requests; :mod:`~sandbox.sagemaker.submit` uploads the code and
inputs, creates the job, follows it and turns its outcome into a ``TestResult``.

Inward, production's own jobs run locally: :mod:`~sandbox.sagemaker.describe` fetches a
DescribeProcessingJob or DescribeTrainingJob response, :mod:`~sandbox.sagemaker.jobspec`
turns one into a spec, :mod:`~sandbox.sagemaker.replay` runs it beside production's
verdict, and :mod:`~sandbox.sagemaker.definition` (with
:mod:`~sandbox.sagemaker.conditions`) runs the steps of a SageMaker Pipeline definition.
"""
