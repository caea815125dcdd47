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


def test_a_small_day_is_refined_with_nothing_dead_lettered_and_the_model_stopped() -> None:
    bench = load_bench()
    params = bench.Params(
        pictures=300,
        start_minutes=3,
        stop_seconds=30,
        per_unit=5,
        units=1,
        batch_size=5,
        max_concurrency=3,
        max_receive=5,
        worker_timeout=120,
        reconcile_seconds=60,
        reconcile_offset=10,
        mapping_delay=30,
        detect_seconds=0.2,
        io_seconds=0.12,
        invoke_seconds=0.03,
        seed=1,
    )

    result = bench.simulate(params)

    assert result.refined == 300
    assert result.dlq == 0
    assert result.throttled > 0  # three workers ask more than one unit serves
    assert result.passes[-1] == "CLOSED"
    # Billed from the start to STOPPED: at least the minimum, and not an hour more
    assert result.minimum_minutes <= result.billed_minutes <= result.minimum_minutes + 6
