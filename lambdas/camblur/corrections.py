"""Corrections by people: privacy zones per camera and manual boxes per picture.

Both are boxes every pass adds to what it anonymises (`source` "zone" / "manual"); none of
them is ever taken away by a pass. This module holds what the passes and the operator's
command share: the item shapes, which zones apply to a picture, a per-process zone cache, and
the "reblur this key" message.

Zones: one item per camera, `ZONES#<camera>` / `ZONES`, so that a pass reads a camera's zones
with one GetItem (cached per process for ZONE_CACHE_SECONDS). The item holds every version of
every zone with the time span it applies to (`since` .. `until`, capture times in UTC):
changing a zone ends its current version and starts a new one; removing it ends it. A picture
gets the versions whose span holds its capture time, so a removal (or a change) affects only
pictures captured from then on: the pictures captured while a zone applied keep it in every
later pass, also in the ones that run after the removal (privacy first: what was promised
anonymised when the picture was taken stays anonymised). There are no "never blur here"
zones: nothing may drop a detector's box.

Polygons are anonymised by their bounding rectangle, not masked: every pass, the review page
and the training export then deal in rectangles only, and the bounding area covers at least
the polygon (more is pixelated than asked, never less). An operator who wants a tight diagonal
can compose it of several rectangles.

Zones are not grown by the blur margin (detections are, because a detector's box is not
precise): a zone is the area the operator chose.

Manual boxes: the picture item's `manual_boxes` list (each with who and when) and a counter,
`manual_revision`, that every live write is conditional on, so no pass can overwrite a box
added while it worked. They apply to every later version of the key too, and only an erasure
(which deletes the item) removes them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from camblur.core.boxes import ZONE_SOURCE, Box
from camblur.events import REBLUR_EVENT

ZONE_LABEL = "zone"
MANUAL_SOURCE = "manual"
ZONE_CACHE_SECONDS = 60.0
CORRECTIONS_AUDIT_PK = "AUDIT#CORRECTION"


def zones_key(camera_id: str) -> dict[str, str]:
    return {"pk": f"ZONES#{camera_id}", "sk": "ZONES"}


def _number(value: float) -> Decimal:
    return Decimal(str(round(float(value), 6)))


@dataclass(frozen=True)
class Zone:
    """One version of one privacy zone of a camera; coordinates are ratios (0..1)."""

    zone_id: str
    version: int
    since: str  # capture time (UTC ISO) from which it applies
    until: str | None = None  # capture time before which it applies; None: open-ended
    rectangle: tuple[float, float, float, float] | None = None  # left, top, width, height
    polygon: tuple[tuple[float, float], ...] | None = None
    created_by: str = ""
    created_at: str = ""
    ended_by: str | None = None
    ended_at: str | None = None

    def __post_init__(self) -> None:
        if (self.rectangle is None) == (self.polygon is None):
            raise ValueError("a zone is a rectangle or a polygon")
        if self.rectangle is not None:
            left, top, width, height = self.rectangle
            if not (0 <= left < 1 and 0 <= top < 1 and width > 0 and height > 0):
                raise ValueError("a rectangle needs left, top in 0..1 and a positive size")
            if left + width > 1.000001 or top + height > 1.000001:
                raise ValueError("a rectangle must lie inside the picture (0..1)")
        else:
            assert self.polygon is not None
            if len(self.polygon) < 3:
                raise ValueError("a polygon needs at least three points")
            if any(not (0 <= x <= 1 and 0 <= y <= 1) for x, y in self.polygon):
                raise ValueError("polygon points must lie in 0..1")
            left, top, width, height = self.bounds
            if width <= 0 or height <= 0:
                raise ValueError("a polygon must enclose an area")

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """The rectangle anonymised: the zone itself, or a polygon's bounding rectangle."""
        if self.rectangle is not None:
            return self.rectangle
        assert self.polygon is not None
        xs = [x for x, _ in self.polygon]
        ys = [y for _, y in self.polygon]
        return (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))

    @property
    def active(self) -> bool:
        return self.until is None

    def applies_at(self, captured_at: str) -> bool:
        """Whether a picture captured at `captured_at` (ISO, any zone) gets this version."""
        moment = _utc(captured_at)
        return _utc(self.since) <= moment and (self.until is None or moment < _utc(self.until))

    def box(self) -> Box:
        left, top, width, height = self.bounds
        return Box(
            round(left, 6),
            round(top, 6),
            round(width, 6),
            round(height, 6),
            label=ZONE_LABEL,
            confidence=100.0,
            source=ZONE_SOURCE,
        )

    def reference(self) -> dict[str, Any]:
        """What a picture's item records of the zone it got."""
        return {"zone_id": self.zone_id, "version": self.version}

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "zone_id": self.zone_id,
            "version": self.version,
            "since": self.since,
            "created_by": self.created_by,
            "created_at": self.created_at,
        }
        if self.rectangle is not None:
            item["rectangle"] = [_number(value) for value in self.rectangle]
        if self.polygon is not None:
            item["polygon"] = [[_number(x), _number(y)] for x, y in self.polygon]
        for name in ("until", "ended_by", "ended_at"):
            if getattr(self, name) is not None:
                item[name] = getattr(self, name)
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Zone:
        rectangle = item.get("rectangle")
        polygon = item.get("polygon")
        return cls(
            zone_id=str(item["zone_id"]),
            version=int(item["version"]),
            since=str(item["since"]),
            until=item.get("until"),
            rectangle=tuple(float(v) for v in rectangle) if rectangle else None,  # type: ignore[arg-type]
            polygon=tuple((float(x), float(y)) for x, y in polygon) if polygon else None,
            created_by=str(item.get("created_by", "")),
            created_at=str(item.get("created_at", "")),
            ended_by=item.get("ended_by"),
            ended_at=item.get("ended_at"),
        )


