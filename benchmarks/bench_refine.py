"""make bench-refine: billed inference-unit minutes of the daily refinement against the least possible.

A discrete-event simulation on a fake clock drives the real code: RefineScheduler (with its
sizing, refine/sizing.py), RefineWorker and ModelReconciler with their real adapters
(ModelControl, CustomLabelsDetector, RefineQueue, EventSourceMapping, RunTable). Only the AWS
side is fake:

- Custom Labels (localaws.custom_labels): STARTING for S minutes, then RUNNING; each
  inference unit serves T DetectCustomLabels calls per second, never more than the account's
  TPS quota, the rest refused with ProvisionedThroughputExceededException; autoscaling (when
  started with MaxInferenceUnits) adds a unit after 120 s of refusals, billed at once, serving
  180 s later (AWS does not publish its policy); STOPPING lasts --stop-seconds. Billed:
  inference-unit seconds from StartProjectVersion to STOPPED (STARTING and STOPPING included,
  the pessimistic reading of "the hours the model is running").
- SQS: visibility timeout, receive counts, redrive to a DLQ after --max-receive receives.
- The event source mapping: Enabling for --mapping-delay seconds after UpdateEventSourceMapping,
  then as many pollers as its ScalingConfig.MaximumConcurrency (the reconciler sets the
  session's sized value) each receive up to --batch-size messages and invoke the worker.
- Each worker invocation is simulated whole when it starts: its calls are placed on its own
  stretch of the fake clock (S3 + DynamoDB --io-seconds per picture, --detect-seconds per
  served inference, backoff sleeps, and the worker's own work on a real-size picture).
- The worker's own work (decode, colour conversion, blur, encode) is measured first: the real
  RefineWorker on a 2160p JPEG, plain and with a Display P3 profile, in CPU seconds, scaled to
  Lambda's CPU share at --worker-memory-mb (one vCPU at 1,769 MB); --picture-seconds overrides
  it. In the simulation the pictures are 96x96 JPEGs really decoded and blurred, and the fake
  clock is charged the measured time of the picture's class (--profile-share of them with a
  profile).

Sizes up to --per-message-up-to (57,600) run message by message; larger sizes in aggregate
(simulate_aggregate: one-second steps of counts, the same sizing function, model and
reconciler timing), because 576,000 messages through the real code take hours here. Each size
runs on the quotas it needs for the window (AWS defaults where they suffice), printed.

The minimum possible is units x (S + stop) + N / T unit-seconds: the sized units must start
and stop, and every picture takes 1 / T of a unit. The last line is
`billed/minimum ratio: <57,600> refined: <share at 57,600> dlq: <count at 57,600>`.
"""

from __future__ import annotations

import argparse
import heapq
import io
import itertools
import logging
import math
import random
import statistics
import sys
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # devtools, when run as a script

import boto3
from moto import mock_aws
from PIL import Image

from camblur import config
from camblur.adapters.lambda_mapping import EventSourceMapping
from camblur.adapters.queue import RefineQueue
from camblur.adapters.rekognition import CustomLabelsDetector, ModelControl
from camblur.adapters.state import (
    PictureState,
    RunTable,
    StateConflict,
    Status,
    picture_pk,
    run_key,
)
from camblur.adapters.storage import (
    PictureStore,
)
from camblur.core.boxes import Box
from camblur.observability import logger, metrics
from camblur.refine.messages import RefineMessage
from camblur.refine.reconciler import DRAIN_CONFIRM_SECONDS, ModelReconciler, Pass
from camblur.refine.schedule import EXPECTED_START_MINUTES, RefineScheduler, ScheduleRequest
from camblur.refine.sizing import SizingInputs, size_session
from camblur.refine.worker import RefineWorker
from localaws.custom_labels import FakeCustomLabels, FakeError, attach
from tests.support.aws import create_state_table

REGION = "eu-west-1"
PROJECT_ARN = "arn:aws:rekognition:eu-west-1:123456789012:project/bench/1700000000000"
VERSION_ARN = (
    "arn:aws:rekognition:eu-west-1:123456789012:project/bench/version/bench.v1/1700000000001"
)
QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/bench-refine"
DAY = "2026-11-24"
PREVIOUS_DAY = "2026-11-23"
EPOCH = datetime(2026, 11, 25, 2, 30, tzinfo=UTC)  # the schedule fires at 02:30
TABLE = "bench-state"
MAPPING_UUID = "6c2b5a0e-7d0c-4e8e-9a43-1f0a7b9c2d11"


