"""The embedded endpoint's Query patch (localaws/moto_query.py) answers as moto does.

Given tables shaped like the state table (pk/sk, a GSI on capture_day and pk; items large
enough that pages are cut at 1 MB) and a table with a hash key only,
when the same queries are paged through with and without the patch,
then every page is the same (items, their order, Count, ScannedCount, LastEvaluatedKey),
and a Query of the table no longer sorts the whole table: only its partition is read.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models.table import Table

from localaws import moto_query

REGION = "eu-west-1"
STATE = "state"
PLAIN = "plain"


def create_tables(client: Any) -> None:
    client.create_table(
        TableName=STATE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "capture_day")
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-day",
                "KeySchema": [
                    {"AttributeName": "capture_day", "KeyType": "HASH"},
                    {"AttributeName": "pk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    client.create_table(
        TableName=PLAIN,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )


def seed(resource: Any) -> None:
    rand = random.Random(7)
    with resource.Table(STATE).batch_writer() as batch:
        for camera in range(6):
            for slot in range(150):
                day = f"2026-11-{24 + slot % 3}"
                batch.put_item(
                    Item={
                        "pk": f"COUNTS#{day}" if slot % 10 == 0 else f"PICTURE#{rand.random()}",
                        "sk": f"cam-{camera}" if slot % 10 == 0 else "STATE",
                        "capture_day": day,
                        "status": rand.choice(["LIVE_BLURRED", "REFINED", "REJECTED"]),
                        "padding": "x" * rand.choice([10, 2_000, 30_000]),  # 1 MB pages
                    }
                )
        for run in range(12):
            batch.put_item(Item={"pk": "RUN#REPROCESSES", "sk": f"{run:04d}", "n": run})
    with resource.Table(PLAIN).batch_writer() as batch:
        for name in ("a", "b", "c"):
            batch.put_item(Item={"pk": name, "v": name * 3})


QUERIES: list[tuple[str, dict[str, Any]]] = [
    (
        "a day's summaries",
        {
            "TableName": STATE,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "COUNTS#2026-11-25"}},
        },
    ),
    (
        "the last runs, newest first",
        {
            "TableName": STATE,
            "KeyConditionExpression": "pk = :p",
            "ScanIndexForward": False,
            "Limit": 5,
            "ExpressionAttributeValues": {":p": {"S": "RUN#REPROCESSES"}},
        },
    ),
    (
        "a range of runs, filtered",
        {
            "TableName": STATE,
            "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
            "FilterExpression": "n > :n",
            "Limit": 3,
            "ExpressionAttributeValues": {
                ":p": {"S": "RUN#REPROCESSES"},
                ":a": {"S": "0002"},
                ":b": {"S": "0010"},
                ":n": {"N": "4"},
            },
        },
    ),
    (
        "summaries by prefix, projected",
        {
            "TableName": STATE,
            "KeyConditionExpression": "pk = :p AND begins_with(sk, :c)",
            "ProjectionExpression": "sk, #s",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":p": {"S": "COUNTS#2026-11-24"}, ":c": {"S": "cam-"}},
        },
    ),
    (
        "a partition that does not exist",
        {
            "TableName": STATE,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "COUNTS#1999-01-01"}},
        },
    ),
    (
        "a day on the index, paged at 1 MB",
        {
            "TableName": STATE,
            "IndexName": "by-day",
            "KeyConditionExpression": "capture_day = :d",
            "ExpressionAttributeValues": {":d": {"S": "2026-11-25"}},
        },
    ),
    (
        "a day on the index, backwards, by prefix",
        {
            "TableName": STATE,
            "IndexName": "by-day",
            "ScanIndexForward": False,
            "Limit": 40,
            "KeyConditionExpression": "capture_day = :d AND begins_with(pk, :p)",
            "ExpressionAttributeValues": {":d": {"S": "2026-11-26"}, ":p": {"S": "PICTURE#0.4"}},
        },
    ),
    (
        "a hash-only table",
        {
            "TableName": PLAIN,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "b"}},
        },
    ),
]


def pages(client: Any, request: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    request = dict(request)
    while True:
        page = client.query(**request)
        page.pop("ResponseMetadata")
        found.append(page)
        if "LastEvaluatedKey" not in page:
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture
def client() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_tables(client)
        seed(boto3.resource("dynamodb", region_name=REGION))
        yield client


def unpatched_and_patched(client: Any, request: dict[str, Any]) -> tuple[Any, Any]:
    """The pages of one request without, then with, the patch (or the error each one raised)."""

    def answer() -> Any:
        try:
            return pages(client, request)
        except Exception as error:  # moto in-process raises what the server would answer as 500
            return repr(error)

    # patch() is a no-op if someone installed it already: the comparison would prove nothing.
    assert not getattr(Table.query, "_camblur_partition_query", False)
    unpatched = answer()
    unpatch = moto_query.patch()
    try:
        patched = answer()
    finally:
        unpatch()
    return unpatched, patched


@pytest.mark.parametrize(("what", "request_"), QUERIES, ids=[what for what, _ in QUERIES])
def test_every_page_is_moto_s_own(client: Any, what: str, request_: dict[str, Any]) -> None:
    unpatched, patched = unpatched_and_patched(client, request_)
    assert patched == unpatched
    if what == "a day on the index, paged at 1 MB":
        assert len(patched) > 1  # the 1 MB cut really happened


def test_a_table_query_reads_only_its_partition(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sorted_whole_table = []
    whole_table = Table.all_items

    def counting(self: Table) -> list[Any]:
        sorted_whole_table.append(self.name)
        return whole_table(self)

    monkeypatch.setattr(Table, "all_items", counting)
    unpatch = moto_query.patch()
    try:
        runs = pages(client, QUERIES[1][1])
        assert [item["sk"]["S"] for item in runs[0]["Items"]] == [
            "0011",
            "0010",
            "0009",
            "0008",
            "0007",
        ]
        assert sorted_whole_table == []
        client.scan(TableName=STATE, Limit=1)  # Scan keeps moto's path
        assert sorted_whole_table == [STATE]
    finally:
        unpatch()


@pytest.mark.parametrize(
    "value",
    [{"SS": ["COUNTS#2026-11-25"]}, {"L": [{"S": "COUNTS#2026-11-25"}]}, {"M": {"p": {"S": "x"}}}],
    ids=["a set", "a list", "a map"],
)
def test_a_partition_key_value_that_cannot_be_one_gets_moto_s_answer(
    client: Any, value: dict[str, Any]
) -> None:
    # DynamoDB refuses the request; moto answers no items. Such a value cannot be hashed to look
    # up a partition, and the patch answered HTTP 500 (TypeError: unhashable type).
    request = {
        "TableName": STATE,
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": value},
    }
    unpatched, patched = unpatched_and_patched(client, request)
    assert unpatched == [{"Items": [], "Count": 0, "ScannedCount": 0}]
    assert patched == unpatched


@pytest.mark.parametrize(
    "values",
    [
        [{"N": "1"}, {"BOOL": True}, {"N": "1"}, {"BOOL": True}, {"N": "0"}, {"BOOL": False}],
        [{"SS": ["b"]}, {"SS": ["a"]}, {"SS": ["c"]}, {"SS": ["a", "b"]}],
    ],
    ids=["numbers and booleans", "sets"],
)
def test_index_keys_moto_cannot_order_keep_moto_s_order(
    client: Any, values: list[dict[str, Any]]
) -> None:
    # moto does not check the type of an index key, as DynamoDB does, and compares values alone:
    # N 1 ties with BOOL true, and sets compare by inclusion. Its sort then keeps the order of
    # its input, which unpatched is all_items()'s (by table keys), not the order of writing.
    for name, value in zip("zambyc", values, strict=False):
        client.put_item(
            TableName=STATE,
            Item={"pk": {"S": name}, "sk": {"S": "x"}, "capture_day": {"S": "mixed"}, "r": value},
        )
    client.update_table(
        TableName=STATE,
        AttributeDefinitions=[
            {"AttributeName": "capture_day", "AttributeType": "S"},
            {"AttributeName": "r", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "by-r",
                    "KeySchema": [
                        {"AttributeName": "capture_day", "KeyType": "HASH"},
                        {"AttributeName": "r", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            }
        ],
    )
    request = {
        "TableName": STATE,
        "IndexName": "by-r",
        "KeyConditionExpression": "capture_day = :d",
        "ExpressionAttributeValues": {":d": {"S": "mixed"}},
    }
    unpatched, patched = unpatched_and_patched(client, request)
    assert len(unpatched[0]["Items"]) == len(values)
    assert patched == unpatched
