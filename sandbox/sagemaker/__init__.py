"""SageMaker API requests and responses, both ways."""