@dataclass
class Params:
    pictures: int
    start_minutes: float
    stop_seconds: float
    per_unit: float  # what one inference unit really serves (the fake model)
    per_unit_setting: float  # what the sizing assumes (REFINE_PICTURES_PER_SECOND_PER_UNIT)
    window_minutes: int
    units_quota: int  # inference units per model (MODEL_MAX_INFERENCE_UNITS)
    tps_quota: float  # DetectCustomLabels TPS for the account (REKOGNITION_TPS)
    concurrency_cap: int  # refine_worker's reserved concurrency (MAX_CONCURRENCY)
    max_run_minutes: int
    batch_size: int
    max_receive: int
    worker_timeout: float
    reconcile_seconds: float
    reconcile_offset: float
    mapping_delay: float
    detect_seconds: float
    io_seconds: float
    picture_seconds: tuple[float, float]  # the worker's own work: plain, colour-profile class
    profile_share: float
    invoke_seconds: float
    seed: int
    scale_up_after_seconds: float = 120.0
    unit_start_seconds: float = 180.0
    # True: the previous day's run measured per_unit_setting (the steady state: no autoscaling
    # headroom); False: a first day, the setting's guess, one unit of autoscaling headroom.
    measured: bool = True

    @property
    def mean_picture_seconds(self) -> float:
        plain, profile = self.picture_seconds
        return plain * (1 - self.profile_share) + profile * self.profile_share

    @property
    def worker_seconds(self) -> float:
        """One worker's time per picture, as REFINE_WORKER_SECONDS_PER_PICTURE should say."""
        return self.io_seconds + self.detect_seconds + self.mean_picture_seconds

    def sizing_inputs(self) -> SizingInputs:
        return SizingInputs(
            pictures=self.pictures,
            per_unit=self.per_unit_setting,
            measured=self.measured,
            window_minutes=self.window_minutes,
            start_minutes=EXPECTED_START_MINUTES,
            seconds_per_picture=round(self.worker_seconds, 3),
            units_quota=self.units_quota,
            tps_quota=self.tps_quota,
            concurrency_cap=self.concurrency_cap,
            max_run_minutes=self.max_run_minutes,
        )


class SimClock:
    def __init__(self) -> None:
        self.t = 0.0

    def seconds(self) -> float:
        return EPOCH.timestamp() + self.t

    def now(self) -> datetime:
        return EPOCH + timedelta(seconds=self.t)

    def advance(self, seconds: float) -> None:
        self.t += seconds


# --- SQS and the event source mapping ------------------------------------------------------


@dataclass
class Message:
    message_id: str
    body: str
    receives: int = 0
    deleted: bool = False


