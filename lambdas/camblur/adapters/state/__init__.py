"""DynamoDB: the blur state of every picture, and the refinement runs, in one table.

Keys (see docs/architecture.md): picture items `PICTURE#<sha256 of the raw key>` / `STATE` (`pictures`), run
items `RUN#<capture day>` / `RUN` (`runs`), the model session `RUN#ACTIVE` / `SESSION`
(`sessions`); the GSI `by_capture_day` lists one day's pictures without a scan (run and session
items carry no `capture_day`, so they never appear in it). `dynamo` holds the conditional
writes all three use.
"""

from camblur.adapters.state.dynamo import StateConflict, expires_at, from_iso, to_iso
from camblur.adapters.state.pictures import (
    CAPTURE_DAY_INDEX,
    LIVE_DONE,
    NOT_REFINABLE,
    BlurStateTable,
    PictureState,
    Status,
    picture_pk,
)
from camblur.adapters.state.runs import (
    RUN_CLOSED,
    RUN_REFINED,
    RunRecord,
    RunStatus,
    RunTable,
    RunTally,
    run_key,
)
from camblur.adapters.state.sessions import (
    SESSION_KEY,
    ModelSession,
    SessionPhase,
    SessionStopping,
    SessionTable,
)

__all__ = [
    "CAPTURE_DAY_INDEX",
    "LIVE_DONE",
    "NOT_REFINABLE",
    "RUN_CLOSED",
    "RUN_REFINED",
    "SESSION_KEY",
    "BlurStateTable",
    "ModelSession",
    "PictureState",
    "RunRecord",
    "RunStatus",
    "RunTable",
    "RunTally",
    "SessionPhase",
    "SessionStopping",
    "SessionTable",
    "StateConflict",
    "Status",
    "expires_at",
    "from_iso",
    "picture_pk",
    "run_key",
    "to_iso",
]
