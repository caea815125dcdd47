"""`camblur redrive --live | --refine`: replay dead-lettered work, safely.

What a live DLQ message can be, and what is replayed:
- Lambda's on-failure record (live_trigger = "s3_async"): `requestPayload`, the event itself;
- the event itself (a Lambda dead-letter queue, or the live queue's redrive, live_trigger = "sqs":
  the S3 notification or reprocess request the live queue carried).
Either goes back the way the stack's live trigger now delivers (camblur.handover.LiveTarget).
A refine DLQ message is a refine message: it goes back on the refine queue, where the next model
session (the nightly one, or a `camblur reprocess --pass refine`) reads it.

Safe to run at any time, and twice:
- a message leaves the DLQ only after it was sent back (or found to need nothing: the state
  table says the work was done, or can never be done); a crash in between sends it twice,
  which the functions absorb (an S3 event of a version done is a duplicate; a refine message of
  a picture its run refined is one; a reprocess request is redone, same result);
- what cannot be replayed (unreadable, not an event) stays in the DLQ, visible again at once;
- messages that reach the DLQ after the redrive started (a replay that failed again) are left
  for the next redrive: a redrive never chases its own tail.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from camblur.adapters.queue import SQS_MAX_BATCH, RefineQueue
from camblur.adapters.state import LIVE_DONE, NOT_REFINABLE, Status, picture_pk
from camblur.core.errors import TransientError
from camblur.events import NULL_VERSION_ID, object_events, reblur_key, reprocess_key
from camblur.refine.messages import MalformedMessage, RefineMessage
from camblur_cli.deployment import Deployment, DeploymentError
from camblur_cli.handover import LiveTarget

TEST_EVENT = "s3:TestEvent"
HIDE_SECONDS = 300  # a received message stays hidden this long while the redrive runs


class Unreplayable(ValueError):  # noqa: N818 - names the situation
    """A dead letter that cannot be replayed as it is; it stays in the DLQ."""


class Which(StrEnum):
    LIVE = "live"
    REFINE = "refine"


@dataclass
class Summary:
    replayed: int = 0
    resolved: Counter[str] = field(default_factory=Counter)  # deleted: nothing left to do
    kept: Counter[str] = field(default_factory=Counter)  # left in the DLQ, and why
    arrived_meanwhile: int = 0


def live_payload(body: str) -> dict[str, Any]:
    """The live function's event inside a live DLQ message (pure)."""
    try:
        message = json.loads(body)
    except ValueError:
        raise Unreplayable("unparseable body (not JSON)") from None
    if not isinstance(message, dict):
        raise Unreplayable("body is not a JSON object")
    if "requestContext" in message or "requestPayload" in message:
        payload = message.get("requestPayload")
        if not isinstance(payload, dict):
            raise Unreplayable("Lambda failure record without a request payload")
        message = payload
    if message.get("Event") == TEST_EVENT:
        return message
    try:
        is_request = reprocess_key(message) is not None or reblur_key(message) is not None
    except ValueError as error:
        raise Unreplayable(str(error)) from None
    if not is_request and not _object_events(message):
        raise Unreplayable("not an S3 object event, a reprocess or a reblur request")
    return message


def _object_events(message: dict[str, Any]) -> list[Any]:
    try:
        return object_events(message)
    except (KeyError, TypeError, ValueError, AttributeError):  # a record of another shape
        return []


def live_settled(
    payload: dict[str, Any], state: Callable[[str], dict[str, Any] | None]
) -> str | None:
    """Why replaying `payload` would do nothing (the state table says so), or None to replay."""
    if payload.get("Event") == TEST_EVENT:
        return "S3 test event"
    if reprocess_key(payload) is not None or reblur_key(payload) is not None:
        return None  # asked for explicitly: always redone
    reasons = []
    for event in object_events(payload):
        item = state(event.key)
        if event.removed or item is None:
            return None  # removals are replayed (idempotent); no item: never processed
        recorded = str(item.get("event_order") or "")
        if recorded and event.order and recorded > event.order:
            reasons.append("a later upload of the key was processed")
            continue
        same_version = str(item.get("raw_version_id") or NULL_VERSION_ID) == event.version_id
        if same_version and item.get("status") in {status.value for status in LIVE_DONE}:
            reasons.append(f"done already ({item['status']})")
            continue
        return None
    return "; ".join(sorted(set(reasons))) or None


