"""DynamoDB: the blur state of every picture, and the refinement runs.

Keys (see docs/architecture.md): picture items `PICTURE#<raw key>` / `STATE`, run items
`RUN#<capture day>` / `RUN`; the GSI `by_capture_day` lists one day's pictures without a scan.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from camblur.adapters.aws import resource
from camblur.core.boxes import Box

CAPTURE_DAY_INDEX = "by_capture_day"


class Status(StrEnum):
    LIVE_BLURRED = "LIVE_BLURRED"
    REFINED = "REFINED"
    REJECTED = "REJECTED"
    FAILED = "FAILED"
    RAW_MISSING = "RAW_MISSING"


# A picture that reached one of these for a given raw version needs no live processing again.
LIVE_DONE = frozenset({Status.LIVE_BLURRED, Status.REFINED, Status.REJECTED, Status.RAW_MISSING})


def picture_pk(raw_key: str) -> str:
    return f"PICTURE#{raw_key}"


@dataclass(frozen=True)
class PictureState:
    raw_key: str
    status: Status
    raw_version_id: str | None = None
    camera_id: str = ""
    capture_day: str = ""
    boxes: tuple[Box, ...] = ()
    blurred_key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> PictureState:
        return cls(
            raw_key=item["raw_key"],
            status=Status(item["status"]),
            raw_version_id=item.get("raw_version_id"),
            camera_id=item.get("camera_id", ""),
            capture_day=item.get("capture_day", ""),
            boxes=tuple(Box.from_item(box) for box in item.get("boxes", [])),
            blurred_key=item.get("blurred_key"),
            extra=item,
        )


class StateConflict(Exception):  # noqa: N818 - names the situation
    """A conditional write lost: the item moved on (refined, or a newer version) meanwhile."""


class BlurStateTable:
    def __init__(self, table_name: str, dynamodb: Any = None) -> None:
        self._table_name = table_name
        self._table = (dynamodb or resource("dynamodb")).Table(table_name)

    @property
    def table(self) -> Any:
        return self._table

    def get(self, raw_key: str) -> PictureState | None:
        item = self._table.get_item(
            Key={"pk": picture_pk(raw_key), "sk": "STATE"}, ConsistentRead=True
        ).get("Item")
        return PictureState.from_item(item) if item else None

    def record_live(self, item: dict[str, Any]) -> None:
        """Write the live pass's outcome unless the same raw version was refined already.

        A late or duplicate live event must never downgrade a REFINED picture; a new upload
        (another version id) of the same key starts over.
        """
        try:
            self._table.put_item(
                Item={"pk": picture_pk(item["raw_key"]), "sk": "STATE", **item},
                ConditionExpression=(
                    "attribute_not_exists(pk) OR #status <> :refined OR raw_version_id <> :version"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":refined": Status.REFINED.value,
                    ":version": item.get("raw_version_id") or "null",
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise StateConflict(item["raw_key"]) from error
            raise

    def pictures_of_day(self, capture_day: str) -> Iterator[dict[str, Any]]:
        """Every picture item of one capture day, through the GSI (paged, never a scan)."""
        query: dict[str, Any] = {
            "IndexName": CAPTURE_DAY_INDEX,
            "KeyConditionExpression": "capture_day = :day",
            "ExpressionAttributeValues": {":day": capture_day},
        }
        while True:
            page = self._table.query(**query)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def expires_at(now: datetime, ttl_days: int) -> int:
    """TTL attribute: epoch seconds after which DynamoDB may delete the item."""
    return int((now + timedelta(days=ttl_days)).timestamp())
