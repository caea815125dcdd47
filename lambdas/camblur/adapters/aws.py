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

# Rekognition: one attempt per call, no SDK retry. Throttling is paced and retried by
# camblur.adapters.pacing instead: botocore's retry quota (standard and adaptive modes) is
# empty after about 20 throttled retries, and every later call of the process then makes a
# single attempt. With one attempt the quota is never drawn on (botocore asks for it only
# before a retry). Other errors go back to the queue, which retries them later.
SINGLE_ATTEMPT = Config(
    retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5, read_timeout=30
)

CONFIG_BY_SERVICE = {"rekognition": SINGLE_ATTEMPT}


@cache
def client(service: str) -> Any:
    return boto3.client(service, config=CONFIG_BY_SERVICE.get(service, RETRYING))


@cache
def resource(service: str) -> Any:
    return boto3.resource(service, config=RETRYING)
