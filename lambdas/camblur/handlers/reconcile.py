"""Lambda 4, model_reconciler: EventBridge Scheduler rate (default 1 minute) → model lifecycle.

Opens the refine queue's mapping once the model is RUNNING, stops the model when the queue is
drained (confirmed on two passes) or the watchdog fires, reports a model that cannot serve.
"""

from __future__ import annotations

from dataclasses import asdict
from functools import cache
from typing import Any

from camblur import config
from camblur.adapters.lambda_mapping import EventSourceMapping
from camblur.adapters.queue import RefineQueue
from camblur.adapters.rekognition import ModelControl
from camblur.adapters.state import RunTable
from camblur.observability import logger, metrics
from camblur.refine.reconciler import ModelReconciler


@cache
def reconciler() -> ModelReconciler:
    """Built once per Lambda process; a bad environment variable fails here, by name."""
    settings = config.load(config.ReconcileConfig)
    return ModelReconciler(
        settings,
        RunTable(settings.state_table),
        ModelControl(settings.model_project_arn, settings.model_version_arn),
        RefineQueue(settings.refine_queue_url),
        EventSourceMapping(settings.refine_mapping_uuid),
        drain_confirm_seconds=settings.drain_confirm_seconds,
    )


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return asdict(reconciler().reconcile())
