"""Picture items (`PICTURE#<sha256 of the raw key>` / `STATE`): the blur state of every picture."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase, Key

from camblur.adapters.state.dynamo import ItemTable
from camblur.core.boxes import Box

CAPTURE_DAY_INDEX = "by_capture_day"


class Status(StrEnum):
    LIVE_BLURRED = "LIVE_BLURRED"
    REFINED = "REFINED"
    REJECTED = "REJECTED"
    FAILED = "FAILED"
    RAW_MISSING = "RAW_MISSING"
    SUPERSEDED = "SUPERSEDED"  # a newer version of the key was uploaded before this one's turn
    DELETED = "DELETED"  # the raw picture was deleted: no blurred copy, no pass republishes it


# A picture that reached one of these for a given raw version needs no live processing again.
LIVE_DONE = frozenset(
    {
        Status.LIVE_BLURRED,
        Status.REFINED,
        Status.REJECTED,
        Status.RAW_MISSING,
        Status.SUPERSEDED,
        Status.DELETED,
    }
)
# No refinement for these: nothing to read, or nothing that may be published.
NOT_REFINABLE = frozenset({Status.REJECTED, Status.RAW_MISSING, Status.SUPERSEDED, Status.DELETED})


def picture_pk(raw_key: str) -> str:
    """The item's partition key. A hash, because S3 keys reach 1,024 bytes and `pk` is also the
    range key of the by_capture_day index, which DynamoDB caps at 1,024 bytes; the full key is
    the `raw_key` attribute."""
    return f"PICTURE#{hashlib.sha256(raw_key.encode()).hexdigest()}"


def _picture_key(raw_key: str) -> dict[str, str]:
    return {"pk": picture_pk(raw_key), "sk": "STATE"}


@dataclass(frozen=True)
class PictureState:
    raw_key: str
    status: Status
    # S3's version id of the raw picture, as an opaque string ("null": written unversioned).
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


class BlurStateTable:
    def __init__(self, table_name: str, dynamodb: Any = None) -> None:
        self._items = ItemTable(table_name, dynamodb)

    def get(self, raw_key: str) -> PictureState | None:
        item = self._items.get(_picture_key(raw_key))
        return PictureState.from_item(item) if item else None

    def record_live(self, item: dict[str, Any], manual_revision: int | None = None) -> None:
        """Write a live event's outcome unless the item already follows a later event.

        S3 delivers at least once and in any order: `event_order` (camblur.events.sequence_order)
        orders the events of one key. A write lands on a missing item, after an older event, or
        after the same event unless that one's version was REFINED meanwhile, so an older
        version never replaces a newer one and nothing live ever downgrades a refinement. An
        event without a sequencer (made by hand) cannot be ordered: it may only create the item
        or redo the version the item already names, never over a refinement of it.
        Raises StateConflict otherwise, and also when a manual box was added since the item was
        read (`manual_revision`, camblur.corrections): a PutItem replaces the item, and must
        not replace it without that box.
        """
        order = item.get("event_order") or ""
        refined_same_version = Attr("status").eq(Status.REFINED.value) & Attr("raw_version_id").eq(
            item["raw_version_id"]
        )
        condition: ConditionBase = Attr("pk").not_exists() | (
            Attr("raw_version_id").eq(item["raw_version_id"])
            & Attr("status").ne(Status.REFINED.value)
        )
        if order:
            condition = (
                Attr("pk").not_exists()
                | (Attr("event_order").not_exists() & ~refined_same_version)
                | Attr("event_order").lt(order)
                | (Attr("event_order").eq(order) & Attr("status").ne(Status.REFINED.value))
            )
        if manual_revision is None:
            condition &= Attr("manual_revision").not_exists()
        else:
            condition &= Attr("manual_revision").eq(manual_revision)
        self._items.put({**_picture_key(item["raw_key"]), **item}, condition)

    def record_reblurred(
        self, previous: PictureState, boxes: Sequence[Box], attributes: dict[str, Any]
    ) -> None:
        """Record a re-blur with recorded boxes: the status stays, the boxes grow.

        Conditional like record_refined (same raw version, same `updated_at`): a pass or a
        manual box that wrote meanwhile makes it raise StateConflict, and the caller redoes it
        from a fresh read.
        """
        seen = previous.extra.get("updated_at")
        same_revision = (
            Attr("updated_at").not_exists() if seen is None else Attr("updated_at").eq(seen)
        )
        self._items.update(
            _picture_key(previous.raw_key),
            _same_version(previous) & same_revision & Attr("status").ne(Status.DELETED.value),
            set={**attributes, "boxes": [box.to_item() for box in boxes]},
        )

    def pictures_of_day_page(
        self, capture_day: str, cursor: dict[str, Any] | None = None, limit: int | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of the GSI and the cursor of the next one (None after the last page)."""
        return self._items.query_page(
            CAPTURE_DAY_INDEX, Key("capture_day").eq(capture_day), cursor, limit
        )

    def record_refined(
        self, previous: PictureState, boxes: Sequence[Box], attributes: dict[str, Any]
    ) -> None:
        """Mark the picture REFINED with `boxes`, which must contain every box stored before.

        The write only lands if the item is still the one `previous` was read from (same raw
        version, same `updated_at`): a concurrent live pass or refinement makes it raise
        StateConflict, and the caller starts over from a fresh read, so boxes only ever grow.
        """
        kept = set(boxes)
        missing = [box for box in previous.boxes if box not in kept]
        if missing:
            raise ValueError(
                f"refusing to drop {len(missing)} stored box(es) of {previous.raw_key}"
            )
        seen = previous.extra.get("updated_at")
        same_revision = (
            Attr("updated_at").not_exists() if seen is None else Attr("updated_at").eq(seen)
        )
        self._items.update(
            _picture_key(previous.raw_key),
            _same_version(previous) & same_revision,
            set={
                **attributes,
                "status": Status.REFINED.value,
                "boxes": [box.to_item() for box in boxes],
            },
            remove=("error", "reason"),
        )

    def record_refine_outcome(
        self, previous: PictureState, attributes: dict[str, Any], status: Status | None = None
    ) -> None:
        """Record why refinement left a picture as it was (raw gone, picture refused).

        `status` changes the picture's status (RAW_MISSING); without it the live result stays
        what users see and only the refine_* attributes tell what happened.
        """
        values = dict(attributes)
        if status is not None:
            values["status"] = status.value
        self._items.update(_picture_key(previous.raw_key), _same_version(previous), set=values)


def _same_version(previous: PictureState) -> ConditionBase:
    """The item still describes the raw version `previous` was read for."""
    return Attr("pk").exists() & Attr("raw_version_id").eq(previous.raw_version_id)
