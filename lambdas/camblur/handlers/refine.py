"""Lambda 3, refine_worker: SQS refine queue (ReportBatchItemFailures) → refined pictures.

Returns the ids of the messages that failed, and only those return to the queue.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from camblur import config
from camblur.adapters.aws import client
from camblur.adapters.pacing import PacedRekognition, Pacer, TokenBucket, instance_rate
from camblur.adapters.rekognition import CustomLabelsDetector
from camblur.adapters.state import BlurStateTable, RunTable
from camblur.adapters.storage import PictureStore
from camblur.corrections import ZoneCache
from camblur.observability import logger, metrics
from camblur.refine.worker import RefineWorker


@cache
def worker() -> RefineWorker:
    """Built once per Lambda process; a bad environment variable fails here, by name."""
    settings = config.load(config.RefineConfig)
    return RefineWorker(
        settings,
        PictureStore(),
        BlurStateTable(settings.state_table),
        RunTable(settings.state_table),
        CustomLabelsDetector(
            settings.model_version_arn,
            settings.custom_label_names,
            settings.custom_min_confidence,
            # Paced to this instance's share of DetectCustomLabels; the worker backs off.
            PacedRekognition(
                client("rekognition"),
                Pacer(
                    TokenBucket(instance_rate(settings.rekognition_tps, settings.max_concurrency)),
                    max_wait=0.0,
                ),
            ),
        ),
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
