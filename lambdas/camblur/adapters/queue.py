"""SQS: the refine queue (sends in batches of ten, reads its depth) and hand-backs with a delay."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from camblur.adapters.aws import client
from camblur.core.errors import TransientError

SQS_MAX_BATCH = 10
SEND_ATTEMPTS = 3  # SendMessageBatch may refuse some entries (throttling): resend only those


@dataclass(frozen=True)
class QueueDepth:
    """SQS's approximate counts: waiting, received but not deleted (in flight), delayed."""

    visible: int
    in_flight: int
    delayed: int

    @property
    def total(self) -> int:
        return self.visible + self.in_flight + self.delayed


class RefineQueue:
    def __init__(self, queue_url: str, sqs: Any = None, parallelism: int = 8) -> None:
        self._queue_url = queue_url
        self._sqs = sqs or client("sqs")
        self._parallelism = parallelism

    def send(self, bodies: Sequence[str]) -> None:
        """Send every body; raise TransientError if some could not be sent after retries.

        Batches go out in parallel: a day of 57,600 pictures is 5,760 calls.
        """
        batches = [
            list(bodies[start : start + SQS_MAX_BATCH])
            for start in range(0, len(bodies), SQS_MAX_BATCH)
        ]
        if len(batches) <= 1 or self._parallelism <= 1:
            for batch in batches:
                self._send_batch(batch)
            return
        with ThreadPoolExecutor(max_workers=min(self._parallelism, len(batches))) as pool:
            list(pool.map(self._send_batch, batches))  # list(): re-raises the first error

    def _send_batch(self, batch: list[str]) -> None:
        pending = {str(index): body for index, body in enumerate(batch)}
        failures: list[dict[str, Any]] = []
        for _ in range(SEND_ATTEMPTS):
            try:
                response = self._sqs.send_message_batch(
                    QueueUrl=self._queue_url,
                    Entries=[{"Id": key, "MessageBody": body} for key, body in pending.items()],
                )
            except (ClientError, BotoCoreError) as error:
                raise TransientError(f"SQS SendMessageBatch failed: {error}") from error
            failures = response.get("Failed", [])
            pending = {entry["Id"]: pending[entry["Id"]] for entry in failures}
            if not pending:
                return
        reasons = sorted({f"{entry.get('Code')}: {entry.get('Message', '')}" for entry in failures})
        raise TransientError(f"{len(pending)} message(s) not sent: {'; '.join(reasons)}")

    def depth(self) -> QueueDepth:
        try:
            attributes = self._sqs.get_queue_attributes(
                QueueUrl=self._queue_url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            )["Attributes"]
        except (ClientError, BotoCoreError) as error:
            raise TransientError(f"SQS GetQueueAttributes failed: {error}") from error
        return QueueDepth(
            visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
            in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            delayed=int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
        )


class MessageVisibility:
    """Returns received messages to their queue after a chosen delay (ChangeMessageVisibility).

    The queue is named by the records' eventSourceARN; its URL is looked up once per process.
    """

    def __init__(self, sqs: Any = None) -> None:
        self._sqs = sqs or client("sqs")
        self._urls: dict[str, str] = {}

    def delay(self, queue_arn: str, delays: Sequence[tuple[str, int]]) -> int:
        """Make each (receipt handle, seconds) visible again after its seconds; returns how
        many changes SQS refused. Never raises: a refused change only means the message comes
        back after the queue's visibility timeout instead."""
        refused = 0
        try:
            url = self._url(queue_arn)
            for start in range(0, len(delays), SQS_MAX_BATCH):
                batch = delays[start : start + SQS_MAX_BATCH]
                response = self._sqs.change_message_visibility_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": seconds}
                        for index, (handle, seconds) in enumerate(batch)
                    ],
                )
                refused += len(response.get("Failed", []))
        except (ClientError, BotoCoreError):
            return len(delays)
        return refused

    def _url(self, queue_arn: str) -> str:
        if queue_arn not in self._urls:
            # arn:aws:sqs:<region>:<account>:<name>
            _, _, _, _, account, name = queue_arn.split(":", 5)
            response = self._sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)
            self._urls[queue_arn] = response["QueueUrl"]
        return self._urls[queue_arn]