class SimQueue:
    """One standard queue with a redrive policy, on the sim clock."""

    def __init__(self, clock: SimClock, visibility_timeout: float, max_receive: int) -> None:
        self.clock = clock
        self.visibility_timeout = visibility_timeout
        self.max_receive = max_receive
        self.ready: deque[Message] = deque()
        self.invisible: list[tuple[float, int, Message]] = []
        self.in_flight = 0
        self.dlq: list[Message] = []
        self.sent = 0
        self._ids = itertools.count()

    def send(self, body: str) -> None:
        self.sent += 1
        self.ready.append(Message(f"m-{next(self._ids)}", body))

    def _promote(self) -> None:
        now = self.clock.t
        while self.invisible and self.invisible[0][0] <= now:
            _, _, message = heapq.heappop(self.invisible)
            if not message.deleted:
                self.in_flight -= 1
                self.ready.append(message)

    def receive(self, count: int) -> list[Message]:
        self._promote()
        received: list[Message] = []
        while self.ready and len(received) < count:
            message = self.ready.popleft()
            if message.receives >= self.max_receive:  # the redrive policy's move
                self.dlq.append(message)
                continue
            message.receives += 1
            self.in_flight += 1
            heapq.heappush(
                self.invisible,
                (self.clock.t + self.visibility_timeout, next(self._ids), message),
            )
            received.append(message)
        return received

    def delete(self, message: Message) -> None:
        if not message.deleted:
            message.deleted = True
            self.in_flight -= 1

    def counts(self) -> tuple[int, int]:
        self._promote()
        return len(self.ready), self.in_flight

    # The API, for RefineQueue's real boto3 client.
    def answer(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation == "SendMessageBatch":
            for entry in params["Entries"]:
                self.send(entry["MessageBody"])
            self.clock.advance(0.01)
            return {
                "Successful": [
                    {"Id": e["Id"], "MessageId": "x", "MD5OfMessageBody": "x"}
                    for e in params["Entries"]
                ],
                "Failed": [],
            }
        if operation == "GetQueueAttributes":
            visible, in_flight = self.counts()
            return {
                "Attributes": {
                    "ApproximateNumberOfMessages": str(visible),
                    "ApproximateNumberOfMessagesNotVisible": str(in_flight),
                    "ApproximateNumberOfMessagesDelayed": "0",
                }
            }
        raise FakeError("InvalidAction", operation)


class SimMapping:
    """The refine queue's event source mapping: a state machine on the sim clock."""

    def __init__(self, clock: SimClock, delay: float, on_enabled: Callable[[float], None]) -> None:
        self.clock = clock
        self.delay = delay
        self.on_enabled = on_enabled
        self.target = "Disabled"
        self.since = 0.0
        self.enabled_at: float | None = None
        self.concurrency = 2  # ScalingConfig.MaximumConcurrency; the reconciler sets it

    def state(self, at: float | None = None) -> str:
        at = self.clock.t if at is None else at
        if at < self.since + self.delay:
            return "Enabling" if self.target == "Enabled" else "Disabling"
        return self.target

    def answer(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation == "GetEventSourceMapping":
            return {"UUID": params["UUID"], "State": self.state()}
        if operation == "UpdateEventSourceMapping":
            wanted = "Enabled" if params["Enabled"] else "Disabled"
            if self.state() not in ("Enabled", "Disabled"):
                raise FakeError("ResourceInUseException", "changing state")
            if "ScalingConfig" in params:
                self.concurrency = int(params["ScalingConfig"]["MaximumConcurrency"])
            if wanted != self.target:
                self.target, self.since = wanted, self.clock.t
                if wanted == "Enabled":
                    self.enabled_at = self.clock.t + self.delay
                    self.on_enabled(self.enabled_at)
            return {"UUID": params["UUID"], "State": self.state()}
        raise FakeError("InvalidParameterValueException", operation)


# --- S3 and the picture items -------------------------------------------------------------


class SimS3:
    """get/put/head_object for PictureStore; get and put each take half of --io-seconds, the
    pipeline's HEAD (is this raw version still the current one?) a round trip of 10 ms.

    The worker's own work on a real-size picture (decode, colour conversion, blur, encode) is
    charged at the put: `work()` draws the picture's class (plain or colour profile) and
    returns the seconds measured for it (`measure_picture_seconds`); the 96x96 picture the
    simulation really decodes costs next to nothing on the fake clock."""

    def __init__(
        self,
        clock: SimClock,
        io_seconds: float,
        picture: bytes,
        work: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self.clock = clock
        self.half = io_seconds / 2
        self.picture = picture
        self.work = work
        self.puts = 0

    def get_object(self, **_: Any) -> dict[str, Any]:
        self.clock.advance(self.half)
        return {"Body": io.BytesIO(self.picture), "VersionId": "null"}

    def put_object(self, **_: Any) -> dict[str, Any]:
        self.clock.advance(self.work() + self.half)
        self.puts += 1
        return {}

    def head_object(self, **_: Any) -> dict[str, Any]:
        self.clock.advance(0.01)
        return {"VersionId": "null"}


class SimPictures:
    """The picture side of BlurStateTable in memory, with the same conditions."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []

    def add(self, key: str, day: str, boxes: list[Box]) -> None:
        self.items[key] = {
            "pk": picture_pk(key),
            "sk": "STATE",
            "raw_key": key,
            "raw_version_id": "null",
            "capture_day": day,
            "status": Status.LIVE_BLURRED.value,
            "boxes": [box.to_item() for box in boxes],
            "blurred_key": key,
            "updated_at": "2026-11-24T10:00:00+00:00",
        }
        self.order.append(key)

    def get(self, raw_key: str) -> PictureState | None:
        item = self.items.get(raw_key)
        return PictureState.from_item(dict(item)) if item else None

    def count_of_day(self, capture_day: str) -> int:
        return sum(1 for k in self.order if self.items[k]["capture_day"] == capture_day)

    def pictures_of_day_page(
        self, capture_day: str, cursor: dict[str, Any] | None = None, limit: int | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        keys = [k for k in self.order if self.items[k]["capture_day"] == capture_day]
        start = int(cursor["offset"]) if cursor else 0
        end = start + (limit or len(keys))
        page = [
            {key: self.items[k][key] for key in ("pk", "sk", "capture_day", "status", "raw_key")}
            for k in keys[start:end]
        ]
        return page, ({"offset": end} if end < len(keys) else None)

    def _check(self, previous: PictureState, same_revision: bool) -> dict[str, Any]:
        item = self.items.get(previous.raw_key)
        if item is None or item["raw_version_id"] != previous.raw_version_id:
            raise StateConflict(previous.raw_key)
        if same_revision and item.get("updated_at") != previous.extra.get("updated_at"):
            raise StateConflict(previous.raw_key)
        return item

    def record_refined(
        self, previous: PictureState, boxes: Any, attributes: dict[str, Any]
    ) -> None:
        if any(box not in set(boxes) for box in previous.boxes):
            raise ValueError("refusing to drop a stored box")
        item = self._check(previous, same_revision=True)
        item.update(attributes, status=Status.REFINED.value, boxes=[b.to_item() for b in boxes])

    def record_refine_outcome(
        self, previous: PictureState, attributes: dict[str, Any], status: Any = None
    ) -> None:
        item = self._check(previous, same_revision=False)
        item.update(attributes)
        if status is not None:
            item["status"] = status.value


class SimRunTable(RunTable):
    """The real RunTable on moto, except the worker's per-batch counters: moto spends about
    9 ms on each UpdateItem, which for 11,520 batches would triple the benchmark's wall time.
    Counted in memory instead; every other run and session write is the real one."""

    def __init__(self, table_name: str, dynamodb: Any) -> None:
        super().__init__(table_name, dynamodb)
        self.counts: dict[str, int] = {}

    def add_counts(self, day: str, counts: Any) -> None:
        for name, value in counts.items():
            self.counts[name] = self.counts.get(name, 0) + value


# --- The simulation -------------------------------------------------------------------------


@dataclass
class Result:
    pictures: int
    billed_unit_minutes: float
    minimum_unit_minutes: float
    wall_minutes: float
    dlq: int
    refined: int
    left: int  # still queued when the model stopped: the next session's work
    throttled: int
    invocations: int
    min_units: int
    max_units: int
    peak_units: int
    concurrency: int
    watchdog_minutes: int
    fits: bool
    wall_seconds: float
    mode: str = "per message"
    passes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.billed_unit_minutes / self.minimum_unit_minutes

    @property
    def share(self) -> float:
        return self.refined / self.pictures


def minimum_unit_minutes(params: Params, min_units: int) -> float:
    """The least any session of `min_units` bills: its units start and stop (the fake bills
    STARTING and STOPPING), and serving N pictures takes N / T unit-seconds."""
    overhead = (params.start_minutes + params.stop_seconds / 60) * min_units
    return overhead + params.pictures / params.per_unit / 60


def tiny_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (96, 96), (120, 90, 60)).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def fake_client(service: str, answer: Any) -> Any:
    return attach(
        boto3.client(
            service,
            region_name=REGION,
            aws_access_key_id="bench",
            aws_secret_access_key="bench",  # noqa: S106 - never sent anywhere
        ),
        answer,
    )


def make_model(params: Params, clock: SimClock) -> FakeCustomLabels:
    return FakeCustomLabels(
        PROJECT_ARN,
        VERSION_ARN,
        clock.seconds,
        start_seconds=params.start_minutes * 60,
        stop_seconds=params.stop_seconds,
        pictures_per_second_per_unit=params.per_unit,
        account_tps=params.tps_quota,
        scale_up_after_seconds=params.scale_up_after_seconds,
        unit_start_seconds=params.unit_start_seconds,
        detect_seconds=params.detect_seconds,
        throttled_seconds=0.02,
        advance=clock.advance,
        labels=lambda _params: [
            {
                "Name": "license_plate",
                "Confidence": 90.0,
                "Geometry": {"BoundingBox": {"Left": 0.5, "Top": 0.6, "Width": 0.3, "Height": 0.2}},
            }
        ],
    )


def simulate(params: Params) -> Result:
    """Every message through the real RefineScheduler, RefineWorker and ModelReconciler."""
    wall = time.perf_counter()
    random.seed(params.seed)
    rng = random.Random(params.seed)
    work_rng = random.Random(params.seed + 1)
    clock = SimClock()
    events: list[tuple[float, int, str, Any]] = []
    sequence = itertools.count()

    def at(t: float, kind: str, payload: Any = None) -> None:
        heapq.heappush(events, (t, next(sequence), kind, payload))

    queue = SimQueue(
        clock, visibility_timeout=6 * params.worker_timeout, max_receive=params.max_receive
    )
    polling: set[int] = set()  # pollers with a poll or an invocation pending

    def open_pollers(t: float) -> None:
        for slot in range(mapping.concurrency):
            if slot not in polling:
                polling.add(slot)
                at(t, "poll", slot)

    mapping = SimMapping(clock, params.mapping_delay, on_enabled=open_pollers)
    model = make_model(params, clock)
    pictures = SimPictures()
    for index in range(params.pictures):
        pictures.add(f"cam-{index % 200:03}/{DAY}/{index:06}.jpg", DAY, [Box(0.1, 0.1, 0.2, 0.5)])
    plain, profile = params.picture_seconds

    def work() -> float:
        return profile if work_rng.random() < params.profile_share else plain

    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name=REGION)
        create_state_table(dynamodb.meta.client, TABLE)
        runs = SimRunTable(TABLE, dynamodb)
        rekognition = fake_client("rekognition", model.answer)
        sqs = fake_client("sqs", queue.answer)
        lambda_client = fake_client("lambda", mapping.answer)
        common = {
            "STATE_TABLE": TABLE,
            "REFINE_QUEUE_URL": QUEUE_URL,
            "MODEL_PROJECT_ARN": PROJECT_ARN,
            "MODEL_VERSION_ARN": VERSION_ARN,
        }
        inputs = params.sizing_inputs()
        scheduler = RefineScheduler(
            config.load(
                config.ScheduleConfig,
                {
                    **common,
                    "MODEL_MIN_INFERENCE_UNITS": "1",
                    "MODEL_MAX_INFERENCE_UNITS": str(inputs.units_quota),
                    "REFINE_WINDOW_MINUTES": str(inputs.window_minutes),
                    "REFINE_PICTURES_PER_SECOND_PER_UNIT": str(inputs.per_unit),
                    "REFINE_WORKER_SECONDS_PER_PICTURE": str(inputs.seconds_per_picture),
                    "REKOGNITION_TPS": str(inputs.tps_quota),
                    "MAX_CONCURRENCY": str(inputs.concurrency_cap),
                    "MODEL_MAX_RUN_MINUTES": str(inputs.max_run_minutes),
                },
            ),
            pictures,
            runs,
            RefineQueue(QUEUE_URL, sqs, parallelism=1),
            ModelControl(PROJECT_ARN, VERSION_ARN, rekognition),
            clock=clock.now,
        )
        settings = config.load(
            config.RefineConfig,
            {**common, "RAW_BUCKET": "bench-raw", "BLURRED_BUCKET": "bench-blurred"},
        )
        worker = RefineWorker(
            settings,
            PictureStore(SimS3(clock, params.io_seconds, tiny_jpeg(), work)),
            pictures,
            runs,
            CustomLabelsDetector(
                VERSION_ARN,
                settings.custom_label_names,
                settings.custom_min_confidence,
                rekognition,
            ),
            clock=clock.now,
            sleep=clock.advance,
            jitter=rng.random,
        )
        reconciler = ModelReconciler(
            config.load(
                config.ReconcileConfig,
                {
                    **common,
                    "REFINE_MAPPING_UUID": MAPPING_UUID,
                    "MODEL_MAX_RUN_MINUTES": str(params.max_run_minutes),
                },
            ),
            runs,
            ModelControl(PROJECT_ARN, VERSION_ARN, rekognition),
            RefineQueue(QUEUE_URL, sqs),
            EventSourceMapping(MAPPING_UUID, lambda_client),
            clock=clock.now,
        )

        if params.measured:  # what the previous day's run recorded (schedule._per_unit)
            dynamodb.Table(TABLE).put_item(
                Item={
                    **run_key(PREVIOUS_DAY),
                    "run_day": PREVIOUS_DAY,
                    "run_id": f"{PREVIOUS_DAY}#bench",
                    "status": "DONE",
                    "measured_pictures_per_second_per_unit": Decimal(str(params.per_unit_setting)),
                }
            )
        at(0.0, "schedule")
        at(params.reconcile_offset, "tick")
        invocations = 0
        passes: list[str] = []
        closed = False
        horizon = 48 * 3600.0
        while events and not closed:
            t, _, kind, payload = heapq.heappop(events)
            if t > horizon:
                raise RuntimeError("simulation did not finish within 48 simulated hours")
            clock.t = t
            if kind == "schedule":
                scheduler.run(ScheduleRequest(capture_day=DAY))
                metrics.clear_metrics()
            elif kind == "tick":
                result = reconciler.reconcile()
                passes.append(result.result.value)
                metrics.clear_metrics()
                closed = result.result is Pass.CLOSED
                at(t + params.reconcile_seconds, "tick")
            elif kind == "poll":
                slot = payload
                if mapping.state(t) != "Enabled" or slot >= mapping.concurrency:
                    polling.discard(slot)
                    continue
                batch = queue.receive(params.batch_size)
                if not batch:
                    at(t + 1.0, "poll", slot)
                    continue
                invocations += 1
                clock.advance(params.invoke_seconds)
                deadline = t + params.worker_timeout
                records = [
                    {"messageId": m.message_id, "body": m.body, "attributes": {}} for m in batch
                ]
                outcome = worker.process_batch(records, lambda d=deadline: d - clock.t)
                metrics.clear_metrics()
                failed = set(outcome.failed_message_ids)
                at(clock.t, "end", (slot, [m for m in batch if m.message_id not in failed]))
            elif kind == "end":
                slot, done = payload
                for message in done:
                    queue.delete(message)
                at(t, "poll", slot)
        refined = sum(1 for item in pictures.items.values() if item["status"] == "REFINED")
        queue.receive(0)  # the redrive of anything past its receives
        visible, in_flight = queue.counts()
        run = runs.get_run(DAY)
        sizing = run.item["sizing"] if run else {}
        min_units = int(sizing.get("min_units", 1))
        return Result(
            pictures=params.pictures,
            billed_unit_minutes=model.billed_unit_seconds() / 60,
            minimum_unit_minutes=minimum_unit_minutes(params, min_units),
            wall_minutes=clock.t / 60,
            dlq=len(queue.dlq),
            refined=refined,
            left=visible + in_flight,
            throttled=model.throttled,
            invocations=invocations,
            min_units=min_units,
            max_units=int(sizing.get("max_units", 1)),
            peak_units=model.peak_units,
            concurrency=int(sizing.get("max_concurrency", 0)),
            watchdog_minutes=int(sizing.get("watchdog_minutes", 0)),
            fits=bool(sizing.get("fits", True)),
            wall_seconds=time.perf_counter() - wall,
            passes=passes,
        )


def simulate_aggregate(params: Params) -> Result:
    """The same session in one-second steps of counts, not messages: for sizes where the
    per-message simulation would take hours here. Same sizing code (size_session), same
    model (units x T within the account's TPS, the same autoscaling rule, start and stop
    billed), same reconciler timing (a pass every --reconcile-seconds: RUNNING seen, mapping
    enabling for --mapping-delay, two empty readings 45 s apart, then stop); the workers are a
    rate (concurrency / seconds per picture) instead of invocations, so batch tails and
    back-off jitter are not in it."""
    wall = time.perf_counter()
    sizing = size_session(params.sizing_inputs())
    start = params.start_minutes * 60
    units, billed_units = sizing.min_units, sizing.min_units
    billed = 0.0
    remaining = float(params.pictures)
    demand = sizing.max_concurrency / params.worker_seconds
    pressure_since: float | None = None
    pending_at: float | None = None
    mapping_at: float | None = None
    drain_seen: float | None = None
    stop_at: float | None = None
    throttled = 0.0
    peak = units
    t = 0.0
    while True:
        if stop_at is not None and t >= stop_at + params.stop_seconds:
            break
        billed += billed_units
        tick = (
            t >= params.reconcile_offset
            and (t - params.reconcile_offset) % (params.reconcile_seconds) < 1
        )
        if stop_at is None and t >= start:
            if tick and mapping_at is None:
                mapping_at = t + params.mapping_delay
            if tick and t >= sizing.watchdog_minutes * 60:
                stop_at = t
            if mapping_at is not None and t >= mapping_at and remaining > 0:
                if pending_at is not None and t >= pending_at:
                    units, pending_at, pressure_since = units + 1, None, None
                    peak = max(peak, units)
                capacity = min(units * params.per_unit, params.tps_quota)
                served = min(demand, capacity, remaining)
                remaining -= served
                if demand > capacity:
                    throttled += demand - capacity
                    if pending_at is None and units < sizing.max_units:
                        pressure_since = t if pressure_since is None else pressure_since
                        if t - pressure_since >= params.scale_up_after_seconds:
                            pending_at = t + params.unit_start_seconds
                            billed_units += 1
            elif remaining <= 0 and tick and stop_at is None:
                if drain_seen is None:
                    drain_seen = t
                elif t - drain_seen >= DRAIN_CONFIRM_SECONDS:
                    stop_at = t
        t += 1.0
    refined = params.pictures - round(remaining)
    return Result(
        pictures=params.pictures,
        billed_unit_minutes=billed / 60,
        minimum_unit_minutes=minimum_unit_minutes(params, sizing.min_units),
        wall_minutes=t / 60,
        dlq=0,
        refined=refined,
        left=round(remaining),
        throttled=round(throttled),
        invocations=0,
        min_units=sizing.min_units,
        max_units=sizing.max_units,
        peak_units=peak,
        concurrency=sizing.max_concurrency,
        watchdog_minutes=sizing.watchdog_minutes,
        fits=sizing.fits,
        wall_seconds=time.perf_counter() - wall,
        mode="aggregate",
    )


# --- The worker's own time per picture, measured -------------------------------------------


def real_size_jpeg(icc_profile: bytes | None, size: tuple[int, int] = (3840, 2160)) -> bytes:
    """A 2160p camera picture: gradients and grain, so that JPEG has work to do."""
    gradient = Image.linear_gradient("L").resize(size)
    grain = Image.effect_noise(size, 40)
    picture = Image.merge("RGB", (gradient, grain, gradient.transpose(Image.Transpose.ROTATE_180)))
    buffer = io.BytesIO()
    options: dict[str, Any] = {"format": "JPEG", "quality": 90}
    if icc_profile:
        options["icc_profile"] = icc_profile
    picture.save(buffer, **options)
    return buffer.getvalue()


class _NoCounts:
    def add_counts(self, day: str, counts: Any) -> None:
        pass


def measure_picture_seconds(rounds: int = 3) -> tuple[float, float]:
    """CPU seconds the real RefineWorker spends on one 2160p picture, plain and with a Display
    P3 profile (converted to sRGB): S3 and the model answer at once, so this is the worker's
    own work. The median of `rounds`, in CPU time (process_time: the other processes on this
    machine do not count)."""
    from tests.support.icc import display_p3_profile

    clock = SimClock()
    model = FakeCustomLabels(PROJECT_ARN, VERSION_ARN, clock.seconds, start_seconds=0)
    rekognition = fake_client("rekognition", model.answer)
    model.answer("StartProjectVersion", {"ProjectVersionArn": VERSION_ARN, "MinInferenceUnits": 1})
    settings = config.load(
        config.RefineConfig,
        {
            "STATE_TABLE": TABLE,
            "MODEL_VERSION_ARN": VERSION_ARN,
            "RAW_BUCKET": "bench-raw",
            "BLURRED_BUCKET": "bench-blurred",
        },
    )
    seconds = []
    for icc in (None, display_p3_profile()):
        pictures = SimPictures()
        worker = RefineWorker(
            settings,
            PictureStore(SimS3(clock, 0.0, real_size_jpeg(icc))),
            pictures,
            _NoCounts(),  # type: ignore[arg-type]
            CustomLabelsDetector(
                VERSION_ARN,
                settings.custom_label_names,
                settings.custom_min_confidence,
                rekognition,
            ),
            clock=clock.now,
            sleep=clock.advance,
        )
        times = []
        for index in range(rounds):
            key = f"cam-000/{DAY}/{index:06}.jpg"
            pictures.add(key, DAY, [Box(0.1, 0.1, 0.2, 0.5)])
            body = RefineMessage(key, DAY, f"{DAY}#measure").to_body()
            started = time.process_time()
            worker.process_batch([{"messageId": "m", "body": body, "attributes": {}}], lambda: 900)
            times.append(time.process_time() - started)
            metrics.clear_metrics()
        seconds.append(statistics.median(times))
    return seconds[0], seconds[1]


# --- The report ----------------------------------------------------------------------------


def quotas_for(size: int, args: argparse.Namespace, worker_seconds: float) -> dict[str, float]:
    """The default quotas, or what the size needs to meet the window: the units it needs plus
    one for autoscaling, the TPS those units serve, the Lambda concurrency that feeds them."""
    probe = size_session(
        SizingInputs(
            pictures=size,
            per_unit=args.per_unit,
            measured=not args.first_day,
            window_minutes=args.window_minutes,
            start_minutes=EXPECTED_START_MINUTES,
            seconds_per_picture=worker_seconds,
            units_quota=args.units_quota,
            tps_quota=args.tps_quota,
            concurrency_cap=args.concurrency_cap,
            max_run_minutes=args.max_run_minutes,
        )
    )
    if probe.fits_window and probe.units_needed < args.units_quota:
        return {"units": args.units_quota, "tps": args.tps_quota, "lambda": args.concurrency_cap}
    units = probe.units_needed + 1
    tps = max(args.tps_quota, units * args.per_unit)
    lam = max(args.concurrency_cap, math.ceil(tps * worker_seconds * 1.25))
    return {"units": units, "tps": tps, "lambda": lam}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="57600,576000,5760000", help="pictures per day, comma-separated"
    )
    parser.add_argument(
        "--per-message-up-to",
        type=int,
        default=57_600,
        help="sizes up to this run message by message through the real code; larger ones in aggregate",
    )
    parser.add_argument("--start-minutes", type=float, default=10.0, help="S: STARTING → RUNNING")
    parser.add_argument("--stop-seconds", type=float, default=60.0, help="STOPPING → STOPPED")
    parser.add_argument(
        "--per-unit", type=float, default=5.0, help="T: pictures/s one inference unit serves"
    )
    parser.add_argument(
        "--per-unit-setting",
        type=float,
        default=None,
        help="what the sizing assumes (default: T); lower or higher to see autoscaling and the watchdog",
    )
    parser.add_argument("--window-minutes", type=int, default=60, help="refine_window_minutes")
    parser.add_argument("--units-quota", type=int, default=5, help="inference units per model")
    parser.add_argument("--tps-quota", type=float, default=50.0, help="DetectCustomLabels TPS")
    parser.add_argument(
        "--concurrency-cap", type=int, default=1000, help="Lambda concurrency for refine_worker"
    )
    parser.add_argument("--max-run-minutes", type=int, default=240, help="model_max_run_minutes")
    parser.add_argument("--batch-size", type=int, default=5, help="refine_batch_size")
    parser.add_argument("--max-receive", type=int, default=5, help="receives before the DLQ")
    parser.add_argument(
        "--worker-timeout", type=float, default=120.0, help="seconds (visibility timeout is 6x)"
    )
    parser.add_argument("--reconcile-seconds", type=float, default=60.0, help="reconciler schedule")
    parser.add_argument(
        "--mapping-delay", type=float, default=30.0, help="Enabling → Enabled, seconds"
    )
    parser.add_argument("--detect-seconds", type=float, default=0.2, help="one served inference")
    parser.add_argument(
        "--io-seconds", type=float, default=0.12, help="S3 get+put and DynamoDB per picture"
    )
    parser.add_argument(
        "--picture-seconds",
        default=None,
        help="PLAIN,PROFILE: the worker's own seconds per picture instead of measuring them",
    )
    parser.add_argument(
        "--profile-share", type=float, default=0.5, help="share of pictures with a colour profile"
    )
    parser.add_argument(
        "--worker-memory-mb",
        type=int,
        default=1024,
        help="refine_worker memory: measured CPU seconds are scaled by 1769 / this (Lambda gives one vCPU at 1,769 MB)",
    )
    parser.add_argument(
        "--first-day",
        action="store_true",
        help="no past run measured the per-unit throughput: the sizing's guess, one unit of autoscaling headroom",
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    args.per_unit_setting = args.per_unit_setting or args.per_unit

    logger.setLevel(logging.ERROR)  # the sim's 57,600 'picture refined' lines are not the point
    if args.picture_seconds:
        plain, profile = (float(value) for value in args.picture_seconds.split(","))
        source = "given (--picture-seconds)"
    else:
        cpu_plain, cpu_profile = measure_picture_seconds()
        scale = max(1.0, 1769 / args.worker_memory_mb)
        plain, profile = cpu_plain * scale, cpu_profile * scale
        source = (
            f"measured here: {cpu_plain:.3f} / {cpu_profile:.3f} CPU s, x {scale:.2f} "
            f"for {args.worker_memory_mb} MB"
        )
    print(
        f"Worker's own work per 2160p picture: plain {plain:.3f} s, colour profile "
        f"{profile:.3f} s ({source}); {args.profile_share:.0%} with a profile."
    )
    sizes = [int(size) for size in args.sizes.split(",")]
    runs: dict[int, Params] = {}
    quotas: dict[int, dict[str, float]] = {}
    for size in sizes:
        params = Params(
            pictures=size,
            start_minutes=args.start_minutes,
            stop_seconds=args.stop_seconds,
            per_unit=args.per_unit,
            per_unit_setting=args.per_unit_setting,
            window_minutes=args.window_minutes,
            units_quota=args.units_quota,
            tps_quota=args.tps_quota,
            concurrency_cap=args.concurrency_cap,
            max_run_minutes=args.max_run_minutes,
            batch_size=args.batch_size,
            max_receive=args.max_receive,
            worker_timeout=args.worker_timeout,
            reconcile_seconds=args.reconcile_seconds,
            reconcile_offset=37.0,  # the schedule and the reconciler are not in step
            mapping_delay=args.mapping_delay,
            detect_seconds=args.detect_seconds,
            io_seconds=args.io_seconds,
            picture_seconds=(plain, profile),
            profile_share=args.profile_share,
            invoke_seconds=0.03,
            seed=args.seed,
            measured=not args.first_day,
        )
        quotas[size] = quotas_for(size, args, round(params.worker_seconds, 3))
        runs[size] = replace(
            params,
            units_quota=int(quotas[size]["units"]),
            tps_quota=quotas[size]["tps"],
            concurrency_cap=int(quotas[size]["lambda"]),
        )
    worker_seconds = next(iter(runs.values())).worker_seconds
    print(
        f"Custom Labels: start {args.start_minutes:g} min, stop {args.stop_seconds:g} s, "
        f"{args.per_unit:g} pictures/s per unit (sizing assumes {args.per_unit_setting:g}); "
        f"autoscaling: +1 unit after 120 s of refusals, billed at once, serving 180 s later. "
        f"Worker: {args.io_seconds:g} s I/O + {args.detect_seconds:g} s inference + its own work "
        f"= {worker_seconds:.3f} s per picture; batch {args.batch_size}; reconciler every "
        f"{args.reconcile_seconds:g} s; mapping enabling {args.mapping_delay:g} s; window "
        f"{args.window_minutes} min; watchdog ceiling {args.max_run_minutes} min."
    )
    print(
        f"Sizes up to {args.per_message_up_to:,} pictures: every message through the real "
        "RefineScheduler (its sizing), RefineWorker, ModelReconciler; larger: in aggregate "
        "(one-second steps of counts, the same sizing and model), marked 'agg'."
    )
    print(
        "Billed: inference-unit minutes from StartProjectVersion to STOPPED. Minimum: the "
        "sized units' start and stop + N / T unit-seconds."
    )
    with ProcessPoolExecutor(max_workers=min(2, len(sizes))) as pool:
        futures = {
            size: pool.submit(
                simulate if size <= args.per_message_up_to else simulate_aggregate, runs[size]
            )
            for size in sorted(sizes, reverse=True)
        }
        results: dict[int, Result] = {size: futures[size].result() for size in sizes}
    header = (
        f"{'pictures':>9} {'mode':>4} {'quota IU/TPS/λ':>16} {'units':>7} {'peak':>4} "
        f"{'workers':>7} {'watchdog':>8} {'billed IU-min':>13} {'minimum':>8} {'ratio':>6} "
        f"{'wall min':>8} {'refined':>7} {'dlq':>4} {'left':>6} {'run s':>6}"
    )
    print(header)
    for size in sizes:
        result, quota = results[size], quotas[size]
        quota_text = f"{quota['units']:g}/{quota['tps']:g}/{quota['lambda']:g}"
        print(
            f"{size:>9,} {'msg' if result.mode == 'per message' else 'agg':>4} "
            f"{quota_text:>16} {result.min_units:>3}-{result.max_units:<3} "
            f"{result.peak_units:>4} {result.concurrency:>7} {result.watchdog_minutes:>8} "
            f"{result.billed_unit_minutes:>13,.1f} {result.minimum_unit_minutes:>8,.1f} "
            f"{result.ratio:>6.3f} {result.wall_minutes:>8.1f} {result.share:>7.1%} "
            f"{result.dlq:>4} {result.left:>6,} {result.wall_seconds:>6.1f}"
        )
        if result.refined != size:
            print(f"  only {result.refined:,} of {size:,} pictures were refined", file=sys.stderr)
    headline = results.get(57_600) or results[sizes[0]]
    print(
        f"billed/minimum ratio: {headline.ratio:.3f} refined: {headline.share:.1%} "
        f"dlq: {headline.dlq}"
    )
    return 0 if all(r.refined == r.pictures and r.dlq == 0 for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
