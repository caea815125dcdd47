"""make bench-refine: billed model minutes of the daily refinement against the least possible.

A discrete-event simulation on a fake clock drives the real code: RefineScheduler,
RefineWorker and ModelReconciler with their real adapters (ModelControl,
CustomLabelsDetector, RefineQueue, EventSourceMapping, RunTable). Only the AWS side is fake:

- Custom Labels (localaws.custom_labels): STARTING for S minutes, then RUNNING; each
  inference unit serves T DetectCustomLabels calls per second, more are refused with
  ProvisionedThroughputExceededException; STOPPING lasts --stop-seconds. Billed time is
  counted from StartProjectVersion to STOPPED (STARTING and STOPPING included) - AWS bills
  "the hours the model is running"; counting the start and the stop too is the pessimistic
  reading.
- SQS: visibility timeout, receive counts, redrive to a DLQ after --max-receive receives,
  failed messages of a partial batch reappear when their visibility timeout ends.
- The event source mapping: Enabling for --mapping-delay seconds after UpdateEventSourceMapping,
  then up to --max-concurrency pollers each receive up to --batch-size messages and invoke
  the worker; an idle poller polls again a second later.
- Each worker invocation is simulated whole when it starts: its calls are placed on its own
  stretch of the fake clock (S3 + DynamoDB --io-seconds per picture, --detect-seconds per
  served inference, backoff sleeps), and its messages are deleted when it ends.
- Pictures are 96x96 JPEGs, decoded, blurred and encoded for real; S3 objects and picture
  items are in-memory fakes; run and session items are the real RunTable on moto's DynamoDB.

The minimum possible is S + N / (T x units): the model has to start, then serve every
picture at full capacity. The last line is `billed/minimum ratio: <ratio for 57,600> dlq: <n>`.
"""

from __future__ import annotations

import argparse
import heapq
import io
import itertools
import logging
import random
import sys
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
)
from camblur.adapters.storage import (
    PictureStore,
)
from camblur.core.boxes import Box
from camblur.observability import logger, metrics
from camblur.refine.reconciler import ModelReconciler, Pass
from camblur.refine.schedule import RefineScheduler, ScheduleRequest
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
EPOCH = datetime(2026, 11, 25, 2, 30, tzinfo=UTC)  # the schedule fires at 02:30
TABLE = "bench-state"
MAPPING_UUID = "6c2b5a0e-7d0c-4e8e-9a43-1f0a7b9c2d11"


@dataclass
class Params:
    pictures: int
    start_minutes: float
    stop_seconds: float
    per_unit: float
    units: int
    batch_size: int
    max_concurrency: int
    max_receive: int
    worker_timeout: float
    reconcile_seconds: float
    reconcile_offset: float
    mapping_delay: float
    detect_seconds: float
    io_seconds: float
    invoke_seconds: float
    seed: int


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
    pipeline's HEAD (is this raw version still the current one?) a round trip of 10 ms."""

    def __init__(self, clock: SimClock, io_seconds: float, picture: bytes) -> None:
        self.clock = clock
        self.half = io_seconds / 2
        self.picture = picture
        self.puts = 0

    def get_object(self, **_: Any) -> dict[str, Any]:
        self.clock.advance(self.half)
        return {"Body": io.BytesIO(self.picture), "VersionId": "null"}

    def put_object(self, **_: Any) -> dict[str, Any]:
        self.clock.advance(self.half)
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
    billed_minutes: float
    minimum_minutes: float
    dlq: int
    refined: int
    throttled: int
    invocations: int
    returned: int
    running_at: float | None
    mapping_at: float | None
    stop_at: float | None
    wall_seconds: float
    passes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.billed_minutes / self.minimum_minutes


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


