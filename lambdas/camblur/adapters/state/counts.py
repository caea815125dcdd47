"""Status counts (`COUNTS#<capture day>` / `<bucket>#<camera id>`): how many pictures of one
camera and day are in each status, kept by status_counts from the table's own stream.

`camblur status --day` reads one partition of a few thousand small items instead of every
picture of the day (57,600 at 200 cameras). Each camera-day is split in 16 buckets by the
picture's key hash so that an item stays small (about 18 pictures at one every 5 minutes): a
write's cost is the item's size.

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

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase, Key

from camblur.adapters.state.dynamo import ItemTable, StateConflict

COUNTS_PREFIX = "COUNTS#"
COUNT = "n:"  # + facet: a number
MARK = "s:"  # + picture: the sequence number (padded) of the last change counted
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
        return {"pk": f"{COUNTS_PREFIX}{self.day}", "sk": f"{self.bucket}#{self.camera}"}


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

    def apply(self, bucket: Bucket, changes: list[Change]) -> int:
        """Count `changes` (one bucket's, in stream order) that the bucket has not counted
        yet; returns how many were new. Raises StateConflict only if another writer moved a
        mark between this call's read and write (two consumers of one shard)."""
        try:
            self._write(bucket, changes, seen=None)
            return len(changes)
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
            self._write(bucket, fresh, seen=seen)
        return len(fresh)

    def of_day(self, day: str) -> Iterator[tuple[str, Counter[str]]]:
        """(camera, counts) for every bucket of one day, counts only (not the marks)."""
        request: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(COUNTS_PREFIX + day)}
        while True:
            page = self._table.query(**request)
            for item in page.get("Items", []):
                yield str(item.get("counted_camera", "?")), _counts(item)
            if not page.get("LastEvaluatedKey"):
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def of_camera(self, camera: str, days: Iterable[str]) -> Iterator[tuple[str, Counter[str]]]:
        """(day, counts) of one camera, one BatchGetItem per 100 buckets."""
        keys = [Bucket(day, camera, bucket).key for day in days for bucket in BUCKETS]
        client = self._table.meta.client
        for start in range(0, len(keys), 100):
            request = {self._table.name: {"Keys": keys[start : start + 100]}}
            while request:
                answer = client.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(self._table.name, []):
                    yield str(item["pk"]).removeprefix(COUNTS_PREFIX), _counts(item)
                request = answer.get("UnprocessedKeys") or {}

    def _write(self, bucket: Bucket, changes: list[Change], seen: dict[str, str] | None) -> None:
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
        self._items.update(
            bucket.key,
            condition,
            set=values,
            add={COUNT + facet: delta for facet, delta in deltas.items() if delta},
        )


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
    "Change",
    "StateConflict",
    "StatusCounts",
    "facets",
    "is_picture",
    "padded",
    "picture_mark",
]
