"""refine_worker: one queue message → the picture blurred again with live + Custom Labels boxes.

- Same decoding as the live pass (decode_picture), so the stored live boxes, ratios of the
  upright picture, land on the same pixels as the model's boxes.
- Boxes only ever grow: the output is blurred with every stored box plus the model's, and the
  state write is conditional on the item not having changed since it was read.
- Throttling (the model at its inference units' limit) is absorbed here with backoff, inside
  the invocation's time: a throttled message is not returned to the queue, so throttling never
  walks a message towards the dead-letter queue.
- A model that is not RUNNING fails the rest of the batch at once (the reconciler closes the
  mapping); a picture that is gone or refused is recorded and its message deleted.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from camblur.adapters.rekognition import (
    CustomLabelsDetector,
    Detection,
    DetectionInput,
    ModelNotReady,
    Throttled,
)
from camblur.adapters.state import RunTable, StateConflict, Status
from camblur.adapters.storage import PictureStore, RawPictureMissing, blurred_key_for
from camblur.config import RefineConfig
from camblur.core.blur import anonymise
from camblur.core.boxes import Box
from camblur.core.errors import PictureRejected, TransientError
from camblur.core.picture import Picture, decode_picture
from camblur.live_pass import detect_with_fallback, detection_input, sha256
from camblur.observability import MetricUnit, logger, metrics
from camblur.refine.messages import MalformedMessage, PictureStates, RefineMessage

DEADLINE_MARGIN_SECONDS = 10.0  # leave this much of the Lambda timeout for the last picture
BACKOFF_BASE_SECONDS = 0.1
BACKOFF_MAX_SECONDS = 2.0


class Outcome(StrEnum):
    REFINED = "REFINED"
    DUPLICATE = "DUPLICATE"  # this run refined it already (a message delivered twice)
    SKIPPED = "SKIPPED"  # nothing to refine: no state item, or refused/gone before
    RAW_MISSING = "RAW_MISSING"
    REJECTED = "REJECTED"  # the model refused the picture: the live result stays


@dataclass
class BatchResult:
    failed_message_ids: list[str] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)

    def response(self) -> dict[str, Any]:
        """The SQS partial batch response: only these messages return to the queue."""
        return {
            "batchItemFailures": [
                {"itemIdentifier": message_id} for message_id in self.failed_message_ids
            ]
        }


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
    ) -> None:
        self._config = config
        self._store = store
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
        per_run: defaultdict[str, Counter[str]] = defaultdict(Counter)
        halted: str | None = None
        for record in records:
            message_id = str(record["messageId"])
            if halted is None and remaining_seconds() < DEADLINE_MARGIN_SECONDS:
                halted = "too close to the timeout"
            if halted is not None:
                result.failed_message_ids.append(message_id)
                continue
            try:
                message = RefineMessage.from_body(str(record.get("body", "")))
            except MalformedMessage as error:
                logger.error("malformed message; it will reach the DLQ", error=str(error))
                metrics.add_metric(name="PicturesFailed", unit=MetricUnit.Count, value=1)
                result.failed_message_ids.append(message_id)
                continue
            try:
                outcome = self.refine(message, remaining_seconds)
            except ModelNotReady as error:
                # Every other message would fail the same way: hand them all back now.
                halted = f"model not ready: {error}"
                result.failed_message_ids.append(message_id)
            except Throttled:
                halted = "throttled until the deadline"
                result.failed_message_ids.append(message_id)
            except Exception:
                logger.exception(
                    "picture failed; the message returns to the queue",
                    bucket=self._config.raw_bucket,
                    key=message.raw_key,
                    status="FAILED",
                )
                metrics.add_metric(name="PicturesFailed", unit=MetricUnit.Count, value=1)
                result.failed_message_ids.append(message_id)
            else:
                result.outcomes[outcome.value] += 1
                per_run[message.capture_day][f"pictures_{outcome.value.lower()}"] += 1
        if halted is not None:
            logger.warning(
                "batch stopped early", reason=halted, returned=len(result.failed_message_ids)
            )
        for day, counts in per_run.items():
            self._runs.add_counts(day, counts)
        return result

    def refine(self, message: RefineMessage, remaining_seconds: Callable[[], float]) -> Outcome:
        with logger.append_context_keys(
            bucket=self._config.raw_bucket, key=message.raw_key, run_id=message.run_id
        ):
            for attempt in range(2):
                try:
                    outcome, boxes = self._refine(message, remaining_seconds)
                except StateConflict:
                    if attempt == 0:
                        continue  # the item moved on while we worked: redo from a fresh read
                    raise TransientError(f"{message.raw_key} kept changing; retry later") from None
                logger.info("picture refined", status=outcome.value, boxes=boxes)
                return outcome
        raise AssertionError("unreachable")

    def _refine(
        self, message: RefineMessage, remaining_seconds: Callable[[], float]
    ) -> tuple[Outcome, int]:
        previous = self._pictures.get(message.raw_key)
        if previous is None or previous.status in (Status.REJECTED, Status.RAW_MISSING):
            return Outcome.SKIPPED, 0
        if (
            previous.status is Status.REFINED
            and previous.extra.get("refine_run_id") == message.run_id
        ):
            return Outcome.DUPLICATE, len(previous.boxes)

        bucket = self._config.raw_bucket
        try:
            size = int(previous.extra.get("raw_size") or 0)
            if size > self._config.max_object_bytes:
                raise PictureRejected(
                    "TOO_LARGE_OBJECT",
                    f"{size} bytes is over the limit of {self._config.max_object_bytes}",
                )
            stored = self._store.read(bucket, message.raw_key, previous.raw_version_id)
            picture = decode_picture(stored.data, self._config.max_image_pixels)
            source = detection_input(picture, bucket, message.raw_key, previous.raw_version_id)
            detection = self._detect(source, picture, remaining_seconds)
        except RawPictureMissing:
            # Expired or deleted: nothing can be refined, ever. Record it, delete the message.
            self._pictures.record_refine_outcome(
                previous, self._outcome_attributes(message, Outcome.RAW_MISSING), Status.RAW_MISSING
            )
            metrics.add_metric(name="RawPicturesMissing", unit=MetricUnit.Count, value=1)
            return Outcome.RAW_MISSING, len(previous.boxes)
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
            return Outcome.REJECTED, len(previous.boxes)

        found = [_as_stored(box) for box in detection.boxes]
        boxes = union(previous.boxes, found)
        blurred = anonymise(picture, boxes, self._config.blur_settings)
        blurred_key = str(previous.blurred_key or blurred_key_for(message.raw_key))
        self._store.write_jpeg(self._config.blurred_bucket, blurred_key, blurred)
        now = self._clock().isoformat()
        self._pictures.record_refined(
            previous,
            boxes,
            {
                **self._outcome_attributes(message, Outcome.REFINED),
                "refined_at": now,
                "refine_detector": detection.detector,
                "refine_model_version": detection.model_version,
                "raw_sha256": sha256(stored.data),
                "blurred_key": blurred_key,
                "blurred_sha256": sha256(blurred),
            },
        )
        plates = sum(1 for box in found if is_plate(box))
        metrics.add_metric(name="PicturesRefined", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="PlatesBlurred", unit=MetricUnit.Count, value=plates)
        metrics.add_metric(name="PersonsBlurred", unit=MetricUnit.Count, value=len(found) - plates)
        return Outcome.REFINED, len(boxes)

    def _detect(
        self, source: DetectionInput, picture: Picture, remaining_seconds: Callable[[], float]
    ) -> Detection:
        """Call the model; on throttling back off (exponential, jittered) within our time."""
        attempt = 0
        while True:
            try:
                return detect_with_fallback(self._detector.detect, source, picture)
            except Throttled:
                ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
                delay = ceiling * (0.5 + 0.5 * self._jitter())
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


def union(stored: Iterable[Box], found: Iterable[Box]) -> list[Box]:
    """Every stored box, then each new one not already there."""
    boxes: list[Box] = []
    for box in (*stored, *found):
        if box not in boxes:
            boxes.append(box)
    return boxes


def is_plate(box: Box) -> bool:
    return "plate" in box.label


def _as_stored(box: Box) -> Box:
    """The box as DynamoDB will hold it (Box.to_item rounds to 6 places), so that a second
    refinement finds it equal instead of adding a near-copy."""
    return replace(
        box,
        left=round(box.left, 6),
        top=round(box.top, 6),
        width=round(box.width, 6),
        height=round(box.height, 6),
        confidence=round(box.confidence, 6),
    )
