"""Lambda 3, refine_worker: SQS refine queue (ReportBatchItemFailures) → refined pictures.

Returns the ids of the messages that failed, and only those return to the queue.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from camblur import config
from camblur.adapters.aws import bounded_client, bounded_resource
from camblur.adapters.pacing import PacedRekognition, Pacer, TokenBucket, instance_rate
from camblur.adapters.queue import MessageVisibility
from camblur.adapters.rekognition import CustomLabelsDetector
from camblur.adapters.state import BlurStateTable, RunTable
from camblur.adapters.storage import PictureStore
from camblur.corrections import ZoneCache
from camblur.observability import logger, metrics
from camblur.refine.batch import DEADLINE_MARGIN_SECONDS
from camblur.refine.worker import RefineWorker

# Attempts of one S3 or DynamoDB call; each call's waits together take at most a quarter of
# the function's time, so one slow call cannot make the function time out (and return the
# whole batch): the worker's deadline checks between steps stay meaningful.
STORE_ATTEMPTS = 3


@cache
def worker() -> RefineWorker:
    """Built once per Lambda process; a bad environment variable fails here, by name."""
    settings = config.load(config.RefineConfig)
    budget = max(1.0, settings.function_timeout_seconds - DEADLINE_MARGIN_SECONDS)
    return RefineWorker(
        settings,
        PictureStore(bounded_client("s3", budget / 4, STORE_ATTEMPTS)),
        BlurStateTable(
            settings.state_table, bounded_resource("dynamodb", budget / 4, STORE_ATTEMPTS)
        ),
        RunTable(settings.state_table, bounded_resource("dynamodb", budget / 4, STORE_ATTEMPTS)),
        CustomLabelsDetector(
            settings.model_version_arn,
            settings.custom_label_names,
            settings.custom_min_confidence,
            # Paced to this instance's share of DetectCustomLabels; the worker backs off.
            # One attempt (throttling is retried by the worker); the worker's own deadline
            # per picture cuts a slow call shorter than this read timeout.
            PacedRekognition(
                bounded_client("rekognition", budget, 1),
                Pacer(
                    TokenBucket(instance_rate(settings.rekognition_tps, settings.max_concurrency)),
                    max_wait=0.0,
                ),
            ),
        ),
        visibility=MessageVisibility(bounded_client("sqs", budget / 4, STORE_ATTEMPTS)),
        zones=ZoneCache(settings.state_table),
    )


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    def remaining_seconds() -> float:
        if context is not None and hasattr(context, "get_remaining_time_in_millis"):
            return float(context.get_remaining_time_in_millis()) / 1000
        return 900.0

    result = worker().process_batch(event.get("Records", []), remaining_seconds)
    return result.response()
