"""Parse the AWS event shapes camblur receives into plain values."""

from __future__ import annotations

from collections.abc import Mapping
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


# AWS documents that two sequencers of one key compare as hex strings after the shorter is
# left-padded with zeros; padding every one to a fixed width makes plain string order right.
SEQUENCER_WIDTH = 64


def sequence_order(sequencer: str) -> str:
    """A sortable form of S3's sequencer; "" when the event had none (a hand-made event)."""
    return sequencer.upper().rjust(SEQUENCER_WIDTH, "0") if sequencer else ""


@dataclass(frozen=True)
class ObjectEvent:
    """One record of an S3 notification: an object version created, or removed."""

    bucket: str
    key: str
    version_id: str  # NULL_VERSION_ID when the bucket was not versioned
    size: int
    event_time: datetime
    sequencer: str
    removed: bool = False  # ObjectRemoved:Delete or ObjectRemoved:DeleteMarkerCreated

    @property
    def order(self) -> str:
        return sequence_order(self.sequencer)

    def camera_id(self, key_prefix: str = "") -> str:
        return camera_id(self.key, key_prefix)


UNKNOWN_CAMERA = "unknown"


def camera_id(key: str, key_prefix: str = "") -> str:
    """Cameras upload under `[<key prefix>]<camera id>/...`.

    The camera id is the first path segment after the prefix that is neither empty nor
    `.`/`..` (so `//cam-1/x.jpg` and `/cam-1/x.jpg` are cam-1's); a key without such a
    segment followed by a file name belongs to camera `unknown`.
    """
    relative = key.removeprefix(key_prefix)
    segments = [part for part in relative.split("/") if part not in ("", ".")]
    if len(segments) < 2 or segments[0] == "..":
        return UNKNOWN_CAMERA
    return segments[0]


# Requests of our own to the live function, on the live queue or as an asynchronous payload,
# in the shape of S3's own s3:TestEvent: {"Event": ..., "Key": ..., more fields}.
# `camblur reprocess` (and a redrive of one): a forced redo of the version S3 serves now.
REPROCESS_EVENT = "camblur:Reprocess"
# `camblur blur` / the review page (camblur.corrections): blur again with every recorded box.
REBLUR_EVENT = "camblur:Reblur"


def reprocess_request(key: str) -> dict[str, str]:
    return {"Event": REPROCESS_EVENT, "Key": key}


def reprocess_key(event: Mapping[str, Any]) -> str | None:
    """The raw key a reprocess request names; None for any other event."""
    return _request_key(event, REPROCESS_EVENT)


def reblur_key(event: Mapping[str, Any]) -> str | None:
    """The raw key a reblur request names; None for any other event."""
    return _request_key(event, REBLUR_EVENT)


def _request_key(event: Mapping[str, Any], kind: str) -> str | None:
    if event.get("Event") != kind:
        return None
    key = event.get("Key")
    if not isinstance(key, str) or not key:
        raise ValueError(f"a {kind} request needs a Key: {str(event)[:200]}")
    return key


def object_events(event: dict[str, Any]) -> list[ObjectEvent]:
    """Every ObjectCreated / ObjectRemoved record of an S3 event; S3 URL-encodes keys, so
    decode each one (not only the first, as Powertools' S3Event.object_key does)."""
    objects = []
    for record in event.get("Records", []):
        name = str(record.get("eventName", ""))
        if not name.startswith(("ObjectCreated:", "ObjectRemoved:")):
            continue
        s3 = record["s3"]
        objects.append(
            ObjectEvent(
                bucket=s3["bucket"]["name"],
                key=unquote_plus(s3["object"]["key"]),
                version_id=s3["object"].get("versionId") or NULL_VERSION_ID,
                size=int(s3["object"].get("size", 0)),
                event_time=_parse_time(record.get("eventTime")),
                sequencer=s3["object"].get("sequencer", ""),
                removed=name.startswith("ObjectRemoved:"),
            )
        )
    return objects


def _parse_time(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
