"""`camblur reprocess`: hand pictures back to the deployed pipeline, resumably and paced.

Which pictures: one key, a camera (optionally one capture day), or a capture day, from the state
table's indexes (never a scan, never a raw read). Keys are handed over in sorted order and the
last one handed over is checkpointed in a local file after every batch: a run that stops (^C, a
lost connection, a refused session) continues where it stopped when run again with the same
scope; a run that finishes removes its checkpoint, so the next one starts afresh.

- live: a reprocess request per picture to the live function (camblur.handover.LiveTarget),
  paced to --rate pictures a second so that a sweep leaves the DetectLabels quota (50 TPS by
  default) to the cameras. The function redoes the version S3 serves now, whatever the item
  says, except a refinement of it (skipped here: `--pass refine` redoes those).
- refine: a refine message per picture on the refine queue under a run of its own, in a model
  session (camblur.handover.RefineSession); the worker's own pacing
  (refine_rekognition_tps) keeps the model's calls under the quota, so messages go out at once
  (slow sending would only bill model minutes). Pictures that cannot be refined are skipped.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from boto3.dynamodb.conditions import Key

from camblur.adapters.pacing import TokenBucket
from camblur.adapters.state import CAPTURE_DAY_INDEX, NOT_REFINABLE, Status, picture_pk
from camblur.core.errors import TransientError
from camblur.events import reprocess_request
from camblur.refine.messages import RefineMessage
from camblur_cli.deployment import Deployment
from camblur_cli.erasure import CAMERA_INDEX
from camblur_cli.handover import LiveTarget, RefineRun, RefineSession
from camblur_cli.listing import query_all

BATCH = 50  # pictures per checkpoint
DEFAULT_RATE = 10.0  # pictures a second, live pass: a fifth of the default DetectLabels quota
NO_ITEM = "no state item"


class HandoverRefused(RuntimeError):  # noqa: N818 - names the situation
    """AWS refused a hand-over (SQS or Lambda); the checkpoint stops just before it."""


class Pass(StrEnum):
    LIVE = "live"
    REFINE = "refine"


@dataclass(frozen=True)
class Selection:
    """--key K | --camera C [--day D] | --day D"""

    key: str | None = None
    camera: str | None = None
    day: str | None = None

    def __post_init__(self) -> None:
        if self.key is not None and (self.camera is not None or self.day is not None):
            raise ValueError("--key names one picture: no --camera or --day with it")
        if self.key is None and self.camera is None and self.day is None:
            raise ValueError("name the pictures: --key K, --camera C [--day D] or --day D")

    def describe(self) -> str:
        if self.key is not None:
            return f"picture {self.key}"
        if self.camera is not None:
            return f"camera {self.camera}" + (f" on {self.day}" if self.day else ", every day")
        return f"every camera on {self.day}"

    def slug(self) -> str:
        text = json.dumps([self.key, self.camera, self.day])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Candidate:
    """A picture the selection found: its key and what its item says (None: no item)."""

    raw_key: str
    status: str | None
    capture_day: str = ""


def skip_reason(chosen: Pass, candidate: Candidate) -> str | None:
    """Why a picture is not handed over, or None to hand it over."""
    if chosen is Pass.LIVE:
        # The live pass never replaces a refinement of the same version.
        if candidate.status == Status.REFINED.value:
            return "REFINED (redo it with --pass refine)"
        return None  # no item: the live function creates it from the raw object
    if candidate.status is None:
        return f"{NO_ITEM} (reprocess --pass live first)"
    if candidate.status in {status.value for status in NOT_REFINABLE}:
        return f"{candidate.status} (nothing to refine)"
    return None


@dataclass
class Checkpoint:
    """The progress of one reprocess (scope and pass) in a local JSON file."""

    path: Path
    after: str = ""  # the last key handed over; keys go in sorted order
    queued: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    run: RefineRun | None = None
    joined: bool = False  # refine: the run's messages have a model session

    @classmethod
    def load(cls, path: Path) -> Checkpoint:
        if not path.exists():
            return cls(path)
        data = json.loads(path.read_text())
        run = data.get("run")
        return cls(
            path,
            after=str(data.get("after", "")),
            queued=int(data.get("queued", 0)),
            skipped=Counter(data.get("skipped", {})),
            run=RefineRun(run["day"], run["run_id"]) if run else None,
            joined=bool(data.get("joined", False)),
        )

    @property
    def resumed(self) -> bool:
        return bool(self.after or self.run)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "after": self.after,
            "queued": self.queued,
            "skipped": dict(self.skipped),
            "run": {"day": self.run.day, "run_id": self.run.run_id} if self.run else None,
            "joined": self.joined,
        }
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=2))
        temporary.replace(self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def checkpoint_path(folder: Path, env: str, chosen: Pass, selection: Selection) -> Path:
    return folder / f"{env}-{chosen.value}-{selection.slug()}.json"


class Finder:
    """The pictures a selection names, from the state table's indexes."""

    def __init__(self, deployment: Deployment) -> None:
        self._table = deployment.resource("dynamodb").Table(deployment.state_table)

    def find(self, selection: Selection) -> list[Candidate]:
        if selection.key is not None:
            item = self._table.get_item(
                Key={"pk": picture_pk(selection.key), "sk": "STATE"},
                ProjectionExpression="raw_key, #s, capture_day",
                ExpressionAttributeNames={"#s": "status"},
            ).get("Item")
            return [_candidate(item) if item else Candidate(selection.key, None)]
        if selection.camera is not None:
            condition = Key("camera_id").eq(selection.camera)
            if selection.day:
                # captured_at is UTC; a capture day (in the cameras' zone) lies within a day of it.
                day = date.fromisoformat(selection.day)
                condition &= Key("captured_at").between(
                    (day - timedelta(days=1)).isoformat(), (day + timedelta(days=2)).isoformat()
                )
            items: Iterable[dict[str, Any]] = query_all(
                self._table, IndexName=CAMERA_INDEX, KeyConditionExpression=condition
            )
        else:
            items = query_all(
                self._table,
                IndexName=CAPTURE_DAY_INDEX,
                KeyConditionExpression=Key("capture_day").eq(selection.day),
            )
        found = {
            item["raw_key"]: _candidate(item)
            for item in items
            if str(item.get("pk", "")).startswith("PICTURE#")
            and (selection.day is None or item.get("capture_day") == selection.day)
        }
        return [found[key] for key in sorted(found)]