def simulate(params: Params) -> Result:
    wall = time.perf_counter()
    random.seed(params.seed)
    rng = random.Random(params.seed)
    clock = SimClock()
    events: list[tuple[float, int, str, Any]] = []
    sequence = itertools.count()

    def at(t: float, kind: str, payload: Any = None) -> None:
        heapq.heappush(events, (t, next(sequence), kind, payload))

    queue = SimQueue(
        clock, visibility_timeout=6 * params.worker_timeout, max_receive=params.max_receive
    )
    idle_slots = set(range(params.max_concurrency))
    mapping = SimMapping(
        clock,
        params.mapping_delay,
        on_enabled=lambda t: [at(t, "poll", slot) for slot in sorted(idle_slots)],
    )
    model = FakeCustomLabels(
        PROJECT_ARN,
        VERSION_ARN,
        clock.seconds,
        start_seconds=params.start_minutes * 60,
        stop_seconds=params.stop_seconds,
        pictures_per_second_per_unit=params.per_unit,
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
    pictures = SimPictures()
    for index in range(params.pictures):
        pictures.add(f"cam-{index % 200:03}/{DAY}/{index:06}.jpg", DAY, [Box(0.1, 0.1, 0.2, 0.5)])

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
        scheduler = RefineScheduler(
            config.load(
                config.ScheduleConfig,
                {
                    **common,
                    "MODEL_MIN_INFERENCE_UNITS": str(params.units),
                    "MODEL_MAX_INFERENCE_UNITS": str(params.units),
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
            PictureStore(SimS3(clock, params.io_seconds, tiny_jpeg())),
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
            config.load(config.ReconcileConfig, {**common, "REFINE_MAPPING_UUID": MAPPING_UUID}),
            runs,
            ModelControl(PROJECT_ARN, VERSION_ARN, rekognition),
            RefineQueue(QUEUE_URL, sqs),
            EventSourceMapping(MAPPING_UUID, lambda_client),
            clock=clock.now,
        )

        at(0.0, "schedule")
        at(params.reconcile_offset, "tick")
        invocations = returned = 0
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
            elif kind == "tick":
                result = reconciler.reconcile()
                passes.append(result.result.value)
                metrics.clear_metrics()
                closed = result.result is Pass.CLOSED
                at(t + params.reconcile_seconds, "tick")
            elif kind == "poll":
                slot = payload
                if mapping.state(t) != "Enabled":
                    idle_slots.add(slot)
                    continue
                batch = queue.receive(params.batch_size)
                if not batch:
                    idle_slots.add(slot)
                    at(t + 1.0, "poll", slot)
                    continue
                idle_slots.discard(slot)
                invocations += 1
                clock.advance(params.invoke_seconds)
                deadline = t + params.worker_timeout
                records = [
                    {"messageId": m.message_id, "body": m.body, "attributes": {}} for m in batch
                ]
                outcome = worker.process_batch(records, lambda d=deadline: d - clock.t)
                metrics.clear_metrics()
                failed = set(outcome.failed_message_ids)
                returned += len(failed)
                at(clock.t, "end", (slot, [m for m in batch if m.message_id not in failed]))
            elif kind == "end":
                slot, done = payload
                for message in done:
                    queue.delete(message)
                at(t, "poll", slot)
        refined = sum(1 for item in pictures.items.values() if item["status"] == "REFINED")
        # Anything that reached the DLQ, or still waits in the queue when the model stopped.
        queue.receive(0)
        return Result(
            pictures=params.pictures,
            billed_minutes=model.billed_seconds() / 60,
            minimum_minutes=params.start_minutes
            + params.pictures / (params.per_unit * params.units) / 60,
            dlq=len(queue.dlq),
            refined=refined,
            throttled=model.throttled,
            invocations=invocations,
            returned=returned,
            running_at=None,
            mapping_at=mapping.enabled_at,
            stop_at=clock.t,
            wall_seconds=time.perf_counter() - wall,
            passes=passes,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="1000,10000,57600", help="pictures per run, comma-separated"
    )
    parser.add_argument("--start-minutes", type=float, default=10.0, help="S: STARTING → RUNNING")
    parser.add_argument("--stop-seconds", type=float, default=60.0, help="STOPPING → STOPPED")
    parser.add_argument(
        "--per-unit", type=float, default=5.0, help="T: pictures per second per inference unit"
    )
    parser.add_argument("--units", type=int, default=1, help="inference units")
    parser.add_argument(
        "--batch-size", type=int, default=5, help="mapping batch size (Terraform refine_batch_size)"
    )
    parser.add_argument(
        "--max-concurrency",
        type=int,
        default=2,
        help="mapping maximum concurrency (Terraform refine_maximum_concurrency)",
    )
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
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    logger.setLevel(logging.ERROR)  # the sim's 57,600 'picture refined' lines are not the point
    sizes = [int(size) for size in args.sizes.split(",")]
    print(
        f"Custom Labels: start {args.start_minutes:g} min, stop {args.stop_seconds:g} s, "
        f"{args.per_unit:g} pictures/s per unit x {args.units} unit(s); mapping: batch "
        f"{args.batch_size}, concurrency {args.max_concurrency}, enabling {args.mapping_delay:g} s; "
        f"reconciler every {args.reconcile_seconds:g} s; worker: {args.io_seconds:g} s I/O + "
        f"{args.detect_seconds:g} s inference per picture, {args.max_receive} receives to DLQ."
    )
    print(
        "Real RefineScheduler/RefineWorker/ModelReconciler; 96x96 JPEGs really decoded and blurred; fake clock."
    )
    print("Billed: StartProjectVersion to STOPPED. Minimum: S + N / (T x units).")
    header = f"{'pictures':>9} {'billed min':>10} {'minimum':>8} {'ratio':>6} {'dlq':>4} {'refined':>8} {'throttled':>9} {'invocations':>11} {'returned':>8} {'wall s':>6}"
    worker_rate = args.max_concurrency / (args.io_seconds + args.detect_seconds)
    model_rate = args.per_unit * args.units
    print(
        f"Workers can ask {worker_rate:.1f} pictures/s, the model serves {model_rate:g}: "
        + (
            "concurrency is enough."
            if worker_rate >= model_rate
            else "too little concurrency, the model idles (raise --max-concurrency)."
        )
    )
    print(header)
    runs = {
        size: Params(
            pictures=size,
            start_minutes=args.start_minutes,
            stop_seconds=args.stop_seconds,
            per_unit=args.per_unit,
            units=args.units,
            batch_size=args.batch_size,
            max_concurrency=args.max_concurrency,
            max_receive=args.max_receive,
            worker_timeout=args.worker_timeout,
            reconcile_seconds=args.reconcile_seconds,
            reconcile_offset=37.0,  # the schedule and the reconciler are not in step
            mapping_delay=args.mapping_delay,
            detect_seconds=args.detect_seconds,
            io_seconds=args.io_seconds,
            invoke_seconds=0.03,
            seed=args.seed,
        )
        for size in sizes
    }
    # One simulation per process, the largest first: two cores, about a minute in all.
    with ProcessPoolExecutor(max_workers=min(2, len(sizes))) as pool:
        futures = {size: pool.submit(simulate, runs[size]) for size in sorted(sizes, reverse=True)}
        results: dict[int, Result] = {size: futures[size].result() for size in sizes}
    for size in sizes:
        result = results[size]
        print(
            f"{size:>9,} {result.billed_minutes:>10.1f} {result.minimum_minutes:>8.1f} "
            f"{result.ratio:>6.3f} {result.dlq:>4} {result.refined:>8,} {result.throttled:>9,} "
            f"{result.invocations:>11,} {result.returned:>8,} {result.wall_seconds:>6.1f}"
        )
        if result.refined != size:
            print(f"  only {result.refined} of {size} pictures were refined", file=sys.stderr)
    headline = results.get(57_600) or results[sizes[-1]]
    print(f"billed/minimum ratio: {headline.ratio:.3f} dlq: {headline.dlq}")
    return 0 if all(r.refined == r.pictures and r.dlq == 0 for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
