"""S3: read raw pictures, write blurred ones."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from camblur.adapters.aws import client
from camblur.events import NULL_VERSION_ID, pinned_version

MISSING_CODES = frozenset({"NoSuchKey", "NoSuchVersion", "404", "NotFound"})


class RawPictureMissing(Exception):  # noqa: N818 - names the situation, not a failure
    """The raw picture (or that version of it) is gone: expired by lifecycle or deleted."""


class PictureStore:
    def __init__(self, s3: Any = None) -> None:
        self._s3 = s3 or client("s3")

    def read(self, bucket: str, key: str, version_id: str | None = None) -> bytes:
        try:
            response = self._s3.get_object(Bucket=bucket, Key=key, **_version(version_id))
        except ClientError as error:
            if error.response["Error"]["Code"] in MISSING_CODES:
                raise RawPictureMissing(f"s3://{bucket}/{key}") from error
            raise
        return bytes(response["Body"].read())

    def current_version(self, bucket: str, key: str) -> str | None:
        """The version id S3 serves for `key` now; None when it is gone (or a delete marker)."""
        try:
            head = self._s3.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response["Error"]["Code"] in MISSING_CODES:
                return None
            raise
        return str(head.get("VersionId") or NULL_VERSION_ID)

    def remove_every_version(self, bucket: str, key: str) -> int:
        """Delete every version and delete marker of exactly `key`; the count removed.

        A plain DELETE on a versioned bucket only adds a marker: the picture would stay
        retrievable by its version id.
        """
        removed = 0
        paginator = self._s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=bucket, Prefix=key):
            for entry in (*page.get("Versions", []), *page.get("DeleteMarkers", [])):
                if entry["Key"] != key:
                    continue
                self._s3.delete_object(Bucket=bucket, Key=key, VersionId=entry["VersionId"])
                removed += 1
        return removed

    def remove_noncurrent_versions(self, bucket: str, key: str) -> int:
        """Delete every version of exactly `key` but the current one; the count removed."""
        removed = 0
        paginator = self._s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=bucket, Prefix=key):
            for entry in (*page.get("Versions", []), *page.get("DeleteMarkers", [])):
                if entry["Key"] != key or entry.get("IsLatest"):
                    continue
                self._s3.delete_object(Bucket=bucket, Key=key, VersionId=entry["VersionId"])
                removed += 1
        return removed

    def write_jpeg(self, bucket: str, key: str, data: bytes) -> None:
        # No user metadata and no tags are copied from the raw object: only pixels leave.
        self._s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="image/jpeg")


def _version(version_id: str | None) -> dict[str, str]:
    pinned = pinned_version(version_id or "")
    return {"VersionId": pinned} if pinned else {}


def blurred_key_for(raw_key: str) -> str:
    """The blurred picture's key: the raw key if it is a .jpg/.jpeg, else the raw key + '.jpg'."""
    return raw_key if raw_key.lower().endswith((".jpg", ".jpeg")) else f"{raw_key}.jpg"
