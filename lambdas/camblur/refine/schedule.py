"""refine_schedule: queue one capture day for refinement, record the run, start the model.

Idempotent by construction:
- the run item `RUN#<day>` is created once; a second invocation for the same day finds it
  QUEUED or closed and queues nothing;
- queueing holds a lease on the run item and checkpoints the index cursor after each page,
  so a crashed invocation's retry resumes where it stopped (at most one page is sent twice,
  and the worker skips a picture this run already refined);
- the model is started at most once per session (`start_requested_at` is set conditionally).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from camblur.adapters.queue import RefineQueue
from camblur.adapters.rekognition import ModelControl, ModelState
from camblur.adapters.state import (
    NOT_REFINABLE,
    RUN_REFINED,
    ModelSession,
    RunStatus,
    RunTable,
    expires_at,
    to_iso,
)
from camblur.config import ScheduleConfig
from camblur.core.errors import TransientError
from camblur.observability import MetricUnit, logger, metrics
from camblur.refine.messages import (
    PictureStates,
    RefineMessage,
    capture_day_for,
    parse_capture_day,
)
from camblur.refine.sizing import (
    Sizing,
    SizingInputs,
    measured_per_unit,
    size_session,
)

PAGE_SIZE = 500  # index items per page: one checkpoint, at most one page re-sent on resume
TIME_MARGIN_SECONDS = 20.0  # stop queueing this close to the Lambda timeout; a retry resumes
# STARTING → RUNNING as the sizing plans it (the watchdog's share for the start). AWS does not
# publish it; "can take minutes" (field notes); the simulation's default too.
EXPECTED_START_MINUTES = 10.0


@dataclass(frozen=True)
class ScheduleRequest:
    """What the schedule event asks for. EventBridge Scheduler sends `{}` unless told more."""

    capture_day: str | None = None
    scheduled_time: datetime | None = None
    rerun: bool = False

    @classmethod
    def from_event(cls, event: dict[str, Any] | None) -> ScheduleRequest:
        event = event or {}
        day = event.get("capture_day")
        # Scheduler's <aws.scheduler.scheduled-time> or an EventBridge rule's `time`: a retry
        # delivered after midnight still refines the day it was meant for.
        moment = event.get("scheduled_time") or event.get("time")
        return cls(
            capture_day=parse_capture_day(str(day)) if day else None,
            scheduled_time=datetime.fromisoformat(str(moment).replace("Z", "+00:00"))
            if moment
            else None,
            rerun=bool(event.get("rerun", False)),
        )


@dataclass(frozen=True)
class ScheduleOutcome:
    capture_day: str
    status: str
    queued: int = 0
    skipped: int = 0
    model_status: str = ""


class RefineScheduler:
    def __init__(
        self,
        config: ScheduleConfig,
        pictures: PictureStates,
        runs: RunTable,
        queue: RefineQueue,
        model: ModelControl,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex[:12],
    ) -> None:
        self._config = config
        self._pictures = pictures
        self._runs = runs
        self._queue = queue
        self._model = model
        self._clock = clock
        self._new_id = new_id

    def run(
        self,
        request: ScheduleRequest | None = None,
        remaining_seconds: Callable[[], float] = lambda: 900.0,
    ) -> ScheduleOutcome:
        request = request or ScheduleRequest()
        now = self._clock()
        day = request.capture_day or capture_day_for(
            request.scheduled_time or now,
            self._config.capture_time_zone,
            self._config.refine_days_back,
        )
        with logger.append_context_keys(capture_day=day):
            self._report_late_day(day)
            outcome = self._run(day, now, request.rerun, remaining_seconds)
            logger.info(
                "refinement scheduled",
                status=outcome.status,
                queued=outcome.queued,
                skipped=outcome.skipped,
                model_status=outcome.model_status,
            )
            return outcome

    def _run(
        self, day: str, now: datetime, rerun: bool, remaining_seconds: Callable[[], float]
    ) -> ScheduleOutcome:
        existing = self._runs.get_run(day)
        if existing is not None and (
            existing.status is RunStatus.QUEUED or (existing.closed and not rerun)
        ):
            return self._already(day, existing.status, existing.queued, existing.skipped)

        model = self._model.describe()
        if existing is not None and existing.status is RunStatus.QUEUEING:
            run = existing  # an earlier invocation stopped half-way: resume from its cursor
        else:
            run = self._runs.create_run(
                day,
                run_id=f"{day}#{self._new_id()}",
                now=now,
                expires=expires_at(now, self._config.state_ttl_days),
                model_version_arn=self._config.model_version_arn,
                replace_closed=rerun,
            )
            if run.status is not RunStatus.QUEUEING:  # another invocation won the race
                return self._already(day, run.status, run.queued, run.skipped)
        if model.unusable:
            # Reported once, not retried: the live-blurred pictures stay as they are.
            self._runs.fail_run(day, run.run_id, now, f"MODEL_{model.status}", model.message)
            metrics.add_metric(name="RefineModelUnusable", unit=MetricUnit.Count, value=1)
            logger.error(
                "model cannot serve; nothing queued",
                model_status=model.status,
                status_message=model.message,
            )
            return ScheduleOutcome(day, RunStatus.FAILED.value, model_status=model.status)

        owner = f"{run.run_id}/{self._new_id()}"
        lease_until = now + timedelta(seconds=max(remaining_seconds(), 60.0))
        claimed = self._runs.claim_enqueue(day, run.run_id, owner, now, lease_until)
        if claimed is None:
            logger.info("another invocation is queueing this day")
            return ScheduleOutcome(day, "BUSY")
        try:
            return self._enqueue(
                day,
                run.run_id,
                owner,
                claimed.cursor,
                claimed.queued,
                claimed.skipped,
                model,
                remaining_seconds,
            )
        except BaseException:
            self._runs.release_enqueue(day, owner)
            raise

    def _enqueue(
        self,
        day: str,
        run_id: str,
        owner: str,
        cursor: dict[str, Any] | None,
        queued: int,
        skipped: int,
        model: ModelState,
        remaining_seconds: Callable[[], float],
    ) -> ScheduleOutcome:
        session: ModelSession | None = None
        while True:
            items, cursor = self._pictures.pictures_of_day_page(day, cursor, PAGE_SIZE)
            keys = [key for key in map(_refinable_key, items) if key is not None]
            skipped += len(items) - len(keys)
            if keys:
                if session is None:
                    # Start the model before sending: it takes minutes, sending takes seconds.
                    sizing = self._size(day, run_id)
                    session = self._runs.join_session(
                        day,
                        session_id=f"session#{self._new_id()}",
                        now=self._clock(),
                        min_units=sizing.min_units,
                        max_units=sizing.max_units,
                        sizing={
                            "max_concurrency": sizing.max_concurrency,
                            "watchdog_minutes": sizing.watchdog_minutes,
                        },
                        model_version_arn=self._config.model_version_arn,
                    )
                    self._carry_leftovers(session)
                    model = self._ensure_model_started(session, model)
                self._queue.send([RefineMessage(key, day, run_id).to_body() for key in keys])
                queued += len(keys)
            self._runs.save_progress(day, owner, cursor, queued, skipped)
            if cursor is None:
                break
            if remaining_seconds() < TIME_MARGIN_SECONDS:
                raise TransientError(f"out of time after {queued} pictures; a retry resumes")

        if session is None:
            model = self._resume_leftovers(model)
        now = self._clock()
        if queued:
            self._runs.finish_enqueue(day, owner, now, queued, skipped, RunStatus.QUEUED)
            self._runs.finish_enqueuing(day)
        else:
            self._runs.finish_enqueue(
                day,
                owner,
                now,
                queued,
                skipped,
                RunStatus.DONE,
                extra={"end_reason": "NOTHING_TO_REFINE", "ended_at": to_iso(now)},
            )
        metrics.add_metric(name="RefineQueued", unit=MetricUnit.Count, value=queued)
        status = RunStatus.QUEUED.value if queued else "NOTHING_TO_REFINE"
        return ScheduleOutcome(day, status, queued, skipped, model.status)

    def _size(self, day: str, run_id: str, *, leftovers_only: bool = False) -> Sizing:
        """Size the session from the day's pictures and what waits in the queue already; record
        it on the run, and report a day the quotas cannot finish before the model starts.
        leftovers_only: a session opened only for an earlier session's leftovers."""
        per_unit, measured = self._per_unit(day)
        waiting = self._queue.depth().total  # an earlier session's leftovers come first
        pictures = waiting + (0 if leftovers_only else self._pictures.count_of_day(day))
        config = self._config
        sizing = size_session(
            SizingInputs(
                pictures=pictures,
                per_unit=per_unit,
                measured=measured,
                window_minutes=config.window_minutes,
                start_minutes=EXPECTED_START_MINUTES,
                seconds_per_picture=config.worker_seconds_per_picture,
                units_quota=config.max_inference_units,
                tps_quota=config.rekognition_tps,
                concurrency_cap=config.max_concurrency,
                max_run_minutes=config.max_run_minutes,
            )
        )
        floor = config.min_inference_units  # the operator's floor wins over the arithmetic
        if sizing.min_units < floor:
            sizing = replace(sizing, min_units=floor, max_units=max(floor, sizing.max_units))
        record = {
            "sizing": {
                **sizing.to_item(),
                "pictures": pictures,
                "waiting_in_queue": waiting,
                "per_unit": _decimal(per_unit),
                "per_unit_measured": measured,
            }
        }
        if not sizing.fits:
            record["sizing_status_message"] = (
                f"{pictures} pictures need {sizing.units_needed} inference units and "
                f"{sizing.tps_needed:g} DetectCustomLabels TPS for a "
                f"{config.window_minutes}-minute window; the quotas allow {sizing.min_units} "
                f"units: about {sizing.shortfall_pictures} pictures are left for the next "
                "sessions"
            )
            metrics.add_metric(name="RefineDayOverCapacity", unit=MetricUnit.Count, value=1)
            metrics.add_metric(
                name="RefineShortfallPictures",
                unit=MetricUnit.Count,
                value=sizing.shortfall_pictures,
            )
            logger.error("the day does not fit the quotas", detail=record["sizing_status_message"])
        elif not sizing.fits_window:
            logger.warning(
                "the day takes longer than the window",
                serve_minutes=round(sizing.serve_minutes, 1),
                window_minutes=config.window_minutes,
            )
        self._runs.update_runs([day], record)
        logger.info(
            "session sized",
            pictures=pictures,
            min_inference_units=sizing.min_units,
            max_inference_units=sizing.max_units,
            max_concurrency=sizing.max_concurrency,
            watchdog_minutes=sizing.watchdog_minutes,
            per_unit=per_unit,
            per_unit_measured=measured,
        )
        return sizing

    def _per_unit(self, day: str) -> tuple[float, bool]:
        """The throughput per inference unit the previous day's run measured, recorded on that
        run item; the setting's value when there is none."""
        previous = self._runs.get_run(_day_before(day))
        if previous is not None:
            recorded = previous.item.get("measured_pictures_per_second_per_unit")
            if recorded is not None:
                return float(recorded), True
            measured = measured_per_unit(previous.item)
            if measured is not None:
                self._runs.update_runs(
                    [previous.day], {"measured_pictures_per_second_per_unit": _decimal(measured)}
                )
                return measured, True
        return self._config.pictures_per_second_per_unit, False

    def _ensure_model_started(self, session: ModelSession, state: ModelState) -> ModelState:
        """Start the model unless this session already did (or found it running).

        A failed start is not fatal here: the reconciler starts a session's model that was
        never started, so queueing goes on.
        """
        if session.start_requested_at is not None:
            return state
        now = self._clock()
        if state.active:
            logger.warning("model already starting or running: this session adopts it")
            self._runs.update_session(
                session.session_id,
                {"start_requested_at": to_iso(now), "adopted": True},
                only_if_absent=True,
            )
            self._runs.update_runs(session.days, {"model_adopted_at": to_iso(now)})
        elif state.startable:
            try:
                started = self._model.start(session.min_units, session.max_units)
            except TransientError as error:
                logger.warning("model start failed; the reconciler will retry", error=str(error))
                return state
            self._runs.record_model_start(session, to_iso(now), adopted=not started)
            metrics.add_metric(name="ModelStarts", unit=MetricUnit.Count, value=1)
            logger.info(
                "model start requested",
                min_inference_units=session.min_units,
                max_inference_units=session.max_units,
            )
            return replace(state, status="STARTING", message="")
        else:
            logger.info(
                "model not startable now; the reconciler decides", model_status=state.status
            )
        return state

    # Leftovers and late days (README: refinement faults) ---------------------------------

    def _carry_leftovers(self, session: ModelSession) -> None:
        """Days an earlier session left in the queue (model failed, watchdog) join this one:
        their runs are queued again and closed with this session."""
        days = self._runs.carried_days()
        if not days or not self._runs.add_session_days(session.session_id, days):
            return
        self._runs.update_runs(
            days, {"status": RunStatus.QUEUED.value, "carried_into": session.session_id}
        )
        self._runs.forget_carried(days)
        metrics.add_metric(name="RefineDaysResumed", unit=MetricUnit.Count, value=len(days))
        logger.warning("leftovers of an earlier session carried into this one", days=sorted(days))

    def _resume_leftovers(self, model: ModelState) -> ModelState:
        """The day had nothing to queue, but an earlier session left work: open a session
        for it (a queue left alone would expire after its retention, silently)."""
        days = self._runs.carried_days()
        if not days:
            return model
        if self._queue.depth().total == 0:
            self._runs.forget_carried(days)  # nothing left after all (refined meanwhile)
            return model
        if model.unusable:
            return model  # the model alarm is raised; the queue's age alarm follows
        first = min(days)
        sizing = self._size(first, run_id="", leftovers_only=True)
        session = self._runs.join_session(
            first,
            session_id=f"session#{self._new_id()}",
            now=self._clock(),
            min_units=sizing.min_units,
            max_units=sizing.max_units,
            sizing={
                "max_concurrency": sizing.max_concurrency,
                "watchdog_minutes": sizing.watchdog_minutes,
            },
            model_version_arn=self._config.model_version_arn,
        )
        self._carry_leftovers(session)
        self._runs.finish_enqueuing(first)
        return self._ensure_model_started(session, model)

    def _report_late_day(self, day: str) -> None:
        """A day's refinement is due before the next day's run: say so when it is not."""
        previous = (date.fromisoformat(day) - timedelta(days=1)).isoformat()
        run = self._runs.get_run(previous)
        if run is not None and run.status not in RUN_REFINED:
            metrics.add_metric(name="RefineDaysLate", unit=MetricUnit.Count, value=1)
            logger.error(
                "the previous capture day is not refined by its deadline",
                late_day=previous,
                run_status=run.status.value,
            )

    @staticmethod
    def _already(day: str, status: RunStatus, queued: int, skipped: int) -> ScheduleOutcome:
        return ScheduleOutcome(day, f"ALREADY_{status.value}", queued, skipped)


def _day_before(day: str) -> str:
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


def _decimal(value: float) -> Decimal:
    return Decimal(str(round(value, 3)))


def _refinable_key(item: dict[str, Any]) -> str | None:
    pk = str(item.get("pk", ""))
    if not pk.startswith("PICTURE#") or item.get("status") in NOT_REFINABLE:
        return None
    return str(item["raw_key"])
