"""boto3 clients made once per process, with the retry behaviour each service needs.

Clients use boto3's defaults for endpoints, so AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>
point them at the embedded endpoint in tests and in the demo.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Adaptive retries slow down on throttling instead of failing the picture; a few attempts
# only, because Lambda's own retry (and then the DLQ) takes over after that.
RETRYING = Config(
    retries={"mode": "adaptive", "max_attempts": 5}, connect_timeout=5, read_timeout=30
)


@cache
def client(service: str) -> Any:
    return boto3.client(service, config=RETRYING)


@cache
def resource(service: str) -> Any:
    return boto3.resource(service, config=RETRYING)
