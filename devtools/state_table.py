"""The blur-state table as terraform/modules/storage/table.tf creates it, for moto-backed tests
and benchmarks: the same keys (pk/sk) and the same GSI (by_capture_day)."""

from __future__ import annotations

from typing import Any


def create_state_table(dynamodb: Any, name: str) -> None:
    """Same keys and GSI as terraform/modules/storage (pk/sk, by_capture_day)."""
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "capture_day", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_capture_day",
                "KeySchema": [
                    {"AttributeName": "capture_day", "KeyType": "HASH"},
                    {"AttributeName": "pk", "KeyType": "RANGE"},
                ],
                "Projection": {
                    "ProjectionType": "INCLUDE",
                    "NonKeyAttributes": ["status", "raw_key", "raw_version_id"],
                },
            }
        ],
    )
