"""The model session (`RUN#ACTIVE` / `SESSION`): the model's one running period."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase

from camblur.adapters.state.dynamo import ItemTable, StateConflict, from_iso, to_iso


class SessionPhase(StrEnum):
    OPEN = "OPEN"  # the model is wanted: starting, running, or waiting for the queue to drain
    STOPPING = "STOPPING"  # stop requested; closed once the model reports it stopped


SESSION_KEY = {"pk": "RUN#ACTIVE", "sk": "SESSION"}


@dataclass(frozen=True)
class ModelSession:
    """The model's one running period (`RUN#ACTIVE` / `SESSION`), shared by the runs in `days`.

    It exists only while the model is wanted or stopping: the reconciler's idle pass is one
    GetItem of this key.
    """

    session_id: str
    phase: SessionPhase
    days: frozenset[str]
    enqueuing: frozenset[str]
    created_at: datetime
    min_units: int
    max_units: int
    start_requested_at: datetime | None = None
    adopted: bool = False
    running_at: datetime | None = None
    mapping_enabled_at: datetime | None = None
    drain_first_seen_at: datetime | None = None
    stop_requested_at: datetime | None = None
    stop_reason: str | None = None
    status_message: str = ""
    # From refine/sizing.py at the session's start; None on sessions opened before sizing.
    max_concurrency: int | None = None
    watchdog_minutes: int | None = None
    # The model this session started (None: a session from before rotation was tracked).
    model_version_arn: str | None = None
    earlier_model_minutes: float = 0.0  # billed by models this session rotated away from

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> ModelSession:
        created = from_iso(item.get("created_at"))
        return cls(
            session_id=str(item["session_id"]),
            phase=SessionPhase(item.get("phase", SessionPhase.OPEN.value)),
            days=frozenset(item.get("days", ())),
            enqueuing=frozenset(item.get("enqueuing", ())),
            created_at=created or datetime.now(UTC),
            min_units=int(item.get("min_units", 1)),
            max_units=int(item.get("max_units", 1)),
            start_requested_at=from_iso(item.get("start_requested_at")),
            adopted=bool(item.get("adopted", False)),
            running_at=from_iso(item.get("running_at")),
            mapping_enabled_at=from_iso(item.get("mapping_enabled_at")),
            drain_first_seen_at=from_iso(item.get("drain_first_seen_at")),
            stop_requested_at=from_iso(item.get("stop_requested_at")),
            stop_reason=item.get("stop_reason"),
            status_message=str(item.get("status_message", "")),
            max_concurrency=_optional_int(item.get("max_concurrency")),
            watchdog_minutes=_optional_int(item.get("watchdog_minutes")),
            model_version_arn=item.get("model_version_arn"),
            earlier_model_minutes=float(item.get("earlier_model_minutes", 0)),
        )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


class SessionStopping(Exception):  # noqa: N818 - names the situation
    """The model is being stopped: a new run cannot join; try again once it has stopped."""


class SessionTable:
    """The model session item, in the blur-state table.

    Every write is conditional on the session id (or phase): the schedule and the reconciler
    may act at once, and neither may undo the other's work.
    """

    def __init__(self, table_name: str, dynamodb: Any = None) -> None:
        self._items = ItemTable(table_name, dynamodb)

    def get_session(self) -> ModelSession | None:
        item = self._items.get(SESSION_KEY)
        return ModelSession.from_item(item) if item else None

    def join_session(
        self,
        day: str,
        session_id: str,
        now: datetime,
        min_units: int,
        max_units: int,
        sizing: Mapping[str, Any] | None = None,
        model_version_arn: str | None = None,
    ) -> ModelSession:
        """Open the session (or join the open one) for `day`, marked as still queueing.

        Raises SessionStopping when the model is being stopped: joining then would leave the
        day's messages with no model. `sizing` (max_concurrency, watchdog_minutes) is set with
        the units by whoever opens the session: a day that joins an open one keeps its sizing.
        """
        try:
            item = self._items.update(
                SESSION_KEY,
                Attr("pk").not_exists() | Attr("phase").eq(SessionPhase.OPEN.value),
                set_if_absent={
                    "session_id": session_id,
                    "created_at": to_iso(now),
                    "phase": SessionPhase.OPEN.value,
                    "min_units": min_units,
                    "max_units": max_units,
                    **(sizing or {}),
                    # The reconciler stops this very model, even after a rotation.
                    **({"model_version_arn": model_version_arn} if model_version_arn else {}),
                },
                add={"days": {day}, "enqueuing": {day}},
                return_item=True,
            )
        except StateConflict as error:
            raise SessionStopping("the model is stopping; try again later") from error
        return ModelSession.from_item(item)

    def finish_enqueuing(self, day: str) -> None:
        """The day is fully queued: the reconciler may now take an empty queue as drained."""
        with suppress(StateConflict):  # no session any more: nothing waits for the day
            self._items.update(SESSION_KEY, Attr("pk").exists(), delete={"enqueuing": {day}})

    def update_session(
        self, session_id: str, values: Mapping[str, Any], only_if_absent: bool = False
    ) -> bool:
        """Set session attributes; False if the session changed meanwhile (or, with
        `only_if_absent`, if the first attribute was set already)."""
        condition: ConditionBase = Attr("session_id").eq(session_id)
        if only_if_absent:
            condition &= Attr(next(iter(values))).not_exists()
        try:
            self._items.update(SESSION_KEY, condition, set=values)
        except StateConflict:
            return False
        return True

    def add_session_days(self, session_id: str, days: frozenset[str]) -> bool:
        """Days whose leftover messages this session also refines (closed with it)."""
        try:
            self._items.update(
                SESSION_KEY,
                Attr("session_id").eq(session_id) & Attr("phase").eq(SessionPhase.OPEN.value),
                add={"days": set(days)},
            )
        except StateConflict:
            return False
        return True

    def rotate_model(
        self, session_id: str, old_arn: str, new_arn: str, earlier_minutes: Decimal
    ) -> bool:
        """The session goes on with `new_arn`, as if it had not started a model yet: the
        reconciler starts the new one on its next pass. The old one's minutes are kept."""
        try:
            self._items.update(
                SESSION_KEY,
                Attr("session_id").eq(session_id) & Attr("model_version_arn").eq(old_arn),
                set={"model_version_arn": new_arn},
                add={"earlier_model_minutes": earlier_minutes},
                remove=(
                    "start_requested_at",
                    "adopted",
                    "running_at",
                    "mapping_enabled_at",
                    "drain_first_seen_at",
                ),
            )
        except StateConflict:
            return False
        return True

    def clear_drain_mark(self, session_id: str) -> None:
        with suppress(StateConflict):  # another session now: its mark is not ours
            self._items.update(
                SESSION_KEY, Attr("session_id").eq(session_id), remove=("drain_first_seen_at",)
            )

    def request_stop(
        self, session_id: str, now: datetime, reason: str, message: str, only_if_idle: bool
    ) -> bool:
        """Move the session to STOPPING. With `only_if_idle`, refuse if a day is still queueing
        (a schedule joined after the reconciler looked)."""
        condition: ConditionBase = Attr("session_id").eq(session_id) & Attr("phase").eq(
            SessionPhase.OPEN.value
        )
        if only_if_idle:
            condition &= Attr("enqueuing").not_exists()
        try:
            self._items.update(
                SESSION_KEY,
                condition,
                set={
                    "phase": SessionPhase.STOPPING.value,
                    "stop_requested_at": to_iso(now),
                    "stop_reason": reason,
                    "status_message": message,
                },
            )
        except StateConflict:
            return False
        return True

    def end_session(self, session_id: str) -> None:
        with suppress(StateConflict):  # ended already, or another session: not ours to end
            self._items.delete(SESSION_KEY, Attr("session_id").eq(session_id))
