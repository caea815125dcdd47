"""Status counts: how many pictures of one camera and day are in each status, kept by
status_counts from the table's own stream.

Two kinds of items:
- buckets (`COUNTS#<capture day>#BUCKETS` / `<bucket>#<camera id>`): each camera-day split in 16
  by the picture's key hash, so that an item stays small (about 18 pictures at one every 5
  minutes; a write's cost is the item's size). They count, exactly once (below).
- summaries (`COUNTS#<capture day>` / `<camera id>`): a copy of each of the camera-day's
  buckets' counts (`b:<bucket>`) with the bucket's revision (`r:<bucket>`), written only over
  an older revision. What `camblur status --day` reads: one partition of one small item per
  camera (200), never the buckets' marks. A copy that a crash left behind is written again by
  the bucket's next change or by the retried batch.

Exactly once, without transactions: a bucket item holds, beside its counts (`n:<facet>`, one
number attribute each, so ADD is atomic), the stream sequence number of the last change it
counted for each of its pictures (`s:<picture>`). DynamoDB Streams delivers one item's changes
in order, so a change is counted only if its sequence number is above the picture's mark, in
the same conditional write that moves the mark. A retried batch counts nothing twice, and a
failure between two writes loses nothing. (Lambda does not tell the shard a batch came from,
so the mark cannot be per shard; TransactWriteItems with one marker item per change would cost
twice as much and the embedded endpoint copies the whole table for each transaction.)
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase, Key

from camblur.adapters.state.dynamo import ItemTable, StateConflict

COUNTS_PREFIX = "COUNTS#"
BUCKETS_SUFFIX = "#BUCKETS"
COUNT = "n:"  # + facet: a number
MARK = "s:"  # + picture: the sequence number (padded) of the last change counted
COPY, COPY_REVISION = "b:", "r:"  # + bucket, in a summary
BUCKETS = "0123456789abcdef"
SEQUENCE_WIDTH = 40  # DynamoDB Streams sequence numbers have 21 to 40 digits
# Facets that carry their reason (REJECTED:CORRUPT_IMAGE), as `camblur status` shows them.
WITH_REASON = frozenset({"REJECTED", "SUPERSEDED", "DELETED"})


def is_picture(item: Mapping[str, Any] | None) -> bool:
    return (
        bool(item) and str(item.get("pk", "")).startswith("PICTURE#") and item.get("sk") == "STATE"
    )


def facets(item: Mapping[str, Any]) -> list[str]:
    """What one picture item (or its index entry) counts as: its status, the status with its
    reason for the ones that have one, and the refinement's outcome where it is not REFINED."""
    status = str(item.get("status", "?"))
    found = [status]
    if item.get("reason") and status in WITH_REASON:
        found.append(f"{status}:{item['reason']}")
    if item.get("refine_outcome") and status != "REFINED":
        found.append(f"refine:{item['refine_outcome']}")
    return found


@dataclass(frozen=True)
class Bucket:
    """One counts item: a camera's day, one sixteenth of its pictures."""

    day: str
    camera: str
    bucket: str

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> Bucket:
        picture = str(item["pk"]).removeprefix("PICTURE#")
        return cls(str(item.get("capture_day", "?")), str(item.get("camera_id", "?")), picture[0])

    @property
    def key(self) -> dict[str, str]:
        return {
            "pk": f"{COUNTS_PREFIX}{self.day}{BUCKETS_SUFFIX}",
            "sk": f"{self.bucket}#{self.camera}",
        }


def summary_key(day: str, camera: str) -> dict[str, str]:
    return {"pk": f"{COUNTS_PREFIX}{day}", "sk": camera}


@dataclass(frozen=True)
class BucketCounts:
    """A bucket's counts after a write, and its revision (one more each write)."""

    bucket: Bucket
    revision: int
    counts: dict[str, int]
    expires_at: int | None = None

    @classmethod
    def of(cls, bucket: Bucket, item: Mapping[str, Any]) -> BucketCounts:
        expiry = item.get("expires_at")
        return cls(
            bucket,
            int(item.get("revision", 0)),
            dict(_counts(item)),
            int(expiry) if expiry else None,
        )


@dataclass
class Change:
    """What one stream record does to one bucket: counts to add (negative to take away)."""

    picture: str  # the first 16 hex digits of the picture's key hash
    sequence: str  # padded to SEQUENCE_WIDTH: strings then compare as the numbers do
    deltas: Counter[str] = field(default_factory=Counter)
    expires_at: int | None = None


def picture_mark(pk: str) -> str:
    return str(pk).removeprefix("PICTURE#")[:16]


def padded(sequence_number: str) -> str:
    return str(sequence_number).zfill(SEQUENCE_WIDTH)


