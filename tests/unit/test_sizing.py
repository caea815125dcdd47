"""refine/sizing.py: a session's inference units, worker concurrency and watchdog limit, and
refine_schedule using them (the run item, the model's start, the session the reconciler reads)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from camblur.refine.reconciler import Pass
from camblur.refine.schedule import ScheduleRequest
from camblur.refine.sizing import SizingInputs, measured_per_unit, size_session
from tests.support.aws import Stack
from tests.support.refine import DAY, VERSION_ARN, make_refinement, put_live_picture

DEFAULTS = SizingInputs(
    pictures=57_600,
    per_unit=5.0,
    measured=False,
    window_minutes=60,
    start_minutes=10,
    seconds_per_picture=0.6,
    units_quota=5,
    tps_quota=50,
    concurrency_cap=100,
    max_run_minutes=240,
)


def test_200_cameras_fit_the_default_quotas_in_the_hour() -> None:
    sizing = size_session(DEFAULTS)

    # 57,600 pictures in 60 minutes is 16 a second: 4 units of 5, one more for autoscaling
    # while 5 a second is only the setting's guess
    assert (sizing.min_units, sizing.max_units) == (4, 5)
    assert sizing.fits and sizing.fits_window
    assert sizing.serve_minutes == pytest.approx(48.0)
    # Enough workers to keep 5 units busy at 0.6 s a picture (25/s x 0.6 s x 1.25)
    assert sizing.max_concurrency == 19
    # The watchdog leaves room for the plan and a margin, and no more
    assert 58 < sizing.watchdog_minutes <= 90
    assert sizing.shortfall_pictures == 0


def test_a_measured_throughput_turns_autoscaling_headroom_off() -> None:
    sizing = size_session(replace(DEFAULTS, measured=True))

    assert (sizing.min_units, sizing.max_units) == (4, 4)
    assert sizing.max_concurrency == 15  # 20/s x 0.6 s x 1.25


def test_2000_cameras_do_not_fit_the_default_quotas_and_say_what_they_need() -> None:
    sizing = size_session(replace(DEFAULTS, pictures=576_000))

    # At the quota of 5 units the day takes 6.4 h, longer than the 240-minute ceiling
    assert (sizing.min_units, sizing.max_units) == (5, 5)
    assert not sizing.fits
    assert sizing.watchdog_minutes == 240
    assert 0 < sizing.capacity_pictures < 576_000
    assert sizing.shortfall_pictures == 576_000 - sizing.capacity_pictures
    # The quota request that would fit the window: 32 units, 160 TPS
    assert (sizing.units_needed, sizing.tps_needed) == (32, 160.0)


def test_2000_cameras_on_the_quota_they_need_fit_the_hour() -> None:
    sizing = size_session(
        replace(DEFAULTS, pictures=576_000, units_quota=33, tps_quota=165, concurrency_cap=1000)
    )

    assert (sizing.min_units, sizing.max_units) == (32, 33)
    assert sizing.fits and sizing.fits_window
    assert sizing.max_concurrency == 124  # 165/s x 0.6 s x 1.25


def test_units_the_tps_quota_cannot_feed_are_not_started() -> None:
    # 10 units would serve 50/s, but the account may only make 30 calls a second
    sizing = size_session(replace(DEFAULTS, pictures=180_000, units_quota=10, tps_quota=30))

    assert sizing.min_units == sizing.max_units == 6
    assert sizing.rate == 30


def test_the_concurrency_stays_within_the_workers_reserved_concurrency() -> None:
    assert size_session(replace(DEFAULTS, concurrency_cap=8)).max_concurrency == 8
    assert size_session(replace(DEFAULTS, pictures=10)).max_concurrency >= 2  # Lambda's floor


def test_a_past_run_measures_pictures_per_unit_second() -> None:
    opened = datetime(2026, 11, 25, 2, 41)
    run = {
        "stop_reason": "DRAINED",
        "pictures_refined": 36_000,
        "mapping_enabled_at": opened.isoformat(),
        "model_stop_requested_at": (opened + timedelta(minutes=50)).isoformat(),
        "max_inference_units": 4,
    }

    assert measured_per_unit(run) == pytest.approx(3.0)  # 36,000 / 3,000 s / 4 units
    assert measured_per_unit({**run, "stop_reason": "WATCHDOG"}) is None
    assert measured_per_unit({**run, "pictures_refined": 20}) is None


def test_the_schedule_starts_the_model_with_the_sizing_and_records_it(stack: Stack) -> None:
    refinement = make_refinement(stack)
    for index in range(30):
        put_live_picture(stack, f"cam-1/{DAY}/{index:03}.jpg")

    # A 1-minute window for 30 pictures at 0.2 a unit-second: 3 units (the floor is 2)
    refinement.scheduler(
        REFINE_WINDOW_MINUTES="1",
        REFINE_PICTURES_PER_SECOND_PER_UNIT="0.2",
        MODEL_MAX_INFERENCE_UNITS="5",
    ).run(ScheduleRequest())

    assert (
        "StartProjectVersion",
        {"ProjectVersionArn": VERSION_ARN, "MinInferenceUnits": 3, "MaxInferenceUnits": 4},
    ) in refinement.model.requests
    run = refinement.run_item()
    assert run["sizing"]["pictures"] == 30
    assert (run["sizing"]["min_units"], run["sizing"]["max_units"]) == (3, 4)
    assert "sizing_status_message" not in run
    # The reconciler finds the concurrency and the watchdog limit on the session
    session = refinement.runs().get_session()
    assert session is not None
    assert session.max_concurrency == run["sizing"]["max_concurrency"]
    assert session.watchdog_minutes == run["sizing"]["watchdog_minutes"]


def test_a_day_over_the_quotas_is_reported_before_the_model_starts(stack: Stack) -> None:
    refinement = make_refinement(stack)
    for index in range(40):
        put_live_picture(stack, f"cam-1/{DAY}/{index:03}.jpg")

    # 40 pictures at 0.001 a unit-second on 2 units take 5.5 hours; the ceiling is 60 minutes
    refinement.scheduler(
        REFINE_PICTURES_PER_SECOND_PER_UNIT="0.001",
        MODEL_MAX_INFERENCE_UNITS="2",
        MODEL_MAX_RUN_MINUTES="60",
    ).run(ScheduleRequest())

    run = refinement.run_item()
    assert run["sizing"]["fits"] is False
    assert run["sizing"]["shortfall_pictures"] > 0
    assert "left for the next sessions" in run["sizing_status_message"]
    assert run["sizing"]["watchdog_minutes"] == 60
    # Every picture is still queued: the watchdog's leftovers are the next session's work
    assert run["queued"] == 40


def test_the_previous_runs_measured_throughput_sizes_the_next(stack: Stack) -> None:
    refinement = make_refinement(stack)
    previous_day = "2026-11-23"
    opened = datetime(2026, 11, 24, 2, 41)
    stack.dynamodb.Table(stack.state_table).put_item(
        Item={
            "pk": f"RUN#{previous_day}",
            "sk": "RUN",
            "run_day": previous_day,
            "run_id": f"{previous_day}#x",
            "status": "DONE",
            "stop_reason": "DRAINED",
            "pictures_refined": 6_000,
            "mapping_enabled_at": opened.isoformat(),
            "model_stop_requested_at": (opened + timedelta(minutes=50)).isoformat(),
            "max_inference_units": 1,
        }
    )
    for index in range(3):
        put_live_picture(stack, f"cam-1/{DAY}/{index:03}.jpg")

    refinement.scheduler().run(ScheduleRequest())

    measured = Decimal("2")  # 6,000 / 3,000 s / 1 unit
    assert refinement.run_item(previous_day)["measured_pictures_per_second_per_unit"] == measured
    sizing = refinement.run_item()["sizing"]
    assert (sizing["per_unit"], sizing["per_unit_measured"]) == (measured, True)
    assert sizing["min_units"] == sizing["max_units"]  # measured: no autoscaling headroom


def test_the_reconciler_opens_the_sized_concurrency_and_stops_at_the_sized_limit(
    stack: Stack,
) -> None:
    # Given a sized day whose workers never finish (messages received, never deleted)
    refinement = make_refinement(stack)
    for index in range(3):
        put_live_picture(stack, f"cam-1/{DAY}/{index:03}.jpg")
    refinement.scheduler().run(ScheduleRequest())
    sizing = refinement.run_item()["sizing"]
    reconciler = refinement.reconciler()
    refinement.clock.advance(refinement.model.start_seconds)

    # When the model is RUNNING, the mapping opens with the session's concurrency
    assert reconciler.reconcile().result is Pass.PROCESSING
    mapping = refinement.lambda_client.get_event_source_mapping(UUID=refinement.mapping_uuid)
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == sizing["max_concurrency"]
    refinement.receive()

    # And the watchdog stops the model at the sized limit, well before the 240-minute ceiling
    limit = int(sizing["watchdog_minutes"])
    assert limit < 240
    refinement.clock.advance((limit - 1) * 60 - refinement.model.start_seconds)
    assert reconciler.reconcile().result is Pass.PROCESSING
    refinement.clock.advance(60)
    assert reconciler.reconcile().result is Pass.STOPPING
