"""Corrections by people, as the operator's command and the review page make them.

    add_manual_box      a box a detector missed: recorded (who, when), audited, re-blurred now
    mark_reviewed       one picture looked at by a person; mark_day_reviewed: a camera's day
    picture_boxes       every box recorded for a picture, with its source
    set_zone / list_zones / remove_zone   privacy zones of a camera (camblur.corrections)

Nothing here reads a raw picture: the raw bucket is the pipeline's alone. A manual box is
re-blurred by the pipeline: a "reblur this key" message on the live queue (live_trigger =
"sqs"), or an asynchronous invocation of the live function with the same payload
(live_trigger = "s3_async").
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from camblur.adapters.state import CAPTURE_DAY_INDEX, picture_pk
from camblur.corrections import (
    CORRECTIONS_AUDIT_PK,
    MANUAL_SOURCE,
    ZONE_SOURCE,
    Zone,
    ZoneSet,
    reblur_message,
    zones_key,
)
from camblur.plates import PLATE_LABEL
from camblur_cli.deployment import Deployment
from camblur_cli.listing import query_all

BoxSource = Literal["person", "plate", "model", "zone", "manual"]
ManualLabel = Literal["person", "plate"]
LABELS: dict[str, str] = {"person": "person", "plate": PLATE_LABEL}
# Pictures with a published copy: only these can be corrected or reviewed.
PUBLISHED = ("LIVE_BLURRED", "REFINED", "RAW_MISSING")
WRITE_ATTEMPTS = 5  # optimistic writes of a camera's zones item

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class CorrectionError(ValueError):
    """A correction refused: no such picture, a deleted one, a box outside the picture."""


@dataclass(frozen=True)
class RecordedBox:
    """A box recorded for a picture, in ratios of the picture (0..1)."""

    left: float
    top: float
    width: float
    height: float
    label: str  # person, license_plate, zone
    source: BoxSource
    detector: str  # the stored source: live, rekognition_label, packaged_ocr, custom, zone, manual
    confidence: float = 100.0
    added_by: str | None = None  # manual boxes: who added it, and when
    added_at: str | None = None
    applied: bool = True  # manual boxes: already in the state's boxes (re-blurred)
    zone_id: str | None = None
    zone_version: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {name: value for name, value in self.__dict__.items() if value is not None}


@dataclass(frozen=True)
class ManualBoxResult:
    """A manual box recorded, and how the pipeline was asked to re-blur the picture."""

    key: str
    box: RecordedBox
    revision: int  # the item's manual_revision after this box
    requested_via: Literal["live_queue", "live_function"]
    request_id: str  # the SQS message id, or the invocation's request id


def caller(deployment: Deployment) -> str:
    """Who is acting: the ARN of the operator's credentials."""
    return str(deployment.client("sts").get_caller_identity()["Arn"])


def _table(deployment: Deployment) -> Any:
    return deployment.resource("dynamodb").Table(deployment.state_table)


def _picture(table: Any, key: str) -> dict[str, Any] | None:
    return table.get_item(Key={"pk": picture_pk(key), "sk": "STATE"}, ConsistentRead=True).get(
        "Item"
    )


def _audit(table: Any, who: str, at: str, action: str, **what: Any) -> None:
    table.put_item(
        Item={
            "pk": CORRECTIONS_AUDIT_PK,
            "sk": f"{at}#{uuid.uuid4()}",
            "who": who,
            "at": at,
            "action": action,
            **what,
        }
    )


def _ratio(name: str, value: float) -> float:
    if not 0.0 <= float(value) <= 1.0:
        raise CorrectionError(f"{name} must be between 0 and 1, not {value}")
    return round(float(value), 6)


def _checked_box(left: float, top: float, width: float, height: float) -> tuple[float, ...]:
    left, top = _ratio("left", left), _ratio("top", top)
    width, height = _ratio("width", width), _ratio("height", height)
    if width <= 0 or height <= 0:
        raise CorrectionError("a box needs a positive width and height")
    if left + width > 1.000001 or top + height > 1.000001:
        raise CorrectionError("the box must lie inside the picture (left + width <= 1, ...)")
    return left, top, width, height


# Manual boxes ----------------------------------------------------------------------------------


