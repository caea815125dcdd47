"""The refinement benchmark's simulation, small: it must keep driving the real services to the
end (every picture refined, nothing dead-lettered, the model stopped). No timing is asserted."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_refine.py"

# A pass that changes nothing emits no metric; Powertools says so.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_refine", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def small_day(bench: ModuleType, **overrides: object) -> object:
    values = {
        "pictures": 300,
        "start_minutes": 3,
        "stop_seconds": 30,
        "per_unit": 5,
        "per_unit_setting": 5,
        "window_minutes": 10,  # 300 pictures in 10 minutes: one unit is enough
        "units_quota": 5,
        "tps_quota": 50,
        "concurrency_cap": 100,
        "max_run_minutes": 240,
        "batch_size": 5,
        "max_receive": 5,
        "worker_timeout": 120,
        "reconcile_seconds": 60,
        "reconcile_offset": 10,
        "mapping_delay": 30,
        "detect_seconds": 0.2,
        "io_seconds": 0.12,
        "picture_seconds": (0.3, 0.7),
        "profile_share": 0.5,
        "invoke_seconds": 0.03,
        "seed": 1,
    }
    return bench.Params(**{**values, **overrides})


def test_a_small_day_is_refined_with_nothing_dead_lettered_and_the_model_stopped() -> None:
    bench = load_bench()

    result = bench.simulate(small_day(bench))

    assert result.refined == 300
    assert result.dlq == 0
    assert result.passes[-1] == "CLOSED"
    # The real schedule sized it: one unit, enough workers to keep it busy (5/s x 0.82 s x 1.25)
    assert (result.min_units, result.max_units, result.concurrency) == (1, 1, 6)
    assert result.throttled > 0  # the workers ask a little more than the unit serves
    # Billed from the start to STOPPED: at least the minimum, and not an hour more
    assert result.minimum_unit_minutes <= result.billed_unit_minutes
    assert result.billed_unit_minutes <= result.minimum_unit_minutes + 6


def test_a_first_day_gets_an_autoscaling_unit_that_the_model_adds_under_pressure() -> None:
    bench = load_bench()

    # 1,200 pictures in a 2-minute window: 10 a second, 2 units, a third one allowed
    day = small_day(
        bench,
        pictures=1200,
        window_minutes=2,
        measured=False,
        scale_up_after_seconds=30,
        unit_start_seconds=30,
    )

    result = bench.simulate(day)

    assert (result.min_units, result.max_units) == (2, 3)
    assert result.peak_units == 3
    assert result.refined == 1200 and result.dlq == 0


def test_the_aggregate_simulation_agrees_with_the_per_message_one() -> None:
    bench = load_bench()
    params = small_day(bench, pictures=1500)

    per_message, aggregate = bench.simulate(params), bench.simulate_aggregate(params)

    assert (aggregate.min_units, aggregate.concurrency) == (
        per_message.min_units,
        per_message.concurrency,
    )
    assert aggregate.refined == per_message.refined == 1500
    assert aggregate.billed_unit_minutes == pytest.approx(per_message.billed_unit_minutes, rel=0.1)


def test_the_workers_own_time_on_a_real_size_picture_is_measured() -> None:
    bench = load_bench()

    plain, profile = bench.measure_picture_seconds(rounds=1)

    # A 2160p picture is decoded, blurred and encoded: that is never free, and converting a
    # Display P3 picture to sRGB costs more than a plain one
    assert 0 < plain < profile