class StatusCounts:
    """The counts items: applied from stream changes, read by `camblur status`."""

    def __init__(self, table_name: str, dynamodb: Any = None) -> None:
        self._items = ItemTable(table_name, dynamodb)
        self._table = self._items._table

    def apply(self, bucket: Bucket, changes: list[Change]) -> tuple[int, BucketCounts]:
        """Count `changes` (one bucket's, in stream order) that the bucket has not counted
        yet; how many were new, and the bucket's counts after. Raises StateConflict only if
        another writer moved a mark between this call's read and write (two consumers of one
        shard)."""
        try:
            return len(changes), self._write(bucket, changes, seen=None)
        except StateConflict:
            pass
        # Some were counted before (a retried batch): keep the ones above their picture's mark.
        item = self._items.get(bucket.key) or {}
        pictures = {change.picture for change in changes}
        seen = {
            name.removeprefix(MARK): str(value)
            for name, value in item.items()
            if name.startswith(MARK) and name.removeprefix(MARK) in pictures
        }
        fresh = [change for change in changes if change.sequence > seen.get(change.picture, "")]
        if fresh:
            return len(fresh), self._write(bucket, fresh, seen=seen)
        return 0, BucketCounts.of(bucket, item)  # all counted before: the copy may still lag

    def copy_to_summary(self, day: str, camera: str, buckets: Iterable[BucketCounts]) -> None:
        """Copy buckets' counts into the camera-day's summary, each only over an older
        revision of it (a copy that arrives late, from another shard's batch, changes nothing).
        One write for all of them; one each if a newer copy of one is there already."""
        buckets = list(buckets)
        try:
            self._copy(day, camera, buckets)
        except StateConflict:
            for bucket in buckets:
                with contextlib.suppress(StateConflict):  # a newer copy is there: keep it
                    self._copy(day, camera, [bucket])

    def _copy(self, day: str, camera: str, buckets: list[BucketCounts]) -> None:
        condition: ConditionBase | None = None
        values: dict[str, Any] = {"counted_camera": camera, "counted_day": day}
        for copied in buckets:
            revision = Attr(COPY_REVISION + copied.bucket.bucket)
            clause = revision.not_exists() | revision.lt(copied.revision)
            condition = clause if condition is None else condition & clause
            values[COPY + copied.bucket.bucket] = copied.counts
            values[COPY_REVISION + copied.bucket.bucket] = copied.revision
        expiry = max((copied.expires_at for copied in buckets if copied.expires_at), default=0)
        if expiry:
            values["expires_at"] = expiry
        assert condition is not None, "a copy needs at least one bucket"
        self._items.update(summary_key(day, camera), condition, set=values)

    def of_day(self, day: str) -> Iterator[tuple[str, Counter[str]]]:
        """(camera, counts) for every camera of one day, from the summaries."""
        request: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(COUNTS_PREFIX + day)}
        while True:
            page = self._table.query(**request)
            for item in page.get("Items", []):
                yield str(item.get("counted_camera", "?")), _summed(item)
            if not page.get("LastEvaluatedKey"):
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def of_camera(self, camera: str, days: Iterable[str]) -> Iterator[tuple[str, Counter[str]]]:
        """(day, counts) of one camera, one BatchGetItem per 100 days."""
        keys = [summary_key(day, camera) for day in days]
        client = self._table.meta.client
        for start in range(0, len(keys), 100):
            request = {self._table.name: {"Keys": keys[start : start + 100]}}
            while request:
                answer = client.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(self._table.name, []):
                    yield str(item["counted_day"]), _summed(item)
                request = answer.get("UnprocessedKeys") or {}

    def _write(
        self, bucket: Bucket, changes: list[Change], seen: dict[str, str] | None
    ) -> BucketCounts:
        deltas: Counter[str] = Counter()
        last: dict[str, str] = {}
        first: dict[str, str] = {}
        for change in changes:
            deltas.update(change.deltas)
            first.setdefault(change.picture, change.sequence)
            last[change.picture] = change.sequence
        condition: ConditionBase | None = None
        for picture, sequence in first.items():
            mark = Attr(MARK + picture)
            if seen is None:
                clause = mark.not_exists() | mark.lt(sequence)
            elif picture in seen:
                clause = mark.eq(seen[picture])
            else:
                clause = mark.not_exists()
            condition = clause if condition is None else condition & clause
        assert condition is not None, "a write needs at least one change"
        expiry = max((c.expires_at for c in changes if c.expires_at), default=None)
        values: dict[str, Any] = {MARK + picture: sequence for picture, sequence in last.items()}
        values |= {"counted_camera": bucket.camera, "counted_day": bucket.day}
        if expiry:
            values["expires_at"] = expiry
        after = self._items.update(
            bucket.key,
            condition,
            set=values,
            add={"revision": 1} | {COUNT + f: delta for f, delta in deltas.items() if delta},
            return_item=True,
        )
        return BucketCounts.of(bucket, after)


def _summed(summary: Mapping[str, Any]) -> Counter[str]:
    total: Counter[str] = Counter()
    for name, counts in summary.items():
        if name.startswith(COPY):
            total.update({facet: int(value) for facet, value in counts.items()})
    return +total


def _counts(item: Mapping[str, Any]) -> Counter[str]:
    return Counter(
        {
            name.removeprefix(COUNT): int(value)
            for name, value in item.items()
            if name.startswith(COUNT) and int(value)
        }
    )


__all__ = [
    "COUNTS_PREFIX",
    "Bucket",
    "BucketCounts",
    "Change",
    "StateConflict",
    "StatusCounts",
    "facets",
    "is_picture",
    "padded",
    "picture_mark",
]
