"""Run items (`RUN#<capture day>` / `RUN`): one capture day's refinement run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase

from camblur.adapters.state.dynamo import StateConflict, to_iso
from camblur.adapters.state.sessions import ModelSession, SessionTable


class RunStatus(StrEnum):
    QUEUEING = "QUEUEING"  # refine_schedule is (or was, until it crashed) queueing the day
    QUEUED = "QUEUED"  # every picture of the day is in the queue
    DONE = "DONE"  # queue drained, model stopped, every queued picture refined (or nothing to do)
    # Drained and stopped, but some pictures were not refined (dead-lettered, refused by the
    # model, raw gone, or unaccounted for): the counts say which.
    DONE_WITH_FAILURES = "DONE_WITH_FAILURES"
    STOPPED_BY_WATCHDOG = "STOPPED_BY_WATCHDOG"
    FAILED = "FAILED"  # the model could not serve; live-blurred pictures stay as they are


RUN_CLOSED = frozenset(
    {
        RunStatus.DONE,
        RunStatus.DONE_WITH_FAILURES,
        RunStatus.STOPPED_BY_WATCHDOG,
        RunStatus.FAILED,
    }
)
RUN_REFINED = frozenset({RunStatus.DONE, RunStatus.DONE_WITH_FAILURES})  # finished by its session

# What the worker counts on the run (pictures_<outcome>): fine, or not refined for good.
SETTLED_COUNTS = (
    "pictures_refined",
    "pictures_duplicate",
    "pictures_skipped",
    "pictures_not_current",
)
FAILED_COUNTS = ("pictures_dead_lettered", "pictures_rejected", "pictures_raw_missing")
CARRY_KEY = {"pk": "RUN#CARRY", "sk": "CARRY"}


def run_key(day: str) -> dict[str, str]:
    return {"pk": f"RUN#{day}", "sk": "RUN"}


@dataclass(frozen=True)
class RunRecord:
    """One capture day's refinement run (`RUN#<day>` / `RUN`)."""

    day: str
    run_id: str
    status: RunStatus
    queued: int = 0
    skipped: int = 0
    cursor: dict[str, Any] | None = None
    item: dict[str, Any] = field(default_factory=dict)

    @property
    def closed(self) -> bool:
        return self.status in RUN_CLOSED

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> RunRecord:
        return cls(
            day=str(item["run_day"]),
            run_id=str(item["run_id"]),
            status=RunStatus(item["status"]),
            queued=int(item.get("queued", 0)),
            skipped=int(item.get("skipped", 0)),
            cursor=item.get("cursor") or None,
            item=item,
        )


@dataclass(frozen=True)
class RunTally:
    """A drained run's end: how many pictures were refined, failed, dead-lettered."""

    refined: int
    failed: int
    dead_lettered: int
    unaccounted: int  # queued, but neither settled nor failed by the worker's counts

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> RunTally:
        count = lambda name: int(item.get(name, 0))  # noqa: E731 - one line
        settled = sum(count(name) for name in SETTLED_COUNTS)
        failed = sum(count(name) for name in FAILED_COUNTS)
        return cls(
            refined=count("pictures_refined"),
            failed=failed,
            dead_lettered=count("pictures_dead_lettered"),
            unaccounted=max(0, count("queued") - settled - failed),
        )

    @property
    def status(self) -> RunStatus:
        return RunStatus.DONE_WITH_FAILURES if self.failed or self.unaccounted else RunStatus.DONE