def add_manual_box(
    deployment: Deployment,
    key: str,
    left: float,
    top: float,
    width: float,
    height: float,
    label: ManualLabel,
    actor: str,
    clock: Clock = _now,
) -> ManualBoxResult:
    """Record a box on the picture's state item (who, when), audit it, and ask the pipeline to
    re-blur the picture at once.

    Raises CorrectionError for an unknown or deleted picture, a box outside 0..1 or a label
    other than person/plate. The box stays until an erasure removes the item.
    """
    if label not in LABELS:
        raise CorrectionError(f"label must be person or plate, not {label!r}")
    left, top, width, height = _checked_box(left, top, width, height)
    table = _table(deployment)
    item = _picture(table, key)
    if item is None:
        raise CorrectionError(f"no picture {key} is recorded")
    if item.get("status") == "DELETED":
        raise CorrectionError(f"{key} was deleted: there is nothing to correct")
    at = clock().isoformat()
    entry = {
        "box_id": str(uuid.uuid4()),
        "left": _decimal(left),
        "top": _decimal(top),
        "width": _decimal(width),
        "height": _decimal(height),
        "label": LABELS[label],
        "added_by": actor,
        "added_at": at,
    }
    try:
        response = table.update_item(
            Key={"pk": picture_pk(key), "sk": "STATE"},
            UpdateExpression=(
                "SET #boxes = list_append(if_not_exists(#boxes, :empty), :entry), "
                "#updated = :at ADD #revision :one"
            ),
            # updated_at changes too: a refinement that read the item before retries its
            # union with this box instead of writing without it.
            ConditionExpression="attribute_exists(pk) AND #status <> :deleted",
            ExpressionAttributeNames={
                "#boxes": "manual_boxes",
                "#updated": "updated_at",
                "#revision": "manual_revision",
                "#status": "status",
            },
            ExpressionAttributeValues={
                ":empty": [],
                ":entry": [entry],
                ":at": at,
                ":one": 1,
                ":deleted": "DELETED",
            },
            ReturnValues="ALL_NEW",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise CorrectionError(f"{key} was deleted or erased meanwhile") from error
        raise
    revision = int(response["Attributes"]["manual_revision"])
    box = RecordedBox(
        left, top, width, height, LABELS[label], "manual", MANUAL_SOURCE,
        added_by=actor, added_at=at, applied=False,
    )  # fmt: skip
    _audit(
        table,
        actor,
        at,
        "manual_box",
        raw_key=key,
        camera=str(item.get("camera_id", "")),
        box={name: entry[name] for name in ("box_id", "left", "top", "width", "height", "label")},
    )
    via, request_id = request_reblur(deployment, key, actor, at)
    return ManualBoxResult(key, box, revision, via, request_id)


def request_reblur(
    deployment: Deployment, key: str, actor: str, at: str
) -> tuple[Literal["live_queue", "live_function"], str]:
    """Ask the live function to blur `key` again with every recorded box."""
    body = json.dumps(reblur_message(key, actor, at), separators=(",", ":"))
    queue = (deployment.queue_names or {}).get("live")
    if queue:
        sqs = deployment.client("sqs")
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        return "live_queue", str(sqs.send_message(QueueUrl=url, MessageBody=body)["MessageId"])
    function = (deployment.function_names or {}).get("live_blur")
    if not function:
        raise CorrectionError("the stack's outputs name neither a live queue nor a live function")
    response = deployment.client("lambda").invoke(
        FunctionName=function, InvocationType="Event", Payload=body.encode()
    )
    return "live_function", str(response.get("ResponseMetadata", {}).get("RequestId", ""))


# Reviews ---------------------------------------------------------------------------------------


def mark_reviewed(deployment: Deployment, key: str, actor: str, clock: Clock = _now) -> str:
    """Mark a published picture as reviewed by `actor`; the time it was marked.

    The mark belongs to the raw version: a new upload of the key is not reviewed.
    """
    table = _table(deployment)
    item = _picture(table, key)
    if item is None or item.get("status") not in PUBLISHED:
        state = item.get("status") if item else "not recorded"
        raise CorrectionError(f"{key} has no published picture to review ({state})")
    at = clock().isoformat()
    if not _mark(table, key, str(item.get("raw_version_id")), actor, at, only_first=False):
        raise CorrectionError(f"{key} changed meanwhile (a new version, or deleted): look again")
    return at


def mark_day_reviewed(
    deployment: Deployment, camera: str, day: str, actor: str, clock: Clock = _now
) -> int:
    """Mark every published picture of `camera` captured on `day` as reviewed; how many were
    marked now (pictures reviewed before keep their first mark)."""
    table = _table(deployment)
    at = clock().isoformat()
    marked = 0
    for entry in query_all(
        table, IndexName=CAPTURE_DAY_INDEX, KeyConditionExpression=Key("capture_day").eq(day)
    ):
        if entry.get("camera_id") != camera or entry.get("status") not in PUBLISHED:
            continue
        marked += _mark(
            table, str(entry["raw_key"]), str(entry.get("raw_version_id")), actor, at, True
        )
    return marked


def _mark(table: Any, key: str, version: str, actor: str, at: str, only_first: bool) -> bool:
    condition = Attr("raw_version_id").eq(version) & Attr("status").is_in(list(PUBLISHED))
    if only_first:
        condition &= Attr("reviewed_at").not_exists()
    try:
        table.update_item(
            Key={"pk": picture_pk(key), "sk": "STATE"},
            UpdateExpression="SET reviewed_at = :at, reviewed_by = :by",
            ConditionExpression=condition,
            ExpressionAttributeValues={":at": at, ":by": actor},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


# Boxes -----------------------------------------------------------------------------------------


def picture_boxes(deployment: Deployment, key: str) -> list[RecordedBox]:
    """Every box recorded for the picture: detections (person, plate, model), zones and manual
    boxes (with who/when, `applied` once a re-blur has put them in the published copy)."""
    table = _table(deployment)
    item = _picture(table, key)
    if item is None:
        return []
    zones = _zone_set(table, str(item.get("camera_id", "")))
    by_bounds = {_bounds_key(zone.box()): zone for zone in zones.zones}
    stored = item.get("boxes", [])
    found: list[RecordedBox] = []
    for entry in stored:
        detector = str(entry.get("source", "live"))
        if detector == MANUAL_SOURCE:
            continue  # listed below, with who and when
        box = _recorded(entry, _source_of(detector, str(entry.get("label", "person"))), detector)
        if box.source == "zone":
            zone = by_bounds.get(_bounds_key(box))
            if zone is not None:
                box = replace(box, zone_id=zone.zone_id, zone_version=zone.version)
        found.append(box)
    applied = {
        _bounds_key(_recorded(entry, "manual", MANUAL_SOURCE))
        for entry in stored
        if entry.get("source") == MANUAL_SOURCE
    }
    for entry in item.get("manual_boxes", []):
        box = _recorded(entry, "manual", MANUAL_SOURCE)
        found.append(
            replace(
                box,
                added_by=str(entry.get("added_by", "")),
                added_at=str(entry.get("added_at", "")),
                applied=_bounds_key(box) in applied,
            )
        )
    return found


def _source_of(detector: str, label: str) -> BoxSource:
    if detector == ZONE_SOURCE:
        return "zone"
    if detector == "custom":
        return "model"
    if label == PLATE_LABEL or "plate" in label:
        return "plate"
    return "person"


def _recorded(entry: dict[str, Any], source: BoxSource, detector: str) -> RecordedBox:
    return RecordedBox(
        left=float(entry["left"]),
        top=float(entry["top"]),
        width=float(entry["width"]),
        height=float(entry["height"]),
        label=str(entry.get("label", "person")),
        source=source,
        detector=detector,
        confidence=float(entry.get("confidence", 100)),
    )


def _bounds_key(box: Any) -> tuple[float, ...]:
    return tuple(round(float(getattr(box, side)), 5) for side in ("left", "top", "width", "height"))


# Zones -----------------------------------------------------------------------------------------


def _zone_set(table: Any, camera: str) -> ZoneSet:
    item = table.get_item(Key=zones_key(camera), ConsistentRead=True).get("Item")
    return ZoneSet.from_item(camera, item)


def list_zones(deployment: Deployment, camera: str, include_ended: bool = False) -> list[Zone]:
    """The camera's zones: the versions that apply now (or still will), or every version."""
    zones = _zone_set(_table(deployment), camera).zones
    return list(zones if include_ended else [zone for zone in zones if zone.active])


def set_zone(
    deployment: Deployment,
    camera: str,
    actor: str,
    rectangle: Sequence[float] | None = None,
    polygon: Sequence[tuple[float, float]] | None = None,
    zone_id: str | None = None,
    since: datetime | None = None,
    clock: Clock = _now,
) -> Zone:
    """Add a zone (or a new version of `zone_id`) applying to pictures captured from `since`
    (default now) on. A new version ends the previous one at `since`: pictures captured
    before keep the old shape. Audited."""
    now = clock()
    start = (since or now).astimezone(UTC).isoformat()

    def change(current: ZoneSet) -> tuple[list[Zone], Zone]:
        zones = list(current.zones)
        ids = {zone.zone_id for zone in zones}
        name = zone_id or _next_zone_id(ids)
        versions = [zone for zone in zones if zone.zone_id == name]
        for index, zone in enumerate(zones):
            if zone.zone_id == name and zone.active:
                if _later(zone.since, start):
                    raise CorrectionError(
                        f"zone {name} version {zone.version} starts at {zone.since}, after {start}"
                    )
                zones[index] = replace(zone, until=start, ended_by=actor, ended_at=now.isoformat())
        try:
            new = Zone(
                zone_id=name,
                version=max((zone.version for zone in versions), default=0) + 1,
                since=start,
                rectangle=tuple(_checked_box(*rectangle)) if rectangle else None,  # type: ignore[arg-type]
                polygon=tuple((_ratio("x", x), _ratio("y", y)) for x, y in polygon)
                if polygon
                else None,
                created_by=actor,
                created_at=now.isoformat(),
            )
        except (ValueError, TypeError) as error:
            raise CorrectionError(str(error)) from error
        return [*zones, new], new

    return _write_zones(deployment, camera, actor, now, "zone_set", change)


def remove_zone(
    deployment: Deployment, camera: str, zone_id: str, actor: str, clock: Clock = _now
) -> Zone:
    """End the zone now: pictures captured from now on no longer get it; the ones captured
    while it applied keep it in every later pass. Audited."""
    now = clock()

    def change(current: ZoneSet) -> tuple[list[Zone], Zone]:
        zones = list(current.zones)
        for index, zone in enumerate(zones):
            if zone.zone_id == zone_id and zone.active:
                until = max(now.isoformat(), zone.since, key=_utc_key)
                zones[index] = replace(zone, until=until, ended_by=actor, ended_at=now.isoformat())
                return zones, zones[index]
        raise CorrectionError(f"camera {camera} has no zone {zone_id} in force")

    return _write_zones(deployment, camera, actor, now, "zone_remove", change)


def _write_zones(
    deployment: Deployment,
    camera: str,
    actor: str,
    now: datetime,
    action: str,
    change: Callable[[ZoneSet], tuple[list[Zone], Zone]],
) -> Zone:
    """Read, change, write conditional on the revision read; again if another write won."""
    table = _table(deployment)
    for _ in range(WRITE_ATTEMPTS):
        current = _zone_set(table, camera)
        zones, changed = change(current)
        condition = (
            Attr("pk").not_exists()
            if current.revision == 0
            else Attr("revision").eq(current.revision)
        )
        try:
            table.put_item(
                Item={
                    **zones_key(camera),
                    "camera": camera,  # not camera_id: the zones item stays out of by_camera
                    "revision": current.revision + 1,
                    "updated_at": now.isoformat(),
                    "updated_by": actor,
                    "zones": [zone.to_item() for zone in zones],
                },
                ConditionExpression=condition,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                continue
            raise
        _audit(
            table,
            actor,
            now.isoformat(),
            action,
            camera=camera,
            zone=changed.to_item(),
        )
        return changed
    raise CorrectionError(f"the zones of {camera} kept changing; try again")


def _next_zone_id(ids: set[str]) -> str:
    number = 1
    while f"zone-{number}" in ids:
        number += 1
    return f"zone-{number}"


def _utc_key(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _later(first: str, second: str) -> bool:
    return _utc_key(first) > _utc_key(second)


def _decimal(value: float) -> Any:
    from decimal import Decimal

    return Decimal(str(round(value, 6)))