def _candidate(item: dict[str, Any]) -> Candidate:
    return Candidate(str(item["raw_key"]), item.get("status"), str(item.get("capture_day", "")))


@dataclass(frozen=True)
class Plan:
    """What a run will do: the pictures to hand over now, and those skipped (with why)."""

    todo: list[Candidate]
    skipped: Counter[str]
    already: int  # handed over by the run this one resumes


def plan(chosen: Pass, candidates: list[Candidate], checkpoint: Checkpoint) -> Plan:
    """Pure: what is left after the checkpoint, and what the pass would skip."""
    todo, skipped, already = [], Counter[str](), 0
    for candidate in candidates:
        if checkpoint.after and candidate.raw_key <= checkpoint.after:
            already += 1
            continue
        reason = skip_reason(chosen, candidate)
        if reason is None:
            todo.append(candidate)
        else:
            skipped[reason] += 1
    return Plan(todo, skipped, already)


def batches(items: list[Candidate], size: int = BATCH) -> Iterator[list[Candidate]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Reprocessor:
    """Hands the plan's pictures over, batch by batch, checkpointing after each."""

    def __init__(
        self,
        deployment: Deployment,
        chosen: Pass,
        rate: float = DEFAULT_RATE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._deployment = deployment
        self._pass = chosen
        self._bucket = TokenBucket(rate, clock=clock, sleep=sleep) if chosen is Pass.LIVE else None
        self._live = LiveTarget(deployment) if chosen is Pass.LIVE else None
        self._session = RefineSession(deployment) if chosen is Pass.REFINE else None

    def destination(self) -> str:
        if self._live is not None:
            return self._live.describe()
        return "the refine queue"

    def run(
        self,
        work: Plan,
        checkpoint: Checkpoint,
        scope: str,
        advance: Callable[[int], None] = lambda n: None,
    ) -> None:
        """Hand over `work`, keep `checkpoint` up to date; the checkpoint is removed at the end.

        Raises SessionStopping (refine: the model is being stopped; what was sent waits in the
        queue, and a run again joins the next session) and HandoverRefused."""
        for reason, count in work.skipped.items():
            checkpoint.skipped[reason] += count
        session = self._session
        if session is not None and work.todo and checkpoint.run is None:
            checkpoint.run = RefineRun.new()
            checkpoint.save()  # the run's name first: a resume reuses it
        if session is not None and checkpoint.run is not None and work.todo:
            session.prepare(checkpoint.run, scope)
        joined = False  # this invocation holds the session open (marked as queueing)

        def join() -> None:
            nonlocal joined
            assert session is not None and checkpoint.run is not None
            session.join(checkpoint.run)  # raises SessionStopping: run again later
            joined = checkpoint.joined = True
            checkpoint.save()

        try:
            if session is not None and checkpoint.queued and not checkpoint.joined:
                join()  # sent before, but the session was stopping then
            for batch in batches(work.todo):
                errors = self._send(batch, checkpoint.run)
                refused = next((i for i, error in enumerate(errors) if error is not None), None)
                done = batch if refused is None else batch[:refused]
                checkpoint.queued += len(done)
                if done:
                    checkpoint.after = done[-1].raw_key
                checkpoint.save()
                advance(len(done))
                if session is not None and done and not joined:
                    join()
                if refused is not None:
                    # Stop at the first refusal: a run again resumes with that very picture
                    # (the ones after it in this batch may be handed over twice: harmless).
                    raise HandoverRefused(f"{batch[refused].raw_key}: {errors[refused]}")
        except BaseException:
            if joined:
                assert session is not None and checkpoint.run is not None
                session.release(checkpoint.run)
            raise
        if session is not None and checkpoint.run is not None:
            session.close(checkpoint.run, checkpoint.queued, sum(checkpoint.skipped.values()))
        checkpoint.remove()

    def _send(self, batch: list[Candidate], run: RefineRun | None) -> list[str | None]:
        if self._live is not None:
            assert self._bucket is not None
            for _ in batch:
                self._bucket.acquire()
            return self._live.send([reprocess_request(c.raw_key) for c in batch])
        assert self._session is not None and run is not None
        try:
            self._session.send(
                [RefineMessage(c.raw_key, run.day, run.run_id).to_body() for c in batch]
            )
        except TransientError as error:  # refused after retries: the whole batch again
            return [str(error)] * len(batch)
        return [None] * len(batch)