class RunTable(SessionTable):
    """Run items, and the model session they share (inherited), in the blur-state table.

    Every write is conditional: two schedule invocations, or a schedule and the reconciler,
    may act at once, and neither may undo the other's work.
    """

    def get_run(self, day: str) -> RunRecord | None:
        item = self._items.get(run_key(day))
        return RunRecord.from_item(item) if item else None

    def create_run(
        self,
        day: str,
        run_id: str,
        now: datetime,
        expires: int,
        model_version_arn: str,
        replace_closed: bool = False,
    ) -> RunRecord:
        """Create the day's run, or return the one that exists (a second invocation)."""
        condition: ConditionBase = Attr("pk").not_exists()
        if replace_closed:
            condition |= Attr("status").is_in([status.value for status in RUN_CLOSED])
        item = {
            **run_key(day),
            "run_day": day,
            "run_id": run_id,
            "status": RunStatus.QUEUEING.value,
            "created_at": to_iso(now),
            "model_version_arn": model_version_arn,
            "queued": 0,
            "skipped": 0,
            "expires_at": expires,
        }
        try:
            self._items.put(item, condition)
        except StateConflict:
            existing = self.get_run(day)
            if existing is None:  # deleted in between: rare enough to retry from scratch
                raise
            return existing
        return RunRecord.from_item(item)

    def claim_enqueue(
        self, day: str, run_id: str, owner: str, now: datetime, until: datetime
    ) -> RunRecord | None:
        """Take the run's queueing lease; None if the run is queued already or leased by another."""
        lease_free = Attr("lease_until").not_exists() | Attr("lease_until").lt(to_iso(now))
        try:
            item = self._items.update(
                run_key(day),
                Attr("run_id").eq(run_id)
                & Attr("status").eq(RunStatus.QUEUEING.value)
                & lease_free,
                set={"lease_owner": owner, "lease_until": to_iso(until)},
                return_item=True,
            )
        except StateConflict:
            return None
        return RunRecord.from_item(item)

    def save_progress(
        self, day: str, owner: str, cursor: dict[str, Any] | None, queued: int, skipped: int
    ) -> None:
        """Checkpoint after each page: a crashed invocation's successor resumes from here.

        Raises StateConflict if the lease is no longer `owner`'s."""
        values: dict[str, Any] = {"queued": queued, "skipped": skipped}
        if cursor:
            values["cursor"] = cursor
        self._items.update(run_key(day), _leased_by(owner), set=values)

    def finish_enqueue(
        self,
        day: str,
        owner: str,
        now: datetime,
        queued: int,
        skipped: int,
        status: RunStatus,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self._items.update(
            run_key(day),
            _leased_by(owner),
            set={
                "status": status.value,
                "queued": queued,
                "skipped": skipped,
                "queued_at": to_iso(now),
                **(extra or {}),
            },
            remove=("lease_owner", "lease_until", "cursor"),
        )

    def release_enqueue(self, day: str, owner: str) -> None:
        """Give the lease back after a failure, so that a retry need not wait for it to lapse."""
        with suppress(StateConflict):  # not ours any more: nothing to give back
            self._items.update(
                run_key(day), _leased_by(owner), remove=("lease_owner", "lease_until")
            )

    def fail_run(self, day: str, run_id: str, now: datetime, reason: str, message: str) -> None:
        self.close_runs(
            [day],
            RunStatus.FAILED,
            {"end_reason": reason, "status_message": message, "ended_at": to_iso(now)},
            run_id=run_id,
        )

    def add_counts(self, day: str, counts: Mapping[str, int]) -> None:
        """Add the worker's per-batch counts (pictures refined, missing, ...) to the run."""
        counts = {name: value for name, value in counts.items() if value}
        if not counts:
            return
        # attribute_exists: never create a run item without its keys and TTL; if the run expired
        # or was removed, the counts have nowhere to go.
        with suppress(StateConflict):
            self._items.update(run_key(day), Attr("pk").exists(), add=counts)

    def record_model_start(self, session: ModelSession, at: str, adopted: bool = False) -> None:
        """StartProjectVersion was called for `session`: note when, and the units, on each run."""
        self.update_session(
            session.session_id, {"start_requested_at": at, "adopted": adopted}, only_if_absent=True
        )
        self.update_runs(
            session.days,
            {
                "model_start_requested_at": at,
                "min_inference_units": session.min_units,
                "max_inference_units": session.max_units,
            },
        )

    def update_runs(self, days: Iterable[str], values: Mapping[str, Any]) -> None:
        """Copy model session facts (start, RUNNING, stop times...) onto each run."""
        for day in days:
            self._set_run(day, values)

    def close_runs(
        self,
        days: Iterable[str],
        status: RunStatus,
        values: Mapping[str, Any],
        run_id: str | None = None,
    ) -> None:
        for day in days:
            self._set_run(
                day,
                {"status": status.value, **values},
                run_id=run_id,
                remove=("lease_owner", "lease_until"),
            )

    def close_drained_runs(self, days: Iterable[str], values: Mapping[str, Any]) -> list[str]:
        """Close each drained run DONE, or DONE_WITH_FAILURES with its counts; returns the
        days that had failures."""
        with_failures = []
        for day in days:
            item = self._items.get(run_key(day))
            if item is None:
                continue
            tally = RunTally.of(item)
            if tally.status is RunStatus.DONE_WITH_FAILURES:
                with_failures.append(day)
            self._set_run(
                day,
                {
                    "status": tally.status.value,
                    "refined": tally.refined,
                    "failed": tally.failed + tally.unaccounted,
                    "dead_lettered": tally.dead_lettered,
                    "unaccounted": tally.unaccounted,
                    **values,
                },
                remove=("lease_owner", "lease_until"),
            )
        return with_failures

    def carry_over(self, days: Iterable[str]) -> None:
        """A session ended with messages left in the queue: the next session refines them."""
        days = set(days)
        if days:
            # ADD creates the item when it is missing: a condition that always holds.
            self._items.update(
                CARRY_KEY, Attr("pk").not_exists() | Attr("pk").exists(), add={"days": days}
            )
        self.update_runs(days, {"carried_over": True})

    def carried_days(self) -> frozenset[str]:
        item = self._items.get(CARRY_KEY)
        return frozenset(item.get("days", ())) if item else frozenset()

    def forget_carried(self, days: Iterable[str]) -> None:
        with suppress(StateConflict):
            self._items.update(CARRY_KEY, Attr("pk").exists(), delete={"days": set(days)})

    def _set_run(
        self,
        day: str,
        values: Mapping[str, Any],
        run_id: str | None = None,
        remove: Sequence[str] = (),
    ) -> None:
        condition: ConditionBase = Attr("pk").exists()
        if run_id is not None:
            condition &= Attr("run_id").eq(run_id)
        # Expired, removed or replaced by a rerun: that run is not ours to change.
        with suppress(StateConflict):
            self._items.update(run_key(day), condition, set=values, remove=remove)


def _leased_by(owner: str) -> ConditionBase:
    return Attr("lease_owner").eq(owner)
