"""The local event pump of `make up`: delivers what AWS would, for any client of the endpoint.

    python -m devtools.pump start --aws-url URL   # in the background; pid, log and URLs in .embedded-aws/
    python -m devtools.pump stop
    python -m devtools.pump down                  # make down: pump, destroy, endpoint; exit 0 when all is gone
    python -m devtools.pump run --aws-url URL     # in the foreground (what start runs)

The embedded endpoint (moto) stores what Terraform applied and what clients put, and runs no
function. The pump plays the AWS services that invoke them, from the deployed wiring
(devtools/deliver.py), continuously:

- S3 notifications: the endpoint sends AWS's own event message to SQS destinations for every
  object any client creates or removes (`aws s3 cp ... --endpoint-url`, boto3, the functions),
  and journals those for Lambda destinations; the pump invokes the journalled ones
  asynchronously, with Lambda's retries and then the failure destination.
- Every SQS event source mapping (the live queue, the refine queue while the reconciler has it
  open): batches, partial batch responses, the queue's visibility timeout and redrive policy as
  AWS applies them (a failed message comes back after the visibility timeout).
- Every DynamoDB stream event source mapping (the state table's status counters): Lambda's
  stream poller, with its checkpoints, filter, partial batch responses, bisection, retries and
  failure destination (StreamMappings in devtools/deliver.py).
- EventBridge schedules and rules at their times (`rate(...)`, `cron(...)` in their time zone,
  with EventBridge's L, W, LW and # forms).
- The AWS/SQS CloudWatch metrics SQS would publish, every minute, for every queue
  (ApproximateNumberOfMessagesVisible, ApproximateAgeOfOldestMessage where it can be known
  without disturbing delivery: QueueMetrics), so that `camblur status` reads them as on AWS.
- A local Rekognition endpoint (devtools/local_rekognition.py) for the functions.

State under .embedded-aws/: pump.pid, pump.log (what was delivered, and the functions' logs
beside it in pump-logs/), pump.json (the endpoints, for tools such as `camblur`).
"""

from __future__ import annotations

import argparse
import calendar
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter

from devtools.deliver import AsyncOutcome, Delivery, Schedule, StreamBatch, function_name
from localaws import embedded

ROOT = Path(__file__).resolve().parent.parent
ARTIFACT = ROOT / "dist" / "camblur-lambda.zip"
REGION = "eu-west-1"  # environments/local's region
POLL_IDLE_SECONDS = 0.5
# Lambda waits about 1 and 2 minutes between asynchronous attempts.
ASYNC_RETRY_DELAYS = (60.0, 120.0)
STOP_TIMEOUT_SECONDS = 15.0
STREAM_RETRY_SECONDS = 1.0  # between attempts of a failed stream batch


def log(message: str) -> None:
    print(f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} {message}", flush=True)


# ------------------------------------------------------------------------------ schedules


@dataclass
class Timer:
    """When one schedule fires next: rate(...) from the pump's start, cron(...) and at(...)
    at their times in the schedule's time zone."""

    schedule: Schedule
    next_at: datetime | None

    @classmethod
    def of(cls, schedule: Schedule, now: datetime) -> Timer:
        timer = cls(schedule, None)
        timer.next_at = timer.after(now, first=True)
        return timer

    def after(self, moment: datetime, first: bool = False) -> datetime | None:
        expression = self.schedule.expression.strip()
        zone = ZoneInfo(self.schedule.time_zone or "UTC")
        if rate := re.fullmatch(r"rate\((\d+)\s+(minute|hour|day)s?\)", expression):
            unit = {"minute": 60, "hour": 3600, "day": 86400}[rate[2]]
            return moment + timedelta(seconds=int(rate[1]) * unit)
        if at := re.fullmatch(r"at\((\S+)\)", expression):
            when = datetime.fromisoformat(at[1]).replace(tzinfo=zone).astimezone(UTC)
            return when if first and when > moment else None
        if cron := re.fullmatch(r"cron\((.+)\)", expression):
            fields = cron[1].split()
            if len(fields) != 6:
                raise ValueError(f"{self.schedule.name}: not an AWS cron: {expression}")
            return cron_after(fields, moment.astimezone(zone))
        raise ValueError(f"{self.schedule.name}: unknown schedule expression {expression}")


CRON_SEARCH_DAYS = 366 * 8  # how far ahead a cron that matches no day is looked for


