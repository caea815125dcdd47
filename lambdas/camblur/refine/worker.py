"""refine_worker: one queue message → the picture blurred again with live + Custom Labels boxes.

- The same blur pipeline as the live pass (camblur.blur_pipeline), so the stored live boxes,
  ratios of the upright picture, land on the same pixels as the model's boxes.
- Boxes only ever grow: the output is blurred with every stored box plus the model's, and the
  state write is conditional on the item not having changed since it was read. When it has
  (another pass wrote meanwhile) and the raw version is the same, only the union and the write
  are redone: no second download, no second billed inference.
- Throttling (the model at its inference units' limit) is absorbed here with backoff, inside
  the invocation's time: a throttled message is not returned to the queue, so throttling never
  walks a message towards the dead-letter queue.
- A model that is not RUNNING hands the rest of the batch back at once (the reconciler closes
  the mapping); a picture that is gone or refused is recorded and its message deleted.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from contextlib import suppress
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from camblur.adapters.pacing import full_jitter
from camblur.adapters.rekognition import (
    CustomLabelsDetector,
    Detection,
    DetectionInput,
    ModelNotReady,
    Throttled,
)
from camblur.adapters.state import NOT_REFINABLE, PictureState, RunTable, StateConflict, Status
from camblur.adapters.storage import PictureStore, RawPictureMissing
from camblur.blur_pipeline import BlurPipeline, Detected, RawVersion, VersionNotCurrent, union
from camblur.config import RefineConfig
from camblur.core.boxes import Box
from camblur.core.errors import PictureRejected, TransientError
from camblur.corrections import NoZones, ZoneSource, corrections_for
from camblur.observability import MetricUnit, logger, metrics
from camblur.refine.batch import DEADLINE_MARGIN_SECONDS, BatchResult, RefineBatchProcessor
from camblur.refine.messages import MalformedMessage, PictureStates, RefineMessage

PUBLISH_ATTEMPTS = 3  # state races on one raw version before the message is retried later


class Outcome(StrEnum):
    REFINED = "REFINED"
    DUPLICATE = "DUPLICATE"  # this run refined it already (a message delivered twice)
    SKIPPED = "SKIPPED"  # nothing to refine: no state item, or refused/gone before
    RAW_MISSING = "RAW_MISSING"
    REJECTED = "REJECTED"  # the model refused the picture: the live result stays
    NOT_CURRENT = "NOT_CURRENT"  # the raw version was replaced or deleted: nothing published


class RefineWorker:
    def __init__(
        self,
        config: RefineConfig,
        store: PictureStore,
        pictures: PictureStates,
        runs: RunTable,
        detector: CustomLabelsDetector,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        zones: ZoneSource | None = None,
    ) -> None:
        self._config = config
        self._zones = zones or NoZones()
        self._pipeline = BlurPipeline(config, store)
        self._pictures = pictures
        self._runs = runs
        self._detector = detector
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter

    def process_batch(
        self, records: Iterable[dict[str, Any]], remaining_seconds: Callable[[], float]
    ) -> BatchResult:
        result = BatchResult()
        records = list(records)
        if not records:
            return result  # Powertools refuses an event without records; there is nothing to do
        per_run: defaultdict[str, Counter[str]] = defaultdict(Counter)

        def handle(record: SQSRecord) -> Outcome:
            message = self._message(record)
            outcome = self._refine_or_log(message, remaining_seconds)
            result.outcomes[outcome.value] += 1
            per_run[message.capture_day][f"pictures_{outcome.value.lower()}"] += 1
            return outcome

        processor = RefineBatchProcessor(remaining_seconds)
        response = process_partial_response(
            {"Records": records}, record_handler=handle, processor=processor
        )
        result.failed_message_ids = [
            item["itemIdentifier"] for item in response["batchItemFailures"]
        ]
        if processor.halted is not None:
            logger.warning(
                "batch stopped early",
                reason=processor.halted,
                returned=len(result.failed_message_ids),
            )
        for day, counts in per_run.items():
            self._runs.add_counts(day, counts)
        return result

    def _message(self, record: SQSRecord) -> RefineMessage:
        try:
            return RefineMessage.from_body(record.body or "")
        except MalformedMessage as error:
            logger.error("malformed message; it will reach the DLQ", error=str(error))
            metrics.add_metric(name="PicturesFailed", unit=MetricUnit.Count, value=1)
            raise

    def _refine_or_log(
        self, message: RefineMessage, remaining_seconds: Callable[[], float]
    ) -> Outcome:
        try:
            return self.refine(message, remaining_seconds)
        except (ModelNotReady, Throttled):
            raise  # the processor hands the rest of the batch back
        except Exception:
            logger.exception(
                "picture failed; the message returns to the queue",
                bucket=self._config.raw_bucket,
                key=message.raw_key,
                status="FAILED",
            )
            metrics.add_metric(name="PicturesFailed", unit=MetricUnit.Count, value=1)
            raise

    def refine(self, message: RefineMessage, remaining_seconds: Callable[[], float]) -> Outcome:
        with logger.append_context_keys(
            bucket=self._config.raw_bucket, key=message.raw_key, run_id=message.run_id
        ):
            # A second round only when a new raw version replaced the one being refined.
            for _ in range(2):
                previous = self._pictures.get(message.raw_key)
                settled = _settled(previous, message)
                if settled is not None:
                    return settled
                assert previous is not None  # _settled returns SKIPPED for a missing item
                outcome = self._refine_version(previous, message, remaining_seconds)
                if outcome is not None:
                    logger.info("picture refined", status=outcome.value)
                    return outcome
            raise TransientError(f"{message.raw_key} kept changing; retry later")

    def _refine_version(
        self,
        previous: PictureState,
        message: RefineMessage,
        remaining_seconds: Callable[[], float],
    ) -> Outcome | None:
        """Refine the raw version `previous` names; None when a newer version replaced it."""
        raw = RawVersion(
            self._config.raw_bucket,
            message.raw_key,
            str(previous.raw_version_id),
            int(previous.extra.get("raw_size") or 0),
        )
        try:
            detected = self._pipeline.detect(
                raw, lambda source: self._detect(source, remaining_seconds)
            )
        except RawPictureMissing:
            # Expired or deleted: nothing can be refined, ever. Record it, delete the message.
            self._pictures.record_refine_outcome(
                previous, self._outcome_attributes(message, Outcome.RAW_MISSING), Status.RAW_MISSING
            )
            metrics.add_metric(name="RawPicturesMissing", unit=MetricUnit.Count, value=1)
            return Outcome.RAW_MISSING
        except PictureRejected as rejected:
            self._pictures.record_refine_outcome(
                previous,
                {
                    **self._outcome_attributes(message, Outcome.REJECTED),
                    "refine_reason": rejected.reason,
                    "refine_error": rejected.detail,
                },
            )
            metrics.add_metric(name="PicturesRejected", unit=MetricUnit.Count, value=1)
            return Outcome.REJECTED

        for _ in range(PUBLISH_ATTEMPTS):
            try:
                return self._publish(detected, previous, message)
            except VersionNotCurrent as gone:
                self._record_not_current(previous, message, gone)
                return Outcome.NOT_CURRENT
            except StateConflict:
                # Another pass wrote meanwhile: read its boxes and redo only union + write.
                current = self._pictures.get(message.raw_key)
                settled = _settled(current, message)
                if settled is not None:
                    return settled
                assert current is not None
                if current.raw_version_id != raw.version_id:
                    return None
                previous = current
        raise TransientError(f"{message.raw_key} kept changing; retry later")

    def _record_not_current(
        self, previous: PictureState, message: RefineMessage, gone: VersionNotCurrent
    ) -> None:
        attributes = {
            **self._outcome_attributes(message, Outcome.NOT_CURRENT),
            "refine_reason": gone.reason,
            "refine_error": gone.detail,
        }
        # The newer upload or the removal may have recorded itself already: nothing to add then.
        with suppress(StateConflict):
            self._pictures.record_refine_outcome(previous, attributes)
        metrics.add_metric(name="StaleEvents", unit=MetricUnit.Count, value=1)

    def _publish(
        self, detected: Detected, previous: PictureState, message: RefineMessage
    ) -> Outcome:
        # Every box stored, then manual boxes and zones (one added since the live pass, or a
        # zone set with an earlier start): people's corrections survive the refinement.
        extra = previous.extra
        found = corrections_for(
            extra, self._zones.zones(previous.camera_id), extra.get("captured_at")
        )
        published = self._pipeline.publish(
            detected, keep=union(previous.boxes, found.boxes), blurred_key=previous.blurred_key
        )
        detection = detected.detection
        self._pictures.record_refined(
            previous,
            published.boxes,
            {
                **self._outcome_attributes(message, Outcome.REFINED),
                "zones": found.zone_attribute(extra.get("zones", [])),
                "refined_at": self._clock().isoformat(),
                "refine_detector": detection.detector,
                "refine_model_version": detection.model_version,
                "raw_sha256": published.raw_sha256,
                "blurred_key": published.blurred_key,
                "blurred_sha256": published.blurred_sha256,
            },
        )
        plates = sum(1 for box in detection.boxes if is_plate(box))
        metrics.add_metric(name="PicturesRefined", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="PlatesBlurred", unit=MetricUnit.Count, value=plates)
        metrics.add_metric(
            name="PersonsBlurred", unit=MetricUnit.Count, value=len(detection.boxes) - plates
        )
        return Outcome.REFINED

    def _detect(self, source: DetectionInput, remaining_seconds: Callable[[], float]) -> Detection:
        """Call the model; on throttling back off (exponential, full jitter) within our time.

        The client's token bucket (handlers/refine.py) keeps this instance to its share of
        the account's DetectCustomLabels rate; this loop absorbs what throttling remains.
        """
        attempt = 0
        while True:
            try:
                return self._detector.detect(source)
            except Throttled:
                delay = full_jitter(attempt, rand=self._jitter)
                if remaining_seconds() - delay < DEADLINE_MARGIN_SECONDS:
                    raise
                self._sleep(delay)
                attempt += 1

    def _outcome_attributes(self, message: RefineMessage, outcome: Outcome) -> dict[str, Any]:
        return {
            "refine_run_id": message.run_id,
            "refine_outcome": outcome.value,
            "updated_at": self._clock().isoformat(),
        }


def _settled(state: PictureState | None, message: RefineMessage) -> Outcome | None:
    """The outcome when there is nothing (more) to refine for this message, else None."""
    if state is None or state.status in NOT_REFINABLE:
        return Outcome.SKIPPED
    if state.status is Status.REFINED and state.extra.get("refine_run_id") == message.run_id:
        return Outcome.DUPLICATE
    return None


def is_plate(box: Box) -> bool:
    return "plate" in box.label
