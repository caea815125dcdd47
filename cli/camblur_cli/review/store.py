"""What the review page reads: cameras, days and pictures from the indexes, blurred copies only.

A picture is named by its id, the hash in its item's key (`PICTURE#<id>`), never by a bucket
URL: the server reads the item, then the blurred copy the item names, from the blurred bucket.
Nothing here has a way to read the raw bucket.
"""

from __future__ import annotations

import io
import re
import threading
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from PIL import Image

from camblur.adapters.state import CAPTURE_DAY_INDEX
from camblur.adapters.storage import blurred_key_for
from camblur_cli.corrections import PUBLISHED, picture_boxes
from camblur_cli.deployment import Deployment
from camblur_cli.erasure import CAMERA_INDEX
from camblur_cli.listing import query_all

PICTURE_ID = re.compile(r"[0-9a-f]{64}")
# Only pictures with these statuses (corrections.PUBLISHED) have a blurred copy to show; any
# other (DELETED, REJECTED...) shows nothing, even if an old copy were still in the bucket.
THUMBNAIL_PX = 320
THUMBNAILS_KEPT = 512
BATCH_GET = 100  # DynamoDB's BatchGetItem limit
GRID_ATTRIBUTES = ("pk", "raw_key", "status", "captured_at", "updated_at", "reviewed_at")


def picture_id(pk: str) -> str:
    return pk.removeprefix("PICTURE#")


@dataclass(frozen=True)
class Blurred:
    data: bytes
    version_id: str