def refine_settled(message: RefineMessage, item: dict[str, Any] | None) -> str | None:
    """Why replaying a refine message would do nothing, or None to replay (pure)."""
    if item is None:
        return "no state item (erased or expired)"
    status = item.get("status")
    if status in {value.value for value in NOT_REFINABLE}:
        return f"{status} (nothing to refine)"
    if status == Status.REFINED.value and item.get("refine_run_id") == message.run_id:
        return "refined by its run already"
    return None


class Redriver:
    def __init__(self, deployment: Deployment, which: Which) -> None:
        self._which = which
        self._sqs = deployment.client("sqs")
        self._table = deployment.resource("dynamodb").Table(deployment.state_table)
        dlq = deployment.queue_url(f"{which.value}_dlq")
        if dlq is None:
            raise DeploymentError(f"the Terraform outputs name no {which.value}_dlq queue")
        self._dlq = dlq
        if which is Which.LIVE:
            self._live = LiveTarget(deployment)
        else:
            self._refine = RefineQueue(
                deployment.refine_queue_url or str(deployment.queue_url("refine")), self._sqs
            )

    def destination(self) -> str:
        return self._live.describe() if self._which is Which.LIVE else "the refine queue"

    def depth(self) -> int:
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self._dlq, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes.get("ApproximateNumberOfMessages", 0))

    def redrive(self, advance: Callable[[], None] = lambda: None) -> Summary:
        summary = Summary()
        started_ms = int(time.time() * 1000)
        kept: list[str] = []  # receipt handles made visible again at the end
        try:
            while messages := self._receive():
                for message in messages:
                    if int(message.get("Attributes", {}).get("SentTimestamp", 0)) >= started_ms:
                        summary.arrived_meanwhile += 1
                        kept.append(message["ReceiptHandle"])
                        continue
                    if self._handle(message, summary):
                        self._sqs.delete_message(
                            QueueUrl=self._dlq, ReceiptHandle=message["ReceiptHandle"]
                        )
                    else:
                        kept.append(message["ReceiptHandle"])
                    advance()
        finally:
            self._show_again(kept)
        return summary

    def _receive(self) -> list[dict[str, Any]]:
        return list(
            self._sqs.receive_message(
                QueueUrl=self._dlq,
                MaxNumberOfMessages=SQS_MAX_BATCH,
                VisibilityTimeout=HIDE_SECONDS,
                WaitTimeSeconds=1,  # a short poll may answer empty while messages wait
                AttributeNames=["SentTimestamp"],
            ).get("Messages", [])
        )

    def _handle(self, message: dict[str, Any], summary: Summary) -> bool:
        """Replay (or resolve) one dead letter; whether it may leave the DLQ."""
        body = message.get("Body", "")
        try:
            if self._which is Which.LIVE:
                payload = live_payload(body)
                settled = live_settled(payload, self._item)
                if settled is None:
                    [error] = self._live.send([payload])
                    if error is not None:
                        summary.kept[f"not sent back: {error}"] += 1
                        return False
            else:
                refine = RefineMessage.from_body(body)
                settled = refine_settled(refine, self._item(refine.raw_key))
                if settled is None:
                    self._refine.send([body])
        except (Unreplayable, MalformedMessage) as error:
            summary.kept[str(error)] += 1
            return False
        except TransientError as error:
            summary.kept[f"not sent back: {error}"] += 1
            return False
        if settled is None:
            summary.replayed += 1
        else:
            summary.resolved[settled] += 1
        return True

    def _item(self, key: str) -> dict[str, Any] | None:
        return self._table.get_item(Key={"pk": picture_pk(key), "sk": "STATE"}).get("Item")

    def _show_again(self, handles: list[str]) -> None:
        for start in range(0, len(handles), SQS_MAX_BATCH):
            self._sqs.change_message_visibility_batch(
                QueueUrl=self._dlq,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                    for index, handle in enumerate(handles[start : start + SQS_MAX_BATCH])
                ],
            )
