"""The live pass: one uploaded picture → persons, vehicles (and any plate) found by Rekognition →
plates localised inside the vehicles → blurred copy + state.

Fail closed: nothing reaches the blurred bucket unless detection succeeded on these very
pixels. Permanent problems are recorded as REJECTED and not retried; transient ones raise so
that Lambda retries and, in the end, the failure destination keeps the event.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from camblur.adapters.rekognition import PeopleDetector
from camblur.adapters.state import LIVE_DONE, BlurStateTable, StateConflict, Status, expires_at
from camblur.adapters.storage import PictureStore, RawPictureMissing
from camblur.blur_pipeline import BlurPipeline, RawVersion
from camblur.config import LiveConfig
from camblur.core.errors import PictureRejected
from camblur.events import UploadedObject
from camblur.observability import MetricUnit, logger, metrics
from camblur.plates import PLATE_LABEL, PlateLocaliser


@dataclass(frozen=True)
class Outcome:
    key: str
    status: str
    persons: int = 0
    plates: int = 0
    reason: str | None = None


class LivePass:
    def __init__(
        self,
        config: LiveConfig,
        store: PictureStore,
        state: BlurStateTable,
        detector: PeopleDetector,
        plates: PlateLocaliser | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._config = config
        self._pipeline = BlurPipeline(config, store)
        self._state = state
        self._detector = detector
        self._plates = plates
        self._clock = clock

    def process(self, upload: UploadedObject) -> Outcome:
        with logger.append_context_keys(bucket=upload.bucket, key=upload.key):
            outcome = self._process(upload)
            logger.info(
                "picture processed",
                status=outcome.status,
                persons=outcome.persons,
                plates=outcome.plates,
                reason=outcome.reason,
            )
            return outcome

    def _process(self, upload: UploadedObject) -> Outcome:
        done = self._already_done(upload, LIVE_DONE)
        if done is not None:
            # At-least-once delivery: the same version again costs nothing and changes nothing.
            metrics.add_metric(name="DuplicateEvents", unit=MetricUnit.Count, value=1)
            return Outcome(upload.key, f"DUPLICATE_{done.value}")

        base = self._base_item(upload)
        raw = RawVersion(upload.bucket, upload.key, upload.version_id, upload.size)
        try:
            detected = self._pipeline.detect(raw, self._detector.detect)
            # No vehicle, no localiser: no time spent and no DetectText billed.
            if self._plates is not None and detected.detection.vehicles:
                detected = self._pipeline.localise(detected, self._plates.locate)
        except RawPictureMissing:
            self._record(base | {"status": Status.RAW_MISSING.value})
            metrics.add_metric(name="RawPicturesMissing", unit=MetricUnit.Count, value=1)
            return Outcome(upload.key, Status.RAW_MISSING.value)
        except PictureRejected as rejected:
            self._record(
                base
                | {
                    "status": Status.REJECTED.value,
                    "reason": rejected.reason,
                    "error": rejected.detail,
                }
            )
            metrics.add_metric(name="PicturesRejected", unit=MetricUnit.Count, value=1)
            return Outcome(upload.key, Status.REJECTED.value, reason=rejected.reason)
        except Exception as error:
            # Record what happened, then let Lambda retry (and dead-letter in the end).
            self._record(
                base | {"status": Status.FAILED.value, "error": f"{type(error).__name__}: {error}"}
            )
            metrics.add_metric(name="PicturesFailed", unit=MetricUnit.Count, value=1)
            raise

        if self._already_done(upload, {Status.REFINED}) is not None:
            # The refinement finished this very version while we worked: its output has more
            # boxes than ours and must stay. (The live function's maximum event age keeps late
            # retries out of the refinement window; this check closes the rest to milliseconds.)
            metrics.add_metric(name="DuplicateEvents", unit=MetricUnit.Count, value=1)
            return Outcome(upload.key, f"DUPLICATE_{Status.REFINED.value}")
        published = self._pipeline.publish(detected, keep=())
        persons = sum(box.label != PLATE_LABEL for box in detected.detection.boxes)
        plates = len(detected.detection.boxes) - persons
        self._record(
            base
            | {
                "status": Status.LIVE_BLURRED.value,
                "raw_sha256": published.raw_sha256,
                "blurred_key": published.blurred_key,
                "blurred_sha256": published.blurred_sha256,
                "boxes": [box.to_item() for box in published.boxes],
                "detector": detected.detection.detector,
                "detector_model_version": detected.detection.model_version,
                "plate_detector": self._plates.name if self._plates else "none",
                "vehicles": len(detected.detection.vehicles),
                "width": published.width,
                "height": published.height,
            }
        )
        metrics.add_metric(name="PicturesProcessed", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="PersonsBlurred", unit=MetricUnit.Count, value=persons)
        metrics.add_metric(name="PlatesBlurred", unit=MetricUnit.Count, value=plates)
        return Outcome(upload.key, Status.LIVE_BLURRED.value, persons=persons, plates=plates)

    def _already_done(self, upload: UploadedObject, statuses: Collection[Status]) -> Status | None:
        """The stored status of this very raw version, if it is one of `statuses`."""
        state = self._state.get(upload.key)
        if state is None or state.raw_version_id != upload.version_id:
            return None
        return state.status if state.status in statuses else None

    def _base_item(self, upload: UploadedObject) -> dict[str, Any]:
        now = self._clock()
        captured = upload.event_time.astimezone(self._config.capture_time_zone)
        return {
            "raw_key": upload.key,
            "raw_bucket": upload.bucket,
            "raw_version_id": upload.version_id,
            "raw_size": upload.size,
            "camera_id": upload.camera_id(self._config.raw_key_prefix),
            "capture_day": captured.date().isoformat(),
            "captured_at": upload.event_time.isoformat(),
            "sequencer": upload.sequencer,
            "updated_at": now.isoformat(),
            "expires_at": expires_at(now, self._config.state_ttl_days),
        }

    def _record(self, item: dict[str, Any]) -> None:
        try:
            self._state.record_live(item)
        except StateConflict:
            logger.info("state not written: picture already refined", status=item["status"])
