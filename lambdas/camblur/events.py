"""Parse the AWS event shapes camblur receives into plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

# S3's own version id for an object written while versioning was off (and what an event without
# a versionId refers to). Every version id camblur handles is a string; this is the only place
# that knows the placeholder.
NULL_VERSION_ID = "null"


def pinned_version(version_id: str) -> str | None:
    """The version id to pin a read to, or None where S3 has only the one (null) version."""
    return None if version_id in ("", NULL_VERSION_ID) else version_id


@dataclass(frozen=True)
class UploadedObject:
    """One record of an S3 ObjectCreated notification."""

    bucket: str
    key: str
    version_id: str  # NULL_VERSION_ID when the bucket was not versioned
    size: int
    event_time: datetime
    sequencer: str

    def camera_id(self, key_prefix: str = "") -> str:
        """Cameras upload under `[<key prefix>]<camera id>/...`; a key without one has no camera."""
        relative = self.key.removeprefix(key_prefix)
        return relative.split("/", 1)[0] if "/" in relative else "unknown"


def uploaded_objects(event: dict[str, Any]) -> list[UploadedObject]:
    """Every ObjectCreated record of an S3 event; S3 URL-encodes keys, so decode each one."""
    objects = []
    for record in event.get("Records", []):
        if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        s3 = record["s3"]
        objects.append(
            UploadedObject(
                bucket=s3["bucket"]["name"],
                key=unquote_plus(s3["object"]["key"]),
                version_id=s3["object"].get("versionId") or NULL_VERSION_ID,
                size=int(s3["object"].get("size", 0)),
                event_time=_parse_time(record.get("eventTime")),
                sequencer=s3["object"].get("sequencer", ""),
            )
        )
    return objects


def _parse_time(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
