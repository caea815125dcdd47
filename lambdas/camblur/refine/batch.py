"""The refine worker's SQS batch handling: Powertools' partial batch response, stopping early."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    FailureResponse,
    SuccessResponse,
)

from camblur.adapters.rekognition import ModelNotReady, Throttled
from camblur.core.errors import TransientError

DEADLINE_MARGIN_SECONDS = 10.0  # leave this much of the Lambda timeout for the last picture


class BatchHalted(TransientError):  # noqa: N818 - names the situation
    """Handed back unprocessed: going on with the batch could only fail or time out."""


class RefineBatchProcessor(BatchProcessor):
    """Powertools' SQS partial-batch processor that hands back the rest of the batch at once
    when going on is pointless: the model is not ready, throttling lasts to the deadline, or the
    deadline is near. (Powertools' own SqsFifoPartialProcessor short-circuits the same way.)

    raise_on_entire_batch_failure=False: a batch handed back whole because the model stopped is
    the expected end of a session, not a function error; raising would count as a Lambda error
    (alarms) while returning every id in batchItemFailures has the same effect on the queue.
    """

    def __init__(self, remaining_seconds: Callable[[], float]) -> None:
        super().__init__(EventType.SQS, raise_on_entire_batch_failure=False)
        self._remaining_seconds = remaining_seconds
        self.halted: str | None = None

    def _process_record(self, record: dict[str, Any]) -> SuccessResponse | FailureResponse:
        if self.halted is None and self._remaining_seconds() < DEADLINE_MARGIN_SECONDS:
            self.halted = "too close to the timeout"
        if self.halted is not None:
            halted = BatchHalted(self.halted)
            return self.failure_handler(
                record=self._to_batch_type(record, event_type=self.event_type),
                exception=(BatchHalted, halted, None),
            )
        response = super()._process_record(record)
        if response[0] == "fail":
            error = self.exceptions[-1][1]
            if isinstance(error, ModelNotReady):
                self.halted = f"model not ready: {error}"
            elif isinstance(error, Throttled):
                self.halted = "throttled until the deadline"
        return response


@dataclass
class BatchResult:
    failed_message_ids: list[str] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)

    def response(self) -> dict[str, Any]:
        """The SQS partial batch response: only these messages return to the queue."""
        return {
            "batchItemFailures": [
                {"itemIdentifier": message_id} for message_id in self.failed_message_ids
            ]
        }
