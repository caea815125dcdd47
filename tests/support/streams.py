"""The state table's DynamoDB stream in moto, as Lambda's stream poller hands it over.

moto records every change of a table with a stream (the same records its dynamodbstreams
API serves); Lambda's event adds eventSourceARN and the region, and sends the creation time
as epoch seconds (devtools/deliver.py lambda_stream_record, what the local poller sends).
"""

from __future__ import annotations

from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from devtools.deliver import lambda_stream_record
from tests.support.aws import REGION


def enable_stream(dynamodb: Any, table: str) -> None:
    dynamodb.update_table(
        TableName=table,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


class StateStream:
    """Reads what the table's stream recorded since the last read, as Lambda records."""

    def __init__(self, table: str) -> None:
        self._table = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table(table)
        self._read = 0

    def records(self) -> list[dict[str, Any]]:
        shard = self._table.stream_shard
        new = shard.items[self._read :]
        self._read = len(shard.items)
        return [self._as_lambda(record.to_json()) for record in new]

    def _as_lambda(self, record: dict[str, Any]) -> dict[str, Any]:
        arn = self._table.describe()["TableDescription"]["LatestStreamArn"]
        return lambda_stream_record(record, arn)


def stream_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}
