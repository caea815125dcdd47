"""refine_schedule: a capture day is queued exactly once, the run is recorded, the model started once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from camblur import config
from camblur.adapters.state import RunStatus
from camblur.core.errors import TransientError
from camblur.refine import schedule as schedule_module
from camblur.refine.schedule import ScheduleRequest
from tests.support.aws import Stack
from tests.support.refine import (
    DAY,
    PROJECT_ARN,
    VERSION_ARN,
    Refinement,
    make_refinement,
    put_live_picture,
    queued_bodies,
)


@pytest.fixture
def refinement(stack: Stack) -> Iterator[Refinement]:
    yield make_refinement(stack)


def queued_keys(refinement: Refinement) -> list[str]:
    return sorted(
        json.loads(body)["raw_key"] for body in queued_bodies(refinement.sqs, refinement.queue_url)
    )


def test_every_picture_of_the_day_is_queued_once_and_the_run_recorded(
    refinement: Refinement,
) -> None:
    # Given yesterday's pictures, one refused by the live pass, and a picture of another day
    for index in range(7):
        put_live_picture(refinement.stack, f"cam-1/{DAY}/{index:03}.jpg")
    put_live_picture(refinement.stack, f"cam-2/{DAY}/broken.jpg", status="REJECTED")
    put_live_picture(refinement.stack, "cam-1/2026-11-23/old.jpg", day="2026-11-23")

    # When the daily schedule runs (02:30 in Paris on the 25th)
    outcome = refinement.scheduler().run(ScheduleRequest())

    # Then the 7 refinable pictures of the 24th are in the queue, each once
    assert outcome.capture_day == DAY
    assert queued_keys(refinement) == [f"cam-1/{DAY}/{index:03}.jpg" for index in range(7)]
    # And the run says what was queued and when the model was asked to start
    run = refinement.run_item()
    assert run["status"] == RunStatus.QUEUED.value
    assert (run["queued"], run["skipped"]) == (7, 1)
    assert run["model_start_requested_at"].startswith("2026-11-25T02:30")
    assert run["min_inference_units"] == 2
    # And the model was started once, with the configured inference units
    assert (
        refinement.model.requests.count(
            ("StartProjectVersion", {"ProjectVersionArn": VERSION_ARN, "MinInferenceUnits": 2})
        )
        == 1
    )
    assert refinement.model.status() == "STARTING"
    assert outcome.model_status == "STARTING"


def test_running_the_schedule_twice_queues_nothing_more_and_starts_nothing_more(
    refinement: Refinement,
) -> None:
    # Given a day already scheduled
    for index in range(4):
        put_live_picture(refinement.stack, f"cam-1/{DAY}/{index}.jpg")
    refinement.scheduler().run(ScheduleRequest())

    # When the schedule runs again for the same day (a retry, a duplicate delivery)
    refinement.clock.advance(120)
    second = refinement.scheduler().run(ScheduleRequest(capture_day=DAY))

    # Then the queue still holds each picture once and the model got one start request
    assert second.status == "ALREADY_QUEUED"
    assert len(queued_keys(refinement)) == 4
    assert refinement.model.calls["StartProjectVersion"] == 1


def test_a_crashed_run_is_resumed_where_it_stopped_without_sending_twice(
    refinement: Refinement, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given five pictures queued two per page, and SQS failing on the second page
    monkeypatch.setattr(schedule_module, "PAGE_SIZE", 2)
    for index in range(5):
        put_live_picture(refinement.stack, f"cam-1/{DAY}/{index}.jpg")
    scheduler = refinement.scheduler()
    real_send = scheduler._queue.send
    pages = {"count": 0}

    def flaky_send(bodies: list[str]) -> None:
        pages["count"] += 1
        if pages["count"] == 2:
            raise TransientError("SQS unavailable")
        real_send(bodies)

    monkeypatch.setattr(scheduler._queue, "send", flaky_send)
    with pytest.raises(TransientError):
        scheduler.run(ScheduleRequest())
    assert refinement.run_item()["status"] == RunStatus.QUEUEING.value

    # When the invocation is retried
    outcome = refinement.scheduler().run(ScheduleRequest())

    # Then every picture is queued exactly once, and the model was started once
    assert outcome.status == RunStatus.QUEUED.value
    assert queued_keys(refinement) == [f"cam-1/{DAY}/{index}.jpg" for index in range(5)]
    assert refinement.model.calls["StartProjectVersion"] == 1


@pytest.mark.parametrize("status", ["EXPIRED", "DEPRECATED", "FAILED"])
def test_a_model_that_cannot_serve_fails_the_run_and_queues_nothing(
    refinement: Refinement, status: str
) -> None:
    # Given a model that cannot serve
    put_live_picture(refinement.stack, f"cam-1/{DAY}/a.jpg")
    refinement.model.fail(status, "the model version has expired")

    # When the schedule runs
    outcome = refinement.scheduler().run(ScheduleRequest())

    # Then the run is FAILED with the model's message, nothing is queued, nothing started
    run = refinement.run_item()
    assert outcome.status == "FAILED"
    assert run["status"] == RunStatus.FAILED.value
    assert run["end_reason"] == f"MODEL_{status}"
    assert run["status_message"] == "the model version has expired"
    assert refinement.depth().total == 0
    assert refinement.model.calls["StartProjectVersion"] == 0
    # And a later run for that day does not try again
    assert refinement.scheduler().run(ScheduleRequest()).status == "ALREADY_FAILED"


def test_a_model_already_running_is_adopted_not_started_again(refinement: Refinement) -> None:
    # Given a model someone started
    refinement.model.answer(
        "StartProjectVersion", {"ProjectVersionArn": VERSION_ARN, "MinInferenceUnits": 1}
    )
    put_live_picture(refinement.stack, f"cam-1/{DAY}/a.jpg")

    # When the schedule runs
    refinement.scheduler().run(ScheduleRequest())

    # Then it queues the picture, starts nothing, and the session will stop the model when done
    assert refinement.model.calls["StartProjectVersion"] == 1  # only the one above
    session = refinement.runs().get_session()
    assert session is not None and session.adopted and session.start_requested_at is not None


def test_a_day_without_pictures_starts_no_model(refinement: Refinement) -> None:
    # Given nothing captured yesterday
    # When the schedule runs
    outcome = refinement.scheduler().run(ScheduleRequest())

    # Then the run is done at once, no model is started and no session is open
    assert outcome.status == "NOTHING_TO_REFINE"
    assert refinement.run_item()["status"] == RunStatus.DONE.value
    assert refinement.model.calls["StartProjectVersion"] == 0
    assert refinement.runs().get_session() is None


@pytest.mark.parametrize(
    ("scheduled", "zone", "expected"),
    [
        # 00:30 UTC is already the 25th in Paris: yesterday there is the 24th.
        ("2026-11-25T00:30:00Z", "Europe/Paris", "2026-11-24"),
        # 23:30 UTC on the 24th is 00:30 on the 25th in Paris, but still the 24th in UTC.
        ("2026-11-24T23:30:00Z", "Europe/Paris", "2026-11-24"),
        ("2026-11-24T23:30:00Z", "UTC", "2026-11-23"),
    ],
)
def test_the_refined_day_is_yesterday_in_the_capture_time_zone(
    refinement: Refinement, scheduled: str, zone: str, expected: str
) -> None:
    # Given the schedule fired at `scheduled` (Scheduler's templated scheduled time)
    request = ScheduleRequest.from_event({"scheduled_time": scheduled})

    # When it runs with the cameras' time zone
    outcome = refinement.scheduler(CAPTURE_TIME_ZONE=zone).run(request)

    # Then it refines the previous capture day of that zone
    assert outcome.capture_day == expected


def test_a_closed_run_can_be_rerun_on_request(refinement: Refinement) -> None:
    # Given a day whose run failed because the model had expired
    put_live_picture(refinement.stack, f"cam-1/{DAY}/a.jpg")
    refinement.model.fail("EXPIRED", "expired")
    refinement.scheduler().run(ScheduleRequest())
    refinement.model.status_now = "STOPPED"  # a new, healthy model version took its place

    # When an operator asks for that day again
    outcome = refinement.scheduler().run(
        ScheduleRequest.from_event({"capture_day": DAY, "rerun": True})
    )

    # Then the day is queued under a new run
    assert outcome.status == RunStatus.QUEUED.value
    assert queued_keys(refinement) == [f"cam-1/{DAY}/a.jpg"]


def test_schedule_configuration_is_checked_at_start_and_names_the_variable() -> None:
    # Given fewer maximum than minimum inference units
    environ = {
        "STATE_TABLE": "t",
        "REFINE_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/1/q",
        "MODEL_PROJECT_ARN": PROJECT_ARN,
        "MODEL_VERSION_ARN": VERSION_ARN,
        "MODEL_MIN_INFERENCE_UNITS": "3",
        "MODEL_MAX_INFERENCE_UNITS": "2",
    }
    # When the configuration is loaded / Then it fails naming the variable
    with pytest.raises(config.ConfigError, match="MODEL_MAX_INFERENCE_UNITS"):
        config.load(config.ScheduleConfig, environ)
    # And a project ARN where a version ARN belongs is refused by name
    with pytest.raises(config.ConfigError, match="MODEL_VERSION_ARN"):
        config.load(
            config.ScheduleConfig,
            {**environ, "MODEL_MAX_INFERENCE_UNITS": "3", "MODEL_VERSION_ARN": PROJECT_ARN},
        )


def test_schedule_request_rejects_a_malformed_day() -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        ScheduleRequest.from_event({"capture_day": "24/11/2026"})
    assert ScheduleRequest.from_event({"time": "2026-11-25T01:00:00Z"}).scheduled_time == datetime(
        2026, 11, 25, 1, tzinfo=UTC
    )
