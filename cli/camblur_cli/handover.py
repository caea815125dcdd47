"""Handing work to the deployed pipeline: the command itself never reads a raw picture.

- The live function takes a payload (an S3 notification, or a reprocess request) the way the
  stack's live trigger delivers it: a message on the live queue (`live_trigger = "sqs"`), or an
  asynchronous invocation (`"s3_async"`), whose retries and failure destination then apply as
  they do to S3's own events.
- The refine queue takes refine messages; the model session makes a model read them. A day's
  session is opened the way refine_schedule opens one (the session item, marked as still
  queueing until every message is sent); the model reconciler then starts the model on its next
  pass, opens the mapping once it runs, and stops it when the queue is drained, as every night.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from camblur.adapters.queue import SQS_MAX_BATCH, RefineQueue
from camblur.adapters.state import RunTable, SessionStopping, expires_at, to_iso
from camblur_cli.deployment import Deployment, DeploymentError


class LiveTarget:
    """Where a payload for the live function goes: the live queue, or an asynchronous invoke."""

    def __init__(self, deployment: Deployment) -> None:
        self._queue_url = deployment.queue_url("live")
        self._sqs = deployment.client("sqs") if self._queue_url else None
        self._function = None if self._queue_url else deployment.function("live_blur")
        self._lambda = None if self._queue_url else deployment.client("lambda")

    def describe(self) -> str:
        if self._queue_url:
            return "the live queue"
        return f"{self._function} (asynchronous invocation)"

    def send(self, payloads: Sequence[dict[str, Any]]) -> list[str | None]:
        """Send each payload; per payload None when it was accepted, else why not."""
        if self._sqs is not None:
            return self._send_to_queue(payloads)
        errors: list[str | None] = []
        for payload in payloads:
            try:
                self._lambda.invoke(  # type: ignore[union-attr]
                    FunctionName=self._function,
                    InvocationType="Event",
                    Payload=json.dumps(payload).encode(),
                )
                errors.append(None)
            except (BotoCoreError, ClientError) as error:
                errors.append(f"Invoke failed: {error}")
        return errors

    def _send_to_queue(self, payloads: Sequence[dict[str, Any]]) -> list[str | None]:
        errors: list[str | None] = []
        for start in range(0, len(payloads), SQS_MAX_BATCH):
            batch = payloads[start : start + SQS_MAX_BATCH]
            try:
                response = self._sqs.send_message_batch(  # type: ignore[union-attr]
                    QueueUrl=self._queue_url,
                    Entries=[
                        {"Id": str(index), "MessageBody": json.dumps(payload)}
                        for index, payload in enumerate(batch)
                    ],
                )
            except (BotoCoreError, ClientError) as error:
                errors.extend(f"SendMessageBatch failed: {error}" for _ in batch)
                continue
            refused = {
                entry["Id"]: f"{entry.get('Code')}: {entry.get('Message', '')}"
                for entry in response.get("Failed", [])
            }
            errors.extend(refused.get(str(index)) for index in range(len(batch)))
        return errors


REPROCESS_RUNS_PK = "RUN#REPROCESSES"  # sk = <created at>#<run day>: one item per run
REPROCESS_RUNS_LISTED_DAYS = 30


@dataclass(frozen=True)
class RefineRun:
    """A reprocess's own run item (`RUN#<day>` with day `reprocess-<id>`): the reconciler
    records the model's times on it and the worker its counts, as for a night's run, without
    touching the capture day's own run."""

    day: str
    run_id: str

    @classmethod
    def new(cls) -> RefineRun:
        token = uuid.uuid4().hex[:12]
        return cls(f"reprocess-{token}", f"reprocess-{token}#{token}")


class RefineSession:
    """Opens (or joins) the model session for a reprocess run, as refine_schedule does."""

    def __init__(self, deployment: Deployment) -> None:
        self._deployment = deployment
        self._runs = RunTable(deployment.state_table, deployment.resource("dynamodb"))
        self._queue = RefineQueue(
            deployment.queue_url("refine") or deployment.refine_queue_url,
            deployment.client("sqs"),
        )

    def prepare(self, run: RefineRun, scope: str) -> None:
        """Create the run item (once): the worker adds its counts to it."""
        now = datetime.now(UTC)
        self._runs.create_run(
            run.day,
            run_id=run.run_id,
            now=now,
            expires=expires_at(now, int(self._settings.get("STATE_TTL_DAYS", 400))),
            model_version_arn=self._settings.get("MODEL_VERSION_ARN", ""),
        )
        self._runs.update_runs([run.day], {"scope": scope, "requested_by": "camblur reprocess"})
        # Listed for `camblur status`, which shows recent reprocess runs after their session.
        self._deployment.resource("dynamodb").Table(self._deployment.state_table).put_item(
            Item={
                "pk": REPROCESS_RUNS_PK,
                "sk": f"{to_iso(now)}#{run.day}",
                "run_day": run.day,
                "expires_at": expires_at(now, REPROCESS_RUNS_LISTED_DAYS),
            }
        )

    def join(self, run: RefineRun) -> None:
        """Open (or join) the model session, marked as still queueing this run; raises
        SessionStopping. Only once messages are on the queue: a session makes the reconciler
        start the model, which must never run without work."""
        self._runs.join_session(
            run.day,
            session_id=f"session#{uuid.uuid4().hex[:12]}",
            now=datetime.now(UTC),
            min_units=int(self._settings.get("MODEL_MIN_INFERENCE_UNITS", 1)),
            max_units=int(self._settings.get("MODEL_MAX_INFERENCE_UNITS", 1)),
        )

    def release(self, run: RefineRun) -> None:
        """Stop holding the session open for this run (it stopped early): the reconciler then
        stops the model once what was sent is refined; a run again joins again."""
        self._runs.finish_enqueuing(run.day)

    def send(self, bodies: Sequence[str]) -> None:
        self._queue.send(bodies)

    def close(self, run: RefineRun, queued: int, skipped: int) -> None:
        """Every message is sent: the reconciler may take an empty queue as drained now."""
        self._runs.update_runs(
            [run.day],
            {
                "status": "QUEUED",
                "queued": queued,
                "skipped": skipped,
                "queued_at": to_iso(datetime.now(UTC)),
            },
        )
        self._runs.finish_enqueuing(run.day)

    @cached_property
    def _settings(self) -> dict[str, str]:
        """The units, model and TTL the stack gave refine_schedule (one Lambda API read)."""
        name = self._deployment.function("refine_schedule")
        try:
            config = self._deployment.client("lambda").get_function_configuration(FunctionName=name)
        except (BotoCoreError, ClientError) as error:
            raise DeploymentError(f"cannot read {name}'s configuration: {error}") from error
        return dict(config.get("Environment", {}).get("Variables", {}))


__all__ = [
    "REPROCESS_RUNS_PK",
    "LiveTarget",
    "RefineRun",
    "RefineSession",
    "SessionStopping",
]
