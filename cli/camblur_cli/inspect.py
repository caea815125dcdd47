"""What `camblur status` and `camblur explain` read: the state indexes, the buckets, the queues.

Status counts come from the indexes' projections (status, reason, refine_outcome), never from
the items themselves, so a 57,600-picture day is a few index pages.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import chain
from typing import Any

from boto3.dynamodb.conditions import Key

from camblur.adapters.state import CAPTURE_DAY_INDEX, picture_pk
from camblur.adapters.storage import blurred_key_for
from camblur_cli.deployment import Deployment
from camblur_cli.erasure import CAMERA_INDEX
from camblur_cli.listing import object_versions, query_all

RUN_DAYS = 7  # refinement runs shown by status
SEGMENTS = 4  # parallel queries for one day's index entries
STATUS_NAMES = {"#s": "status", "#r": "reason"}  # both are reserved words
STATUS_PROJECTION = "camera_id, capture_day, #s, #r, refine_outcome"


@dataclass
class Status:
    """Counts per (camera, day) by status, and what else an operator looks at first."""

    counts: dict[tuple[str, str], Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    queues: dict[str, dict[str, int]] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)
    session: dict[str, Any] | None = None

    def add(self, item: dict[str, Any]) -> None:
        key = (str(item.get("camera_id", "?")), str(item.get("capture_day", "?")))
        status = str(item.get("status", "?"))
        counts = self.counts[key]
        counts[status] += 1
        if item.get("reason") and status in ("REJECTED", "SUPERSEDED", "DELETED"):
            counts[f"{status}:{item['reason']}"] += 1
        if item.get("refine_outcome") and status != "REFINED":
            counts[f"refine:{item['refine_outcome']}"] += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "pictures": [
                {"camera": camera, "day": day, "counts": dict(counts)}
                for (camera, day), counts in sorted(self.counts.items())
            ],
            "queues": self.queues,
            "runs": self.runs,
            "session": self.session,
        }


class Inspector:
    def __init__(
        self,
        deployment: Deployment,
        queue_names: dict[str, str | None] | None = None,
        segments: int | None = None,
    ) -> None:
        self._deployment = deployment
        self._table = deployment.resource("dynamodb").Table(deployment.state_table)
        self._s3 = deployment.client("s3")
        self._sqs = deployment.client("sqs")
        self._queue_names = queue_names or {}
        # Parallel queries against AWS; the embedded endpoint (moto) serves them one at a time
        # and does a whole day's work for each, so there one query is faster.
        self._segments = segments or (1 if deployment.endpoint_url else SEGMENTS)

    def status(self, day: str | None, camera: str | None) -> Status:
        result = Status()
        for item in self._pictures(day, camera):
            if camera is None or item.get("camera_id") == camera:
                result.add(item)
        result.queues = self._queue_depths()
        last = date.fromisoformat(day) if day else date.today()
        for back in range(RUN_DAYS):
            run = self._get(f"RUN#{(last - timedelta(days=back)).isoformat()}", "RUN")
            if run:
                result.runs.append(_plain(run))
        session = self._get("RUN#ACTIVE", "SESSION")
        result.session = _plain(session) if session else None
        shown = {run.get("run_day") for run in result.runs}
        for run_day in sorted((session or {}).get("days", ())):
            # A reprocess's own run (RUN#reprocess-<id>) while its session is open.
            if run_day not in shown and (run := self._get(f"RUN#{run_day}", "RUN")):
                result.runs.append(_plain(run))
        return result

    def explain(self, key: str) -> dict[str, Any]:
        item = self._get(picture_pk(key), "STATE")
        blurred_key = str((item or {}).get("blurred_key") or blurred_key_for(key))
        boxes: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for box in (item or {}).get("boxes", []):
            boxes[str(box.get("source", "?"))].append(_plain(box))
        return {
            "key": key,
            "state": _plain(item) if item else None,
            "boxes_by_source": dict(boxes),
            "raw_versions": self._versions(self._deployment.raw_bucket, key),
            "blurred_key": blurred_key,
            "blurred_versions": self._versions(self._deployment.blurred_bucket, blurred_key),
        }

    def _pictures(self, day: str | None, camera: str | None) -> Iterator[dict[str, Any]]:
        """The index entries of one day, of one camera, or of one camera on one day, with only
        the attributes status counts (less to send, less to decode)."""
        if camera is not None:
            condition = Key("camera_id").eq(camera)
            if day is not None:
                # captured_at is UTC; a capture day (in the cameras' zone) lies within a day of it.
                moment = date.fromisoformat(day)
                condition &= Key("captured_at").between(
                    (moment - timedelta(days=1)).isoformat(),
                    (moment + timedelta(days=2)).isoformat(),
                )
            items = self._query(CAMERA_INDEX, condition)
        else:
            items = self._query_segments(day or date.today().isoformat())
        return (item for item in items if day is None or item.get("capture_day") == day)

    def _query(self, index: str, condition: Any, table: Any = None) -> Iterator[dict[str, Any]]:
        return query_all(
            table or self._table,
            IndexName=index,
            KeyConditionExpression=condition,
            ProjectionExpression=STATUS_PROJECTION,
            ExpressionAttributeNames=STATUS_NAMES,
        )

    def _query_segments(self, day: str) -> Iterator[dict[str, Any]]:
        """A day in SEGMENTS parallel queries, split on the index's sort key (the item's pk, a
        hash: the segments are the same size)."""
        if self._segments <= 1:
            return self._query(CAPTURE_DAY_INDEX, Key("capture_day").eq(day))
        prefixes = [f"PICTURE#{digit:x}" for digit in range(16)]
        groups = [prefixes[index :: self._segments] for index in range(self._segments)]

        # boto3 resources are not thread-safe: one per segment, made here.
        name = self._deployment.state_table
        tables = [self._deployment.resource("dynamodb").Table(name) for _ in groups]

        def segment(table: Any, group: list[str]) -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = []
            for prefix in group:
                condition = Key("capture_day").eq(day) & Key("pk").begins_with(prefix)
                found.extend(self._query(CAPTURE_DAY_INDEX, condition, table))
            return found

        with ThreadPoolExecutor(max_workers=self._segments) as pool:
            return chain.from_iterable(list(pool.map(segment, tables, groups)))

    def _queue_depths(self) -> dict[str, dict[str, int]]:
        depths = {}
        for role, name in sorted(self._queue_names.items()):
            if not name:
                continue
            url = self._sqs.get_queue_url(QueueName=name)["QueueUrl"]
            attributes = self._sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            )["Attributes"]
            depths[role] = {
                "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
                "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
                "delayed": int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
            }
        return depths

    def _versions(self, bucket: str, key: str) -> list[dict[str, Any]]:
        found = [
            {
                "kind": kind,
                "version_id": entry["VersionId"],
                "latest": entry.get("IsLatest", False),
                "last_modified": entry["LastModified"].isoformat(),
                "size": entry.get("Size"),
            }
            for kind, entry in object_versions(self._s3, bucket, key)
            if entry["Key"] == key
        ]
        return sorted(found, key=lambda entry: entry["last_modified"])

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        return self._table.get_item(Key={"pk": pk, "sk": sk}, ConsistentRead=True).get("Item")


def _plain(value: Any) -> Any:
    """DynamoDB's Decimals and sets as JSON-friendly numbers and lists."""
    from decimal import Decimal

    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(inner) for inner in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
