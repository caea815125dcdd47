"""DynamoDB: the blur state of every picture, and the refinement runs.

Keys (see docs/architecture.md): picture items `PICTURE#<raw key>` / `STATE`, run items
`RUN#<capture day>` / `RUN`, the model session `RUN#ACTIVE` / `SESSION`; the GSI
`by_capture_day` lists one day's pictures without a scan (run and session items carry no
`capture_day`, so they never appear in it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from camblur.adapters.aws import resource
from camblur.core.boxes import Box

CAPTURE_DAY_INDEX = "by_capture_day"


class Status(StrEnum):
    LIVE_BLURRED = "LIVE_BLURRED"
    REFINED = "REFINED"
    REJECTED = "REJECTED"
    FAILED = "FAILED"
    RAW_MISSING = "RAW_MISSING"
    SUPERSEDED = "SUPERSEDED"  # a newer version of the key was uploaded before this one's turn
    DELETED = "DELETED"  # the raw picture was deleted: no blurred copy, no pass republishes it


# A picture that reached one of these for a given raw version needs no live processing again.
LIVE_DONE = frozenset(
    {
        Status.LIVE_BLURRED,
        Status.REFINED,
        Status.REJECTED,
        Status.RAW_MISSING,
        Status.SUPERSEDED,
        Status.DELETED,
    }
)
# No refinement for these: nothing to read, or nothing that may be published.
NOT_REFINABLE = frozenset({Status.REJECTED, Status.RAW_MISSING, Status.SUPERSEDED, Status.DELETED})


def picture_pk(raw_key: str) -> str:
    return f"PICTURE#{raw_key}"


@dataclass(frozen=True)
class PictureState:
    raw_key: str
    status: Status
    raw_version_id: str | None = None
    camera_id: str = ""
    capture_day: str = ""
    boxes: tuple[Box, ...] = ()
    blurred_key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> PictureState:
        return cls(
            raw_key=item["raw_key"],
            status=Status(item["status"]),
            raw_version_id=item.get("raw_version_id"),
            camera_id=item.get("camera_id", ""),
            capture_day=item.get("capture_day", ""),
            boxes=tuple(Box.from_item(box) for box in item.get("boxes", [])),
            blurred_key=item.get("blurred_key"),
            extra=item,
        )


class StateConflict(Exception):  # noqa: N818 - names the situation
    """A conditional write lost: the item moved on (refined, or a newer version) meanwhile."""


class BlurStateTable:
    def __init__(self, table_name: str, dynamodb: Any = None) -> None:
        self._table_name = table_name
        self._table = (dynamodb or resource("dynamodb")).Table(table_name)

    @property
    def table(self) -> Any:
        return self._table

    def get(self, raw_key: str) -> PictureState | None:
        item = self._table.get_item(
            Key={"pk": picture_pk(raw_key), "sk": "STATE"}, ConsistentRead=True
        ).get("Item")
        return PictureState.from_item(item) if item else None

    def record_live(self, item: dict[str, Any]) -> None:
        """Write a live event's outcome unless the item already follows a later event.

        S3 delivers at least once and in any order: `event_order` (camblur.events.sequence_order)
        orders the events of one key. A write lands on a missing item, after an older event, or
        after the same event unless that one's version was REFINED meanwhile, so an older
        version never replaces a newer one and nothing live ever downgrades a refinement. Events
        without a sequencer (made by hand) fall back to: never downgrade the same version.
        """
        order = item.get("event_order") or ""
        refined_same_version = Attr("status").eq(Status.REFINED.value) & Attr("raw_version_id").eq(
            item["raw_version_id"]
        )
        if order:
            condition = (
                Attr("pk").not_exists()
                | (Attr("event_order").not_exists() & ~refined_same_version)
                | Attr("event_order").lt(order)
                | (Attr("event_order").eq(order) & Attr("status").ne(Status.REFINED.value))
            )
        else:
            condition = Attr("pk").not_exists() | ~refined_same_version
        try:
            self._table.put_item(
                Item={"pk": picture_pk(item["raw_key"]), "sk": "STATE", **item},
                ConditionExpression=condition,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise StateConflict(item["raw_key"]) from error
            raise

    def pictures_of_day(self, capture_day: str) -> Iterator[dict[str, Any]]:
        """Every picture item of one capture day, through the GSI (paged, never a scan)."""
        cursor: dict[str, Any] | None = None
        while True:
            items, cursor = self.pictures_of_day_page(capture_day, cursor)
            yield from items
            if cursor is None:
                return

    def pictures_of_day_page(
        self, capture_day: str, cursor: dict[str, Any] | None = None, limit: int | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of the GSI and the cursor of the next one (None after the last page)."""
        query: dict[str, Any] = {
            "IndexName": CAPTURE_DAY_INDEX,
            "KeyConditionExpression": "capture_day = :day",
            "ExpressionAttributeValues": {":day": capture_day},
        }
        if cursor:
            query["ExclusiveStartKey"] = cursor
        if limit:
            query["Limit"] = limit
        page = self._table.query(**query)
        return page.get("Items", []), page.get("LastEvaluatedKey")

    def record_refined(
        self, previous: PictureState, boxes: Sequence[Box], attributes: dict[str, Any]
    ) -> None:
        """Mark the picture REFINED with `boxes`, which must contain every box stored before.

        The write only lands if the item is still the one `previous` was read from (same raw
        version, same `updated_at`): a concurrent live pass or refinement makes it raise
        StateConflict, and the caller starts over from a fresh read, so boxes only ever grow.
        """
        missing = [box for box in previous.boxes if box not in set(boxes)]
        if missing:
            raise ValueError(
                f"refusing to drop {len(missing)} stored box(es) of {previous.raw_key}"
            )
        self._update_picture(
            previous,
            {
                **attributes,
                "status": Status.REFINED.value,
                "boxes": [box.to_item() for box in boxes],
            },
            remove=("error", "reason"),
            same_revision=True,
        )

    def record_refine_outcome(
        self, previous: PictureState, attributes: dict[str, Any], status: Status | None = None
    ) -> None:
        """Record why refinement left a picture as it was (raw gone, picture refused).

        `status` changes the picture's status (RAW_MISSING); without it the live result stays
        what users see and only the refine_* attributes tell what happened.
        """
        values = dict(attributes)
        if status is not None:
            values["status"] = status.value
        self._update_picture(previous, values, remove=(), same_revision=False)

    def _update_picture(
        self,
        previous: PictureState,
        values: dict[str, Any],
        remove: Sequence[str],
        same_revision: bool,
    ) -> None:
        names = {f"#a{index}": name for index, name in enumerate(values)}
        placeholders = {f":a{index}": value for index, value in enumerate(values.values())}
        expression = "SET " + ", ".join(f"#a{index} = :a{index}" for index in range(len(values)))
        removed = [name for name in remove if name not in values]
        if removed:
            names.update({f"#r{index}": name for index, name in enumerate(removed)})
            expression += " REMOVE " + ", ".join(f"#r{index}" for index in range(len(removed)))
        condition = "attribute_exists(pk) AND raw_version_id = :version"
        placeholders[":version"] = previous.raw_version_id or "null"
        if same_revision:
            seen = previous.extra.get("updated_at")
            if seen is None:
                condition += " AND attribute_not_exists(updated_at)"
            else:
                condition += " AND updated_at = :seen"
                placeholders[":seen"] = seen
        try:
            self._table.update_item(
                Key={"pk": picture_pk(previous.raw_key), "sk": "STATE"},
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=placeholders,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise StateConflict(previous.raw_key) from error
            raise


def expires_at(now: datetime, ttl_days: int) -> int:
    """TTL attribute: epoch seconds after which DynamoDB may delete the item."""
    return int((now + timedelta(days=ttl_days)).timestamp())


# --- Daily refinement: run items and the model session -------------------------------------


class RunStatus(StrEnum):
    QUEUEING = "QUEUEING"  # refine_schedule is (or was, until it crashed) queueing the day
    QUEUED = "QUEUED"  # every picture of the day is in the queue
    DONE = "DONE"  # queue drained and model stopped (or nothing to refine)
    STOPPED_BY_WATCHDOG = "STOPPED_BY_WATCHDOG"
    FAILED = "FAILED"  # the model could not serve; live-blurred pictures stay as they are


RUN_CLOSED = frozenset({RunStatus.DONE, RunStatus.STOPPED_BY_WATCHDOG, RunStatus.FAILED})


class SessionPhase(StrEnum):
    OPEN = "OPEN"  # the model is wanted: starting, running, or waiting for the queue to drain
    STOPPING = "STOPPING"  # stop requested; closed once the model reports it stopped


SESSION_KEY = {"pk": "RUN#ACTIVE", "sk": "SESSION"}


def run_key(day: str) -> dict[str, str]:
    return {"pk": f"RUN#{day}", "sk": "RUN"}


def to_iso(moment: datetime) -> str:
    """UTC, fixed width: ISO strings then compare in DynamoDB conditions as times do."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def from_iso(text: Any) -> datetime | None:
    return datetime.fromisoformat(str(text)) if text else None


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
        )


class SessionStopping(Exception):  # noqa: N818 - names the situation
    """The model is being stopped: a new run cannot join; try again once it has stopped."""


class RunTable:
    """Run items and the model session, in the blur-state table.

    Every write is conditional: two schedule invocations, or a schedule and the reconciler,
    may act at once, and neither may undo the other's work.
    """

    def __init__(self, table_name: str, dynamodb: Any = None) -> None:
        self._table = (dynamodb or resource("dynamodb")).Table(table_name)

    # Runs ------------------------------------------------------------------------------------

    def get_run(self, day: str) -> RunRecord | None:
        item = self._table.get_item(Key=run_key(day), ConsistentRead=True).get("Item")
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
        condition = "attribute_not_exists(pk)"
        values: dict[str, Any] = {}
        if replace_closed:
            condition += " OR #status IN (:done, :watchdog, :failed)"
            values = {f":{key}": status.value for key, status in _CLOSED_PLACEHOLDERS.items()}
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
            self._table.put_item(
                Item=item,
                ConditionExpression=condition,
                **(
                    {
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": values,
                    }
                    if values
                    else {}
                ),
            )
        except ClientError as error:
            if not _conditional(error):
                raise
            existing = self.get_run(day)
            if existing is None:  # deleted in between: rare enough to retry from scratch
                raise StateConflict(f"run {day}") from error
            return existing
        return RunRecord.from_item(item)

    def claim_enqueue(
        self, day: str, run_id: str, owner: str, now: datetime, until: datetime
    ) -> RunRecord | None:
        """Take the run's queueing lease; None if the run is queued already or leased by another."""
        try:
            response = self._table.update_item(
                Key=run_key(day),
                UpdateExpression="SET lease_owner = :owner, lease_until = :until",
                ConditionExpression=(
                    "run_id = :run AND #status = :queueing"
                    " AND (attribute_not_exists(lease_until) OR lease_until < :now)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":owner": owner,
                    ":until": to_iso(until),
                    ":run": run_id,
                    ":queueing": RunStatus.QUEUEING.value,
                    ":now": to_iso(now),
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _conditional(error):
                return None
            raise
        return RunRecord.from_item(response["Attributes"])

    def save_progress(
        self, day: str, owner: str, cursor: dict[str, Any] | None, queued: int, skipped: int
    ) -> None:
        """Checkpoint after each page: a crashed invocation's successor resumes from here."""
        expression = "SET queued = :queued, skipped = :skipped"
        values: dict[str, Any] = {":queued": queued, ":skipped": skipped, ":owner": owner}
        if cursor:
            expression += ", #cursor = :cursor"
            values[":cursor"] = cursor
        self._update_run(
            day,
            expression,
            "lease_owner = :owner",
            values,
            names={"#cursor": "cursor"} if cursor else None,
        )

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
        sets = {"queued": queued, "skipped": skipped, "queued_at": to_iso(now), **(extra or {})}
        names = {"#status": "status", **{f"#s{i}": name for i, name in enumerate(sets)}}
        values: dict[str, Any] = {
            ":status": status.value,
            ":owner": owner,
            **{f":s{i}": value for i, value in enumerate(sets.values())},
        }
        expression = "SET #status = :status, " + ", ".join(
            f"#s{i} = :s{i}" for i in range(len(sets))
        )
        expression += " REMOVE lease_owner, lease_until, #cursor"
        names["#cursor"] = "cursor"
        self._update_run(day, expression, "lease_owner = :owner", values, names)

    def release_enqueue(self, day: str, owner: str) -> None:
        """Give the lease back after a failure, so that a retry need not wait for it to lapse."""
        with suppress(StateConflict):  # not ours any more: nothing to give back
            self._update_run(
                day,
                "REMOVE lease_owner, lease_until",
                "lease_owner = :owner",
                {":owner": owner},
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
        names = {f"#c{i}": name for i, name in enumerate(counts)}
        values = {f":c{i}": value for i, value in enumerate(counts.values())}
        # attribute_exists: never create a run item without its keys and TTL; if the run expired
        # or was removed, the counts have nowhere to go.
        with suppress(StateConflict):
            self._update_run(
                day,
                "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(counts))),
                "attribute_exists(pk)",
                values,
                names,
            )

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
            self._set_run(day, dict(values))

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

    def _set_run(
        self,
        day: str,
        values: dict[str, Any],
        run_id: str | None = None,
        remove: Sequence[str] = (),
    ) -> None:
        names = {f"#v{i}": name for i, name in enumerate(values)}
        placeholders = {f":v{i}": value for i, value in enumerate(values.values())}
        expression = "SET " + ", ".join(f"#v{i} = :v{i}" for i in range(len(values)))
        if remove:
            expression += " REMOVE " + ", ".join(remove)
        condition = "attribute_exists(pk)"
        if run_id is not None:
            condition += " AND run_id = :run"
            placeholders[":run"] = run_id
        # Expired, removed or replaced by a rerun: that run is not ours to change.
        with suppress(StateConflict):
            self._update_run(day, expression, condition, placeholders, names)

    def _update_run(
        self,
        day: str,
        expression: str,
        condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> None:
        request: dict[str, Any] = {
            "Key": run_key(day),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        if names:
            request["ExpressionAttributeNames"] = names
        try:
            self._table.update_item(**request)
        except ClientError as error:
            if _conditional(error):
                raise StateConflict(f"run {day}") from error
            raise

    # The model session -----------------------------------------------------------------------

    def get_session(self) -> ModelSession | None:
        item = self._table.get_item(Key=SESSION_KEY, ConsistentRead=True).get("Item")
        return ModelSession.from_item(item) if item else None

    def join_session(
        self, day: str, session_id: str, now: datetime, min_units: int, max_units: int
    ) -> ModelSession:
        """Open the session (or join the open one) for `day`, marked as still queueing.

        Raises SessionStopping when the model is being stopped: joining then would leave the
        day's messages with no model.
        """
        try:
            response = self._table.update_item(
                Key=SESSION_KEY,
                UpdateExpression=(
                    "SET session_id = if_not_exists(session_id, :sid),"
                    " created_at = if_not_exists(created_at, :now),"
                    " phase = if_not_exists(phase, :open),"
                    " min_units = if_not_exists(min_units, :min),"
                    " max_units = if_not_exists(max_units, :max)"
                    " ADD #days :day, enqueuing :day"
                ),
                ConditionExpression="attribute_not_exists(pk) OR phase = :open",
                ExpressionAttributeNames={"#days": "days"},
                ExpressionAttributeValues={
                    ":sid": session_id,
                    ":now": to_iso(now),
                    ":open": SessionPhase.OPEN.value,
                    ":min": min_units,
                    ":max": max_units,
                    ":day": {day},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _conditional(error):
                raise SessionStopping("the model is stopping; try again later") from error
            raise
        return ModelSession.from_item(response["Attributes"])

    def finish_enqueuing(self, day: str) -> None:
        """The day is fully queued: the reconciler may now take an empty queue as drained."""
        try:
            self._table.update_item(
                Key=SESSION_KEY,
                UpdateExpression="DELETE enqueuing :day",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":day": {day}},
            )
        except ClientError as error:
            if not _conditional(error):
                raise

    def update_session(
        self, session_id: str, values: Mapping[str, Any], only_if_absent: bool = False
    ) -> bool:
        """Set session attributes; False if the session changed meanwhile (or, with
        `only_if_absent`, if the first attribute was set already)."""
        names = {f"#v{i}": name for i, name in enumerate(values)}
        placeholders = {f":v{i}": value for i, value in enumerate(values.values())}
        placeholders[":sid"] = session_id
        condition = "session_id = :sid"
        if only_if_absent:
            condition += " AND attribute_not_exists(#v0)"
        try:
            self._table.update_item(
                Key=SESSION_KEY,
                UpdateExpression="SET " + ", ".join(f"#v{i} = :v{i}" for i in range(len(values))),
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=placeholders,
            )
        except ClientError as error:
            if _conditional(error):
                return False
            raise
        return True

    def clear_drain_mark(self, session_id: str) -> None:
        try:
            self._table.update_item(
                Key=SESSION_KEY,
                UpdateExpression="REMOVE drain_first_seen_at",
                ConditionExpression="session_id = :sid",
                ExpressionAttributeValues={":sid": session_id},
            )
        except ClientError as error:
            if not _conditional(error):
                raise

    def request_stop(
        self, session_id: str, now: datetime, reason: str, message: str, only_if_idle: bool
    ) -> bool:
        """Move the session to STOPPING. With `only_if_idle`, refuse if a day is still queueing
        (a schedule joined after the reconciler looked)."""
        condition = "session_id = :sid AND phase = :open"
        if only_if_idle:
            condition += " AND attribute_not_exists(enqueuing)"
        try:
            self._table.update_item(
                Key=SESSION_KEY,
                UpdateExpression=(
                    "SET phase = :stopping, stop_requested_at = :now, stop_reason = :reason,"
                    " status_message = :message"
                ),
                ConditionExpression=condition,
                ExpressionAttributeValues={
                    ":sid": session_id,
                    ":open": SessionPhase.OPEN.value,
                    ":stopping": SessionPhase.STOPPING.value,
                    ":now": to_iso(now),
                    ":reason": reason,
                    ":message": message,
                },
            )
        except ClientError as error:
            if _conditional(error):
                return False
            raise
        return True

    def end_session(self, session_id: str) -> None:
        try:
            self._table.delete_item(
                Key=SESSION_KEY,
                ConditionExpression="session_id = :sid",
                ExpressionAttributeValues={":sid": session_id},
            )
        except ClientError as error:
            if not _conditional(error):
                raise


_CLOSED_PLACEHOLDERS = {
    "done": RunStatus.DONE,
    "watchdog": RunStatus.STOPPED_BY_WATCHDOG,
    "failed": RunStatus.FAILED,
}


def _conditional(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"
