"""SQS batches for both queue-fed functions: Powertools' partial batch response, stopping early.

The live function (S3 events through the live queue) and the refine worker (the refine queue)
share this processor; each says which errors make going on with the batch pointless.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    FailureResponse,
    SuccessResponse,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from camblur.core.errors import TransientError

DEADLINE_MARGIN_SECONDS = 10.0  # leave this much of the Lambda timeout for the last picture

HaltReason = Callable[[BaseException], "str | None"]


class BatchHalted(TransientError):  # noqa: N818 - names the situation
    """Handed back unprocessed: going on with the batch could only fail or time out."""


class HaltingBatchProcessor(BatchProcessor):
    """Powertools' SQS partial-batch processor that hands back the rest of the batch at once
    when going on is pointless: `halt_reason(error)` names why after a failed record (None:
    go on), or the deadline is near. (Powertools' own SqsFifoPartialProcessor short-circuits
    the same way.)

    raise_on_entire_batch_failure=False: a batch handed back whole (a model stopped, the
    account throttling) is an expected situation, not a function error; raising would count as
    a Lambda error (alarms) while returning every id in batchItemFailures does the same to the
    queue.
    """

    def __init__(self, remaining_seconds: Callable[[], float], halt_reason: HaltReason) -> None:
        super().__init__(EventType.SQS, raise_on_entire_batch_failure=False)
        self._remaining_seconds = remaining_seconds
        self._halt_reason = halt_reason
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
            self.halted = self._halt_reason(self.exceptions[-1][1])
        return response

    def failures(self) -> list[tuple[SQSRecord, BaseException]]:
        """Each record handed back with the error that did it (BatchHalted: never tried)."""
        return [
            (record, error)
            for record, (_, error, _) in zip(self.fail_messages, self.exceptions, strict=True)
        ]
