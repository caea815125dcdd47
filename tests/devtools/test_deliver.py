"""The AWS delivery rules devtools/deliver.py applies, checked without deploying anything.

The whole path (deployed wiring, artifact code) is tests/integration/test_demo_pipeline.py;
these pin the rules where AWS's behaviour is easy to get subtly wrong.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from devtools.deliver import (
    Schedule,
    _event_matches,
    _filter_matches,
    _reported_failures,
    function_name,
)
from devtools.demo import run_that_refines

IDS = {"a", "b", "c"}


@pytest.mark.parametrize(
    ("payload", "failed"),
    [
        (None, set()),  # nothing returned: all succeeded
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        # AWS treats a malformed answer as a failure of the whole batch:
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, IDS),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, IDS),
        ({"batchItemFailures": [{}]}, IDS),
        ({"batchItemFailures": "b"}, IDS),
        ("b", IDS),
    ],
)
def test_partial_batch_responses_are_read_as_lambda_reads_them(
    payload: object, failed: set
) -> None:
    assert _reported_failures(payload, IDS) == failed


def test_s3_event_and_filter_matching() -> None:
    rule = {
        "Key": {
            "FilterRules": [
                {"Name": "prefix", "Value": "cameras/"},
                {"Name": "Suffix", "Value": ".jpg"},
            ]
        }
    }

    assert _event_matches(["s3:ObjectCreated:*"], "ObjectCreated:Put")
    assert _event_matches(["s3:ObjectCreated:Put"], "ObjectCreated:Put")
    assert not _event_matches(["s3:ObjectCreated:Copy"], "ObjectCreated:Put")
    assert not _event_matches(["s3:ObjectRemoved:*"], "ObjectCreated:Put")
    assert _filter_matches(rule, "cameras/north/1.jpg")
    assert not _filter_matches(rule, "cameras/north/1.JPG")  # S3 suffixes are case-sensitive
    assert not _filter_matches(rule, "other/1.jpg")
    assert _filter_matches({}, "anything")


def test_function_names_from_arns() -> None:
    assert function_name("arn:aws:lambda:eu-west-1:123456789012:function:live") == "live"
    assert function_name("arn:aws:lambda:eu-west-1:123456789012:function:live:$LATEST") == "live"
    assert function_name("live") == "live"


def test_the_nightly_run_that_refines_a_day_is_found_in_the_schedules_time_zone() -> None:
    schedule = Schedule(
        arn="arn:aws:scheduler:eu-west-1:123456789012:schedule/g/refine-daily",
        name="refine-daily",
        group="g",
        expression="cron(30 2 * * ? *)",
        time_zone="Europe/Paris",
        target_arn="arn:aws:lambda:eu-west-1:123456789012:function:schedule",
        input=None,
        enabled=True,
    )

    # 02:30 in Paris on the next day is 01:30 UTC in winter.
    assert run_that_refines(schedule, date(2026, 11, 25), 1) == datetime(
        2026, 11, 26, 1, 30, tzinfo=UTC
    )
    # ...and 00:30 UTC in summer.
    assert run_that_refines(schedule, date(2026, 7, 1), 2) == datetime(
        2026, 7, 3, 0, 30, tzinfo=UTC
    )
    hourly = Schedule(**{**schedule.__dict__, "expression": "rate(1 hour)"})
    assert run_that_refines(hourly, date(2026, 11, 25), 1) is None
