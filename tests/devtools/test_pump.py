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


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "after", "first", "second"),
    [
        # Day of month L: the month's last day (February of a leap year too).
        ("cron(0 8 L * ? *)", "2026-12-01T13:00", "2026-12-31T08:00", "2027-01-31T08:00"),
        ("cron(0 8 L 2 ? *)", "2027-03-01T00:00", "2028-02-29T08:00", "2029-02-28T08:00"),
        # 15W: the weekday nearest the 15th; Saturday 15 May 2027 -> Friday the 14th.
        ("cron(0 8 15W * ? *)", "2027-05-01T00:00", "2027-05-14T08:00", "2027-06-15T08:00"),
        # 1W on Saturday 1 May 2027: Monday the 3rd, never the month before.
        ("cron(0 8 1W * ? *)", "2027-04-20T00:00", "2027-05-03T08:00", "2027-06-01T08:00"),
        # 31W: Sunday 31 Jan 2027 -> Friday the 29th; February has no 31st: no run.
        ("cron(0 8 31W * ? *)", "2027-01-20T00:00", "2027-01-29T08:00", "2027-03-31T08:00"),
        # LW: the last weekday; Sunday 28 Feb 2027 -> Friday the 26th.
        ("cron(0 8 LW * ? *)", "2027-02-01T00:00", "2027-02-26T08:00", "2027-03-31T08:00"),
        # Day of week 6L: the month's last Friday (EventBridge: 1=SUN ... 6=FRI, 7=SAT).
        ("cron(0 8 ? * 6L *)", "2026-12-01T13:00", "2026-12-25T08:00", "2027-01-29T08:00"),
        # 2#1: the first Monday; MON#2 the second.
        ("cron(0 8 ? * 2#1 *)", "2026-12-01T13:00", "2026-12-07T08:00", "2027-01-04T08:00"),
        ("cron(0 8 ? * MON#2 *)", "2026-12-01T13:00", "2026-12-14T08:00", "2027-01-11T08:00"),
        # Plain numbers: 1 is Sunday, 7 is Saturday; L alone is the week's last day.
        ("cron(0 8 ? * 1 *)", "2026-12-01T13:00", "2026-12-06T08:00", "2026-12-13T08:00"),
        ("cron(0 8 ? * 7 *)", "2026-12-01T13:00", "2026-12-05T08:00", "2026-12-12T08:00"),
        ("cron(0 8 ? * L *)", "2026-12-01T13:00", "2026-12-05T08:00", "2026-12-12T08:00"),
        ("cron(0 8 ? * 2-6 *)", "2026-12-01T13:00", "2026-12-02T08:00", "2026-12-03T08:00"),
        ("cron(0 8 ? * 1,7 *)", "2026-12-01T13:00", "2026-12-05T08:00", "2026-12-06T08:00"),
        # Years: a range.
        ("cron(0 0 1 1 ? 2027-2028)", "2026-12-01T13:00", "2027-01-01T00:00", "2028-01-01T00:00"),
    ],
)
def test_eventbridge_cron_day_forms_fire_when_aws_would(
    expression: str, after: str, first: str, second: str
) -> None:
    timer = Timer.of(schedule(expression), at(after))

    assert timer.next_at == at(first)
    assert timer.after(timer.next_at) == at(second)


def test_the_last_day_is_the_last_day_in_the_schedules_time_zone() -> None:
    timer = Timer.of(schedule("cron(30 23 L * ? *)", "Europe/Paris"), NOW)

    assert timer.next_at == at("2026-12-31T22:30")  # 23:30 in Paris


@pytest.mark.parametrize(
    "expression",
    ["cron(0 8 1 * 2 *)", "cron(0 8 ? * ? *)", "cron(0 8 ? * 8 *)", "cron(0 8 ? * 0 *)"],
)
def test_crons_eventbridge_refuses_are_refused(expression: str) -> None:
    with pytest.raises(ValueError):
        Timer.of(schedule(expression), NOW)
