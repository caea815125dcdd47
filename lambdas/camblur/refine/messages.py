"""What travels between the refinement's functions: queue messages and the capture day."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from camblur.adapters.state import PictureState


class MalformedMessage(ValueError):  # noqa: N818 - names the situation
    """A queue message that no retry can fix: it goes to the DLQ after the configured receives."""


@dataclass(frozen=True)
class RefineMessage:
    """One picture to refine. The worker reads everything else from its state item."""

    raw_key: str
    capture_day: str
    run_id: str

    def to_body(self) -> str:
        return json.dumps(
            {"raw_key": self.raw_key, "capture_day": self.capture_day, "run_id": self.run_id},
            separators=(",", ":"),
        )

    @classmethod
    def from_body(cls, body: str) -> RefineMessage:
        try:
            data = json.loads(body)
            message = cls(str(data["raw_key"]), str(data["capture_day"]), str(data["run_id"]))
        except (ValueError, TypeError, KeyError) as error:
            raise MalformedMessage(f"not a refine message: {body[:200]!r}") from error
        if not message.raw_key:
            raise MalformedMessage("empty raw_key")
        return message


def capture_day_for(moment: datetime, time_zone: ZoneInfo, days_back: int) -> str:
    """The capture day `days_back` days before `moment`'s date in the cameras' time zone."""
    return (moment.astimezone(time_zone).date() - timedelta(days=days_back)).isoformat()


def parse_capture_day(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError(f"capture_day must be YYYY-MM-DD, not {text!r}") from None


class PictureStates(Protocol):
    """The picture side of the state table (BlurStateTable), as refinement uses it."""

    def get(self, raw_key: str) -> PictureState | None: ...

    def pictures_of_day_page(
        self, capture_day: str, cursor: dict[str, Any] | None = None, limit: int | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]: ...

    def count_of_day(self, capture_day: str) -> int: ...

    def record_refined(
        self, previous: PictureState, boxes: Any, attributes: dict[str, Any]
    ) -> None: ...

    def record_refine_outcome(
        self, previous: PictureState, attributes: dict[str, Any], status: Any = None
    ) -> None: ...

    def record_refine_failure(self, raw_key: str, attributes: dict[str, Any]) -> bool: ...