@dataclass(frozen=True)
class ZoneSet:
    """Every version of every zone of one camera, and the item's revision (writes are
    conditional on it)."""

    camera_id: str
    revision: int = 0
    zones: tuple[Zone, ...] = ()

    def applying_at(self, captured_at: str | None) -> tuple[Zone, ...]:
        if not captured_at:
            # No capture time recorded: every zone that ever applied (privacy first).
            return self.zones
        return tuple(zone for zone in self.zones if zone.applies_at(captured_at))

    @classmethod
    def from_item(cls, camera_id: str, item: Mapping[str, Any] | None) -> ZoneSet:
        if not item:
            return cls(camera_id)
        return cls(
            camera_id,
            int(item.get("revision", 0)),
            tuple(Zone.from_item(zone) for zone in item.get("zones", [])),
        )


class ZoneSource(Protocol):
    def zones(self, camera_id: str) -> ZoneSet: ...


class ZoneCache:
    """A camera's zones, read with one GetItem and kept per process for `ttl` seconds.

    A zone set or removed reaches a running function within `ttl`; pictures captured in that
    minute get a new zone at the latest from their refinement (or `camblur reprocess`).
    """

    def __init__(
        self,
        table_name: str,
        dynamodb: Any = None,
        ttl: float = ZONE_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        from camblur.adapters.aws import resource  # boto3 only where it is used

        self._table = (dynamodb or resource("dynamodb")).Table(table_name)
        self._ttl = ttl
        self._clock = clock
        self._cached: dict[str, tuple[float, ZoneSet]] = {}

    def zones(self, camera_id: str) -> ZoneSet:
        now = self._clock()
        hit = self._cached.get(camera_id)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        # Not a consistent read: the TTL already allows a minute of staleness.
        item = self._table.get_item(Key=zones_key(camera_id)).get("Item")
        found = ZoneSet.from_item(camera_id, item)
        self._cached[camera_id] = (now, found)
        return found


class NoZones:
    """For passes built without a zone source (unit tests of other behaviour)."""

    def zones(self, camera_id: str) -> ZoneSet:
        return ZoneSet(camera_id)


# Manual boxes ---------------------------------------------------------------------------------


def manual_box(entry: Mapping[str, Any]) -> Box:
    """A `manual_boxes` entry as the box every pass anonymises."""
    return Box(
        left=float(entry["left"]),
        top=float(entry["top"]),
        width=float(entry["width"]),
        height=float(entry["height"]),
        label=str(entry.get("label", "person")),
        confidence=100.0,
        source=MANUAL_SOURCE,
    )


def manual_boxes(item: Mapping[str, Any] | None) -> tuple[Box, ...]:
    return tuple(manual_box(entry) for entry in (item or {}).get("manual_boxes", []))


def manual_revision(item: Mapping[str, Any] | None) -> int | None:
    """The counter live writes are conditional on; None while no box was ever added."""
    value = (item or {}).get("manual_revision")
    return None if value is None else int(value)


@dataclass(frozen=True)
class Corrections:
    """What a pass adds for one picture: the boxes to keep and the zones they came from."""

    boxes: tuple[Box, ...] = ()
    zones: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def zone_attribute(self, recorded: Iterable[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
        """The item's `zones`: every zone (id, version) recorded before, then the new ones."""
        seen: list[dict[str, Any]] = []
        for reference in (*recorded, *self.zones):
            plain = {"zone_id": str(reference["zone_id"]), "version": int(reference["version"])}
            if plain not in seen:
                seen.append(plain)
        return seen


def corrections_for(
    item: Mapping[str, Any] | None, zones: ZoneSet, captured_at: str | None
) -> Corrections:
    """Manual boxes of the item (any version of the key) and the zones its capture time gets."""
    applying = zones.applying_at(captured_at)
    return Corrections(
        boxes=(*manual_boxes(item), *(zone.box() for zone in applying)),
        zones=tuple(zone.reference() for zone in applying),
    )


def carried_attributes(item: Mapping[str, Any] | None, raw_version_id: str) -> dict[str, Any]:
    """What a live write (a PutItem, which replaces the item) must carry over from the item it
    replaces: the manual boxes always; the review mark only for the same raw version (a new
    upload is a picture nobody has reviewed)."""
    if not item:
        return {}
    carried = {
        name: item[name] for name in ("manual_boxes", "manual_revision", "zones") if name in item
    }
    if item.get("raw_version_id") == raw_version_id:
        for name in ("reviewed_at", "reviewed_by"):
            if name in item:
                carried[name] = item[name]
    return carried


# The reblur message ---------------------------------------------------------------------------


def reblur_message(key: str, requested_by: str, requested_at: str) -> dict[str, Any]:
    """Body of a live-queue message (or an async invocation's payload): blur `key` again with
    every recorded box, from its raw version (or its published copy once the raw expired)."""
    return {"Event": REBLUR_EVENT, "Key": key, "RequestedBy": requested_by, "At": requested_at}


def _utc(text: str) -> Any:
    from datetime import UTC, datetime

    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def boxes_with_source(boxes: Sequence[Box], source: str) -> tuple[Box, ...]:
    return tuple(box for box in boxes if box.source == source)
