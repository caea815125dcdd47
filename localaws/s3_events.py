"""S3 event notifications as AWS writes them, for the embedded endpoint and devtools/deliver.py.

AWS's message (docs: "Event message structure"): one record per event, the key URL-encoded
(a space as "+"), the version id on versioned buckets, size and eTag only for created objects,
and a sequencer that orders the events of one key. When a bucket's notification configuration
is written, S3 sends each queue (and topic) destination one `s3:TestEvent` message first.

The embedded endpoint builds every notification with `record()` (localaws/embedded.py patches
moto with it), so an upload by any client through the endpoint sends AWS's exact message to an
SQS destination; deliver.py builds redeliveries (S3 delivers at least once) with the same code.
"""

from __future__ import annotations

import base64
import itertools
import os
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

OWNER_ID = "LOCALOWNER"  # the bucket owner's canonical id in events
REQUESTER_ID = "AWS:LOCALCAMERA"

_counter = itertools.count()
_lock = threading.Lock()


def now_iso() -> str:
    """S3's timestamp format: 2026-11-25T10:15:00.123Z."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def sequencer() -> str:
    """Increasing across processes on one machine (nanoseconds), unique within one."""
    with _lock:
        return f"{time.time_ns():016X}{next(_counter) % 0x10000:04X}"


def _request_ids() -> dict[str, str]:
    return {
        "x-amz-request-id": uuid.uuid4().hex[:16].upper(),
        "x-amz-id-2": base64.b64encode(os.urandom(48)).decode(),
    }


def record(
    *,
    event_name: str,
    bucket: str,
    region: str,
    key: str,
    configuration_id: str,
    version_id: str | None = None,
    size: int | None = None,
    etag: str | None = None,
    sequence: str | None = None,
) -> dict[str, Any]:
    """One record; event_name without the "s3:" prefix (ObjectCreated:Put)."""
    obj: dict[str, Any] = {"key": quote_plus(key, safe="/")}
    if event_name.startswith("ObjectCreated:"):
        obj["size"] = int(size or 0)
        obj["eTag"] = (etag or "").strip('"')
    if version_id and version_id != "null":
        obj["versionId"] = version_id
    obj["sequencer"] = sequence or sequencer()
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": now_iso(),
        "eventName": event_name,
        "userIdentity": {"principalId": REQUESTER_ID},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": _request_ids(),
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": OWNER_ID},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": obj,
        },
    }


def test_event(bucket: str) -> dict[str, Any]:
    """What S3 sends a queue when a notification configuration naming it is written."""
    ids = _request_ids()
    return {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": now_iso(),
        "Bucket": bucket,
        "RequestId": ids["x-amz-request-id"],
        "HostId": ids["x-amz-id-2"],
    }


def event_matches(patterns: list[str], event_name: str) -> bool:
    """'s3:ObjectCreated:*' matches 'ObjectCreated:Put'."""
    for pattern in patterns:
        pattern = pattern.removeprefix("s3:")
        if pattern == event_name or (pattern.endswith("*") and event_name.startswith(pattern[:-1])):
            return True
    return False


def filter_matches(rule_filter: dict[str, Any] | None, key: str) -> bool:
    """A notification's prefix/suffix filter (case-sensitive, as S3's)."""
    for rule in (rule_filter or {}).get("Key", {}).get("FilterRules", []):
        name, value = rule["Name"].lower(), rule["Value"]
        if name == "prefix" and not key.startswith(value):
            return False
        if name == "suffix" and not key.endswith(value):
            return False
    return True
