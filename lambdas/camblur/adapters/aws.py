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

CONNECT_TIMEOUT_SECONDS = 3.0


def bounded_config(budget_seconds: float, attempts: int, mode: str = "standard") -> Config:
    """A Config whose `attempts` x (connect + read timeout) fit in `budget_seconds`.

    A Lambda function that waits longer than its timeout is killed mid-batch: every message
    of the batch then returns to the queue and walks towards the DLQ, the good ones too.
    """
    per_attempt = budget_seconds / max(1, attempts)
    connect = min(CONNECT_TIMEOUT_SECONDS, per_attempt / 3)
    return Config(
        retries={"mode": mode, "total_max_attempts": max(1, attempts)},
        connect_timeout=connect,
        read_timeout=max(1.0, per_attempt - connect),
    )


def bounded_client(service: str, budget_seconds: float, attempts: int) -> Any:
    """A client of its own (not the shared one) whose waits fit in `budget_seconds`."""
    return boto3.client(service, config=bounded_config(budget_seconds, attempts))


def bounded_resource(service: str, budget_seconds: float, attempts: int) -> Any:
    return boto3.resource(service, config=bounded_config(budget_seconds, attempts))


@cache
def client(service: str) -> Any:
    return boto3.client(service, config=CONFIG_BY_SERVICE.get(service, RETRYING))


@cache
def resource(service: str) -> Any:
    return boto3.resource(service, config=RETRYING)
