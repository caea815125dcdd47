"""The refine worker's SQS batch handling: the shared processor (camblur.sqs_batch) with its
reasons to stop early, and the batch result."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from camblur.adapters.rekognition import ModelNotReady, Throttled
from camblur.sqs_batch import DEADLINE_MARGIN_SECONDS, BatchHalted, HaltingBatchProcessor

__all__ = ["DEADLINE_MARGIN_SECONDS", "BatchHalted", "BatchResult", "RefineBatchProcessor"]


def _halt_reason(error: BaseException) -> str | None:
    """The model is not ready, or throttling lasted to the deadline: the rest can only fail."""
    if isinstance(error, ModelNotReady):
        return f"model not ready: {error}"
    if isinstance(error, Throttled):
        return "throttled until the deadline"
    return None


class RefineBatchProcessor(HaltingBatchProcessor):
    def __init__(self, remaining_seconds: Callable[[], float]) -> None:
        super().__init__(remaining_seconds, _halt_reason)


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
