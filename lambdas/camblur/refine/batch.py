"""The refine worker's SQS batch handling: the shared processor (camblur.sqs_batch) with its
reasons to stop early, how soon each handed-back message is seen again, and the batch result.

A message handed back keeps the queue's visibility timeout (six times the function's) unless
told otherwise; here every hand-back says how soon: a failed picture is retried after
30 s, 60 s, ... (so that a poison message reaches the DLQ in minutes, not in an hour of
billed model time), a message never tried (the deadline) at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from camblur.adapters.pacing import half_jitter
from camblur.adapters.rekognition import ModelNotReady, Throttled
from camblur.sqs_batch import DEADLINE_MARGIN_SECONDS, BatchHalted, HaltingBatchProcessor

__all__ = [
    "DEADLINE_MARGIN_SECONDS",
    "BatchHalted",
    "BatchResult",
    "RefineBatchProcessor",
    "handback_delay",
]

THROTTLED = "throttled until the deadline"
FAILURE_DELAY_SECONDS = 30  # first retry of a failed picture; doubles each receive
HANDBACK_MAX_SECONDS = 300
MODEL_NOT_READY_DELAY_SECONDS = 60  # the reconciler closes the mapping meanwhile


def _halt_reason(error: BaseException) -> str | None:
    """The model is not ready, or throttling lasted to the deadline: the rest can only fail."""
    if isinstance(error, ModelNotReady):
        return f"model not ready: {error}"
    if isinstance(error, Throttled):
        return THROTTLED
    return None


class RefineBatchProcessor(HaltingBatchProcessor):
    def __init__(self, remaining_seconds: Callable[[], float]) -> None:
        super().__init__(remaining_seconds, _halt_reason)


def handback_delay(
    error: BaseException, halted: str | None, receives: int, rand: Callable[[], float]
) -> int:
    """Seconds until a handed-back message is visible again."""
    if isinstance(error, ModelNotReady) or (halted or "").startswith("model not ready"):
        return MODEL_NOT_READY_DELAY_SECONDS
    if isinstance(error, Throttled) or halted == THROTTLED:
        return round(half_jitter(receives - 1, 2.0, HANDBACK_MAX_SECONDS, rand))
    if isinstance(error, BatchHalted):
        return 0  # never tried (the deadline): another instance may take it at once
    return min(HANDBACK_MAX_SECONDS, FAILURE_DELAY_SECONDS * 2 ** max(0, receives - 1))


@dataclass
class BatchResult:
    failed_message_ids: list[str] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    delays: dict[str, int] = field(default_factory=dict)  # message id -> seconds until visible

    def response(self) -> dict[str, Any]:
        """The SQS partial batch response: only these messages return to the queue."""
        return {
            "batchItemFailures": [
                {"itemIdentifier": message_id} for message_id in self.failed_message_ids
            ]
        }