def cron_after(fields: list[str], moment: datetime) -> datetime | None:
    """The first time after `moment` (aware, in the schedule's zone) that an EventBridge cron
    matches, in UTC; None when none comes within CRON_SEARCH_DAYS.

    fields: minutes hours day-of-month month day-of-week year, EventBridge's syntax: one of
    the day fields is `?`; day-of-week counts 1=SUN..7=SAT (croniter: 0=SUN..6=SAT), `6L` is
    the month's last Friday, `2#1` its first Monday, `L` alone Saturday; day-of-month `L` is
    the month's last day, `15W` the weekday nearest the 15th within its month, `LW` the last
    weekday. croniter matches the times and the plain fields; `W` and `LW` are matched here
    (croniter has no `LW`, and moves a `31W` into shorter months, where EventBridge, like
    Quartz, has no such day: that month does not run).
    """
    minute, hour, day, month, weekday, year = fields
    if (day == "?") == (weekday == "?"):
        raise ValueError(f"cron({' '.join(fields)}): exactly one day field must be ?")
    day_matches = _day_of_month(day) if day != "?" else _any_day
    weekday_matches = _day_of_week(weekday) if weekday != "?" else _any_day
    years = _years(year)
    times = f"{minute} {hour} * {month} *"
    for offset in range(CRON_SEARCH_DAYS):
        today = moment.date() + timedelta(days=offset)
        if not (years(today.year) and day_matches(today) and weekday_matches(today)):
            continue
        # From `moment` on its own day, else from just before the day's midnight in the zone.
        midnight = datetime.combine(today, datetime.min.time(), tzinfo=moment.tzinfo)
        start = moment if offset == 0 else midnight - timedelta(seconds=1)
        candidate = croniter(times, start).get_next(datetime)
        if candidate.date() == today:
            return candidate.astimezone(UTC)
    return None


def _any_day(day: date) -> bool:
    return True


def _day_of_month(field: str) -> Callable[[date], bool]:
    if field == "LW":
        return lambda day: day == _nearest_weekday(day.year, day.month, _month_days(day))
    if weekday := re.fullmatch(r"(\d{1,2})W", field):
        wanted = int(weekday[1])
        return lambda day: day == _nearest_weekday(day.year, day.month, wanted)
    spec = f"0 0 {field} * *"
    croniter(spec)  # refuses a bad field now rather than at the first match
    return lambda day: croniter.match(spec, datetime.combine(day, datetime.min.time()))


def _day_of_week(field: str) -> Callable[[date], bool]:
    def to_croniter(item: str) -> str:
        if item in ("*", "?"):
            return "*"
        if item == "L":  # the week's last day
            return "6"
        if last := re.fullmatch(r"(\w+)L", item):
            return f"L{_weekday_number(last[1])}"
        if nth := re.fullmatch(r"(\w+)#([1-5])", item):
            return f"{_weekday_number(nth[1])}#{nth[2]}"
        if step := re.fullmatch(r"(\w+)/(\d+)", item):
            return f"{_weekday_number(step[1])}/{step[2]}"
        return "-".join(_weekday_number(part) for part in item.split("-"))

    spec = "0 0 * * " + ",".join(to_croniter(item) for item in field.split(","))
    croniter(spec)
    return lambda day: croniter.match(spec, datetime.combine(day, datetime.min.time()))


def _weekday_number(day: str) -> str:
    """EventBridge's 1=SUN..7=SAT as croniter's 0..6; names are the same in both."""
    if day.isdigit():
        if not 1 <= int(day) <= 7:
            raise ValueError(f"day of week {day}: EventBridge counts 1 (SUN) to 7 (SAT)")
        return str(int(day) - 1)
    return day


