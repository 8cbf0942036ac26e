"""sandbox: run SageMaker pipeline scripts in a production-shaped local container."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
