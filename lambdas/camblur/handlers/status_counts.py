"""Lambda 5, status_counts: the state table's DynamoDB stream → per camera and day status counts.

What `camblur status` reads instead of every picture item (camblur/status_counts.py). The
event source mapping passes only picture items (filter on sk = STATE) and retries a failed
bucket from its lowest sequence number (ReportBatchItemFailures).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from camblur import config
from camblur.adapters.state.counts import StatusCounts
from camblur.observability import MetricUnit, logger, metrics
from camblur.status_counts import StatusCounter


@cache
def counter() -> StatusCounter:
    """Built once per Lambda process; a bad environment variable fails here, by name."""
    settings = config.load(config.StatusCountsConfig)
    return StatusCounter(StatusCounts(settings.state_table))


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = counter().process(event.get("Records", []))
    metrics.add_metric(name="StatusChangesCounted", unit=MetricUnit.Count, value=result.counted)
    if result.failed_buckets:
        metrics.add_metric(
            name="StatusCountFailures", unit=MetricUnit.Count, value=result.failed_buckets
        )
    logger.info(
        "status counts",
        records=result.records,
        counted=result.counted,
        buckets=result.buckets,
        failed_buckets=result.failed_buckets,
    )
    return result.response()
