"""Query on the embedded endpoint at DynamoDB's cost: one partition, not the whole table.

Why: moto 5.2.5's `Table.query` starts from `all_items()`, which sorts every item of the
table by its keys (Python comparisons of DynamoType) on every call, then keeps the queried
partition. On the state table of a 57,600-picture day (about 61,000 items) each Query took
about 4 s, however small its partition: `camblur status --day` reads one partition of 200
summaries and took 13.6 s (issue 11; on DynamoDB a Query costs what its partition holds).

This changes what moto's query starts from, never what it answers; moto's own `query` still
filters, sorts, pages (1 MB, Limit, ExclusiveStartKey), projects and counts:

- a Query of the table (no index) starts from the queried partition's items only;
- a Query of an index starts from every item unsorted, and only its matches are put in
  `all_items()`'s order (table keys) before moto's sort by the index's keys and the table's.
  That sort is stable and not always total: moto does not check an index key's type as
  DynamoDB does, and compares values alone (N 1 ties with BOOL true, sets by inclusion).
- a partition key value that cannot be hashed (a set, list or map: DynamoDB refuses it, moto
  answers no items) goes to moto's own query.

Scan and everything else keep moto's `all_items()`. tests/devtools/test_moto_query.py checks
the answers page by page against unpatched moto. Not upstream yet: a fix belongs in moto's
Table.query; this module goes once moto has one.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_starting_items = threading.local()  # (table, items) moto's query sees as "all items"


def _started(table: Any) -> bool:
    start = getattr(_starting_items, "value", None)
    return start is not None and start[0] is table


def _table_order(item: Any) -> Any:
    """The sort key of moto's `Table.all_items()`."""
    return (item.hash_key, item.range_key) if item.range_key else item.hash_key


def patch() -> Any:
    """Install the patch (idempotent); returns a function that removes it (for the tests)."""
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "_camblur_partition_query", False):
        return lambda: None
    original_all_items = Table.all_items
    original_query = Table.query
    original_sorted_items = Table.sorted_items

    def all_items(self: Table) -> list[Any]:
        if _started(self):
            return _starting_items.value[1]
        return original_all_items(self)

    def sorted_items(self: Table, hash_attrs: Any, range_attrs: Any, items: list[Any]) -> Any:
        if _started(self):  # an index's matches, unsorted: first in the order moto gives them
            items.sort(key=_table_order)
        return original_sorted_items(self, hash_attrs, range_attrs, items)

    @functools.wraps(original_query)
    def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name:
            items = [
                item
                for stored in list(self.items.values())
                for item in (stored.values() if self.range_key_attr else [stored])
            ]
        elif hash_key is not None:
            try:
                stored = self.items.get(hash_key)
            except TypeError:  # unhashable: moto answers it (no items)
                return original_query(self, hash_key, *args, **kwargs)
            if stored is None:
                items = []
            else:
                items = list(stored.values()) if self.range_key_attr else [stored]
        else:
            return original_query(self, hash_key, *args, **kwargs)
        _starting_items.value = (self, items)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _starting_items.value = None

    query._camblur_partition_query = True  # type: ignore[attr-defined]
    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]
    Table.sorted_items = sorted_items  # type: ignore[method-assign]

    def unpatch() -> None:
        Table.all_items = original_all_items  # type: ignore[method-assign]
        Table.query = original_query  # type: ignore[method-assign]
        Table.sorted_items = original_sorted_items  # type: ignore[method-assign]

    return unpatch
