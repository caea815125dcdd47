"""Lambda 1, live_blur: a new raw picture → blurred copy + state.

Four event shapes: SQS batches from the live queue whose bodies are S3 notifications, reblur
messages or reprocess requests (the default trigger, live_trigger = "sqs"; camblur.live_batch:
partial batch response); a direct S3 event (an asynchronous invocation by S3, live_trigger =
"s3_async"); a reblur payload invoked asynchronously by `camblur blur` under s3_async
(camblur.corrections); and a reprocess request (`camblur reprocess`:
{"Event": "camblur:Reprocess", "Key": K}).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

from camblur import config
from camblur.adapters.aws import client
from camblur.adapters.pacing import PacedRekognition, Pacer, TokenBucket, instance_rate
from camblur.adapters.queue import MessageVisibility
from camblur.adapters.rekognition import PeopleDetector
from camblur.adapters.state import BlurStateTable
from camblur.adapters.storage import PictureStore
from camblur.core.errors import TransientError
from camblur.corrections import ZoneCache
from camblur.events import object_events, reblur_key, reprocess_key
from camblur.live_pass import LivePass
from camblur.observability import logger, metrics
from camblur.plates import make_localiser

NO_CONTEXT_SECONDS = 60.0


def build_live_pass(
    settings: config.LiveConfig,
    *,
    rekognition: Any = None,
    s3: Any = None,
    dynamodb: Any = None,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] | None = None,
) -> LivePass:
    """The live pass with its DetectLabels calls paced to this instance's share of the
    account's rate. Clients and clocks are arguments for benchmarks/bench_scale.py."""
    rate = instance_rate(settings.rekognition_tps, settings.max_concurrency)
    pacer = Pacer(
        TokenBucket(rate, clock=monotonic, sleep=sleep),
        settings.rekognition_max_wait_seconds,
        clock=monotonic,
        sleep=sleep,
    )
    detector = PeopleDetector(
        settings.person_min_confidence,
        PacedRekognition(rekognition or client("rekognition"), pacer),
    )
    state = BlurStateTable(settings.state_table, dynamodb)
    plates = make_localiser(settings.plate_detector)
    zones = ZoneCache(settings.state_table, dynamodb)
    if now is None:
        return LivePass(settings, PictureStore(s3), state, detector, plates, zones=zones)
    return LivePass(settings, PictureStore(s3), state, detector, plates, clock=now, zones=zones)


@cache
def live_pass() -> LivePass:
    """Built once per Lambda process; a bad environment variable fails here, by name."""
    return build_live_pass(config.load(config.LiveConfig))


def is_sqs_batch(event: dict[str, Any]) -> bool:
    records = event.get("Records") or [{}]
    return records[0].get("eventSource") == "aws:sqs"


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if is_sqs_batch(event):

        def remaining_seconds() -> float:
            if hasattr(context, "get_remaining_time_in_millis"):
                return float(context.get_remaining_time_in_millis()) / 1000
            return NO_CONTEXT_SECONDS

        # Imported here: Powertools' batch utilities (asyncio among them) cost about 60 ms of
        # cold start, which the direct S3 trigger (live_trigger = "s3_async") never needs.
        from camblur.live_batch import LiveBatch

        return LiveBatch(live_pass(), MessageVisibility()).handle(
            event["Records"], remaining_seconds
        )
    key = reblur_key(event)
    if key is not None:
        # Asynchronous: a failure raises, Lambda retries, then the on-failure destination.
        return {"processed": [live_pass().reblur(key).__dict__]}
    return _direct(event)


def _direct(event: dict[str, Any]) -> dict[str, Any]:
    """Process every record; if any failed transiently, raise after the others are done."""
    service = live_pass()
    reprocess = reprocess_key(event)
    if reprocess is not None:
        # Fails like any picture: Lambda retries, then the request rests in the live DLQ.
        return {"processed": [service.reprocess(reprocess).__dict__]}
    outcomes, failures = [], []
    for upload in object_events(event):
        try:
            outcomes.append(service.process(upload))
        except Exception as error:
            logger.exception(
                "picture failed; Lambda will retry", bucket=upload.bucket, key=upload.key
            )
            failures.append(f"{upload.key}: {error}")
    if failures:
        # Done records are skipped as duplicates on retry; only the failed ones cost again.
        raise TransientError(f"{len(failures)} picture(s) failed: {'; '.join(failures)}")
    return {"processed": [outcome.__dict__ for outcome in outcomes]}
