"""The one Custom Labels fake: a model's lifecycle and DetectCustomLabels, behind real boto3.

moto does not implement Custom Labels' start/stop/describe, and its DetectCustomLabels answers
the same canned label for every picture. `FakeCustomLabels` is one model (project version) on
a clock it is given (a test's hand-moved clock, a simulation's, or `time.monotonic`):

- STARTING for `start_seconds` after StartProjectVersion, then RUNNING; STOPPING for `stop_seconds` after StopProjectVersion, then STOPPED.
- DetectCustomLabels only while RUNNING (ResourceNotReadyException otherwise, as AWS answers);
  the labels come from the `labels` function. With `pictures_per_second_per_unit` it serves at
  most that many calls per clock second and inference unit and refuses the rest with
  ProvisionedThroughputExceededException, as a model at capacity does.
- The billed time: from each StartProjectVersion to STOPPED (STARTING and STOPPING included).

Two ways in: `client()` / `attach` plug the model into a real boto3 client in-process (botocore
still validates every request against the service model, then `answer` replies or raises
`FakeError`, which the client turns into the usual ClientError: no network, no HTTP), and
devtools/local_rekognition.py serves `answer` over HTTP for the deployed functions.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse


class FakeError(Exception):
    """An AWS error answer: a botocore ClientError with this code (in-process or over HTTP)."""

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


def parse_version_arn(arn: str) -> tuple[str, str]:
    """arn:aws:rekognition:<region>:<account>:project/<name>/version/<version>/<ts> -> (project ARN, version).

    A version ARN does not carry its project's creation timestamp: the project ARN returned
    ends in the version's, and projects are compared by name (`same_project`).
    """
    parts = arn.split(":", 5)
    resource = parts[5].split("/") if len(parts) == 6 else []
    if (
        len(parts) != 6
        or parts[2] != "rekognition"
        or len(resource) != 5
        or resource[0] != "project"
        or resource[2] != "version"
    ):
        raise FakeError("InvalidParameterException", f"{arn!r} is not a project version ARN")
    return f"{':'.join(parts[:5])}:project/{resource[1]}/{resource[4]}", resource[3]


def same_project(project_arn: str, other: str) -> bool:
    """Project ARNs end in a creation timestamp that version ARNs do not repeat: compare names."""
    return project_arn.rsplit("/", 1)[0] == other.rsplit("/", 1)[0]


STATUS_MESSAGES = {
    "STOPPED": "The model is stopped.",
    "STARTING": "The model is being started.",
    "RUNNING": "The model is running.",
    "STOPPING": "The model is being stopped.",
}


@dataclass
class _Interval:
    started: float
    stopped: float | None = None  # when STOPPED was reached (stop call + stop_seconds)
    units: list[tuple[float, int]] = field(default_factory=list)  # billed units from when


@dataclass
class FakeCustomLabels:
    """One Custom Labels model (project version) on a given clock. See the module docstring."""

    project_arn: str
    version_arn: str
    clock: Callable[[], float]
    start_seconds: float = 600.0
    stop_seconds: float = 0.0
    pictures_per_second_per_unit: float | None = None  # None: never throttles
    detect_seconds: float = 0.0  # a served call's duration, passed to `advance`
    throttled_seconds: float = 0.0  # a refused call's duration
    advance: Callable[[float], None] | None = None  # moves the caller's clock
    # Called outside the model's lock, after the call was admitted: it may be slow.
    labels: Callable[[dict[str, Any]], list[dict[str, Any]]] = lambda _params: []
    # The account's DetectCustomLabels quota (None: none): the model never serves more.
    account_tps: float | None = None
    # Autoscaling (when started with MaxInferenceUnits above MinInferenceUnits): after calls
    # were refused for capacity this long without a pause of `pressure_reset_seconds`, one more
    # unit is billed at once and serves `unit_start_seconds` later. AWS does not publish its
    # policy; scale-down is not modelled (a drained session stops the model anyway).
    scale_up_after_seconds: float = 120.0
    unit_start_seconds: float = 180.0
    pressure_reset_seconds: float = 10.0
    status_now: str = "STOPPED"
    created: float = field(default_factory=time.time)
    calls: Counter[str] = field(default_factory=Counter)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    throttled: int = 0
    served: int = 0
    stops: int = 0
    _since: float = 0.0
    _units: int = 0
    _max_units: int | None = None
    _pressure_since: float | None = None
    _last_refused: float = 0.0
    _pending_at: float | None = None
    peak_units: int = 0
    _message: str = ""
    _intervals: list[_Interval] = field(default_factory=list)
    _served_per_second: dict[int, int] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # What tests, the benchmark and the local endpoint look at ----------------------------

    def status(self) -> str:
        with self._lock:
            now = self.clock()
            if self.status_now == "STARTING" and now >= self._since + self.start_seconds:
                self._set("RUNNING", self._since + self.start_seconds)
            if self.status_now == "STOPPING" and now >= self._since + self.stop_seconds:
                self._set("STOPPED", self._since + self.stop_seconds)
                self._intervals[-1].stopped = self._since
            return self.status_now

    def fail(self, status: str, message: str) -> None:
        """Put the model in a state it cannot serve from (FAILED, DEPRECATED, EXPIRED)."""
        with self._lock:
            self.status()
            if self._intervals and self._intervals[-1].stopped is None:
                self._intervals[-1].stopped = self.clock()
            self._set(status, self.clock())
            self._message = message

    def billed_seconds(self) -> float:
        """From each StartProjectVersion to STOPPED (STARTING and STOPPING included)."""
        with self._lock:
            self.status()
            now = self.clock()
            return sum(
                (interval.stopped if interval.stopped is not None else now) - interval.started
                for interval in self._intervals
            )

    def billed_unit_seconds(self) -> float:
        """Inference-unit seconds billed: each interval's billed units over its time."""
        with self._lock:
            self.status()
            now = self.clock()
            total = 0.0
            for interval in self._intervals:
                end = interval.stopped if interval.stopped is not None else now
                steps = interval.units or [(interval.started, max(self._units, 1))]
                for (since, units), (until, _) in zip(steps, [*steps[1:], (end, 0)], strict=True):
                    total += max(0.0, min(until, end) - since) * units
            return total

    @property
    def units(self) -> int:
        return self._units

    @property
    def starts(self) -> int:
        """StartProjectVersion calls that were accepted."""
        return len(self._intervals)

    @property
    def version_name(self) -> str:
        return self.version_arn.split("/version/", 1)[1].split("/", 1)[0]

    def describe(self) -> dict[str, Any]:
        """This version's entry in DescribeProjectVersions."""
        with self._lock:
            status = self.status()
            description: dict[str, Any] = {
                "ProjectVersionArn": self.version_arn,
                "CreationTimestamp": self.created,
                "Status": status,
                "StatusMessage": self._message or STATUS_MESSAGES.get(status, ""),
                "Feature": "CUSTOM_LABELS",
            }
            if self._units:
                description["MinInferenceUnits"] = self._units
            if self._max_units is not None:
                description["MaxInferenceUnits"] = self._max_units
            return description

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
            answer = handler(params)
        if operation == "DetectCustomLabels":
            return {"CustomLabels": self.labels(params)}
        return answer

    def _DescribeProjectVersions(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        if not same_project(params["ProjectArn"], self.project_arn):
            raise FakeError("ResourceNotFoundException", "no such project")
        wanted = params.get("VersionNames")
        if wanted and self.version_name not in wanted:
            return {"ProjectVersionDescriptions": []}
        return {"ProjectVersionDescriptions": [self.describe()]}

    def _StartProjectVersion(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        self._own(params)
        if int(params["MinInferenceUnits"]) < 1:
            raise FakeError("InvalidParameterException", "MinInferenceUnits must be >= 1")
        if self.status() not in ("STOPPED", "TRAINING_COMPLETED"):
            raise FakeError(
                "ResourceInUseException",
                f"The model cannot be started while it is {self.status_now}.",
            )
        self._units = int(params["MinInferenceUnits"])
        max_units = params.get("MaxInferenceUnits")
        self._max_units = int(max_units) if max_units is not None else None
        self._message = ""
        self._set("STARTING", self.clock())
        self._intervals.append(_Interval(self.clock(), units=[(self.clock(), self._units)]))
        self._pressure_since = self._pending_at = None
        self.peak_units = self._units
        return {"Status": "STARTING"}

    def _StopProjectVersion(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        self._own(params)
        if self.status() not in ("RUNNING", "STARTING"):
            raise FakeError(
                "ResourceInUseException",
                f"The model cannot be stopped while it is {self.status_now}.",
            )
        self.stops += 1
        self._set("STOPPING", self.clock())
        if self.stop_seconds <= 0:
            self.status()
        return {"Status": "STOPPING"}

    def _DetectCustomLabels(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        """Admits the call or refuses it; `answer` then asks `labels` outside the lock."""
        self._own(params)
        if self.status() != "RUNNING":
            raise FakeError(
                "ResourceNotReadyException",
                f"The model {self.version_arn} is not running (status {self.status_now}).",
            )
        if self.pictures_per_second_per_unit is not None:
            now = self.clock()
            self._scale(now, refused=False)
            second = int(now)
            capacity = self.pictures_per_second_per_unit * max(self._units, 1)
            if self.account_tps is not None:
                capacity = min(capacity, self.account_tps)
            if self._served_per_second.get(second, 0) + 1 > capacity:
                self._scale(now, refused=True)
                self.throttled += 1
                self._advance(self.throttled_seconds)
                raise FakeError(
                    "ProvisionedThroughputExceededException", "the model is at capacity"
                )
            self._served_per_second[second] = self._served_per_second.get(second, 0) + 1
        self.served += 1
        self._advance(self.detect_seconds)
        return {}

    # Helpers ------------------------------------------------------------------------------

    def _scale(self, now: float, refused: bool) -> None:
        """Autoscaling, see the field comments."""
        if self._pending_at is not None and now >= self._pending_at:
            self._units += 1
            self.peak_units = max(self.peak_units, self._units)
            self._pending_at = self._pressure_since = None
        if self._max_units is None or self._pending_at is not None:
            return
        if self._units + 1 > self._max_units:
            return
        if not refused:
            if self._pressure_since is not None and (
                now - self._last_refused > self.pressure_reset_seconds
            ):
                self._pressure_since = None
            return
        self._last_refused = now
        if self._pressure_since is None:
            self._pressure_since = now
        elif now - self._pressure_since >= self.scale_up_after_seconds:
            self._pending_at = now + self.unit_start_seconds
            interval = self._intervals[-1]
            interval.units.append((now, interval.units[-1][1] + 1))  # billed from the decision

    def _own(self, params: dict[str, Any]) -> None:
        if params.get("ProjectVersionArn") != self.version_arn:
            raise FakeError("ResourceNotFoundException", "no such project version")

    def _set(self, status: str, since: float) -> None:
        self.status_now = status
        self._since = since

    def _advance(self, seconds: float) -> None:
        if self.advance is not None and seconds > 0:
            self.advance(seconds)


def project_client(*models: FakeCustomLabels, region: str = "eu-west-1") -> Any:
    """One boto3 client in front of several versions of a project (a model rotation)."""
    import boto3

    by_arn = {model.version_arn: model for model in models}

    def answer(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation == "DescribeProjectVersions":
            wanted = set(params.get("VersionNames") or [])
            return {
                "ProjectVersionDescriptions": [
                    description
                    for model in models
                    if same_project(params["ProjectArn"], model.project_arn)
                    and not (wanted and model.version_name not in wanted)
                    for description in [model.describe()]
                ]
            }
        model = by_arn.get(params.get("ProjectVersionArn", ""))
        if model is None:
            raise FakeError("ResourceNotFoundException", "no such project version")
        return model.answer(operation, params)

    return attach(
        boto3.client(
            "rekognition",
            region_name=region,
            aws_access_key_id="fake",
            aws_secret_access_key="fake",  # noqa: S106 - never sent anywhere
        ),
        answer,
    )
