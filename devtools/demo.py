"""`make demo`: camblur end to end on this machine, no AWS account needed.

    python -m devtools.demo [--output demo-output] [--model-start-seconds 3] [--keep-running]
                            [--var NAME=VALUE ...]

1. starts the embedded AWS endpoint (moto server, localaws/embedded.py) and the local
   Rekognition endpoint (devtools/local_rekognition.py), both on 127.0.0.1;
2. deploys environments/local with its real Terraform (from a private copy of terraform/ and
   environments/local/, so its state and .terraform/ never meet those of `make up` or the
   tests running at the same time);
3. generates sample camera pictures (devtools/samples.py) and uploads them to the raw bucket;
   S3's notifications, as deployed, reach live_blur (through the live queue and its mapping,
   or directly: devtools/deliver.py reads which, and runs the built artifact's code);
4. runs the daily refinement as deployed: the refine schedule fires as it will on the night
   that refines today's pictures, then the reconciler's schedule ticks (one tick here stands for one of its minutes)
   until the model is RUNNING, the mapping opens, refine_worker drains the queue, and the
   reconciler stops the model and closes the mapping;
5. writes demo-output/: the blurred pictures, contact-sheet.png, summary.txt/json, the
   functions' logs; prints the summary table; checks the outcome and exits 1 if anything is
   not as it should be;
6. destroys the deployment and stops both endpoints, also when something failed.

The same machinery (`LocalEnvironment`, `upload_samples`, `run_refinement`, ...) drives
tests/integration/test_demo_pipeline.py.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from devtools import contact_sheet, samples
from devtools.deliver import (
    AsyncOutcome,
    Delivery,
    Outcome,
    QueuedOutcome,
    Schedule,
    StreamBatch,
    WiringError,
    function_name,
)
from devtools.local_rekognition import LocalRekognition
from localaws.embedded import embedded_aws, terraform_cli_config

ROOT = Path(__file__).resolve().parent.parent
ARTIFACT = ROOT / "dist" / "camblur-lambda.zip"
DEFAULT_OUTPUT = ROOT / "demo-output"
REGION = "eu-west-1"  # environments/local's default region
TERRAFORM_TIMEOUT_SECONDS = 600
DESTROY_TIMEOUT_SECONDS = 300  # about 20 s normally


class DemoError(RuntimeError):
    """Something the user must know about; the message says what and where to look."""


# ---------------------------------------------------------------------------- progress

_START = time.monotonic()


def _kill_group(process: subprocess.Popen[str]) -> None:
    """Stop a process we started in its own session, and everything it started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def say(message: str) -> None:
    print(f"[{time.monotonic() - _START:6.1f}s] {message}", flush=True)


# --------------------------------------------------------------------------- Terraform