def _month_days(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _nearest_weekday(year: int, month: int, wanted: int) -> date | None:
    """Quartz's `W`: the weekday nearest day `wanted`, never outside its month."""
    last = calendar.monthrange(year, month)[1]
    if wanted > last:
        return None
    day = date(year, month, wanted)
    if day.weekday() == 5:  # Saturday: the Friday before, or the Monday after the 1st
        return day - timedelta(days=1) if wanted > 1 else day + timedelta(days=2)
    if day.weekday() == 6:  # Sunday: the Monday after, or the Friday before the last day
        return day + timedelta(days=1) if wanted < last else day - timedelta(days=2)
    return day


def _years(field: str) -> Callable[[int], bool]:
    if field in ("*", "?"):
        return lambda year: True
    wanted: set[int] = set()
    for item in field.split(","):
        first, _, last = item.partition("-")
        wanted.update(range(int(first), int(last or first) + 1))
    return lambda year: year in wanted


# -------------------------------------------------------------------------- queue metrics

METRICS_PERIOD_SECONDS = 60.0  # SQS publishes its CloudWatch metrics every minute
HELD_GRACE_SECONDS = 60.0  # a held message not received again this long after its timeout: gone


class QueueMetrics:
    """The AWS/SQS metrics SQS publishes, for every queue on the endpoint (dimension
    QueueName): ApproximateNumberOfMessagesVisible (the queue's own count) and
    ApproximateAgeOfOldestMessage, in seconds, from the oldest SentTimestamp known without
    disturbing delivery:

    - messages the pump's pollers received and did not delete (failed, waiting for their
      visibility timeout);
    - visible messages of a queue that no mapping reads and that has no redrive policy (a
      DLQ), seen by a receive with VisibilityTimeout=0: it hides nothing and the receive count
      it raises decides nothing there.

    A receive on any other queue would raise the receive count its redrive policy (or its
    function) counts, and move messages to the DLQ early: so when a queue holds messages none
    of these cover (the refine queue while its mapping is closed), the age is left out, and
    `camblur status` finds no recent datapoint, as it would find none on AWS for a queue SQS
    has not reported yet. An empty queue's age is 0.
    """

    def __init__(self, delivery: Delivery) -> None:
        self.delivery = delivery

    def measure(self, now: float | None = None) -> dict[str, dict[str, float]]:
        """Queue name -> metric name -> value (the age only where it is known)."""
        now = time.time() if now is None else now
        sqs = self.delivery.clients.sqs
        read = {m["EventSourceArn"] for m in self.delivery.mappings.all()}
        measured: dict[str, dict[str, float]] = {}
        for url in _pages(sqs.list_queues, "QueueUrls"):
            attributes = sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "QueueArn",
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "RedrivePolicy",
                    "VisibilityTimeout",
                ],
            )["Attributes"]
            arn = attributes["QueueArn"]
            visible = int(attributes["ApproximateNumberOfMessages"])
            hidden = int(attributes["ApproximateNumberOfMessagesNotVisible"])
            metrics: dict[str, float] = {"ApproximateNumberOfMessagesVisible": float(visible)}
            forget_after = float(attributes.get("VisibilityTimeout", 30)) + HELD_GRACE_SECONDS
            held = self.delivery.mappings.oldest_held(arn, forget_after)
            sent = [held] if held is not None else []
            may_peek = not attributes.get("RedrivePolicy") and arn not in read
            if visible and may_peek:
                peeked = sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=10,
                    VisibilityTimeout=0,
                    WaitTimeSeconds=0,
                    AttributeNames=["SentTimestamp"],
                ).get("Messages", [])
                sent += [int(m["Attributes"]["SentTimestamp"]) for m in peeked]
            known = (visible == 0 or may_peek) and (hidden == 0 or held is not None)
            if visible + hidden == 0:
                metrics["ApproximateAgeOfOldestMessage"] = 0.0
            elif known and sent:
                metrics["ApproximateAgeOfOldestMessage"] = max(0.0, now - min(sent) / 1000)
            measured[arn.split(":")[-1]] = metrics
        return measured

    def publish(self, now: float | None = None) -> dict[str, dict[str, float]]:
        """Measure, then put the figures to CloudWatch at the endpoint; what was put."""
        now = time.time() if now is None else now
        measured = self.measure(now)
        data = [
            {
                "MetricName": name,
                "Dimensions": [{"Name": "QueueName", "Value": queue}],
                "Timestamp": datetime.fromtimestamp(now, UTC),
                "Value": value,
                "Unit": "Seconds" if name == "ApproximateAgeOfOldestMessage" else "Count",
            }
            for queue, metrics in measured.items()
            for name, value in metrics.items()
        ]
        for start in range(0, len(data), 1000):  # PutMetricData takes up to 1000 at a time
            self.delivery.clients.cloudwatch.put_metric_data(
                Namespace="AWS/SQS", MetricData=data[start : start + 1000]
            )
        return measured


