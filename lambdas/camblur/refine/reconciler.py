"""model_reconciler: run on a schedule (default every minute), keep the model's billed time short.

One pass reads the session item and, only if a session is open, the model's state and the
queue's depth, then does at most what the situation asks:

    no session                      → nothing (one GetItem)
    model FAILED/DEPRECATED/EXPIRED → close the mapping, mark the runs FAILED, never restart
    session older than max minutes  → watchdog: close the mapping, stop the model
    model never started             → start it (units recorded by refine_schedule)
    model STARTING                  → nothing: the mapping stays closed, messages wait unread
    model RUNNING, work queued      → open the mapping
    model RUNNING, queue empty      → remember when; on a later pass at least
                                      `drain_confirm_seconds` after, still empty → stop
    stop requested                  → once the model is STOPPED: record times, close the runs
                                      (DONE, or DONE_WITH_FAILURES with the counts); messages
                                      left in the queue are carried into the next session
    model_version_arn changed       → rotation: close the mapping, stop the session's model,
                                      and only once it is STOPPED go on with the new one
    session past its watchdog limit → every pass: RefineSessionOverdue (a model still billing)

No pass sleeps: waiting is the schedule's job, so the only thing billed while waiting is one
short invocation a minute.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from camblur.adapters.lambda_mapping import EventSourceMapping
from camblur.adapters.queue import RefineQueue
from camblur.adapters.rekognition import ModelControl, ModelState
from camblur.adapters.state import ModelSession, RunStatus, RunTable, SessionPhase, to_iso
from camblur.config import ReconcileConfig
from camblur.core.errors import TransientError
from camblur.observability import MetricUnit, logger, metrics

# SQS's approximate counts can read zero for a moment while messages are in flight; two
# observations this far apart (two scheduled passes) make a drained queue a fact.
DRAIN_CONFIRM_SECONDS = 45.0
# The watchdog stops the model at max_run_minutes; a session still open this much later means
# a model that may still bill (a stop that keeps failing): alarmed.
OVERDUE_MARGIN = timedelta(minutes=15)


class StopReason(StrEnum):
    DRAINED = "DRAINED"
    WATCHDOG = "WATCHDOG"
    MODEL_FAILED = "MODEL_FAILED"
    MODEL_STOPPED_ELSEWHERE = "MODEL_STOPPED_ELSEWHERE"


RUN_STATUS_BY_REASON = {
    StopReason.DRAINED.value: RunStatus.DONE,
    StopReason.WATCHDOG.value: RunStatus.STOPPED_BY_WATCHDOG,
}


class Pass(StrEnum):
    """What one reconciler pass found or did."""

    IDLE = "IDLE"
    WAITING = "WAITING"  # model busy stopping from before, or a schedule still queueing
    STARTING = "STARTING"
    PROCESSING = "PROCESSING"
    DRAIN_SEEN = "DRAIN_SEEN"
    STOPPING = "STOPPING"
    CLOSED = "CLOSED"


@dataclass(frozen=True)
class PassResult:
    result: Pass
    model_status: str = ""
    detail: str = ""


class ModelReconciler:
    def __init__(
        self,
        config: ReconcileConfig,
        runs: RunTable,
        model: ModelControl,
        queue: RefineQueue,
        mapping: EventSourceMapping,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        drain_confirm_seconds: float = DRAIN_CONFIRM_SECONDS,
    ) -> None:
        self._config = config
        self._runs = runs
        self._model = model
        self._queue = queue
        self._mapping = mapping
        self._clock = clock
        self._drain_confirm = timedelta(seconds=drain_confirm_seconds)

    def reconcile(self) -> PassResult:
        session = self._runs.get_session()
        if session is None:
            return PassResult(Pass.IDLE)
        with logger.append_context_keys(
            session_id=session.session_id, capture_days=sorted(session.days)
        ):
            result = self._reconcile(session, self._clock())
            logger.info(
                "model reconciled",
                status=result.result.value,
                model_status=result.model_status,
                detail=result.detail,
            )
            return result

    def _reconcile(self, session: ModelSession, now: datetime) -> PassResult:
        # The session's own limit (refine/sizing.py, set by refine_schedule), else the setting.
        max_run_minutes = session.watchdog_minutes or self._config.max_run_minutes
        if now - session.created_at >= timedelta(minutes=max_run_minutes) + OVERDUE_MARGIN:
            metrics.add_metric(name="RefineSessionOverdue", unit=MetricUnit.Count, value=1)
            logger.error("model session still open past its watchdog limit")
        if session.model_version_arn not in (None, self._model.version_arn):
            return self._rotate(session, now)
        state = self._model.describe()
        if session.phase is SessionPhase.STOPPING:
            return self._finish_stop(session, state, now)
        if state.unusable:
            return self._stop(
                session,
                state,
                now,
                StopReason.MODEL_FAILED,
                f"model {state.status}: {state.message}".strip(": "),
            )
        if now - session.created_at >= timedelta(minutes=max_run_minutes):
            return self._stop(
                session,
                state,
                now,
                StopReason.WATCHDOG,
                f"session older than {max_run_minutes} minutes",
            )
        if not state.active:
            return self._model_not_active(session, state, now)

        if session.start_requested_at is None:
            # Running (or starting) already, not by us: adopt it, and stop it when done.
            self._runs.update_session(
                session.session_id,
                {"start_requested_at": to_iso(now), "adopted": True},
                only_if_absent=True,
            )
        if not state.running:
            return PassResult(Pass.STARTING, state.status, "mapping stays closed")

        if session.running_at is None:
            self._runs.update_session(session.session_id, {"running_at": to_iso(now)})
            self._runs.update_runs(session.days, {"model_running_at": to_iso(now)})
        depth = self._queue.depth()
        if depth.total > 0 or session.enqueuing:
            if session.drain_first_seen_at is not None:
                self._runs.clear_drain_mark(session.session_id)
            # The sizing's concurrency for this session (None: the mapping's Terraform value).
            if self._mapping.enable(session.max_concurrency) and session.mapping_enabled_at is None:
                self._runs.update_session(session.session_id, {"mapping_enabled_at": to_iso(now)})
                self._runs.update_runs(session.days, {"mapping_enabled_at": to_iso(now)})
            return PassResult(
                Pass.PROCESSING,
                state.status,
                f"visible={depth.visible} in_flight={depth.in_flight} delayed={depth.delayed}"
                + (f" queueing={sorted(session.enqueuing)}" if session.enqueuing else ""),
            )
        if (
            session.drain_first_seen_at is None
            or now - session.drain_first_seen_at < self._drain_confirm
        ):
            if session.drain_first_seen_at is None:
                self._runs.update_session(session.session_id, {"drain_first_seen_at": to_iso(now)})
            return PassResult(Pass.DRAIN_SEEN, state.status, "queue empty; confirming")
        return self._stop(session, state, now, StopReason.DRAINED, "queue drained")

    def _rotate(self, session: ModelSession, now: datetime) -> PassResult:
        """model_version_arn changed while the session's model ran: never two models billed.

        The session's own model is stopped first (the mapping closed meanwhile: the workers
        already ask the new model); once it is STOPPED the session goes on with the new one,
        which the next pass starts. A session that was stopping anyway just finishes.
        """
        old_arn = str(session.model_version_arn)
        old = self._model.for_version(old_arn)
        state = old.describe()
        if session.phase is SessionPhase.STOPPING:
            return self._finish_stop(session, state, now, model=old)
        if state.active or state.stopping:
            try:
                self._mapping.disable()
                if state.active:
                    old.stop()
            except TransientError as error:
                logger.warning("could not stop the replaced model yet", error=str(error))
            return PassResult(Pass.STOPPING, state.status, f"replaced model {old_arn} stopping")
        started = session.start_requested_at
        minutes = (now - started).total_seconds() / 60 if started else 0.0
        if not self._runs.rotate_model(
            session.session_id, old_arn, self._model.version_arn, _decimal_minutes(minutes)
        ):
            return PassResult(Pass.WAITING, state.status, "session changed; next pass decides")
        self._runs.update_runs(
            session.days,
            {"model_version_arn": self._model.version_arn, "model_rotated_at": to_iso(now)},
        )
        metrics.add_metric(name="ModelRotations", unit=MetricUnit.Count, value=1)
        logger.warning(
            "model replaced mid-session: the old one is stopped, the new one starts next",
            old_model=old_arn,
            new_model=self._model.version_arn,
        )
        return PassResult(Pass.WAITING, state.status, f"rotated from {old_arn}")

    def _model_not_active(
        self, session: ModelSession, state: ModelState, now: datetime
    ) -> PassResult:
        if session.start_requested_at is not None:
            # We started (or adopted) it and nobody here stopped it: someone else did. Report,
            # do not restart: a restart loop is exactly what bills for nothing.
            return self._stop(
                session,
                state,
                now,
                StopReason.MODEL_STOPPED_ELSEWHERE,
                f"model {state.status} while the session still had work",
            )
        if not state.startable:
            return PassResult(Pass.WAITING, state.status, "model still stopping from before")
        # refine_schedule could not start it (busy, throttled): start it now.
        started = self._model.start(session.min_units, session.max_units)
        if started:
            self._runs.record_model_start(session, to_iso(now))
            metrics.add_metric(name="ModelStarts", unit=MetricUnit.Count, value=1)
        return PassResult(Pass.STARTING, state.status, "start requested" if started else "busy")

    def _stop(
        self,
        session: ModelSession,
        state: ModelState,
        now: datetime,
        reason: StopReason,
        message: str,
    ) -> PassResult:
        # Only a drain waits for queueing to finish; the watchdog and failures do not.
        if not self._runs.request_stop(
            session.session_id,
            now,
            reason.value,
            message,
            only_if_idle=reason is StopReason.DRAINED,
        ):
            return PassResult(Pass.WAITING, state.status, "session changed; next pass decides")
        if reason is StopReason.WATCHDOG:
            metrics.add_metric(name="RefineWatchdogStops", unit=MetricUnit.Count, value=1)
            logger.warning("watchdog: stopping the model whatever the queue says")
        elif reason is not StopReason.DRAINED:
            metrics.add_metric(name="RefineModelFailed", unit=MetricUnit.Count, value=1)
            logger.error(
                "model cannot serve; run marked FAILED and the model is not restarted",
                model_status=state.status,
                status_message=state.message,
            )
        self._runs.update_runs(
            session.days, {"model_stop_requested_at": to_iso(now), "stop_reason": reason.value}
        )
        stopping = replace(
            session,
            phase=SessionPhase.STOPPING,
            stop_requested_at=now,
            stop_reason=reason.value,
            status_message=message,
        )
        return self._finish_stop(stopping, state, now)

    def _finish_stop(
        self,
        session: ModelSession,
        state: ModelState,
        now: datetime,
        model: ModelControl | None = None,
    ) -> PassResult:
        """Close the mapping, stop the model, and once both are done close the runs.

        Each step is retried on the next pass until it holds; the session item stays until
        then, so the next pass always comes back here.
        """
        model = model or self._model
        try:
            closed = self._mapping.disable()
        except TransientError as error:
            logger.warning("could not close the mapping yet", error=str(error))
            closed = False
        if state.active:
            try:
                model.stop()
            except TransientError as error:
                logger.warning("could not stop the model yet", error=str(error))
            return PassResult(Pass.STOPPING, state.status, "stop requested")
        if state.stopping or not closed:
            return PassResult(Pass.STOPPING, state.status, "waiting for STOPPED and mapping")

        started = session.start_requested_at
        minutes = (now - started).total_seconds() / 60 if started else 0.0
        minutes += session.earlier_model_minutes
        reason = session.stop_reason or StopReason.DRAINED.value
        values = {
            "model_stopped_at": to_iso(now),
            "model_minutes": _decimal_minutes(minutes),
            "stop_reason": reason,
            "status_message": session.status_message or state.message,
            "ended_at": to_iso(now),
            "min_inference_units": session.min_units,
            "max_inference_units": session.max_units,
        }
        if reason == StopReason.DRAINED.value:
            with_failures = self._runs.close_drained_runs(session.days, values)
            if with_failures:
                metrics.add_metric(
                    name="RefineRunsWithFailures", unit=MetricUnit.Count, value=len(with_failures)
                )
                logger.warning("runs done with failures", capture_days=with_failures)
        else:
            self._carry_leftovers(session)
            self._runs.close_runs(
                session.days, RUN_STATUS_BY_REASON.get(reason, RunStatus.FAILED), values
            )
        self._runs.end_session(session.session_id)
        if started:
            metrics.add_metric(name="ModelRunningMinutes", unit=MetricUnit.NoUnit, value=minutes)
        logger.info(
            "model session closed",
            stop_reason=reason,
            model_minutes=round(minutes, 1),
            model_status=state.status,
        )
        return PassResult(Pass.CLOSED, state.status, reason)

    def _carry_leftovers(self, session: ModelSession) -> None:
        """Messages a session ended early on (model failed, watchdog) wait, unread, for the
        next session, which the next schedule run opens (refine/schedule.py)."""
        try:
            left = self._queue.depth().total
        except TransientError:
            left = 1  # unknown: carry; the next schedule finds the queue empty and forgets
        if left:
            self._runs.carry_over(session.days)
            metrics.add_metric(name="RefineDaysCarriedOver", unit=MetricUnit.Count, value=1)
            logger.warning(
                "session ended with work left; the next session takes it", messages_left=left
            )


def _decimal_minutes(minutes: float) -> Decimal:
    """DynamoDB wants Decimal, not float."""
    return Decimal(str(round(minutes, 2)))
