"""Paged reads both commands need: every version of keys under a prefix, every page of a Query."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def object_versions(s3: Any, bucket: str, prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """("version" or "delete_marker", entry) for every version of every key under `prefix`."""
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Versions", []):
            yield "version", entry
        for entry in page.get("DeleteMarkers", []):
            yield "delete_marker", entry


def query_all(table: Any, **query: Any) -> Iterator[dict[str, Any]]:
    """Every item of a DynamoDB Query, page after page."""
    while True:
        page = table.query(**query)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
