"""DynamoDB: the reads and conditional writes every state item uses, in one place.

Conditions are boto3's own (`boto3.dynamodb.conditions.Attr` / `Key`): the resource layer turns
them into expressions with its placeholders (`#n0`, `:v0`). boto3 has no builder for update
expressions, so `ItemTable.update` writes them from dicts of values, with placeholders of its
own (`#u0`, `:u0`) that cannot collide with the condition's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import ConditionBase
from botocore.exceptions import ClientError

from camblur.adapters.aws import resource

ItemKey = Mapping[str, str]


class StateConflict(Exception):  # noqa: N818 - names the situation
    """A conditional write lost: the item moved on (refined, or a newer version) meanwhile."""


class ItemTable:
    """One table: consistent reads, and writes that land only if their condition holds.

    Every write raises StateConflict when its condition does not hold; callers that expect
    to lose sometimes (a second invocation, an expired run) catch it.
    """

    def __init__(self, table_name: str, dynamodb: Any = None) -> None:
        self._table = (dynamodb or resource("dynamodb")).Table(table_name)

    def get(self, key: ItemKey) -> dict[str, Any] | None:
        return self._table.get_item(Key=dict(key), ConsistentRead=True).get("Item")

    def query_page(
        self,
        index: str,
        condition: ConditionBase,
        cursor: dict[str, Any] | None = None,
        limit: int | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of `index` and the cursor of the next one (None after the last page)."""
        request: dict[str, Any] = {"IndexName": index, "KeyConditionExpression": condition}
        if cursor:
            request["ExclusiveStartKey"] = cursor
        if limit:
            request["Limit"] = limit
        page = self._table.query(**request)
        return page.get("Items", []), page.get("LastEvaluatedKey")

    def count(self, index: str, condition: ConditionBase) -> int:
        """How many items of `index` match: Select=COUNT, every page (no item is returned)."""
        request: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": condition,
            "Select": "COUNT",
        }
        total = 0
        while True:
            page = self._table.query(**request)
            total += int(page.get("Count", 0))
            if not page.get("LastEvaluatedKey"):
                return total
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def put(self, item: Mapping[str, Any], condition: ConditionBase) -> None:
        with _conflict_on_failed_condition(item):
            self._table.put_item(Item=dict(item), ConditionExpression=condition)

    def update(
        self,
        key: ItemKey,
        condition: ConditionBase,
        *,
        set: Mapping[str, Any] | None = None,
        set_if_absent: Mapping[str, Any] | None = None,
        add: Mapping[str, Any] | None = None,
        delete: Mapping[str, Any] | None = None,
        remove: Sequence[str] = (),
        return_item: bool = False,
    ) -> dict[str, Any]:
        """Update the item at `key` if `condition` holds; with `return_item`, the item after.

        `add` adds numbers or set members, `delete` takes members out of a set, `remove`
        drops attributes (except those `set` writes).
        """
        expression, names, values = _update_expression(
            set or {}, set_if_absent or {}, add or {}, delete or {}, remove
        )
        request: dict[str, Any] = {
            "Key": dict(key),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
        }
        if values:  # DynamoDB refuses an empty map; boto3 adds the condition's values to it
            request["ExpressionAttributeValues"] = values
        if return_item:
            request["ReturnValues"] = "ALL_NEW"
        with _conflict_on_failed_condition(key):
            response = self._table.update_item(**request)
        return response.get("Attributes", {})

    def delete(self, key: ItemKey, condition: ConditionBase) -> None:
        with _conflict_on_failed_condition(key):
            self._table.delete_item(Key=dict(key), ConditionExpression=condition)


def _update_expression(
    set: Mapping[str, Any],
    set_if_absent: Mapping[str, Any],
    add: Mapping[str, Any],
    delete: Mapping[str, Any],
    remove: Sequence[str],
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """An UpdateExpression and its placeholders; every name goes through one (reserved words)."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}

    def name(attribute: str) -> str:
        placeholder = f"#u{len(names)}"
        names[placeholder] = attribute
        return placeholder

    def value(content: Any) -> str:
        placeholder = f":u{len(values)}"
        values[placeholder] = content
        return placeholder

    assignments = [f"{name(attribute)} = {value(content)}" for attribute, content in set.items()]
    for attribute, content in set_if_absent.items():
        placeholder = name(attribute)
        assignments.append(f"{placeholder} = if_not_exists({placeholder}, {value(content)})")
    clauses = [f"SET {', '.join(assignments)}"] if assignments else []
    for action, pairs in (("ADD", add), ("DELETE", delete)):
        if pairs:
            operands = ", ".join(f"{name(a)} {value(c)}" for a, c in pairs.items())
            clauses.append(f"{action} {operands}")
    removed = [name(attribute) for attribute in remove if attribute not in set]
    if removed:
        clauses.append(f"REMOVE {', '.join(removed)}")
    if not clauses:
        raise ValueError("an update needs at least one attribute to change")
    return " ".join(clauses), names, values


@contextmanager
def _conflict_on_failed_condition(key: Mapping[str, Any]) -> Iterator[None]:
    """The one place a lost condition becomes StateConflict; other errors pass unchanged."""
    try:
        yield
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise StateConflict(f"{key['pk']} {key['sk']}") from error
        raise


# Attribute encodings shared by the item types -----------------------------------------------


def to_iso(moment: datetime) -> str:
    """UTC, fixed width: ISO strings then compare in DynamoDB conditions as times do."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def from_iso(text: Any) -> datetime | None:
    return datetime.fromisoformat(str(text)) if text else None


def expires_at(now: datetime, ttl_days: int) -> int:
    """TTL attribute: epoch seconds after which DynamoDB may delete the item."""
    return int((now + timedelta(days=ttl_days)).timestamp())