def _pages(operation: Any, key: str) -> list[Any]:
    found: list[Any] = []
    token: dict[str, str] = {}
    while True:
        page = operation(**token)
        found += page.get(key, [])
        if not page.get("NextToken"):
            return found
        token = {"NextToken": page["NextToken"]}


# ----------------------------------------------------------------------------------- pump


class Pump:
    """The delivery loops, each on its own thread; `stop()` ends them."""

    def __init__(self, delivery: Delivery, report: Callable[[str], None] = log) -> None:
        self.delivery = delivery
        self.report = report
        self._stopping = threading.Event()
        self._async = ThreadPoolExecutor(max_workers=4, thread_name_prefix="async")
        self._threads: list[threading.Thread] = []
        self._polled: set[str] = set()

    def start(self) -> Pump:
        for target in (
            self._journal_loop,
            self._mappings_loop,
            self._schedules_loop,
            self._metrics_loop,
        ):
            self._spawn(target)
        return self

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=STOP_TIMEOUT_SECONDS)
        self._async.shutdown(wait=False, cancel_futures=True)

    def wait(self) -> None:
        while not self._stopping.wait(1.0):
            pass

    # --------------------------------------------------------------- loops
    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=self._guarded, args=(target, *args), daemon=True)
        thread.start()
        self._threads.append(thread)

    def _guarded(self, target: Callable[..., None], *args: Any) -> None:
        """A loop that survives the endpoint's hiccups (and says so), until stop()."""
        while not self._stopping.is_set():
            try:
                target(*args)
                return
            except Exception as error:  # logged; the loop goes on
                self.report(f"{target.__name__}: {type(error).__name__}: {error}")
                self._stopping.wait(2.0)

    def _journal_loop(self) -> None:
        """S3 events for Lambda destinations (live_trigger s3_async), invoked asynchronously."""
        while not self._stopping.wait(POLL_IDLE_SECONDS):
            for function, event in self.delivery.s3.journalled():
                self._async.submit(self._invoke_async, function, event, _describe(event))

    def _mappings_loop(self) -> None:
        """One poller thread per SQS and per DynamoDB stream event source mapping (new
        mappings are found too)."""
        while not self._stopping.is_set():
            for mapping in self.delivery.mappings.all():
                if mapping["UUID"] not in self._polled:
                    self._polled.add(mapping["UUID"])
                    self._spawn(self._poll_loop, mapping["UUID"], mapping["EventSourceArn"])
            for mapping in self.delivery.streams.all():
                if mapping["UUID"] not in self._polled:
                    self._polled.add(mapping["UUID"])
                    self._spawn(self._stream_loop, mapping["UUID"], mapping["EventSourceArn"])
            self._stopping.wait(10.0)

    def _poll_loop(self, uuid_: str, queue_arn: str) -> None:
        queue = queue_arn.split(":")[-1]
        while not self._stopping.is_set():
            batch = self.delivery.mappings.poll(uuid_)
            if batch is None or batch.received == 0:  # disabled, or nothing visible
                self._stopping.wait(POLL_IDLE_SECONDS)
                continue
            invocation = batch.invocation
            assert invocation is not None
            what = ", ".join(_describe_body(record["body"]) for record in batch.records)
            result = (
                f"{batch.deleted} done, {len(batch.failed)} back to the queue"
                if invocation.ok
                else f"FAILED ({invocation.error}); the batch goes back to the queue"
            )
            self.report(
                f"{queue} -> {invocation.function}: {what}: {result} ({invocation.seconds:.1f} s)"
            )

    def _stream_loop(self, uuid_: str, stream_arn: str) -> None:
        """Lambda's poller of one DynamoDB stream mapping: a line per batch in the log."""
        table = stream_arn.split(":")[5].split("/")[1]
        lambda_ = self.delivery.clients.lambda_
        while not self._stopping.is_set():
            try:
                batches = self.delivery.streams.poll(uuid_, wait_for_window=True)
            except lambda_.exceptions.ResourceNotFoundException:
                self.report(f"{table} stream: mapping {uuid_} is gone; its poller stops")
                self._polled.discard(uuid_)
                return
            for batch in batches or []:
                self.report(f"{table} stream{_describe_stream_batch(batch)}")
            # Lambda polls a shard about 4 times a second; a failed batch waits a little.
            failed = any(not batch.done for batch in batches or [])
            self._stopping.wait(STREAM_RETRY_SECONDS if failed else POLL_IDLE_SECONDS)

    def _metrics_loop(self) -> None:
        """The queues' AWS/SQS metrics every minute; says once per queue when the age of its
        oldest message cannot be known."""
        metrics = QueueMetrics(self.delivery)
        unknown: set[str] = set()
        while not self._stopping.is_set():
            for queue, figures in metrics.publish().items():
                if "ApproximateAgeOfOldestMessage" in figures:
                    unknown.discard(queue)
                elif queue not in unknown:
                    unknown.add(queue)
                    self.report(
                        f"{queue}: ApproximateAgeOfOldestMessage left out while it holds "
                        "messages no poller received (a receive would count toward its "
                        "redrive policy)"
                    )
            self._stopping.wait(METRICS_PERIOD_SECONDS)

    def _schedules_loop(self) -> None:
        timers: dict[str, Timer] = {}
        refreshed = 0.0
        while not self._stopping.is_set():
            now = datetime.now(UTC)
            if time.monotonic() - refreshed > 30:  # schedules may be added or changed
                refreshed = time.monotonic()
                current = {s.arn or s.name: s for s in self.delivery.schedules.all()}
                for key, schedule in current.items():
                    if key not in timers or timers[key].schedule != schedule:
                        timers[key] = Timer.of(schedule, now)
                        self.report(
                            f"schedule {schedule.name} {schedule.expression} "
                            f"{schedule.time_zone} -> {function_name(schedule.target_arn)}"
                            + (
                                f", next at {timers[key].next_at:%H:%M:%S}Z"
                                if timers[key].next_at
                                else ""
                            )
                        )
                for key in set(timers) - set(current):
                    del timers[key]
            for timer in timers.values():
                if timer.next_at is not None and timer.next_at <= now:
                    when, timer.next_at = timer.next_at, timer.after(timer.next_at)
                    if timer.schedule.enabled:
                        self._async.submit(self._fire, timer.schedule, when)
            self._stopping.wait(1.0)

    # -------------------------------------------------------------- actions
    def _invoke_async(self, function: str, event: dict[str, Any], what: str) -> None:
        self._report_async(self.delivery.lambdas.invoke_async(function, event), what)

    def _fire(self, schedule: Schedule, when: datetime) -> None:
        self._report_async(
            self.delivery.schedules.fire(schedule, when), f"schedule {schedule.name}"
        )

    def _report_async(self, outcome: AsyncOutcome, what: str) -> None:
        if outcome.ok:
            self.report(f"{what} -> {outcome.function}: {_short(outcome.last.payload)}")
        else:
            where = (
                f"; sent to {outcome.failure_destination}" if outcome.failure_destination else ""
            )
            self.report(
                f"{what} -> {outcome.function}: FAILED {len(outcome.attempts)} times "
                f"({outcome.last.error}){where}"
            )


