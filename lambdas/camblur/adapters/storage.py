"""S3: read raw pictures, write blurred ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from camblur.adapters.aws import client

MISSING_CODES = frozenset({"NoSuchKey", "NoSuchVersion", "404", "NotFound"})


class RawPictureMissing(Exception):  # noqa: N818 - names the situation, not a failure
    """The raw picture (or that version of it) is gone: expired by lifecycle or deleted."""


@dataclass(frozen=True)
class StoredObject:
    data: bytes


class PictureStore:
    def __init__(self, s3: Any = None) -> None:
        self._s3 = s3 or client("s3")

    def read(self, bucket: str, key: str, version_id: str | None = None) -> StoredObject:
        try:
            response = self._s3.get_object(Bucket=bucket, Key=key, **_version(version_id))
        except ClientError as error:
            if error.response["Error"]["Code"] in MISSING_CODES:
                raise RawPictureMissing(f"s3://{bucket}/{key}") from error
            raise
        return StoredObject(response["Body"].read())

    def write_jpeg(self, bucket: str, key: str, data: bytes) -> None:
        # No user metadata and no tags are copied from the raw object: only pixels leave.
        self._s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="image/jpeg")


def _version(version_id: str | None) -> dict[str, str]:
    return {"VersionId": version_id} if version_id and version_id != "null" else {}


def blurred_key_for(raw_key: str) -> str:
    """The blurred picture's key: the raw key if it is a .jpg/.jpeg, else the raw key + '.jpg'."""
    return raw_key if raw_key.lower().endswith((".jpg", ".jpeg")) else f"{raw_key}.jpg"
