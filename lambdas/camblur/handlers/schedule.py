"""Lambda 2, refine_schedule: EventBridge Scheduler, daily → queue a capture day, start the model.

The event may name the day: `{"capture_day": "2026-11-24"}`; `"rerun": true` refines a day
whose run is closed again. Otherwise the day is today (in CAPTURE_TIME_ZONE) minus
REFINE_DAYS_BACK, today being `scheduled_time` when the schedule passes it.
"""

from __future__ import annotations

from dataclasses import asdict
from functools import cache
from typing import Any

from camblur import config
from camblur.adapters.queue import RefineQueue
from camblur.adapters.rekognition import ModelControl
from camblur.adapters.state import BlurStateTable, RunTable
from camblur.observability import logger, metrics
from camblur.refine.schedule import RefineScheduler, ScheduleRequest


@cache
def scheduler() -> RefineScheduler:
    """Built once per Lambda process; a bad environment variable fails here, by name."""
    settings = config.load(config.ScheduleConfig)
    return RefineScheduler(
        settings,
        BlurStateTable(settings.state_table),
        RunTable(settings.state_table),
        RefineQueue(settings.refine_queue_url),
        ModelControl(settings.model_project_arn, settings.model_version_arn),
    )


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    outcome = scheduler().run(
        ScheduleRequest.from_event(event), remaining_seconds=_remaining_seconds(context)
    )
    return asdict(outcome)


def _remaining_seconds(context: Any) -> Any:
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        return lambda: context.get_remaining_time_in_millis() / 1000
    return lambda: 900.0