def _describe(event: dict[str, Any]) -> str:
    return _describe_body(json.dumps(event))


def _describe_body(body: str) -> str:
    """'ObjectCreated:Put cameras/cam-1/x.jpg' for an S3 event, the test event, or the kind."""
    try:
        message = json.loads(body)
    except ValueError:
        return "a message that is not JSON"
    if not isinstance(message, dict):
        return "a message"
    if message.get("Event") == "s3:TestEvent":
        return "s3:TestEvent"
    records = message.get("Records")
    if isinstance(records, list) and records and "s3" in records[0]:
        record = records[0]
        return f"{record.get('eventName')} {record['s3']['object'].get('key')}"
    return "a message"


def _describe_stream_batch(batch: StreamBatch) -> str:
    """' -> f: 3 records (INSERT 2, MODIFY 1), 1 skipped by the filter: done (0.2 s)'."""
    if batch.invocation is None:
        return f": {_records(batch.skipped)} skipped by the filter"
    kinds = Counter(record["eventName"] for record in batch.records)
    what = f"{_records(len(batch.records))} ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))})"
    if batch.skipped:
        what += f", {batch.skipped} skipped by the filter"
    invocation = batch.invocation
    error = "" if invocation.ok else f"FAILED ({invocation.error}); "
    if batch.bisected:
        result = f"{error}split in two, the halves retried"
    elif batch.retry_from is not None:
        result = (
            f"{error or 'partly failed; '}attempt {batch.attempt}, again from {batch.retry_from}"
        )
    elif batch.gave_up:
        where = f"sent to {batch.failure_destination}" if batch.failure_destination else "dropped"
        result = f"{error}given up after {batch.attempt} attempts; {where}"
    else:
        result = "done"
    return f" -> {invocation.function}: {what}: {result} ({invocation.seconds:.1f} s)"


