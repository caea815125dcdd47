"""Keep the status counts (adapters/state/counts.py) from the state table's stream.

Each stream record of a picture item takes its old facets from the bucket of its old image
and adds its new facets to the bucket of its new image (a REMOVE, an erasure or a TTL
expiry, only takes away). Records that change no count are skipped. A batch is applied one
bucket at a time; a bucket that cannot be written is reported back with the lowest sequence
number of its records, so Lambda retries from there and the buckets already written count
nothing twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from camblur.adapters.state.counts import (
    Bucket,
    BucketCounts,
    Change,
    StatusCounts,
    facets,
    is_picture,
    padded,
    picture_mark,
)
from camblur.observability import logger

# Only what the counts need is decoded from a stream image (boxes can be long).
COUNTED_ATTRIBUTES = (
    "pk",
    "sk",
    "status",
    "reason",
    "refine_outcome",
    "camera_id",
    "capture_day",
    "expires_at",
)
MAX_PICTURES_PER_WRITE = 25  # keeps a write's condition expression well under 4 KB
_deserializer = TypeDeserializer()


@dataclass(frozen=True)
class BatchResult:
    records: int
    counted: int
    buckets: int
    failed_buckets: int
    batch_item_failures: list[dict[str, str]]

    def response(self) -> dict[str, Any]:
        """The partial batch response Lambda reads for stream sources."""
        return {"batchItemFailures": self.batch_item_failures}


def changes_of(records: Sequence[Mapping[str, Any]]) -> dict[Bucket, list[Change]]:
    """Each bucket's changes, in stream order, from Lambda's DynamoDB stream records."""
    by_bucket: dict[Bucket, list[Change]] = defaultdict(list)
    for record in records:
        stream = record.get("dynamodb", {})
        old, new = _image(stream.get("OldImage")), _image(stream.get("NewImage"))
        touched: dict[Bucket, Change] = {}
        sequence = padded(stream["SequenceNumber"])
        for image, sign in ((old, -1), (new, +1)):
            if image is None or not is_picture(image):
                continue
            for facet in facets(image):
                bucket = Bucket.of(image)
                change = touched.setdefault(bucket, Change(picture_mark(image["pk"]), sequence))
                change.deltas[facet] += sign
        if new and new.get("expires_at") and (bucket := Bucket.of(new)) in touched:
            touched[bucket].expires_at = int(new["expires_at"])
        for bucket, change in touched.items():
            if any(change.deltas.values()):
                by_bucket[bucket].append(change)
    return by_bucket


class StatusCounter:
    def __init__(self, counts: StatusCounts) -> None:
        self._counts = counts

    def process(self, records: Sequence[Mapping[str, Any]]) -> BatchResult:
        by_bucket = changes_of(records)
        counted = 0
        failed: list[str] = []
        written: dict[tuple[str, str], list[BucketCounts]] = defaultdict(list)
        for bucket, changes in by_bucket.items():
            try:
                for start in range(0, len(changes), MAX_PICTURES_PER_WRITE):
                    new, after = self._counts.apply(
                        bucket, changes[start : start + MAX_PICTURES_PER_WRITE]
                    )
                    counted += new
                written[bucket.day, bucket.camera].append(after)
            except Exception:  # any failure: this bucket is retried, not the batch
                logger.exception("status counts not written", day=bucket.day, camera=bucket.camera)
                failed.append(min(change.sequence for change in changes))
        for (day, camera), buckets in written.items():
            try:
                self._counts.copy_to_summary(day, camera, buckets)
            except Exception:  # the retry finds the buckets counted and copies them again
                logger.exception("status summary not written", day=day, camera=camera)
                failed += [
                    min(change.sequence for change in by_bucket[copied.bucket])
                    for copied in buckets
                ]
        failures = []
        if failed:
            # Lambda retries a stream batch from its lowest reported sequence number.
            lowest = min(failed)
            failures = [
                {"itemIdentifier": record["dynamodb"]["SequenceNumber"]}
                for record in records
                if padded(record["dynamodb"]["SequenceNumber"]) == lowest
            ]
        return BatchResult(len(records), counted, len(by_bucket), len(failed), failures)


def _image(image: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not image:
        return None
    return {
        name: _deserializer.deserialize(image[name]) for name in COUNTED_ATTRIBUTES if name in image
    }