class Terraform:
    """terraform for environments/local, run in a private copy of the configuration.

    Engineers, `make up` and the tests deploy environments/local at the same time; a copy
    (terraform/ and environments/local/, without state or .terraform/) gives each run its own
    state, lock and .terraform/ with the very same configuration. Providers come from the
    filesystem mirror when there is one (offline machines), from the registry otherwise.
    """

    def __init__(self, workdir: Path, endpoint_url: str, artifact: Path, log: Path) -> None:
        source = workdir / "configuration"
        ignore = shutil.ignore_patterns(
            ".terraform", "*.tfstate", "*.tfstate.*", "tf_resources.json", "*.tfplan"
        )
        for part in ("terraform", "environments/local"):
            shutil.copytree(ROOT / part, source / part, ignore=ignore, dirs_exist_ok=True)
        self.directory = source / "environments" / "local"
        self._log = log
        self._env = {
            **os.environ,
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "TF_VAR_aws_endpoint_url": endpoint_url,
            "TF_VAR_lambda_zip_path": str(artifact),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        self._env.pop("TF_DATA_DIR", None)
        self.variables: list[str] = []  # NAME=VALUE given with --var, shown in the progress
        cli_config = terraform_cli_config()
        if cli_config is not None:
            self._env["TF_CLI_CONFIG_FILE"] = str(cli_config)
        self.applied = False

    def run(self, *args: str, timeout: float = TERRAFORM_TIMEOUT_SECONDS) -> str:
        command = [
            "terraform",
            f"-chdir={self.directory}",
            *args,
            "-no-color",
            *self._extra(args[0]),
        ]
        started = time.monotonic()
        try:
            # Its own process group: on a timeout the provider plugin goes too.
            process = subprocess.Popen(
                command,
                env=self._env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        except FileNotFoundError:
            raise DemoError(
                "terraform is not installed (https://developer.hashicorp.com/terraform/install)"
            ) from None
        try:
            output, _ = process.communicate(timeout=timeout)
        except KeyboardInterrupt:
            _kill_group(process)  # its own session: Ctrl-C did not reach it
            raise
        except subprocess.TimeoutExpired:
            _kill_group(process)
            output, _ = process.communicate()
            self._write_log(command, started, "killed after timeout", output)
            raise DemoError(
                f"terraform {args[0]} took over {timeout:.0f} s and was stopped (log: {self._log})"
            ) from None
        self._write_log(command, started, f"exit {process.returncode}", output)
        if process.returncode != 0:
            tail = "\n".join(output.strip().splitlines()[-25:])
            raise DemoError(f"terraform {args[0]} failed (full log: {self._log}):\n{tail}")
        return output

    def _extra(self, command: str) -> list[str]:
        if command in ("plan", "apply", "destroy"):
            return [f"-var={assignment}" for assignment in self.variables]
        return []

    def _write_log(self, command: list[str], started: float, result: str, output: str) -> None:
        with self._log.open("a") as log:
            log.write(f"$ {' '.join(command)}  ({time.monotonic() - started:.1f} s, {result})\n")
            log.write(output + "\n")

    def init(self) -> None:
        args = ["init"]
        if (self.directory / ".terraform.lock.hcl").exists():
            args.append("-lockfile=readonly")  # the committed provider hashes must match
        self.run(*args)

    def apply(self) -> None:
        self.applied = True  # even a half-done apply leaves something to destroy
        self.run("apply", "-auto-approve")

    def outputs(self) -> dict[str, Any]:
        return {
            name: value["value"] for name, value in json.loads(self.run("output", "-json")).items()
        }

    def destroy(self) -> None:
        self.run("destroy", "-auto-approve", timeout=DESTROY_TIMEOUT_SECONDS)
        self.applied = False


# ------------------------------------------------------------------------- environment


@dataclass(frozen=True)
class Deployment:
    """What Terraform deployed, from the outputs of environments/local."""

    raw_bucket: str
    blurred_bucket: str
    state_table: str
    functions: dict[str, str]
    refine_queue_url: str
    refine_mapping_uuid: str
    outputs: dict[str, Any] = field(default_factory=dict, repr=False)  # every output, by name

    @classmethod
    def from_outputs(cls, outputs: dict[str, Any]) -> Deployment:
        names = {f.name: f.name for f in fields(cls) if f.name != "outputs"}
        names["functions"] = "function_names"
        return cls(**{name: outputs[output] for name, output in names.items()}, outputs=outputs)


class LocalEnvironment:
    """Embedded AWS + local Rekognition + environments/local applied + event delivery.

    A context manager; on exit (also after a failure) it destroys the deployment, then stops
    the endpoints. `destroy=False` skips the destroy (the endpoint forgets everything when it
    stops anyway, and the state lives in the private workdir).
    """

    def __init__(
        self,
        workdir: Path,
        *,
        model_start_seconds: float = 3.0,
        log_dir: Path | None = None,
        destroy: bool = True,
        terraform_variables: tuple[str, ...] = (),
        report: Callable[[str], None] = say,
    ) -> None:
        self.workdir = workdir
        self.terraform_variables = terraform_variables
        self.log_dir = log_dir or workdir / "logs"
        self.model_start_seconds = model_start_seconds
        self._destroy = destroy
        self.report = report
        self._stack = contextlib.ExitStack()
        self.aws_url = ""
        self.rekognition: LocalRekognition
        self.terraform: Terraform
        self.deployment: Deployment
        self.delivery: Delivery

    def __enter__(self) -> LocalEnvironment:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _start(self) -> None:
        if not ARTIFACT.exists():
            raise DemoError(f"{ARTIFACT.relative_to(ROOT)} is missing: run make build")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.aws_url = self._stack.enter_context(embedded_aws())
        self.report(f"embedded AWS endpoint (moto) on {self.aws_url}")
        self.rekognition = self._stack.enter_context(
            LocalRekognition(
                s3_endpoint_url=self.aws_url,
                region=REGION,
                model_start_seconds=self.model_start_seconds,
            )
        )
        self.report(
            f"local Rekognition endpoint on {self.rekognition.url} "
            f"(detector {self.rekognition.detector.version}, model starts in {self.model_start_seconds:g} s)"
        )
        # A private copy of the zip: a `make build` elsewhere while Terraform reads it (or while
        # functions run) would otherwise change the code under our feet.
        artifact = self.workdir / ARTIFACT.name
        shutil.copyfile(ARTIFACT, artifact)
        self.terraform = Terraform(
            self.workdir, self.aws_url, artifact, self.log_dir / "terraform.log"
        )
        self.terraform.variables = list(self.terraform_variables)
        self._stack.callback(self._teardown_terraform)
        self.terraform.init()
        for assignment in self.terraform_variables:
            self.report(f"terraform variable set on the command line: {assignment}")
        self.report(
            "terraform apply environments/local (about a minute: the provider waits on S3 and SQS)"
        )
        started = time.monotonic()
        self.terraform.apply()
        self.deployment = Deployment.from_outputs(self.terraform.outputs())
        self.report(
            f"deployed in {time.monotonic() - started:.0f} s: {self._describe_deployment()}"
        )
        self.delivery = Delivery(
            self.aws_url,
            self.rekognition.url,
            artifact,
            self.workdir,
            region=REGION,
            log_dir=self.log_dir,
        )
        self._stack.callback(self.delivery.close)
        # The Custom Labels model is trained outside Terraform: in the local Rekognition it
        # exists (stopped) under the ARN the functions were deployed with.
        self.rekognition.register_model(self.model_arn())
        substituted = ", ".join(f"{n} {v}" for n, v in self.delivery.code.substituted.items())
        self.report(
            f"functions run from a copy of {ARTIFACT.relative_to(ROOT)} (CodeSha256 {self.delivery.code.code_sha256[:12]}...)"
            + (f"; host stand-in for its compiled {substituted}" if substituted else "")
        )

    def _teardown_terraform(self) -> None:
        if not self._destroy or not self.terraform.applied:
            return
        self.report("terraform destroy")
        try:
            self.terraform.destroy()
        except DemoError as failure:
            self.report(f"destroy failed (the endpoint stops anyway): {failure}")

    def _describe_deployment(self) -> str:
        functions = self.deployment.functions
        return (
            f"buckets {self.deployment.raw_bucket} -> {self.deployment.blurred_bucket}, "
            f"table {self.deployment.state_table}, {len(functions)} functions"
        )

    # ----------------------------------------------------------------- reading state
    @property
    def clients(self) -> Any:
        return self.delivery.clients

    def live_notification(self) -> dict[str, Any]:
        """The raw bucket's notification rule that reaches live_blur, as deployed: to the
        function (live_trigger s3_async) or to a queue whose mapping invokes it (sqs)."""
        config = self.clients.s3.get_bucket_notification_configuration(
            Bucket=self.deployment.raw_bucket
        )
        live = self.deployment.functions["live_blur"]
        for rule in config.get("LambdaFunctionConfigurations", []):
            if function_name(rule["LambdaFunctionArn"]) == live:
                return rule
        for rule in config.get("QueueConfigurations", []):
            mappings = self.delivery.mappings.for_queue(rule["QueueArn"])
            if any(function_name(m["FunctionArn"]) == live for m in mappings):
                return rule
        raise WiringError(f"the raw bucket sends no notification that reaches {live}")

    def live_queue_arn(self) -> str | None:
        """The live queue (live_trigger sqs), or None when S3 invokes live_blur directly."""
        return self.live_notification().get("QueueArn")

    def remove_prefix(self, prefix: str) -> None:
        """Delete every version and delete marker under `prefix` in the raw and blurred
        buckets (what a test uploaded), one by one: moto's batch delete fails on markers."""
        s3 = self.clients.s3
        for bucket in (self.deployment.raw_bucket, self.deployment.blurred_bucket):
            listing = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
            for entry in (*listing.get("Versions", []), *listing.get("DeleteMarkers", [])):
                s3.delete_object(Bucket=bucket, Key=entry["Key"], VersionId=entry["VersionId"])

    def drain_live_queue(self) -> list[Any]:
        """Deliver what waits in the live queue to live_blur through its mapping, as AWS's
        poller does (what `camblur reprocess`, `redrive` and `blur` put there); nothing to do
        with live_trigger s3_async."""
        queue = self.live_queue_arn()
        if queue is None:
            return []
        [mapping] = self.delivery.mappings.for_queue(queue)
        return self.delivery.mappings.drain(mapping["UUID"])

    def drain_state_stream(self) -> list[StreamBatch]:
        """Deliver what is pending on the state table's stream now, through every mapping
        that reads it (the status counters), as Lambda's stream poller would; the batches
        delivered, in order. Nothing when the table has no stream or no mapping reads it.

        The checkpoints live in this environment's delivery: each record is delivered once
        unless its batch failed, however often this is called.
        """
        table = self.clients.dynamodb.meta.client.describe_table(
            TableName=self.deployment.state_table
        )["Table"]
        stream = table.get("LatestStreamArn")
        if not stream:
            return []
        batches: list[StreamBatch] = []
        for mapping in self.delivery.streams.for_stream(stream):
            batches += self.delivery.streams.drain(mapping["UUID"])
        return batches

    def picture_states(self) -> dict[str, dict[str, Any]]:
        """Every picture item of the state table, by raw key (a scan: fine for a demo)."""
        table = self.clients.dynamodb.Table(self.deployment.state_table)
        items: dict[str, dict[str, Any]] = {}
        scan: dict[str, Any] = {}
        while True:
            page = table.scan(**scan)
            for item in page.get("Items", []):
                if str(item.get("pk", "")).startswith("PICTURE#"):
                    items[str(item["raw_key"])] = item
            if "LastEvaluatedKey" not in page:
                return items
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def blurred(self, key: str) -> bytes | None:
        s3 = self.clients.s3
        try:
            return s3.get_object(Bucket=self.deployment.blurred_bucket, Key=key)["Body"].read()
        except s3.exceptions.NoSuchKey:
            return None

    def blurred_versions(self, key: str) -> int:
        response = self.clients.s3.list_object_versions(
            Bucket=self.deployment.blurred_bucket, Prefix=key
        )
        return sum(1 for version in response.get("Versions", []) if version["Key"] == key)

    def queues(self) -> dict[str, tuple[int, int]]:
        """(visible, in flight) of the refine and live queues and their DLQs, as deployed."""
        sqs, lambda_ = self.clients.sqs, self.clients.lambda_
        refine_url = self.deployment.refine_queue_url
        arns = {
            "refine queue": sqs.get_queue_attributes(
                QueueUrl=refine_url, AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
        }
        live_queue = self.live_queue_arn()
        if live_queue:
            arns["live queue"] = live_queue
        redrive = sqs.get_queue_attributes(QueueUrl=refine_url, AttributeNames=["RedrivePolicy"])
        policy = redrive.get("Attributes", {}).get("RedrivePolicy")
        if policy:
            arns["refine DLQ"] = json.loads(policy)["deadLetterTargetArn"]
        live_config = lambda_.get_function_event_invoke_config(
            FunctionName=self.deployment.functions["live_blur"]
        )
        destination = (
            live_config.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        )
        if destination:
            arns["live DLQ"] = destination
        depths = {}
        for name, arn in arns.items():
            attributes = sqs.get_queue_attributes(
                QueueUrl=self.clients.queue_url(arn),
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
            depths[name] = (
                int(attributes["ApproximateNumberOfMessages"]),
                int(attributes["ApproximateNumberOfMessagesNotVisible"]),
            )
        return depths

    def model_arn(self) -> str:
        config = self.delivery.lambdas.configuration(self.deployment.functions["refine_schedule"])
        return str(config["Environment"]["Variables"]["MODEL_VERSION_ARN"])


# ---------------------------------------------------------------------------- the steps


@dataclass
class Upload:
    sample: samples.Sample
    key: str
    version_id: str | None
    outcomes: list[Outcome]

    @property
    def delivered(self) -> bool:
        return bool(self.outcomes)

    @property
    def seconds(self) -> float:
        return sum(attempt.seconds for outcome in self.outcomes for attempt in outcome.attempts)

    @property
    def error(self) -> str:
        failed = [
            outcome.last.error if outcome.attempts else "never delivered"
            for outcome in self.outcomes
            if not outcome.ok
        ]
        return "; ".join(failed)


def key_prefix(env: LocalEnvironment) -> str:
    """Cameras upload under the deployed notification's prefix (environments/local: cameras/)."""
    rules = env.live_notification().get("Filter", {}).get("Key", {}).get("FilterRules", [])
    return next((rule["Value"] for rule in rules if rule["Name"].lower() == "prefix"), "")


def upload_samples(env: LocalEnvironment, pictures: list[samples.Sample]) -> list[Upload]:
    """PUT each picture into the raw bucket; S3's notifications (as deployed) do the rest."""
    prefix = key_prefix(env)
    uploads = []
    for sample in pictures:
        key = prefix + sample.key
        outcomes = env.delivery.s3.put_object(
            env.deployment.raw_bucket, key, sample.data, sample.content_type
        )
        head = env.clients.s3.head_object(Bucket=env.deployment.raw_bucket, Key=key)
        upload = Upload(sample, key, head.get("VersionId"), outcomes)
        uploads.append(upload)
        env.report(f"uploaded {key} ({len(sample.data) // 1024} KiB, {sample.note})")
        if not upload.delivered:
            env.report("  not delivered: the deployed notification filter does not match this key")
        for outcome in outcomes:
            attempts = len(outcome.attempts)
            if outcome.ok and isinstance(outcome, QueuedOutcome):
                # A queue's batch answers only its failures: the state item tells the rest.
                item = env.picture_states().get(key, {})
                env.report(
                    f"  {outcome.function} (from the live queue): {item.get('status')} "
                    f"({sum(1 for b in item.get('boxes', []) if b.get('label') == 'person')} "
                    f"persons{', ' + str(item['reason']) if item.get('reason') else ''}) "
                    f"in {outcome.last.seconds:.1f} s"
                )
            elif outcome.ok:
                processed = outcome.last.payload.get("processed", [{}])
                detail = ", ".join(
                    f"{item.get('status')} ({item.get('persons', 0)} persons"
                    + (f", {item['reason']}" if item.get("reason") else "")
                    + ")"
                    for item in processed
                )
                env.report(f"  {outcome.function}: {detail} in {outcome.last.seconds:.1f} s")
            else:
                where = (
                    f"; event sent to {outcome.failure_destination}"
                    if outcome.failure_destination
                    else ""
                )
                error = outcome.last.error if outcome.attempts else "never delivered"
                env.report(f"  {outcome.function} FAILED {attempts} times: {error}{where}")
    return uploads


@dataclass
class RefinementReport:
    schedule: AsyncOutcome
    ticks: list[dict[str, Any]] = field(default_factory=list)
    batches: int = 0
    messages: int = 0
    failed_messages: int = 0
    seconds: float = 0.0


def run_that_refines(schedule: Schedule, capture_day: date, days_back: int) -> datetime | None:
    """When a daily `cron(M H * * ? *)` schedule fires to refine `capture_day`.

    The function refines "the scheduled day minus REFINE_DAYS_BACK", so that is the run on
    capture_day + days_back at the cron's time, in the schedule's time zone. None for other
    expressions.
    """
    match = re.fullmatch(r"cron\((\d+) (\d+) \* \* \? \*\)", schedule.expression)
    if not match:
        return None
    zone = ZoneInfo(schedule.time_zone or "UTC")
    run_day = capture_day + timedelta(days=days_back)
    local = datetime.combine(run_day, dt_time(int(match[2]), int(match[1])), tzinfo=zone)
    return local.astimezone(UTC)


def run_refinement(
    env: LocalEnvironment, timeout_seconds: float = 240.0, tick_seconds: float = 2.0
) -> RefinementReport:
    """The daily refinement as deployed: schedule -> reconciler ticks -> worker -> stop."""
    started = time.monotonic()
    functions = env.deployment.functions
    schedules = env.delivery.schedules
    refine_schedule = schedules.for_function(functions["refine_schedule"])
    reconcile_schedule = schedules.for_function(functions["model_reconciler"])
    now = datetime.now(UTC)
    live_config = env.delivery.lambdas.configuration(functions["live_blur"])
    zone = ZoneInfo(live_config["Environment"]["Variables"].get("CAPTURE_TIME_ZONE", "UTC"))
    today = now.astimezone(zone).date()
    schedule_config = env.delivery.lambdas.configuration(functions["refine_schedule"])
    days_back = int(schedule_config["Environment"]["Variables"].get("REFINE_DAYS_BACK", "1"))
    when = run_that_refines(refine_schedule, today, days_back)
    if when is not None and "<aws.scheduler.scheduled-time>" in (refine_schedule.input or ""):
        local_time = when.astimezone(ZoneInfo(refine_schedule.time_zone))
        env.report(
            f"schedule {refine_schedule.name} ({refine_schedule.expression} "
            f"{refine_schedule.time_zone}) fires as it will at {local_time:%Y-%m-%d %H:%M %Z} "
            f"to refine {today}"
        )
        outcome = schedules.fire(refine_schedule, when)
    else:
        # The deployed input does not pass the scheduled time, so the function would refine
        # "today minus REFINE_DAYS_BACK" by its own clock, not the day just uploaded. Run
        # today's refinement the way an operator re-runs a day (documented event).
        env.report(
            f"schedule {refine_schedule.name} passes no scheduled time (input "
            f"{refine_schedule.input!r}); invoking {functions['refine_schedule']} for capture "
            f"day {today} as an operator would"
        )
        outcome = env.delivery.lambdas.invoke_async(
            functions["refine_schedule"], {"capture_day": today.isoformat()}
        )
    report = RefinementReport(outcome)
    if not outcome.ok:
        raise DemoError(f"{outcome.function} failed: {outcome.last.error}")
    env.report(f"  {outcome.function}: {_short(outcome.last.payload)}")
    if isinstance(outcome.last.payload, dict) and outcome.last.payload.get("status") == "FAILED":
        raise DemoError(
            f"{outcome.function} could not queue the refinement: {_short(outcome.last.payload)} "
            f"(log: {env.delivery.lambdas.log_path(outcome.function)})"
        )

    uuid_ = env.deployment.refine_mapping_uuid
    last_line = ""
    while time.monotonic() - started < timeout_seconds:
        tick = schedules.fire(reconcile_schedule)
        if not tick.ok:
            raise DemoError(f"{tick.function} failed: {tick.last.error}")
        result = dict(tick.last.payload or {})
        report.ticks.append(result)
        model = env.rekognition.calls()["models"].get(env.model_arn(), {}).get("status", "?")
        mapping = "open" if env.delivery.mappings.enabled(uuid_) else "closed"
        line = f"reconciler: {result.get('result')} (model {model}, mapping {mapping})"
        if line != last_line:
            env.report(line + (f": {result['detail']}" if result.get("detail") else ""))
            last_line = line
        for batch in env.delivery.mappings.drain(uuid_):
            report.batches += 1
            report.messages += batch.received
            report.failed_messages += len(batch.failed)
            env.report(
                f"  {functions['refine_worker']}: batch of {batch.received}, "
                f"{batch.deleted} done, {len(batch.failed)} left for retry"
                + (
                    ""
                    if batch.invocation is None or batch.invocation.ok
                    else f" ({batch.invocation.error})"
                )
            )
        if result.get("result") in ("CLOSED", "IDLE") and len(report.ticks) > 1:
            break
        time.sleep(tick_seconds)
    else:
        raise DemoError(f"the refinement did not finish within {timeout_seconds:.0f} s")
    report.seconds = time.monotonic() - started
    return report


def _short(payload: Any) -> str:
    if isinstance(payload, dict):
        return ", ".join(f"{key}={value}" for key, value in payload.items())
    return str(payload)


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class PictureResult:
    key: str
    expect: str
    status: str
    reason: str
    persons: int
    plates: int
    live_seconds: float
    blurred_key: str | None


def results(env: LocalEnvironment, uploads: list[Upload]) -> list[PictureResult]:
    states = env.picture_states()
    found = []
    for upload in uploads:
        item = states.get(upload.key, {})
        boxes = item.get("boxes", [])
        plates = sum(1 for box in boxes if "plate" in str(box.get("label", "")))
        # The live pass and the refinement model each box the same persons: count the larger.
        persons = max(
            sum(1 for box in boxes if box.get("label") == "person" and box.get("source") == source)
            for source in ("live", "custom")
        )
        found.append(
            PictureResult(
                key=upload.key,
                expect=upload.sample.expect,
                status=str(item.get("status", "NOT PROCESSED")),
                reason=str(item.get("reason", "")),
                persons=persons,
                plates=plates,
                live_seconds=upload.seconds,
                blurred_key=item.get("blurred_key"),
            )
        )
    return found


def check(env: LocalEnvironment, uploads: list[Upload], pictures: list[PictureResult]) -> list[str]:
    """What is not as it should be, in words a user understands (empty: all good)."""
    problems = []
    for upload, picture in zip(uploads, pictures, strict=True):
        sample = upload.sample
        if not upload.delivered:
            problems.append(f"{picture.key}: no notification delivered (deployed filter)")
            continue
        if upload.error:
            problems.append(f"{picture.key}: live_blur failed: {upload.error}")
        has_blurred = (
            picture.blurred_key is not None and env.blurred(picture.blurred_key) is not None
        )
        if sample.expect == "rejected":
            if picture.status != "REJECTED" or not picture.reason:
                problems.append(
                    f"{picture.key}: expected REJECTED with a reason, got {picture.status}"
                )
            if has_blurred:
                problems.append(f"{picture.key}: a rejected picture has a blurred copy")
            continue
        if picture.status != "REFINED":
            problems.append(f"{picture.key}: expected REFINED, got {picture.status}")
        if not has_blurred:
            problems.append(f"{picture.key}: no blurred picture")
        if picture.persons < sample.persons:
            problems.append(
                f"{picture.key}: {sample.persons} persons in the scene, {picture.persons} blurred"
            )
        if picture.plates < sample.plates:
            problems.append(
                f"{picture.key}: {sample.plates} plates in the scene, {picture.plates} blurred"
            )
    for name, (visible, in_flight) in env.queues().items():
        if visible or in_flight:
            problems.append(f"{name} is not empty: {visible} visible, {in_flight} in flight")
    models = env.rekognition.calls()["models"]
    model = models.get(env.model_arn())
    if model is None:
        problems.append("the Custom Labels model was never used")
    else:
        if model["starts"] != 1:
            problems.append(f"the model was started {model['starts']} times (expected once)")
        if model["status"] not in ("STOPPED", "STOPPING"):
            problems.append(f"the model is left {model['status']} (billed while it runs)")
    if env.delivery.mappings.enabled(env.deployment.refine_mapping_uuid):
        problems.append("the refine queue's mapping was left open")
    return problems


def summary_table(pictures: list[PictureResult]) -> str:
    header = ("picture", "status", "persons", "plates", "live s")
    rows = [
        (
            picture.key,
            picture.status + (f" ({picture.reason})" if picture.reason else ""),
            str(picture.persons),
            str(picture.plates),
            f"{picture.live_seconds:.2f}",
        )
        for picture in pictures
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def write_output(
    env: LocalEnvironment,
    output: Path,
    uploads: list[Upload],
    pictures: list[PictureResult],
    after_live: dict[str, bytes | None],
) -> None:
    states = env.picture_states()
    blurred_dir = output / "blurred"
    rows = []
    for upload, picture in zip(uploads, pictures, strict=True):
        final = env.blurred(picture.blurred_key) if picture.blurred_key else None
        if final is not None and picture.blurred_key:
            path = blurred_dir / picture.blurred_key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(final)
        rows.append(
            contact_sheet.Row(
                key=upload.key,
                status=picture.status,
                reason=picture.reason,
                persons=picture.persons,
                plates=picture.plates,
                original=upload.sample.data,
                after_live=after_live.get(upload.key),
                after_refinement=final,
                boxes=[dict(box) for box in states.get(upload.key, {}).get("boxes", [])],
            )
        )
    contact_sheet.save(rows, "camblur demo: before and after", output / "contact-sheet.png")
    (output / "summary.txt").write_text(summary_table(pictures) + "\n")
    (output / "summary.json").write_text(
        json.dumps([asdict(picture) for picture in pictures], indent=2, default=str) + "\n"
    )


def snapshot_blurred(env: LocalEnvironment, uploads: list[Upload]) -> dict[str, bytes | None]:
    """The blurred pictures as the live pass left them (the refinement overwrites them)."""
    states = env.picture_states()
    snapshot = {}
    for upload in uploads:
        key = states.get(upload.key, {}).get("blurred_key")
        snapshot[upload.key] = env.blurred(str(key)) if key else None
    return snapshot


# -------------------------------------------------------------------------------- main


@contextlib.contextmanager
def _workdir() -> Iterator[Path]:
    """Scratch space: the configuration copy, Terraform state, the extracted artifact."""
    path = Path(tempfile.mkdtemp(prefix="camblur-demo-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def demo(
    output: Path,
    model_start_seconds: float,
    keep_running: bool,
    terraform_variables: tuple[str, ...] = (),
) -> int:
    _prepare_output(output)
    pictures: list[PictureResult] = []
    problems: list[str] = []
    with (
        _workdir() as workdir,
        LocalEnvironment(
            workdir,
            model_start_seconds=model_start_seconds,
            log_dir=output / "logs",
            destroy=True,
            terraform_variables=terraform_variables,
        ) as env,
    ):
        describe_wiring(env)
        sample_set = samples.generate()
        env.report(f"generated {len(sample_set)} sample pictures")
        uploads = upload_samples(env, sample_set)
        after_live = snapshot_blurred(env, uploads)
        report = run_refinement(env)
        env.report(
            f"refinement done in {report.seconds:.0f} s: {report.messages} pictures in "
            f"{report.batches} batches, {len(report.ticks)} reconciler ticks"
        )
        pictures = results(env, uploads)
        write_output(env, output, uploads, pictures, after_live)
        problems = check(env, uploads, pictures)
        calls = env.rekognition.calls()["calls"]
        env.report(f"Rekognition calls: {', '.join(f'{k} {v}' for k, v in sorted(calls.items()))}")
        if keep_running:
            env.report(
                f"environment kept running for you: AWS {env.aws_url}, Rekognition {env.rekognition.url}; Ctrl-C ends it"
            )
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
    print()
    print(summary_table(pictures))
    print()
    print(
        f"demo-output: {output}/blurred/, {output}/contact-sheet.png, {output}/summary.txt, {output}/logs/"
    )
    if problems:
        print("\nDEMO FAILED:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    return 0


def describe_wiring(env: LocalEnvironment) -> None:
    """Say what delivers events to what, as deployed (read back from the endpoint)."""
    rule = env.live_notification()
    target = rule.get("LambdaFunctionArn") or rule["QueueArn"]
    env.report(
        f"wiring: S3 {', '.join(rule['Events'])} {_filter_text(rule)} on "
        f"{env.deployment.raw_bucket} -> {target.split(':')[-1]}"
    )
    for mapping in env.delivery.mappings.all():
        scaling = mapping.get("ScalingConfig", {}).get("MaximumConcurrency")
        env.report(
            f"wiring: SQS {mapping['EventSourceArn'].split(':')[-1]} -> "
            f"{function_name(mapping['FunctionArn'])} (batch {mapping.get('BatchSize')}, "
            f"{', '.join(mapping.get('FunctionResponseTypes') or []) or 'no partial failures'}, "
            + (f"maximum concurrency {scaling}, " if scaling else "")
            + f"{mapping.get('State', '?').lower()})"
        )
    for schedule in env.delivery.schedules.all():
        env.report(
            f"wiring: schedule {schedule.name} {schedule.expression} {schedule.time_zone} -> "
            f"{function_name(schedule.target_arn)}"
        )


def _prepare_output(output: Path) -> None:
    """Start from an empty output folder; never wipe a folder that is not a demo's."""
    if output.exists() and any(output.iterdir()):
        if not ((output / "summary.txt").exists() or output.resolve() == DEFAULT_OUTPUT):
            raise DemoError(f"{output} exists and is not a demo output folder: choose another")
        shutil.rmtree(output)
    output.mkdir(parents=True, exist_ok=True)


def _filter_text(rule: dict[str, Any]) -> str:
    rules = rule.get("Filter", {}).get("Key", {}).get("FilterRules", [])
    return " ".join(f"{item['Name'].lower()}={item['Value']!r}" for item in rules) or "(no filter)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.demo", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--model-start-seconds", type=float, default=3.0)
    parser.add_argument(
        "--keep-running", action="store_true", help="keep the environment up at the end"
    )
    parser.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a Terraform variable for environments/local, as terraform -var (repeatable)",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        code = demo(args.output, args.model_start_seconds, args.keep_running, tuple(args.var))
    except RuntimeError as failure:  # DemoError, WiringError, an endpoint that did not start
        print(f"\nDEMO FAILED: {failure}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        print("\nDEMO INTERRUPTED (everything was cleaned up)", file=sys.stderr)
        code = 130
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"wall time {time.monotonic() - started:.0f} s; peak RSS {own:.0f} MB (demo process), "
        f"{children:.0f} MB (largest child: terraform, its provider, moto or a function)"
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