def _records(count: int) -> str:
    return f"{count} record" + ("" if count == 1 else "s")


def _short(payload: Any) -> str:
    text = json.dumps(payload, default=str)
    return text if len(text) <= 200 else text[:197] + "..."


# ------------------------------------------------------------------------ the process


def run(aws_url: str, rekognition_url: str | None, artifact: Path, workdir: Path) -> int:
    """The pump in this process until SIGTERM/SIGINT."""
    from devtools.local_rekognition import LocalRekognition

    workdir.mkdir(parents=True, exist_ok=True)
    # A private copy: a `make build` meanwhile must not change the code under the functions.
    code = workdir / artifact.name
    shutil.copyfile(artifact, code)
    with contextlib.ExitStack() as stack:
        rekognition: LocalRekognition | None = None
        if rekognition_url is None:
            rekognition = stack.enter_context(
                LocalRekognition(s3_endpoint_url=aws_url, region=REGION)
            )
            rekognition_url = rekognition.url
        delivery = stack.enter_context(
            Delivery(
                aws_url,
                rekognition_url,
                code,
                workdir,
                region=REGION,
                log_dir=workdir / "logs",
                retry_delays=ASYNC_RETRY_DELAYS,
                queue_retry_wait=None,  # AWS's visibility timeouts, not compressed
            )
        )
        if rekognition is not None:
            # Our own Rekognition: the deployed model must exist in it, as it does in the
            # account (DescribeProjectVersions lists only known models; the demo does the same).
            for function in delivery.clients.lambda_.list_functions()["Functions"]:
                variables = function.get("Environment", {}).get("Variables", {})
                if variables.get("MODEL_VERSION_ARN"):
                    rekognition.register_model(variables["MODEL_VERSION_ARN"])
        pump = Pump(delivery).start()
        stack.callback(pump.stop)
        info = {
            "pid": os.getpid(),
            "aws_url": aws_url,
            "rekognition_url": rekognition_url,
            "function_logs": str(workdir / "logs"),
        }
        (workdir.parent / "pump.json").write_text(json.dumps(info, indent=2) + "\n")
        log(
            f"pump delivering for {aws_url} (Rekognition {rekognition_url}); functions' logs in {workdir / 'logs'}"
        )

        def request_stop(signum: int, frame: object) -> None:
            pump._stopping.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        pump.wait()
        log("pump stopping")
    return 0


def _paths(state_dir: Path) -> dict[str, Path]:
    return {
        "pid": state_dir / "pump.pid",
        "log": state_dir / "pump.log",
        "info": state_dir / "pump.json",
        "workdir": state_dir / "pump",
    }


def start(
    aws_url: str,
    state_dir: Path = embedded.STATE_DIR,
    artifact: Path = ARTIFACT,
    rekognition_url: str | None = None,
) -> int:
    """Start the pump in the background (a running one is replaced); its pid."""
    stop(state_dir)
    paths = _paths(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "devtools.pump",
        "run",
        "--aws-url",
        aws_url,
        "--artifact",
        str(artifact),
        "--workdir",
        str(paths["workdir"]),
    ]
    if rekognition_url:
        command += ["--rekognition-url", rekognition_url]
    with paths["log"].open("ab") as output:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # make up returns; the pump stays
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    paths["pid"].write_text(str(process.pid))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # ready once it wrote its endpoints
        if paths["info"].exists() and json.loads(paths["info"].read_text())["pid"] == process.pid:
            return process.pid
        if process.poll() is not None:
            raise RuntimeError(f"the event pump exited at start; see {paths['log']}")
        time.sleep(0.2)
    raise RuntimeError(f"the event pump did not start in 60 s; see {paths['log']}")


