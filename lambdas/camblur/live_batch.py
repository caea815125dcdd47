"""The live function fed by the live queue: SQS messages whose bodies are S3 event notifications.

    S3 ObjectCreated / ObjectRemoved (raw bucket) -> live queue -> mapping (maximum concurrency) -> here

- Each message is one picture (S3 puts one record in a notification; more are handled alike).
- Partial batch response: only the messages that failed return to the queue.
- A picture Rekognition throttles past its wait budget is handed back, not failed: its message
  and the rest of the batch become visible again after a delay that grows with its receive
  count (half jitter, so that the queue's maxReceiveCount is a known minimum of time).
- A picture that failed otherwise keeps the queue's visibility timeout, then is retried, and
  after maxReceiveCount receives it rests in the DLQ. Rejected (poison) pictures are recorded
  by the live pass and their messages deleted, as with direct S3 events.
- `s3:TestEvent`, which S3 sends once when the notification is configured, is deleted unread.
- `camblur:Reprocess` ({"Event": "camblur:Reprocess", "Key": K}, sent by `camblur reprocess`)
  redoes the version of K that S3 serves now (camblur.live_pass.LivePass.reprocess).
- A "reblur this key" message (camblur.corrections: a person added a manual box) blurs the
  picture again with every recorded box; retried and dead-lettered like an S3 event.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from camblur.adapters.pacing import half_jitter
from camblur.adapters.queue import MessageVisibility
from camblur.adapters.rekognition import Throttled
from camblur.events import object_events, reblur_key, reprocess_key
from camblur.live_pass import LivePass, Outcome
from camblur.observability import MetricUnit, logger, metrics
from camblur.sqs_batch import BatchHalted, HaltingBatchProcessor

TEST_EVENT = "s3:TestEvent"
THROTTLED = "Rekognition throttling"
# Hand-back delays: receive n waits at least 2**(n-1) seconds (at most 150): throttling alone
# takes 30 minutes or more to walk a message through 20 receives (the queue's default).
HANDBACK_BASE_SECONDS = 2.0
HANDBACK_MAX_SECONDS = 300.0


class MalformedMessage(ValueError):  # noqa: N818 - names the situation
    """Not an S3 event notification: nothing to process, ever; it ends in the DLQ."""


def _halt_reason(error: BaseException) -> str | None:
    # The account is at its rate: the rest of the batch would only be throttled too.
    return THROTTLED if isinstance(error, Throttled) else None


def s3_event(record: SQSRecord) -> dict[str, Any]:
    try:
        body = json.loads(record.body or "")
    except json.JSONDecodeError as error:
        raise MalformedMessage(f"body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise MalformedMessage("body is not an S3 event notification")
    return body


class LiveBatch:
    def __init__(
        self,
        service: LivePass,
        visibility: MessageVisibility,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._service = service
        self._visibility = visibility
        self._rand = rand

    def handle(
        self, records: Iterable[dict[str, Any]], remaining_seconds: Callable[[], float]
    ) -> dict[str, Any]:
        records = list(records)
        if not records:
            return {"batchItemFailures": []}  # Powertools refuses an event without records
        processor = HaltingBatchProcessor(remaining_seconds, _halt_reason)
        response = process_partial_response(
            {"Records": records}, record_handler=self._record, processor=processor
        )
        delays = [
            (record.receipt_handle, seconds)
            for record, error in processor.failures()
            if (seconds := self._delay(record, error, processor.halted)) is not None
        ]
        if delays:
            refused = self._visibility.delay(records[0]["eventSourceARN"], delays)
            if refused:
                logger.warning("hand-back delays refused", refused=refused)
        if processor.halted is not None:
            logger.warning(
                "batch stopped early",
                reason=processor.halted,
                returned=len(response["batchItemFailures"]),
            )
        return response

    def _record(self, record: SQSRecord) -> list[str]:
        event = s3_event(record)
        if event.get("Event") == TEST_EVENT:
            logger.info("S3 test event deleted", bucket=event.get("Bucket"))
            return []
        try:
            reprocess = reprocess_key(event)
            reblur = reblur_key(event)
        except ValueError as error:
            raise MalformedMessage(str(error)) from None
        if reprocess is not None:
            bucket = self._service.raw_bucket
            return [self._run(bucket, reprocess, lambda: self._service.reprocess(reprocess))]
        if reblur is not None:
            bucket = self._service.raw_bucket
            return [self._run(bucket, reblur, lambda: self._service.reblur(reblur))]
        return [
            self._run(
                upload.bucket, upload.key, lambda upload=upload: self._service.process(upload)
            )
            for upload in object_events(event)
        ]

    @staticmethod
    def _run(bucket: str, key: str, work: Callable[[], Outcome]) -> str:
        try:
            return work().status
        except Throttled:
            metrics.add_metric(name="PicturesHandedBack", unit=MetricUnit.Count, value=1)
            logger.info(
                "throttled: picture handed back to the queue",
                bucket=bucket,
                key=key,
                status="THROTTLED",
            )
            raise
        except Exception:
            logger.exception(
                "picture failed; its message returns to the queue",
                bucket=bucket,
                key=key,
                status="FAILED",
            )
            raise

    def _delay(self, record: SQSRecord, error: BaseException, halted: str | None) -> int | None:
        """Seconds until a handed-back message is visible again; None keeps the queue's."""
        if isinstance(error, BatchHalted) and halted != THROTTLED:
            return 0  # never tried (the deadline): another instance may take it at once
        if isinstance(error, Throttled | BatchHalted):
            receives = int(record.attributes.approximate_receive_count or 1)
            return round(
                half_jitter(receives - 1, HANDBACK_BASE_SECONDS, HANDBACK_MAX_SECONDS, self._rand)
            )
        return None
