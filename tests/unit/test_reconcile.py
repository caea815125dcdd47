"""model_reconciler: mapping opened only once the model runs, model stopped once the queue is
drained (confirmed), watchdog, and a model that cannot serve reported, never restarted."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from camblur.adapters.state import RunStatus
from camblur.refine.reconciler import Pass
from camblur.refine.schedule import ScheduleRequest
from tests.support.aws import Stack
from tests.support.refine import DAY, Refinement, make_refinement, put_live_picture

START_SECONDS = 600


@pytest.fixture
def refinement(stack: Stack) -> Iterator[Refinement]:
    yield make_refinement(stack, start_seconds=START_SECONDS, stop_seconds=30)


def schedule_day(refinement: Refinement, pictures: int = 3) -> None:
    for index in range(pictures):
        put_live_picture(refinement.stack, f"cam-1/{DAY}/{index}.jpg")
    refinement.scheduler().run(ScheduleRequest())


def drain(refinement: Refinement) -> None:
    """Workers take every message and succeed (the mapping deletes them; the run counts them)."""
    while records := refinement.receive():
        refinement.settle(records, failed_ids=[])
        refinement.runs().add_counts(DAY, {"pictures_refined": len(records)})


def test_without_a_session_a_pass_reads_one_item_and_touches_nothing(
    refinement: Refinement,
) -> None:
    # Given no refinement in progress
    # When the reconciler runs
    result = refinement.reconciler().reconcile()

    # Then it did nothing: no model call, mapping still closed
    assert result.result is Pass.IDLE
    assert sum(refinement.model.calls.values()) == 0
    assert refinement.mapping_state() == "Disabled"


def test_messages_wait_unread_while_the_model_starts_then_the_mapping_opens(
    refinement: Refinement,
) -> None:
    # Given a day queued and the model starting
    schedule_day(refinement, pictures=3)
    reconciler = refinement.reconciler()

    # When the reconciler runs every minute while the model starts
    results = []
    for _ in range(START_SECONDS // 60 - 1):
        refinement.clock.advance(60)
        results.append(reconciler.reconcile().result)

    # Then the mapping stays closed and no message was received by anyone
    assert set(results) == {Pass.STARTING}
    assert refinement.mapping_state() == "Disabled"
    depth = refinement.depth()
    assert (depth.visible, depth.in_flight) == (3, 0)

    # When the model is RUNNING at the next pass
    refinement.clock.advance(120)
    result = reconciler.reconcile()

    # Then the mapping opens and the run records when the model was seen running
    assert result.result is Pass.PROCESSING
    assert refinement.mapping_state() == "Enabled"
    run = refinement.run_item()
    assert run["model_running_at"] == run["mapping_enabled_at"]


def test_the_model_stops_once_the_queue_is_drained_and_confirmed(refinement: Refinement) -> None:
    # Given a running model whose queue the workers have emptied
    schedule_day(refinement)
    reconciler = refinement.reconciler()
    refinement.clock.advance(START_SECONDS)
    assert reconciler.reconcile().result is Pass.PROCESSING
    drain(refinement)

    # When the reconciler first sees the empty queue
    refinement.clock.advance(60)
    first = reconciler.reconcile()

    # Then it only takes note: a momentary zero must not stop the model
    assert first.result is Pass.DRAIN_SEEN
    assert refinement.model.status() == "RUNNING"

    # When the next pass still sees it empty
    refinement.clock.advance(60)
    second = reconciler.reconcile()

    # Then the mapping closes and the model is stopped
    assert second.result is Pass.STOPPING
    assert refinement.mapping_state() == "Disabled"
    assert refinement.model.status() == "STOPPING"

    # When the model reports STOPPED
    refinement.clock.advance(60)
    third = reconciler.reconcile()

    # Then the run is DONE with its start, running and stop times, and the session is gone
    assert third.result is Pass.CLOSED
    run = refinement.run_item()
    assert run["status"] == RunStatus.DONE.value
    assert run["stop_reason"] == "DRAINED"
    for moment in (
        "model_start_requested_at",
        "model_running_at",
        "model_stop_requested_at",
        "model_stopped_at",
    ):
        assert run[moment]
    assert float(run["model_minutes"]) == pytest.approx(13.0)  # 10 starting + 3 passes
    assert refinement.runs().get_session() is None
    assert refinement.model.calls["StopProjectVersion"] == 1
    # And the next pass is idle: nothing is restarted
    refinement.clock.advance(60)
    assert reconciler.reconcile().result is Pass.IDLE
    assert refinement.model.calls["StartProjectVersion"] == 1


def test_a_momentary_zero_followed_by_work_does_not_stop_the_model(
    refinement: Refinement,
) -> None:
    # Given a running model, an empty queue seen once, then more messages
    schedule_day(refinement)
    reconciler = refinement.reconciler()
    refinement.clock.advance(START_SECONDS)
    reconciler.reconcile()
    drain(refinement)
    refinement.clock.advance(60)
    assert reconciler.reconcile().result is Pass.DRAIN_SEEN
    # (sent while the mapping is switched off: moto would otherwise try to run the function
    # in Docker; the reconciler switches it back on)
    refinement.lambda_client.update_event_source_mapping(
        UUID=refinement.mapping_uuid, Enabled=False
    )
    refinement.sqs.send_message(
        QueueUrl=refinement.queue_url,
        MessageBody=json.dumps({"raw_key": "late.jpg", "capture_day": DAY, "run_id": "r"}),
    )

    # When the next passes run
    refinement.clock.advance(60)
    busy = reconciler.reconcile()
    drain(refinement)
    refinement.clock.advance(60)
    seen_again = reconciler.reconcile()

    # Then the model kept running: the drain had to be seen twice in a row again
    assert busy.result is Pass.PROCESSING
    assert seen_again.result is Pass.DRAIN_SEEN
    assert refinement.model.status() == "RUNNING"


def test_the_watchdog_stops_the_model_when_every_worker_has_died(refinement: Refinement) -> None:
    # Given a running model and workers that never finish (messages stay queued)
    schedule_day(refinement)
    reconciler = refinement.reconciler()
    refinement.clock.advance(START_SECONDS)
    reconciler.reconcile()
    refinement.receive()  # received and never deleted: a crashed worker

    # When the session is older than MODEL_MAX_RUN_MINUTES
    refinement.clock.advance(240 * 60)
    result = reconciler.reconcile()

    # Then the mapping closes and the model stops, whatever the queue says
    assert result.result is Pass.STOPPING
    assert refinement.depth().total == 3
    assert refinement.mapping_state() == "Disabled"
    refinement.clock.advance(60)
    assert reconciler.reconcile().result is Pass.CLOSED
    run = refinement.run_item()
    assert run["status"] == RunStatus.STOPPED_BY_WATCHDOG.value
    assert run["stop_reason"] == "WATCHDOG"
    assert refinement.model.status() == "STOPPED"


@pytest.mark.parametrize("status", ["FAILED", "EXPIRED", "DEPRECATED"])
def test_a_model_that_cannot_serve_is_reported_and_never_restarted(
    refinement: Refinement, status: str
) -> None:
    # Given a queued day whose model fails while starting
    schedule_day(refinement)
    reconciler = refinement.reconciler()
    refinement.clock.advance(120)
    refinement.model.fail(status, "the model could not be deployed")

    # When the reconciler runs
    result = reconciler.reconcile()

    # Then the run is FAILED with the model's message, the mapping stays closed,
    # the messages stay in the queue, and the session is closed
    assert result.result is Pass.CLOSED
    run = refinement.run_item()
    assert run["status"] == RunStatus.FAILED.value
    assert run["stop_reason"] == "MODEL_FAILED"
    assert "the model could not be deployed" in run["status_message"]
    assert refinement.mapping_state() == "Disabled"
    assert refinement.depth().visible == 3
    # And later passes do not try again
    for _ in range(3):
        refinement.clock.advance(60)
        assert reconciler.reconcile().result is Pass.IDLE
    assert refinement.model.calls["StartProjectVersion"] == 1
    assert refinement.model.calls["StopProjectVersion"] == 0


def test_a_model_stopped_by_someone_else_is_reported_not_restarted(
    refinement: Refinement,
) -> None:
    # Given a running session whose model an operator stopped by hand
    schedule_day(refinement)
    reconciler = refinement.reconciler()
    refinement.clock.advance(START_SECONDS)
    reconciler.reconcile()
    refinement.model.answer(
        "StopProjectVersion", {"ProjectVersionArn": refinement.model.version_arn}
    )
    refinement.clock.advance(60)

    # When the reconciler runs
    result = reconciler.reconcile()

    # Then it closes the mapping and fails the run instead of starting the model again
    assert result.result is Pass.CLOSED
    assert refinement.run_item()["stop_reason"] == "MODEL_STOPPED_ELSEWHERE"
    assert refinement.mapping_state() == "Disabled"
    assert refinement.model.calls["StartProjectVersion"] == 1


def test_a_start_the_schedule_could_not_make_is_made_by_the_reconciler(
    refinement: Refinement,
) -> None:
    # Given a model still stopping from an earlier session when the day is queued
    refinement.model.answer(
        "StartProjectVersion",
        {"ProjectVersionArn": refinement.model.version_arn, "MinInferenceUnits": 1},
    )
    refinement.clock.advance(START_SECONDS)
    refinement.model.answer(
        "StopProjectVersion", {"ProjectVersionArn": refinement.model.version_arn}
    )
    schedule_day(refinement)
    assert refinement.model.status() == "STOPPING"
    reconciler = refinement.reconciler()
    assert reconciler.reconcile().result is Pass.WAITING

    # When the model has stopped and the reconciler runs
    refinement.clock.advance(60)
    result = reconciler.reconcile()

    # Then it starts the model with the units the schedule recorded
    assert result.result is Pass.STARTING
    assert refinement.model.status() == "STARTING"
    assert refinement.model.requests[-1] == (
        "StartProjectVersion",
        {"ProjectVersionArn": refinement.model.version_arn, "MinInferenceUnits": 2},
    )