class ReviewStore:
    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self._table = deployment.resource("dynamodb").Table(deployment.state_table)
        self._dynamodb = deployment.resource("dynamodb")
        self._s3 = deployment.client("s3")
        self._thumbnails: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ listing
    def cameras(self, days: int, today: str | None = None) -> list[dict[str, Any]]:
        """Cameras seen on the last `days` capture days (one index Query per day), with counts."""
        last = datetime.fromisoformat(today).date() if today else datetime.now(UTC).date()
        # Capture days are in the stack's time zone: one day ahead of UTC covers every zone.
        last += timedelta(days=1)
        found: dict[str, dict[str, Counter[str]]] = defaultdict(dict)
        for back in range(days + 1):
            day = (last - timedelta(days=back)).isoformat()
            items = query_all(
                self._table,
                IndexName=CAPTURE_DAY_INDEX,
                KeyConditionExpression=Key("capture_day").eq(day),
                ProjectionExpression="camera_id, #s",
                ExpressionAttributeNames={"#s": "status"},
            )
            for item in items:
                camera = str(item.get("camera_id", "?"))
                found[camera].setdefault(day, Counter())[str(item.get("status", "?"))] += 1
        return [
            {
                "camera": camera,
                "days": len(per_day),
                "pictures": sum(sum(counts.values()) for counts in per_day.values()),
                "last_day": max(per_day),
            }
            for camera, per_day in sorted(found.items())
        ]

    def days(self, camera: str) -> list[dict[str, Any]]:
        """Every capture day of one camera (its index), newest first, with counts by status."""
        per_day: dict[str, Counter[str]] = defaultdict(Counter)
        items = query_all(
            self._table,
            IndexName=CAMERA_INDEX,
            KeyConditionExpression=Key("camera_id").eq(camera),
            ProjectionExpression="capture_day, #s",
            ExpressionAttributeNames={"#s": "status"},
        )
        for item in items:
            per_day[str(item.get("capture_day", "?"))][str(item.get("status", "?"))] += 1
        return [
            {"day": day, "pictures": sum(counts.values()), "counts": dict(counts)}
            for day, counts in sorted(per_day.items(), reverse=True)
        ]

    def pictures(self, camera: str, day: str) -> list[dict[str, Any]]:
        """One camera's pictures of one day, in capture order, with status and review marks.

        The day index gives the keys; the review marks live on the items only, so they are read
        in batches of a hundred (a 1,440-picture day is 15 BatchGetItem calls).
        """
        keys = [
            item["pk"]
            for item in query_all(
                self._table,
                IndexName=CAPTURE_DAY_INDEX,
                KeyConditionExpression=Key("capture_day").eq(day),
                FilterExpression=Attr("camera_id").eq(camera),
                ProjectionExpression="pk",
            )
        ]
        items = self._batch_get(keys)
        rows = [
            {
                "id": picture_id(item["pk"]),
                "key": item.get("raw_key"),
                "status": item.get("status"),
                "captured_at": item.get("captured_at"),
                "updated_at": item.get("updated_at"),
                "reviewed": bool(item.get("reviewed_at")),
                "published": item.get("status") in PUBLISHED,
            }
            for item in items
        ]
        return sorted(rows, key=lambda row: (str(row["captured_at"]), str(row["key"])))

    def _batch_get(self, pks: list[str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        names = {f"#a{index}": name for index, name in enumerate(GRID_ATTRIBUTES)}
        for start in range(0, len(pks), BATCH_GET):
            request: dict[str, Any] = {
                self.deployment.state_table: {
                    "Keys": [{"pk": pk, "sk": "STATE"} for pk in pks[start : start + BATCH_GET]],
                    "ProjectionExpression": ", ".join(names),
                    "ExpressionAttributeNames": names,
                }
            }
            while request:
                answer = self._dynamodb.batch_get_item(RequestItems=request)
                found.extend(answer["Responses"].get(self.deployment.state_table, []))
                request = answer.get("UnprocessedKeys") or {}
        return found

    # ------------------------------------------------------------------ one picture
    def item(self, picture: str) -> dict[str, Any] | None:
        if not PICTURE_ID.fullmatch(picture):
            return None
        return self._table.get_item(
            Key={"pk": f"PICTURE#{picture}", "sk": "STATE"}, ConsistentRead=True
        ).get("Item")

    def picture(self, picture: str) -> dict[str, Any] | None:
        """What the large view shows: status, boxes with their kind, review mark, copy version."""
        item = self.item(picture)
        if item is None:
            return None
        boxes = [box.as_json() for box in picture_boxes(self.deployment, str(item["raw_key"]))]
        published = item.get("status") in PUBLISHED
        return {
            "id": picture,
            "key": item.get("raw_key"),
            "camera": item.get("camera_id"),
            "day": item.get("capture_day"),
            "status": item.get("status"),
            "captured_at": item.get("captured_at"),
            "updated_at": item.get("updated_at"),
            "reviewed_at": item.get("reviewed_at"),
            "reviewed_by": item.get("reviewed_by"),
            "boxes": boxes,
            "published": published,
            "version": self._current_version(item) if published else None,
        }

    def blurred(self, picture: str, thumbnail: bool) -> Blurred | None:
        """The current blurred copy (or a thumbnail of it) of a published picture, else None."""
        item = self.item(picture)
        if item is None or item.get("status") not in PUBLISHED:
            return None
        key = _blurred_key(item)
        try:
            answer = self._s3.get_object(Bucket=self.deployment.blurred_bucket, Key=key)
        except self._s3.exceptions.NoSuchKey:
            return None
        version = str(answer.get("VersionId") or "null")
        if not thumbnail:
            return Blurred(answer["Body"].read(), version)
        cached = (key, version)
        with self._lock:
            if cached in self._thumbnails:
                self._thumbnails.move_to_end(cached)
                answer["Body"].close()
                return Blurred(self._thumbnails[cached], version)
        small = _thumbnail(answer["Body"].read())
        with self._lock:
            self._thumbnails[cached] = small
            while len(self._thumbnails) > THUMBNAILS_KEPT:
                self._thumbnails.popitem(last=False)
        return Blurred(small, version)

    def _current_version(self, item: dict[str, Any]) -> str | None:
        try:
            head = self._s3.head_object(
                Bucket=self.deployment.blurred_bucket, Key=_blurred_key(item)
            )
        except self._s3.exceptions.ClientError:
            return None
        return str(head.get("VersionId") or "null")


def _blurred_key(item: dict[str, Any]) -> str:
    return str(item.get("blurred_key") or blurred_key_for(str(item["raw_key"])))


def _thumbnail(data: bytes) -> bytes:
    """A small JPEG of a blurred copy; decoded at reduced scale (draft), no metadata kept."""
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (THUMBNAIL_PX, THUMBNAIL_PX))
        small = image.convert("RGB")
        small.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=80)
    return out.getvalue()
