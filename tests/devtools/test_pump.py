"""When the pump of `make up` fires the deployed schedules (devtools/pump.py), without a server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devtools.deliver import Schedule
from devtools.pump import Timer, _describe_body


def schedule(expression: str, time_zone: str = "UTC") -> Schedule:
    return Schedule(
        arn=f"arn:aws:scheduler:eu-west-1:123456789012:schedule/g/{expression}",
        name="s",
        group="g",
        expression=expression,
        time_zone=time_zone,
        target_arn="arn:aws:lambda:eu-west-1:123456789012:function:f",
        input=None,
        enabled=True,
    )


NOW = datetime(2026, 12, 1, 13, 0, 30, tzinfo=UTC)  # a Tuesday


@pytest.mark.parametrize(
    ("expression", "zone", "first", "second"),
    [
        (
            "rate(1 minute)",
            "UTC",
            datetime(2026, 12, 1, 13, 1, 30),
            datetime(2026, 12, 1, 13, 2, 30),
        ),
        (
            "rate(2 hours)",
            "UTC",
            datetime(2026, 12, 1, 15, 0, 30),
            datetime(2026, 12, 1, 17, 0, 30),
        ),
        # 02:30 in Paris is 01:30 UTC in winter.
        (
            "cron(30 2 * * ? *)",
            "Europe/Paris",
            datetime(2026, 12, 2, 1, 30),
            datetime(2026, 12, 3, 1, 30),
        ),
        # AWS counts weekdays 1-7 from Sunday: 2 is Monday.
        ("cron(0 8 ? * 2 *)", "UTC", datetime(2026, 12, 7, 8, 0), datetime(2026, 12, 14, 8, 0)),
        (
            "cron(0 8 ? * MON-FRI *)",
            "UTC",
            datetime(2026, 12, 2, 8, 0),
            datetime(2026, 12, 3, 8, 0),
        ),
        ("cron(0 0 1 1 ? 2028)", "UTC", datetime(2028, 1, 1, 0, 0), None),
    ],
)
def test_schedules_fire_at_their_times_in_their_time_zone(
    expression: str, zone: str, first: datetime, second: datetime | None
) -> None:
    timer = Timer.of(schedule(expression, zone), NOW)

    assert timer.next_at == first.replace(tzinfo=UTC)
    after = timer.after(timer.next_at)
    assert after == (second.replace(tzinfo=UTC) if second else None)


def test_a_one_time_schedule_fires_once() -> None:
    timer = Timer.of(schedule("at(2026-12-01T15:00:00)", "Europe/Paris"), NOW)

    assert timer.next_at == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    assert timer.after(timer.next_at) is None


def test_the_log_names_what_each_message_was() -> None:
    s3_event = '{"Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {"key": "cameras/a+b.jpg"}}}]}'
    assert _describe_body(s3_event) == "ObjectCreated:Put cameras/a+b.jpg"
    assert _describe_body('{"Event": "s3:TestEvent"}') == "s3:TestEvent"
    assert _describe_body("not json") == "a message that is not JSON"
