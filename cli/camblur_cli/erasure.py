"""Erasure on request: every trace of one picture, or of a camera (optionally in a time range).

What goes: every raw version and delete marker, every blurred version, the state item. What
stays: one audit item (who, when, what, counts) under `AUDIT#ERASURE`, which names the scope
but holds no picture. Running the same erasure again finds nothing and records that too.

A time range selects pictures by their capture time (the state item's `captured_at`, or the
raw object's LastModified when no item is left); every version of a selected picture goes.

A camera's pictures are found in the state index and in both buckets, by the camera-id rule
(camblur.events.camera_id): `cameras/cam-1/x.jpg`, `cameras//cam-1/x.jpg` and
`cameras/./cam-1/x.jpg` are all cam-1's, also once their item has expired.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Key

from camblur.adapters.state import picture_pk
from camblur.adapters.storage import PictureStore, blurred_key_for
from camblur.events import UNKNOWN_CAMERA, camera_id
from camblur_cli.deployment import Deployment
from camblur_cli.listing import object_versions, query_all

CAMERA_INDEX = "by_camera"
AUDIT_PK = "AUDIT#ERASURE"


@dataclass(frozen=True)
class Scope:
    key: str | None = None
    camera: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if (self.key is None) == (self.camera is None):
            raise ValueError("erase one picture (--key) or one camera (--camera), not both")
        if self.key is not None and (self.since or self.until):
            raise ValueError("--since/--until select pictures of a camera; --key is one picture")

    def describe(self) -> str:
        if self.key is not None:
            return f"picture {self.key}"
        window = ""
        if self.since or self.until:
            window = (
                f" captured from {_iso(self.since) or 'the start'} to {_iso(self.until) or 'now'}"
            )
        return f"camera {self.camera}{window}"

    def covers(self, moment: datetime | None) -> bool:
        if moment is None:
            return self.since is None and self.until is None
        return (self.since is None or moment >= self.since) and (
            self.until is None or moment < self.until
        )


@dataclass
class Erasure:
    """What an erasure found, then removed."""

    scope: Scope
    raw_keys: set[str] = field(default_factory=set)
    blurred_keys: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(
        default_factory=lambda: {
            "pictures": 0,
            "raw_versions": 0,
            "blurred_versions": 0,
            "state_items": 0,
        }
    )


class Eraser:
    def __init__(
        self, deployment: Deployment, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._deployment = deployment
        self._s3 = deployment.client("s3")
        self._store = PictureStore(self._s3)
        self._table = deployment.resource("dynamodb").Table(deployment.state_table)
        self._clock = clock

    def find(self, scope: Scope) -> Erasure:
        """Every picture the scope selects: from the state index and from both buckets."""
        erasure = Erasure(scope)
        if scope.key is not None:
            erasure.raw_keys.add(scope.key)
        else:
            for item in self._camera_items(scope):
                erasure.raw_keys.add(item["raw_key"])
            for bucket, keys in (
                (self._deployment.raw_bucket, erasure.raw_keys),
                (self._deployment.blurred_bucket, erasure.blurred_keys),
            ):
                keys.update(
                    entry["Key"]
                    for entry in self._camera_versions(bucket, scope.camera)
                    if scope.covers(entry.get("LastModified"))
                )
        published = {blurred_key_for(key) for key in erasure.raw_keys}
        # Blurred copies whose raw picture and item are gone already count as pictures too.
        erasure.counts["pictures"] = len(erasure.raw_keys) + len(erasure.blurred_keys - published)
        erasure.blurred_keys |= published
        return erasure

    def erase(self, erasure: Erasure, who: str, advance: Callable[[], None] = lambda: None) -> None:
        """Remove what `find` found (each key: raw versions, blurred versions, item) and audit."""
        for key in sorted(erasure.raw_keys):
            # The item first: the removal events the raw deletes cause then find no item, and
            # create none (camblur.live_pass).
            self._table.delete_item(Key={"pk": picture_pk(key), "sk": "STATE"})
            erasure.counts["state_items"] += 1
            erasure.counts["raw_versions"] += self._store.remove_every_version(
                self._deployment.raw_bucket, key
            )
            advance()
        for key in sorted(erasure.blurred_keys):
            erasure.counts["blurred_versions"] += self._store.remove_every_version(
                self._deployment.blurred_bucket, key
            )
        now = self._clock()
        self._table.put_item(
            Item={
                "pk": AUDIT_PK,
                "sk": f"{now.isoformat()}#{uuid.uuid4()}",
                "who": who,
                "at": now.isoformat(),
                "scope": erasure.scope.describe(),
                **erasure.counts,
            }
        )

    def _camera_items(self, scope: Scope) -> Iterator[dict[str, Any]]:
        condition = Key("camera_id").eq(scope.camera)
        if scope.since and scope.until:
            condition &= Key("captured_at").between(
                scope.since.isoformat(), scope.until.isoformat()
            )
        elif scope.since:
            condition &= Key("captured_at").gte(scope.since.isoformat())
        elif scope.until:
            condition &= Key("captured_at").lt(scope.until.isoformat())
        for item in query_all(
            self._table, IndexName=CAMERA_INDEX, KeyConditionExpression=condition
        ):
            # between() includes its upper bound; the scope's range does not.
            if scope.until is None or item["captured_at"] < scope.until.isoformat():
                yield item

    def _versions(self, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
        return (entry for _, entry in object_versions(self._s3, bucket, prefix))

    def _camera_versions(self, bucket: str, camera: str) -> Iterator[dict[str, Any]]:
        """Every version and delete marker of every key whose camera id is `camera`."""
        root = self._deployment.raw_key_prefix
        for prefix in self._camera_prefixes(bucket, camera):
            for entry in self._versions(bucket, prefix):
                if camera_id(entry["Key"], root) == camera:
                    yield entry

    def _camera_prefixes(self, bucket: str, camera: str) -> Iterator[str]:
        """The folders that can hold `camera`'s keys: `<root>[(/|./)...]<camera>/`, walked one
        level at a time (empty and `.` segments are skipped by the camera-id rule), so that
        other cameras' pictures are never listed. Keys of camera `unknown` have no such folder:
        the whole root is listed for them."""
        root = self._deployment.raw_key_prefix
        if camera == UNKNOWN_CAMERA:
            yield root
            return
        pending = [root]
        while pending:
            level = pending.pop()
            paginator = self._s3.get_paginator("list_object_versions")
            for page in paginator.paginate(Bucket=bucket, Prefix=level, Delimiter="/"):
                for common in page.get("CommonPrefixes", []):
                    segment = common["Prefix"][len(level) :].removesuffix("/")
                    if segment in ("", "."):
                        pending.append(common["Prefix"])
                    elif segment == camera:
                        yield common["Prefix"]


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""
