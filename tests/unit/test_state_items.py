"""The DynamoDB helper every state item type writes through (moto)."""

from __future__ import annotations

import pytest
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from camblur.adapters.state import StateConflict
from camblur.adapters.state.dynamo import ItemTable
from tests.support.aws import Stack

KEY = {"pk": "TEST#1", "sk": "ITEM"}


def test_an_update_lands_only_while_its_condition_holds(stack: Stack) -> None:
    # Given an item whose attribute names are DynamoDB reserved words
    items = ItemTable(stack.state_table, stack.dynamodb)
    items.put(
        {**KEY, "status": "A", "count": 1, "cursor": "c", "note": "old"}, Attr("pk").not_exists()
    )

    # When one update sets, adds and removes at once under a condition that holds
    after = items.update(
        KEY,
        Attr("status").eq("A"),
        set={"status": "B"},
        set_if_absent={"note": "new", "status_note": "first"},
        add={"count": 2},
        remove=("cursor", "status"),
        return_item=True,
    )

    # Then every part landed (a removed name that is also set stays set; "note" existed)
    assert after == {**KEY, "status": "B", "note": "old", "status_note": "first", "count": 3}
    # And a write whose condition no longer holds is refused and changes nothing
    with pytest.raises(StateConflict):
        items.update(KEY, Attr("status").eq("A"), set={"status": "C"})
    with pytest.raises(StateConflict):
        items.put({**KEY, "status": "D"}, Attr("pk").not_exists())
    assert items.get(KEY) == after


def test_other_dynamodb_errors_are_not_taken_for_a_lost_condition(stack: Stack) -> None:
    missing = ItemTable("no-such-table", stack.dynamodb)
    with pytest.raises(ClientError) as raised:
        missing.update(KEY, Attr("pk").exists(), set={"status": "A"})
    assert not isinstance(raised.value, StateConflict)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
