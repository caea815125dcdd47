"""In-process fakes behind real boto3 clients, for tests and the refinement benchmark.

moto does not implement Custom Labels' start/stop/describe, and its DetectCustomLabels answers
the same canned label for every picture. `attach` plugs a Python function into a real boto3
client instead: botocore still validates every request against the service model (a wrong
parameter fails as it would against AWS), then the function answers or raises `FakeError`,
which the client turns into the usual ClientError. No network, no HTTP.

`FakeCustomLabels` is one Custom Labels model on an injected clock: STARTING for
`start_seconds` after StartProjectVersion, then RUNNING; STOPPING for `stop_seconds` after
StopProjectVersion, then STOPPED. While RUNNING it serves at most
`pictures_per_second_per_unit` times its inference units DetectCustomLabels calls per clock
second and answers the rest with ProvisionedThroughputExceededException, as a model at
capacity does.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse


class FakeError(Exception):
    """Raised by an answer function: becomes a botocore ClientError with this code."""

    def __init__(self, code: str, message: str = "", status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


Answer = Callable[[str, dict[str, Any]], dict[str, Any]]


def attach(client: Any, answer: Answer) -> Any:
    """Answer every call of `client` with `answer(operation_name, params)`; returns the client."""
    service = client.meta.service_model.service_id.hyphenize()

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["fake_params"] = dict(params)

    def respond(model: Any, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict]:
        params = context.pop("fake_params", {})
        try:
            body = answer(model.name, params)
        except FakeError as error:
            return AWSResponse(None, error.status, {}, None), {
                "Error": {"Code": error.code, "Message": error.message},
                "ResponseMetadata": {"HTTPStatusCode": error.status},
            }
        return AWSResponse(None, 200, {}, None), {
            **body,
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }

    client.meta.events.register_first(f"before-parameter-build.{service}.*", remember)
    client.meta.events.register_first(f"before-call.{service}.*", respond)
    return client


@dataclass
class _Interval:
    started: float
    stopped: float | None = None  # when STOPPED was reached (stop call + stop_seconds)


@dataclass
class FakeCustomLabels:
    """One Custom Labels model (project version) on a fake clock. See the module docstring."""

    project_arn: str
    version_arn: str
    clock: Callable[[], float]
    start_seconds: float = 600.0
    stop_seconds: float = 0.0
    pictures_per_second_per_unit: float | None = None  # None: never throttles
    detect_seconds: float = 0.0  # a served call's duration, passed to `advance`
    throttled_seconds: float = 0.0  # a refused call's duration
    advance: Callable[[float], None] | None = None  # moves the caller's clock
    labels: Callable[[dict[str, Any]], list[dict[str, Any]]] = lambda _params: []
    status_now: str = "STOPPED"
    calls: Counter[str] = field(default_factory=Counter)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    throttled: int = 0
    served: int = 0
    _since: float = 0.0
    _units: int = 0
    _message: str = ""
    _intervals: list[_Interval] = field(default_factory=list)
    _served_per_second: dict[int, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # What tests and the benchmark look at --------------------------------------------------

    def status(self) -> str:
        now = self.clock()
        if self.status_now == "STARTING" and now >= self._since + self.start_seconds:
            self._set("RUNNING", self._since + self.start_seconds)
        if self.status_now == "STOPPING" and now >= self._since + self.stop_seconds:
            self._set("STOPPED", self._since + self.stop_seconds)
            self._intervals[-1].stopped = self._since
        return self.status_now

    def fail(self, status: str, message: str) -> None:
        """Put the model in a state it cannot serve from (FAILED, DEPRECATED, EXPIRED)."""
        self.status()
        if self._intervals and self._intervals[-1].stopped is None:
            self._intervals[-1].stopped = self.clock()
        self._set(status, self.clock())
        self._message = message

    def billed_seconds(self) -> float:
        """From each StartProjectVersion to STOPPED (STARTING and STOPPING included)."""
        self.status()
        now = self.clock()
        return sum(
            (interval.stopped if interval.stopped is not None else now) - interval.started
            for interval in self._intervals
        )

    @property
    def units(self) -> int:
        return self._units

    def client(self, region: str = "eu-west-1") -> Any:
        import boto3

        return attach(
            boto3.client(
                "rekognition",
                region_name=region,
                aws_access_key_id="fake",
                aws_secret_access_key="fake",  # noqa: S106 - never sent anywhere
            ),
            self.answer,
        )

    # The API ------------------------------------------------------------------------------

    def answer(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.calls[operation] += 1
            if operation != "DetectCustomLabels":
                self.requests.append((operation, params))
            handler = getattr(self, f"_{operation}", None)
            if handler is None:
                raise FakeError("InvalidParameterException", f"{operation} is not faked")
            return handler(params)

    def _DescribeProjectVersions(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        if params["ProjectArn"] != self.project_arn:
            raise FakeError("ResourceNotFoundException", "no such project")
        wanted = params.get("VersionNames")
        name = self.version_arn.split("/version/", 1)[1].split("/", 1)[0]
        if wanted and name not in wanted:
            return {"ProjectVersionDescriptions": []}
        description: dict[str, Any] = {
            "ProjectVersionArn": self.version_arn,
            "Status": self.status(),
            "StatusMessage": self._message,
        }
        if self._units:
            description["MinInferenceUnits"] = self._units
        return {"ProjectVersionDescriptions": [description]}

    def _StartProjectVersion(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        self._own(params)
        if self.status() not in ("STOPPED", "TRAINING_COMPLETED"):
            raise FakeError("ResourceInUseException", f"model is {self.status_now}")
        self._units = int(params["MinInferenceUnits"])
        self._set("STARTING", self.clock())
        self._intervals.append(_Interval(self.clock()))
        return {"Status": "STARTING"}

    def _StopProjectVersion(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        self._own(params)
        if self.status() not in ("RUNNING", "STARTING"):
            raise FakeError("ResourceInUseException", f"model is {self.status_now}")
        self._set("STOPPING", self.clock())
        if self.stop_seconds <= 0:
            self.status()
        return {"Status": "STOPPING"}

    def _DetectCustomLabels(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        self._own(params)
        if self.status() != "RUNNING":
            raise FakeError("ResourceNotReadyException", f"model is {self.status_now}")
        if self.pictures_per_second_per_unit is not None:
            second = int(self.clock())
            capacity = self.pictures_per_second_per_unit * max(self._units, 1)
            if self._served_per_second.get(second, 0) + 1 > capacity:
                self.throttled += 1
                self._advance(self.throttled_seconds)
                raise FakeError(
                    "ProvisionedThroughputExceededException", "the model is at capacity"
                )
            self._served_per_second[second] = self._served_per_second.get(second, 0) + 1
        self.served += 1
        self._advance(self.detect_seconds)
        return {"CustomLabels": self.labels(params)}

    # Helpers ------------------------------------------------------------------------------

    def _own(self, params: dict[str, Any]) -> None:
        if params.get("ProjectVersionArn") != self.version_arn:
            raise FakeError("ResourceNotFoundException", "no such project version")

    def _set(self, status: str, since: float) -> None:
        self.status_now = status
        self._since = since

    def _advance(self, seconds: float) -> None:
        if self.advance is not None and seconds > 0:
            self.advance(seconds)
