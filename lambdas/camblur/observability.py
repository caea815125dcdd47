"""One logger and one metrics emitter for the whole package (structured JSON, CloudWatch EMF).

Terraform sets POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE; the fallbacks keep
local runs and tests working without them.
"""

import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "camblur")

logger = Logger(service=SERVICE)
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "camblur"), service=SERVICE
)

__all__ = ["MetricUnit", "logger", "metrics"]