def stop(state_dir: Path = embedded.STATE_DIR) -> bool:
    """Stop the pump and every function process it runs; False when none was running."""
    paths = _paths(state_dir)
    if not paths["pid"].exists():
        return False
    pid = int(paths["pid"].read_text())
    was_alive = embedded._alive(pid)
    if was_alive:
        embedded._terminate(pid, timeout=STOP_TIMEOUT_SECONDS)
    # Its function sandboxes share its session: none may outlive it.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    for name in ("pid", "info"):
        paths[name].unlink(missing_ok=True)
    return was_alive


def running(state_dir: Path = embedded.STATE_DIR) -> int | None:
    paths = _paths(state_dir)
    if paths["pid"].exists():
        pid = int(paths["pid"].read_text())
        if embedded._alive(pid):
            return pid
    return None


def down(
    terraform_dir: Path,
    state_dir: Path = embedded.STATE_DIR,
    variables: dict[str, str] | None = None,
) -> int:
    """make down: stop the pump, destroy the deployment, stop the endpoint, whatever fails.

    Exit 0 when nothing is left: the endpoint keeps everything in memory, so once it is stopped
    a failed destroy leaves nothing behind but a stale state file, which goes too.
    """
    pump_pid, server_pid = running(state_dir), _server_pid(state_dir)
    if stop(state_dir):
        print("event pump stopped", file=sys.stderr)
    url = embedded.running_url(state_dir)
    if url is not None and (terraform_dir / "terraform.tfstate").exists():
        env = {
            **os.environ,
            "TF_VAR_aws_endpoint_url": url,
            "TF_IN_AUTOMATION": "1",
            **(variables or {}),
        }
        # Terraform's plan and progress (thousands of lines) go to a log, as make up's apply.
        log = state_dir / "destroy.log"
        print(f"terraform destroy of {terraform_dir} (log {log})", file=sys.stderr)
        try:
            _destroy(terraform_dir, env, log)
        except OSError as error:  # no terraform, or no log: the endpoint goes all the same
            print(f"terraform destroy could not run ({error})", file=sys.stderr)
    if embedded.stop(state_dir):
        print("embedded AWS endpoint stopped", file=sys.stderr)
    for name in ("terraform.tfstate", "terraform.tfstate.backup"):
        (terraform_dir / name).unlink(missing_ok=True)
    left = [pid for pid in (pump_pid, server_pid) if pid is not None and embedded._alive(pid)]
    if left:
        print(f"still running: {left}", file=sys.stderr)
        return 1
    return 0


def _destroy(terraform_dir: Path, env: dict[str, str], log: Path) -> None:
    with log.open("w") as output:
        destroy = subprocess.run(
            [
                "terraform",
                f"-chdir={terraform_dir}",
                "destroy",
                "-input=false",
                "-auto-approve",
                "-no-color",
            ],
            env=env,
            check=False,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    lines = log.read_text(errors="replace").splitlines()
    if destroy.returncode == 0:
        print(next((line for line in lines if line.startswith("Destroy complete")), "destroyed"))
        return
    print("\n".join(lines[-40:]), file=sys.stderr)
    print(
        f"terraform destroy failed (log {log}); stopping the endpoint anyway (it keeps "
        "everything in memory: nothing survives it)",
        file=sys.stderr,
    )


def _server_pid(state_dir: Path) -> int | None:
    pid_file = state_dir / "pid"
    return int(pid_file.read_text()) if pid_file.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.pump", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("run", "start"):
        command = commands.add_parser(name)
        command.add_argument("--aws-url", required=True)
        command.add_argument("--rekognition-url")
        command.add_argument("--artifact", type=Path, default=ARTIFACT)
        if name == "run":
            command.add_argument(
                "--workdir", type=Path, default=_paths(embedded.STATE_DIR)["workdir"]
            )
    commands.add_parser("stop")
    down_parser = commands.add_parser("down")
    down_parser.add_argument("--terraform-dir", type=Path, default=ROOT / "environments" / "local")
    args = parser.parse_args(argv)

    if args.command == "run":
        return run(args.aws_url, args.rekognition_url, args.artifact, args.workdir)
    if args.command == "start":
        pid = start(args.aws_url, artifact=args.artifact, rekognition_url=args.rekognition_url)
        print(f"event pump running (pid {pid}); log: {_paths(embedded.STATE_DIR)['log']}")
        return 0
    if args.command == "stop":
        print("event pump " + ("stopped" if stop() else "was not running"), file=sys.stderr)
        return 0
    return down(args.terraform_dir)


if __name__ == "__main__":
    sys.exit(main())
