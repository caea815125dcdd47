"""Create the AWS resources the handlers use, the way Terraform does, inside moto."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REGION = "eu-west-1"


@dataclass(frozen=True)
class Stack:
    raw_bucket: str
    blurred_bucket: str
    state_table: str
    s3: Any
    dynamodb: Any
    rekognition: Any


def create_bucket(s3: Any, name: str) -> None:
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def s3_put_event(
    bucket: str,
    key: str,
    version_id: str | None,
    size: int,
    event_time: str = "2026-11-25T10:15:00.000Z",
    sequencer: str = "0055AED6DCD90281E5",
) -> dict[str, Any]:
    """An S3 ObjectCreated:Put notification, exactly as Lambda receives it (key URL-encoded)."""
    from urllib.parse import quote_plus

    obj: dict[str, Any] = {
        "key": quote_plus(key, safe="/"),
        "size": size,
        "eTag": "0",
        "sequencer": sequencer,
    }
    if version_id:
        obj["versionId"] = version_id
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": event_time,
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "AWS:CAMERA"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "live-blur",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": obj,
                },
            }
        ]
    }


def s3_removed_event(
    bucket: str, key: str, version_id: str, sequencer: str, delete_marker: bool = True
) -> dict[str, Any]:
    """An S3 ObjectRemoved notification: a delete marker created, or one version deleted."""
    event = s3_put_event(bucket, key, version_id, 0, sequencer=sequencer)
    record = event["Records"][0]
    record["eventName"] = (
        "ObjectRemoved:DeleteMarkerCreated" if delete_marker else "ObjectRemoved:Delete"
    )
    del record["s3"]["object"]["size"]
    return event


def create_state_table(dynamodb: Any, name: str) -> None:
    """The blur-state table as terraform/modules/storage/table.tf creates it: same keys (pk/sk)
    and the same indexes (by_capture_day, by_camera) with the same projections."""
    status_attributes = ["status", "reason", "refine_outcome", "raw_key", "raw_version_id"]

    def index(name: str, hash_key: str, range_key: str, extra: str) -> dict[str, Any]:
        return {
            "IndexName": name,
            "KeySchema": [
                {"AttributeName": hash_key, "KeyType": "HASH"},
                {"AttributeName": range_key, "KeyType": "RANGE"},
            ],
            "Projection": {
                "ProjectionType": "INCLUDE",
                "NonKeyAttributes": [*status_attributes, extra],
            },
        }

    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": attribute, "AttributeType": "S"}
            for attribute in ("pk", "sk", "capture_day", "camera_id", "captured_at")
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            index("by_capture_day", "capture_day", "pk", "camera_id"),
            index("by_camera", "camera_id", "captured_at", "capture_day"),
        ],
    )
