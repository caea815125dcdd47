"""The live pass: one uploaded picture → persons, vehicles (and any plate) found by Rekognition →
plates localised inside the vehicles → blurred copy + state; one removed raw picture → no
blurred copy, state DELETED.

Fail closed: nothing reaches the blurred bucket unless detection succeeded on these very
pixels. Permanent problems are recorded as REJECTED and not retried; transient ones raise so
that Lambda retries and, in the end, the failure destination keeps the event.

Order: S3 delivers events at least once and in any order. State and output follow the newest
event of a key (S3's sequencer); an older event changes nothing, and a version that is no
longer the one S3 serves (replaced or deleted) is never published.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from camblur.adapters.rekognition import PeopleDetector
from camblur.adapters.state import (
    LIVE_DONE,
    BlurStateTable,
    PictureState,
    StateConflict,
    Status,
    expires_at,
)
from camblur.adapters.storage import PictureStore, RawPictureMissing, blurred_key_for
from camblur.blur_pipeline import BlurPipeline, Published, RawVersion, VersionNotCurrent, union
from camblur.config import LiveConfig
from camblur.core.errors import PictureRejected, TransientError
from camblur.corrections import (
    Corrections,
    NoZones,
    ZoneSource,
    carried_attributes,
    corrections_for,
    manual_revision,
)
from camblur.events import ObjectEvent
from camblur.observability import MetricUnit, logger, metrics
from camblur.plates import PLATE_LABEL, PlateLocaliser

# Writes lost to a manual box added meanwhile, before the event is retried from the queue.
RECORD_ATTEMPTS = 4
# A re-blur redoes the anonymisation of a picture that has a published copy.
REBLURRABLE = frozenset({Status.LIVE_BLURRED, Status.REFINED, Status.RAW_MISSING})


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
        zones: ZoneSource | None = None,
    ) -> None:
        self._config = config
        self._zones = zones or NoZones()
        self._store = store
        self._pipeline = BlurPipeline(config, store)
        self._state = state
        self._detector = detector
        self._plates = plates
        self._clock = clock

    def process(self, upload: ObjectEvent) -> Outcome:
        with logger.append_context_keys(bucket=upload.bucket, key=upload.key):
            outcome = self._remove(upload) if upload.removed else self._process(upload)
            logger.info(
                "picture processed",
                status=outcome.status,
                persons=outcome.persons,
                plates=outcome.plates,
                reason=outcome.reason,
            )
            return outcome

    def _process(self, upload: ObjectEvent) -> Outcome:
        state = self._state.get(upload.key)
        done = _done_status(state, upload, LIVE_DONE)
        if done is not None:
            # At-least-once delivery: the same version again costs nothing and changes nothing.
            metrics.add_metric(name="DuplicateEvents", unit=MetricUnit.Count, value=1)
            return Outcome(upload.key, f"DUPLICATE_{done.value}")
        if _follows_later_event(state, upload):
            metrics.add_metric(name="StaleEvents", unit=MetricUnit.Count, value=1)
            return Outcome(upload.key, "STALE_EVENT")

        base = self._base_item(upload)
        raw = RawVersion(upload.bucket, upload.key, upload.version_id, upload.size)
        try:
            detected = self._pipeline.detect(raw, self._detector.detect)
            # No vehicle, no localiser: no time spent and no DetectText billed.
            if self._plates is not None and detected.detection.vehicles:
                detected = self._pipeline.localise(detected, self._plates.locate)
        except RawPictureMissing:
            self._record(base | {"status": Status.RAW_MISSING.value}, state)
            metrics.add_metric(name="RawPicturesMissing", unit=MetricUnit.Count, value=1)
            return Outcome(upload.key, Status.RAW_MISSING.value)
        except PictureRejected as rejected:
            self._record(
                base
                | {
                    "status": Status.REJECTED.value,
                    "reason": rejected.reason,
                    "error": rejected.detail,
                },
                state,
            )
            metrics.add_metric(name="PicturesRejected", unit=MetricUnit.Count, value=1)
            return Outcome(upload.key, Status.REJECTED.value, reason=rejected.reason)
        except Exception as error:
            # Record what happened, then let Lambda retry (and dead-letter in the end).
            self._record(
                base | {"status": Status.FAILED.value, "error": f"{type(error).__name__}: {error}"},
                state,
            )
            metrics.add_metric(name="PicturesFailed", unit=MetricUnit.Count, value=1)
            raise

        # Read again: the refinement may have finished this very version while we worked, and
        # a person may have added a manual box.
        state = self._state.get(upload.key)
        if _done_status(state, upload, {Status.REFINED}) is not None:
            # The refinement finished this very version while we worked: its output has more
            # boxes than ours and must stay. (The live function's maximum event age keeps late
            # retries out of the refinement window; this check closes the rest to milliseconds.)
            metrics.add_metric(name="DuplicateEvents", unit=MetricUnit.Count, value=1)
            return Outcome(upload.key, f"DUPLICATE_{Status.REFINED.value}")
        for _ in range(RECORD_ATTEMPTS):
            corrections = self._corrections(state, upload.version_id, base)
            try:
                published = self._pipeline.publish(detected, keep=corrections.boxes)
            except VersionNotCurrent as gone:
                status = Status.DELETED if gone.reason == "RAW_DELETED" else Status.SUPERSEDED
                written = self._record(
                    base | {"status": status.value, "reason": gone.reason, "error": gone.detail},
                    state,
                )
                if written and status is Status.DELETED:
                    # The key is gone: what an earlier version published must go too.
                    self._store.remove_every_version(
                        self._config.blurred_bucket, blurred_key_for(upload.key)
                    )
                metrics.add_metric(name="StaleEvents", unit=MetricUnit.Count, value=1)
                return Outcome(upload.key, status.value, reason=gone.reason)
            item = base | self._published_item(published, detected, corrections, state, upload)
            if self._write_live(item, state):
                break
            fresh = self._state.get(upload.key)
            if fresh is None or manual_revision(_item(fresh)) == manual_revision(_item(state)):
                break  # lost to a later event or a refinement (or erased): theirs stands
            state = fresh  # a manual box came meanwhile: blur again with it (no new detection)
        else:
            raise TransientError(f"{upload.key}: manual boxes kept changing; retry later")
        persons = sum(box.label != PLATE_LABEL for box in detected.detection.boxes)
        plates = len(detected.detection.boxes) - persons
        metrics.add_metric(name="PicturesProcessed", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="PersonsBlurred", unit=MetricUnit.Count, value=persons)
        metrics.add_metric(name="PlatesBlurred", unit=MetricUnit.Count, value=plates)
        return Outcome(upload.key, Status.LIVE_BLURRED.value, persons=persons, plates=plates)

    def _corrections(
        self, state: PictureState | None, version_id: str, base: dict[str, Any]
    ) -> Corrections:
        """Manual boxes, zones at capture time and, for the same raw version, every box stored
        before (a re-run only adds): what this pass keeps besides its detection."""
        found = corrections_for(
            _item(state), self._zones.zones(str(base["camera_id"])), str(base["captured_at"])
        )
        if state is not None and state.raw_version_id == version_id:
            return Corrections(union(state.boxes, found.boxes), found.zones)
        return found

    def _published_item(
        self,
        published: Published,
        detected: Any,
        corrections: Corrections,
        state: PictureState | None,
        upload: ObjectEvent,
    ) -> dict[str, Any]:
        same_version = state is not None and state.raw_version_id == upload.version_id
        recorded = state.extra.get("zones", []) if state and same_version else []
        return {
            "status": Status.LIVE_BLURRED.value,
            "raw_sha256": published.raw_sha256,
            "blurred_key": published.blurred_key,
            "blurred_sha256": published.blurred_sha256,
            "boxes": [box.to_item() for box in published.boxes],
            "zones": corrections.zone_attribute(recorded),
            "detector": detected.detection.detector,
            "detector_model_version": detected.detection.model_version,
            "plate_detector": self._plates.name if self._plates else "none",
            "vehicles": len(detected.detection.vehicles),
            "width": published.width,
            "height": published.height,
        }

    def reblur(self, key: str) -> Outcome:
        """Blur `key` again with every recorded box (a manual box was added): from its raw
        version, without a new detection; once the raw version is gone (expired), by
        anonymising the published copy further. Older versions of the copy are removed: they
        lack the new box."""
        with logger.append_context_keys(bucket=self._config.blurred_bucket, key=key):
            outcome = self._reblur(key)
            logger.info("picture re-blurred", status=outcome.status, reason=outcome.reason)
            return outcome

    def _reblur(self, key: str) -> Outcome:
        wrote: str | None = None
        for _ in range(RECORD_ATTEMPTS):
            state = self._state.get(key)
            if state is None or state.status not in REBLURRABLE:
                if wrote is not None:
                    # Deleted or erased while we wrote: what we wrote must not outlive it.
                    self._store.remove_every_version(self._config.blurred_bucket, wrote)
                reason = state.status.value if state else "NOT_RECORDED"
                return Outcome(key, "REBLUR_SKIPPED", reason=reason)
            extra = state.extra
            found = corrections_for(
                extra, self._zones.zones(state.camera_id), extra.get("captured_at")
            )
            keep = union(state.boxes, found.boxes)
            blurred_key = state.blurred_key or blurred_key_for(key)
            raw = RawVersion(
                str(extra.get("raw_bucket") or self._config.raw_bucket),
                key,
                str(state.raw_version_id),
                int(extra.get("raw_size") or 0),
            )
            source = "raw"
            try:
                if state.status is Status.RAW_MISSING:
                    raise RawPictureMissing(key)
                published = self._pipeline.publish(
                    self._pipeline.load(raw), keep=keep, blurred_key=blurred_key
                )
            except VersionNotCurrent as gone:
                if gone.reason == "SUPERSEDED":
                    # A newer upload: its own event blurs it, manual boxes included.
                    return Outcome(key, "REBLUR_SUPERSEDED", reason=gone.reason)
                published, source = self._reblur_published(blurred_key, keep), "published_copy"
            except RawPictureMissing:
                published, source = self._reblur_published(blurred_key, keep), "published_copy"
            if published is None:
                return Outcome(key, "REBLUR_SKIPPED", reason="NOTHING_PUBLISHED")
            wrote = blurred_key
            now = self._clock().isoformat()
            try:
                self._state.record_reblurred(
                    state,
                    published.boxes,
                    {
                        "blurred_sha256": published.blurred_sha256,
                        "zones": found.zone_attribute(extra.get("zones", [])),
                        "reblurred_at": now,
                        "reblur_source": source,
                        "updated_at": now,
                    },
                )
            except StateConflict:
                continue  # a pass or another box wrote meanwhile: again, from a fresh read
            removed = self._store.remove_noncurrent_versions(
                self._config.blurred_bucket, blurred_key
            )
            metrics.add_metric(name="PicturesReblurred", unit=MetricUnit.Count, value=1)
            return Outcome(
                key, "REBLURRED", reason=f"from {source}; {removed} older copies removed"
            )
        raise TransientError(f"{key} kept changing while re-blurred; retry later")

    def _reblur_published(self, blurred_key: str, keep: Any) -> Published | None:
        try:
            return self._pipeline.anonymise_published(blurred_key, keep)
        except RawPictureMissing:
            return None

    def _remove(self, removal: ObjectEvent) -> Outcome:
        """A raw version or the key was removed: take the blurred copy down if it showed it."""
        state = self._state.get(removal.key)
        current = self._store.current_version(removal.bucket, removal.key)
        if current is not None and (state is None or current == state.raw_version_id):
            # A version nobody sees was removed; the published picture's raw is still served.
            return Outcome(removal.key, "NONCURRENT_VERSION_REMOVED")
        if state is not None and state.status is not Status.DELETED:
            # State first, conditional on event order: a newer upload recorded meanwhile keeps
            # its output.
            self._record(
                self._base_item(removal) | {"status": Status.DELETED.value, "boxes": []}, state
            )
            if _follows_later_event(self._state.get(removal.key), removal):
                return Outcome(removal.key, "STALE_EVENT")
        # Then every version of the blurred copy, so none stays retrievable by id. Also when the
        # item says DELETED already (a creation event that found the key deleted records that)
        # or is gone (never recorded, or erased: no item is created again): removing is
        # idempotent, and whatever a pass published before must not outlive the raw picture.
        blurred_key = (state.blurred_key if state else None) or blurred_key_for(removal.key)
        removed = self._store.remove_every_version(self._config.blurred_bucket, blurred_key)
        metrics.add_metric(name="PicturesDeleted", unit=MetricUnit.Count, value=1)
        logger.info("raw picture removed; blurred copy deleted", blurred_versions=removed)
        return Outcome(removal.key, Status.DELETED.value if state else "REMOVED_UNRECORDED")

    def _base_item(self, upload: ObjectEvent) -> dict[str, Any]:
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
            "event_order": upload.order,
            "updated_at": now.isoformat(),
            "expires_at": expires_at(now, self._config.state_ttl_days),
        }

    def _write_live(self, item: dict[str, Any], state: PictureState | None) -> bool:
        """One conditional write of `item`, carrying over the manual boxes and review of the
        item read (`state`); False if a later event, a refinement or a manual box won."""
        seen = _item(state)
        try:
            self._state.record_live(
                {**carried_attributes(seen, item["raw_version_id"]), **item},
                manual_revision(seen),
            )
        except StateConflict:
            return False
        return True

    def _record(self, item: dict[str, Any], state: PictureState | None) -> bool:
        """Write the item unless a later event or a refinement holds it; whether it landed.

        A manual box added meanwhile is read and carried over, never written away.
        """
        for _ in range(RECORD_ATTEMPTS):
            if self._write_live(item, state):
                return True
            fresh = self._state.get(item["raw_key"])
            if fresh is None or manual_revision(_item(fresh)) == manual_revision(_item(state)):
                logger.info(
                    "state not written: a later event or a refinement holds the item",
                    status=item["status"],
                )
                return False
            state = fresh
        raise TransientError(f"{item['raw_key']}: manual boxes kept changing; retry later")


def _item(state: PictureState | None) -> dict[str, Any] | None:
    return state.extra if state is not None else None


def _done_status(
    state: PictureState | None, upload: ObjectEvent, statuses: Collection[Status]
) -> Status | None:
    """The stored status of this very raw version, if it is one of `statuses`."""
    if state is None or state.raw_version_id != upload.version_id:
        return None
    return state.status if state.status in statuses else None


def _follows_later_event(state: PictureState | None, event: ObjectEvent) -> bool:
    """Whether the item already follows a later event of this key (S3 sequencer order)."""
    recorded = str(state.extra.get("event_order") or "") if state else ""
    return bool(recorded and event.order and recorded > event.order)
