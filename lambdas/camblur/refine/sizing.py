"""How big one refinement session is: inference units, worker concurrency, watchdog limit.

Pure arithmetic, no AWS: refine_schedule calls `size_session` when a session opens,
benchmarks/bench_refine.py and devtools/cost.py call the same function.

    rate wanted   = pictures / window                       (the window is serving time:
                                                             RUNNING to drained; the model's
                                                             start is a constant on top)
    min units     = ceil(rate wanted / per-unit throughput), within the per-model quota and
                    what the DetectCustomLabels TPS quota can feed
    max units     = min units + 1 while the per-unit throughput is only the setting's guess
                    (autoscaling covers a guess that was too high), = min units once a past
                    run measured it; never above the quota
    concurrency   = workers that keep max units busy: rate x seconds per picture x margin
    watchdog      = (start + serving time) x margin + slack, at most model_max_run_minutes

A day the quotas cannot finish under model_max_run_minutes does not fit: the session is
sized at the quota, the shortfall is reported before the model starts, and what the watchdog
leaves in the queue is the next session's work.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from camblur.adapters.state.dynamo import from_iso

CONCURRENCY_MARGIN = 1.25  # workers wait out throttling and batch ends: ask a bit more
WATCHDOG_MARGIN = 1.25  # the session may run this much longer than planned...
WATCHDOG_SLACK_MINUTES = 15.0  # ...plus this, before the watchdog stops the model
MIN_MAPPING_CONCURRENCY = 2  # Lambda's floor for ScalingConfig.MaximumConcurrency


@dataclass(frozen=True)
class SizingInputs:
    pictures: int  # the day's pictures plus what an earlier session left in the queue
    per_unit: float  # pictures per second one inference unit serves
    measured: bool  # per_unit was measured by a past run (else it is the setting's guess)
    window_minutes: float  # target serving time
    start_minutes: float  # STARTING → RUNNING, for the watchdog
    seconds_per_picture: float  # one worker's time per picture (I/O, decode, blur, inference)
    units_quota: int  # inference units per model (AWS default 5)
    tps_quota: float  # DetectCustomLabels calls per second for the account (AWS default 50)
    concurrency_cap: int  # refine_maximum_concurrency: the worker's reserved concurrency
    max_run_minutes: int  # the watchdog's hard ceiling


@dataclass(frozen=True)
class Sizing:
    min_units: int
    max_units: int
    max_concurrency: int
    watchdog_minutes: int
    serve_minutes: float  # planned RUNNING → drained at min units
    rate: float  # pictures per second at min units
    fits_window: bool
    fits: bool  # finishes before the watchdog's ceiling
    capacity_pictures: int  # what this session can refine before the ceiling
    shortfall_pictures: int  # pictures left for the next sessions (0 when it fits)
    # What the day would need to meet the window, quotas aside: the quota request.
    units_needed: int
    tps_needed: float
    concurrency_needed: int

    def to_item(self) -> dict[str, Any]:
        """For the run item (DynamoDB takes Decimal, not float)."""
        return {
            name: Decimal(str(round(value, 3))) if isinstance(value, float) else value
            for name, value in asdict(self).items()
        }


def size_session(inputs: SizingInputs) -> Sizing:
    per_unit = inputs.per_unit
    window_seconds = inputs.window_minutes * 60
    rate_wanted = inputs.pictures / window_seconds
    units_needed = max(1, math.ceil(rate_wanted / per_unit - 1e-9))
    # More units than the TPS quota can feed bill without serving.
    units_cap = max(1, min(inputs.units_quota, math.floor(inputs.tps_quota / per_unit + 1e-9)))
    min_units = min(units_needed, units_cap)
    max_units = min_units if inputs.measured else min(units_cap, min_units + 1)

    rate = min(min_units * per_unit, inputs.tps_quota)
    top_rate = min(max_units * per_unit, inputs.tps_quota)
    serve_minutes = inputs.pictures / rate / 60 if inputs.pictures else 0.0
    concurrency = _workers(top_rate, inputs.seconds_per_picture)
    max_concurrency = max(MIN_MAPPING_CONCURRENCY, min(concurrency, inputs.concurrency_cap))

    planned = (inputs.start_minutes + serve_minutes) * WATCHDOG_MARGIN + WATCHDOG_SLACK_MINUTES
    fits = planned <= inputs.max_run_minutes
    watchdog = min(inputs.max_run_minutes, math.ceil(planned))
    # What the ceiling leaves time for, with the same margin the watchdog keeps.
    usable_minutes = max(
        0.0,
        (inputs.max_run_minutes - WATCHDOG_SLACK_MINUTES) / WATCHDOG_MARGIN - inputs.start_minutes,
    )
    capacity = inputs.pictures if fits else int(rate * usable_minutes * 60)
    return Sizing(
        min_units=min_units,
        max_units=max_units,
        max_concurrency=max_concurrency,
        watchdog_minutes=watchdog,
        serve_minutes=serve_minutes,
        rate=rate,
        fits_window=serve_minutes <= inputs.window_minutes + 1e-9,
        fits=fits,
        capacity_pictures=min(capacity, inputs.pictures),
        shortfall_pictures=max(0, inputs.pictures - capacity),
        units_needed=units_needed,
        tps_needed=round(units_needed * per_unit, 3),
        concurrency_needed=max(
            MIN_MAPPING_CONCURRENCY, _workers(units_needed * per_unit, inputs.seconds_per_picture)
        ),
    )


def _workers(rate: float, seconds_per_picture: float) -> int:
    """Workers that together ask `rate` pictures a second, with the margin."""
    return math.ceil(rate * seconds_per_picture * CONCURRENCY_MARGIN - 1e-9)


def measured_per_unit(run: dict[str, Any]) -> float | None:
    """Pictures per second per inference unit that a closed run achieved, or None.

    Refined pictures over (mapping open → stop requested) x the session's maximum units: a
    session's workers are sized to keep the model saturated, so this is the model's
    throughput; counting max units makes it, if anything, low (more units next time, never a
    missed window). Runs stopped by the watchdog or failed say nothing reliable.
    """
    if run.get("stop_reason") != "DRAINED":
        return None
    refined = int(run.get("pictures_refined", 0))
    opened = from_iso(run.get("mapping_enabled_at"))
    stopped = from_iso(run.get("model_stop_requested_at"))
    units = int(run.get("max_inference_units", 0) or 0)
    if refined < 1000 or opened is None or stopped is None or units < 1:
        return None  # too small a run to measure a rate from
    seconds = (stopped - opened).total_seconds()
    if seconds < 60:
        return None
    return refined / seconds / units
