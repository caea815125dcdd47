"""SQS batches for both queue-fed functions: Powertools' partial batch response, stopping early.

The live function (S3 events through the live queue) and the refine worker (the refine queue)
share this processor; each says which errors make going on with the batch pointless.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

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
T = TypeVar("T")


class CallTimedOut(TransientError):  # noqa: N818 - names the situation
    """A call did not answer within its share of the invocation's time: given up on."""


def call_with_deadline(call: Callable[[], T], seconds: float, what: str) -> T:
    """`call()`'s result, or CallTimedOut once `seconds` have passed without one.

    The call runs in a daemon thread of its own: a hung call cannot be interrupted, but it
    no longer holds the invocation (its late answer is dropped; the SDK's read timeout ends
    it). A fresh thread per call, so that one hung call never blocks the next.
    """
    if seconds <= 0:
        raise CallTimedOut(f"{what}: no time left for the call")
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error
        finally:
            done.set()

    threading.Thread(target=run, name=f"deadline:{what}", daemon=True).start()
    if not done.wait(seconds):
        raise CallTimedOut(f"{what}: no answer within {seconds:.1f} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def share_of_time(remaining_seconds: float, records_left: int) -> float:
    """One record's fair share of what is left before the margin: a slow record can use
    its own share, never its batchmates'."""
    return max(0.0, remaining_seconds - DEADLINE_MARGIN_SECONDS) / max(1, records_left)


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
