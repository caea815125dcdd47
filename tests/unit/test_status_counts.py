"""Status counts kept from the state table's stream: what `camblur status` reads.

Pictures go through the real live handler (moto S3 and DynamoDB, Stubber for DetectLabels);
the stream records are the ones moto wrote for those changes, handed to the real
status_counts handler as Lambda's poller does. Each test compares the counts with a count of
the picture items themselves, so a count that drifts fails.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from camblur.adapters.state import BlurStateTable, picture_pk
from camblur.adapters.state.counts import StatusCounts, facets
from camblur.handlers import status_counts
from camblur.status_counts import changes_of
from tests.support.aws import Stack
from tests.support.lambda_context import LambdaContext
from tests.support.live import PERSON, Live, labels_response, live_env_fixture
from tests.support.pictures import jpeg_bytes, photo_like
from tests.support.streams import StateStream, enable_stream, stream_event

DAY = "2026-11-25"


@pytest.fixture
def live_env(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    enable_stream(stack.dynamodb.meta.client, stack.state_table)
    status_counts.counter.cache_clear()
    yield from live_env_fixture(stack, monkeypatch)
    status_counts.counter.cache_clear()


@pytest.fixture
def stream(live_env: Live) -> StateStream:
    return StateStream(live_env.stack.state_table)


def count(live_env: Live, records: list[dict[str, Any]]) -> dict[str, Any]:
    return status_counts.handler(stream_event(records), LambdaContext())


def kept_counts(live_env: Live, day: str = DAY) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for camera, bucket in StatusCounts(live_env.stack.state_table).of_day(day):
        counts[camera].update(bucket)
    return {camera: +found for camera, found in counts.items() if +found}


def items_counted(live_env: Live, day: str = DAY) -> dict[str, Counter[str]]:
    """The truth: every picture item of the day, counted one by one."""
    table = live_env.stack.dynamodb.Table(live_env.stack.state_table)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for item in table.scan(FilterExpression=Attr("capture_day").eq(day))["Items"]:
        counts[str(item["camera_id"])].update(facets(item))
    return dict(counts)


def upload(live_env: Live, key: str, seed: int = 0, person: bool = True) -> None:
    live_env.expect_detection(labels_response(PERSON) if person else labels_response())
    live_env.invoke(live_env.upload(key, jpeg_bytes(photo_like(160, 120, seed=seed))))


def key(camera: str, minute: int) -> str:
    return f"{camera}/{DAY}/10-{minute:02d}-00.jpg"


def refine(live_env: Live, raw_key: str) -> None:
    """What refine_worker records for a picture it re-blurred (its own adapter call)."""
    state = BlurStateTable(live_env.stack.state_table)
    previous = state.get(raw_key)
    assert previous is not None
    state.record_refined(previous, list(previous.boxes), {"updated_at": "2026-11-26T02:00:00"})


def test_counts_follow_live_passes_rejections_refinements_and_erasures(
    live_env: Live, stream: StateStream
) -> None:
    # Given two cameras' pictures: blurred, one refused as corrupt, one refined, one erased
    for minute in range(4):
        upload(live_env, key("cam-1", minute), seed=minute)
    upload(live_env, key("cam-2", 0), person=False)
    live_env.invoke(live_env.upload(key("cam-2", 5), b"not a picture at all"))
    refine(live_env, key("cam-1", 0))
    table = live_env.stack.dynamodb.Table(live_env.stack.state_table)
    table.delete_item(Key={"pk": picture_pk(key("cam-1", 3)), "sk": "STATE"})

    # When the stream's records reach status_counts
    response = count(live_env, stream.records())

    # Then every record was counted and the counts are the items' own
    assert response == {"batchItemFailures": []}
    assert kept_counts(live_env) == items_counted(live_env)
    assert kept_counts(live_env) == {
        "cam-1": Counter({"LIVE_BLURRED": 2, "REFINED": 1}),
        "cam-2": Counter({"LIVE_BLURRED": 1, "REJECTED": 1, "REJECTED:NOT_AN_IMAGE": 1}),
    }


def test_a_retried_or_bisected_batch_counts_nothing_twice(
    live_env: Live, stream: StateStream
) -> None:
    for minute in range(6):
        upload(live_env, key("cam-1", minute), seed=minute)
    refine(live_env, key("cam-1", 1))
    records = stream.records()

    # When Lambda delivers the batch, retries it whole, then in halves (bisect), then again
    count(live_env, records)
    count(live_env, records)
    half = len(records) // 2
    count(live_env, records[:half])
    count(live_env, records[half:])
    count(live_env, records[half - 1 :])

    # Then each change is counted once
    assert kept_counts(live_env) == items_counted(live_env)
    assert kept_counts(live_env)["cam-1"] == Counter({"LIVE_BLURRED": 5, "REFINED": 1})


@pytest.mark.parametrize("throttled_write", ["bucket", "summary"])
def test_a_bucket_that_cannot_be_written_is_retried_from_its_first_record(
    live_env: Live, stream: StateStream, throttled_write: str
) -> None:
    for minute in range(8):
        upload(live_env, key("cam-1", minute), seed=minute)
    records = stream.records()
    client = status_counts.counter()._counts._table.meta.client  # the handler's own client
    throttled = {"left": 1}
    failing_bucket = picture_pk(key("cam-1", 5)).removeprefix("PICTURE#")[0]

    def throttle(params: dict[str, Any], **_: Any) -> None:
        # DynamoDB throttles the first write of one bucket (AWS's answer, not our code's).
        sort_key = params["Key"]["sk"]
        sort_key = sort_key["S"] if isinstance(sort_key, dict) else sort_key
        # The bucket's own write, or the copy into the camera-day's summary after it
        target = (
            sort_key.startswith(failing_bucket + "#")
            if throttled_write == "bucket"
            else ("#" not in sort_key)
        )
        if target and throttled["left"]:
            throttled["left"] -= 1
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                "UpdateItem",
            )

    client.meta.events.register("provide-client-params.dynamodb.UpdateItem", throttle)
    try:
        # When a batch meets the throttled bucket
        response = count(live_env, records)
    finally:
        client.meta.events.unregister("provide-client-params.dynamodb.UpdateItem", throttle)

    # Then the response names the first record of that bucket, and Lambda's retry from there
    # (every record from that sequence number on) makes the counts whole, none twice
    failures = response["batchItemFailures"]
    assert len(failures) == 1
    sequences = [record["dynamodb"]["SequenceNumber"] for record in records]
    resume = sequences.index(failures[0]["itemIdentifier"])
    bucket_records = [
        index
        for index, record in enumerate(records)
        if record["dynamodb"]["Keys"]["pk"]["S"].removeprefix("PICTURE#")[0] == failing_bucket
    ]
    if throttled_write == "bucket":
        assert resume == bucket_records[0]
    assert kept_counts(live_env) != items_counted(live_env)  # the bucket is missing for now
    assert count(live_env, records[resume:]) == {"batchItemFailures": []}
    assert kept_counts(live_env) == items_counted(live_env)


def test_a_new_version_captured_on_another_day_moves_its_count(
    live_env: Live, stream: StateStream
) -> None:
    # Given a picture counted on its capture day
    upload(live_env, key("cam-4", 0))
    count(live_env, stream.records())
    table = live_env.stack.dynamodb.Table(live_env.stack.state_table)
    item = table.get_item(Key={"pk": picture_pk(key("cam-4", 0)), "sk": "STATE"})["Item"]

    # When its item is rewritten for a version captured the next day
    table.put_item(Item={**item, "capture_day": "2026-11-26"})
    count(live_env, stream.records())

    # Then it is counted on the new day only
    assert kept_counts(live_env, DAY) == {}
    assert kept_counts(live_env, "2026-11-26") == {"cam-4": Counter({"LIVE_BLURRED": 1})}


def test_changes_that_count_nothing_write_nothing(live_env: Live, stream: StateStream) -> None:
    upload(live_env, key("cam-5", 0))
    count(live_env, stream.records())
    table = live_env.stack.dynamodb.Table(live_env.stack.state_table)
    before = table.scan(FilterExpression=Attr("pk").begins_with("COUNTS#"))["Items"]

    # When a picture item changes in what the counts ignore (a review mark, run and session
    # items, the counts items themselves)
    table.update_item(
        Key={"pk": picture_pk(key("cam-5", 0)), "sk": "STATE"},
        UpdateExpression="SET reviewed_by = :who",
        ExpressionAttributeValues={":who": "ops@example.com"},
    )
    table.put_item(Item={"pk": f"RUN#{DAY}", "sk": "RUN", "status": "DONE"})
    response = count(live_env, stream.records())

    # Then nothing is written
    assert response == {"batchItemFailures": []}
    assert table.scan(FilterExpression=Attr("pk").begins_with("COUNTS#"))["Items"] == before


def test_a_late_copy_of_a_bucket_never_overwrites_a_newer_one(
    live_env: Live, stream: StateStream
) -> None:
    """Two invocations write one bucket (a retry beside the next batch, or two shards): the
    one that wrote first copies last. Its older copy must not replace the newer summary."""
    keys = [key("cam-6", minute) for minute in range(40)]
    bucket_of = {k: picture_pk(k).removeprefix("PICTURE#")[0] for k in keys}
    first = keys[0]
    second = next(k for k in keys[1:] if bucket_of[k] == bucket_of[first])  # the same bucket
    counts = StatusCounts(live_env.stack.state_table)

    # Given the first picture counted in its bucket, its copy not yet made (the slow writer)
    upload(live_env, first, seed=1)
    [(bucket, changes)] = changes_of(stream.records()).items()
    _, late_copy = counts.apply(bucket, changes)
    # and the second picture of that bucket counted and copied meanwhile (the fast one)
    upload(live_env, second, seed=2)
    assert count(live_env, stream.records()) == {"batchItemFailures": []}
    assert kept_counts(live_env) == items_counted(live_env) == {"cam-6": Counter(LIVE_BLURRED=2)}

    # When the slow writer's copy arrives
    counts.copy_to_summary(DAY, "cam-6", [late_copy])

    # Then the summary still holds the newer counts: both pictures
    assert kept_counts(live_env) == items_counted(live_env)
