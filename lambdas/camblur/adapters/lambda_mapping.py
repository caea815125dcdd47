"""Lambda: switch the refine queue's event source mapping on and off.

The mapping is the valve between the queue and the workers: closed, no message is received, so
none is consumed, failed or counted towards the dead-letter queue while the model starts.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from camblur.adapters.aws import client
from camblur.core.errors import TransientError

# Lambda refuses an update while the mapping is changing state: try again on the next pass.
BUSY_CODES = frozenset({"ResourceInUseException", "ResourceConflictException"})


class EventSourceMapping:
    def __init__(self, uuid: str, lambda_client: Any = None) -> None:
        self._uuid = uuid
        self._lambda = lambda_client or client("lambda")

    def state(self) -> str:
        """Creating, Enabling, Enabled, Disabling, Disabled, Updating or Deleting."""
        try:
            return str(self._lambda.get_event_source_mapping(UUID=self._uuid)["State"])
        except (ClientError, BotoCoreError) as error:
            raise TransientError(f"Lambda GetEventSourceMapping failed: {error}") from error

    def enable(self, maximum_concurrency: int | None = None) -> bool:
        """True once the mapping is Enabled or Enabling; False if it is busy (try later).

        With `maximum_concurrency`, the switch on also sets ScalingConfig.MaximumConcurrency:
        the session's sizing (refine/sizing.py), not Terraform's ceiling, decides how many
        workers poll."""
        return self._switch(enabled=True, maximum_concurrency=maximum_concurrency)

    def disable(self) -> bool:
        """True once the mapping is Disabled or Disabling; False if it is busy (try later)."""
        return self._switch(enabled=False)

    def _switch(self, enabled: bool, maximum_concurrency: int | None = None) -> bool:
        done = {"Enabled", "Enabling"} if enabled else {"Disabled", "Disabling"}
        state = self.state()
        if state in done:
            return True
        if state not in {"Enabled", "Disabled"}:
            return False  # Creating, Updating, Enabling while we want off, ...
        try:
            request: dict[str, Any] = {"UUID": self._uuid, "Enabled": enabled}
            if maximum_concurrency is not None:
                request["ScalingConfig"] = {"MaximumConcurrency": maximum_concurrency}
            self._lambda.update_event_source_mapping(**request)
        except ClientError as error:
            if error.response["Error"]["Code"] in BUSY_CODES:
                return False
            raise TransientError(f"Lambda UpdateEventSourceMapping failed: {error}") from error
        except BotoCoreError as error:
            raise TransientError(f"Lambda UpdateEventSourceMapping failed: {error}") from error
        return True
