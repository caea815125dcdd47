"""Deliver events to camblur's functions the way AWS does, from the wiring Terraform deployed.

The embedded AWS endpoint (moto) stores what Terraform applies but runs no function. This
module plays the AWS services that invoke Lambda functions, and reads everything it needs from
the deployed configuration through boto3, never from a second copy of the wiring:

- S3 event notifications (`get_bucket_notification_configuration`): the embedded endpoint
  builds AWS's exact event message for every object any client creates or removes
  (localaws/s3_events.py; versionId, sequencer, URL-encoded key), sends it to SQS
  destinations itself, as S3 does (the s3:TestEvent too, when a configuration is written),
  and journals it for Lambda destinations, which are invoked from here; the function's
  resource policy must let S3 invoke it. `object_created` delivers an event again (S3
  delivers at least once) to either kind of destination.
- SQS event source mappings (`list_event_source_mappings`): only while the mapping is Enabled
  (the reconciler switches the refine one), batches of up to BatchSize, SQS record shapes with
  attributes and message attributes, ReportBatchItemFailures (delete the successes, leave the
  failures to the visibility timeout; the queue's own redrive policy moves them to its DLQ
  after maxReceiveCount receives). `deliver` follows one message until it is handled or
  dead-lettered, with the visibility timeout compressed (`retry_wait`) as the retry delays are.
- DynamoDB stream event source mappings (`list_event_source_mappings`, and the stream through
  dynamodbstreams `describe_stream` / `get_shard_iterator` / `get_records`): Lambda's stream
  poller, with an in-memory checkpoint per mapping and shard, FilterCriteria, partial batch
  responses, bisection, retries and the OnFailure destination's invocation record
  (`StreamMappings`).
- EventBridge Scheduler schedules (and EventBridge rules, if any): target function and input;
  `fire()` runs one on demand, as its time would.

Functions run in child processes from the built artifact's code (devtools/lambda_runtime.py),
one warm process per function, restarted when its deployed configuration changes, with the
deployed handler, environment and timeout. The deployed CodeSha256 must be the artifact's.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import functools
import hashlib
import importlib.metadata
import json
import os
import select
import shutil
import subprocess
import sys
import sysconfig
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import boto3

from localaws import s3_events
from localaws.embedded import lambda_events_path, stream_checkpoints_path

RUNTIME = Path(__file__).resolve().parent / "lambda_runtime.py"
DEFAULT_ASYNC_RETRIES = 2  # Lambda's default MaximumRetryAttempts for asynchronous invocation
SUBSTITUTIONS = ".host-substitutes.json"  # which compiled distributions the host stands in for
FAKE_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


class WiringError(RuntimeError):
    """The deployed wiring cannot deliver this (a missing permission, code that is not ours...)."""


# ----------------------------------------------------------------------------- artefact


class ArtifactCode:
    """The Lambda zip, extracted once, made runnable on this machine.

    Lambda runs the zip on linux arm64 (or x86_64) with Python 3.12/3.13; this machine may be
    another platform. Packages the zip carries compiled for another platform (Pillow) are set
    aside, and the host's copy of the same distribution at the same version is used instead
    (checked, or it fails). Everything else, camblur first, runs from the zip.
    """

    def __init__(self, zip_path: Path, workdir: Path) -> None:
        self.zip_path = zip_path
        data = zip_path.read_bytes()
        # Lambda's CodeSha256: base64 of the zip's SHA-256.
        self.code_sha256 = base64.b64encode(hashlib.sha256(data).digest()).decode()
        self.root = workdir / f"code-{hashlib.sha256(data).hexdigest()[:16]}"
        self.substituted: dict[str, str] = {}  # distribution -> version taken from the host
        if not self.root.exists():
            self._extract()
        self.substituted = json.loads((self.root / SUBSTITUTIONS).read_text())

    def _extract(self) -> None:
        staging = self.root.with_name(self.root.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        with zipfile.ZipFile(self.zip_path) as archive:
            archive.extractall(staging)
        host_suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
        foreign_tops = {
            path.relative_to(staging).parts[0]
            for path in staging.rglob("*.so*")
            if ".libs" in path.relative_to(staging).parts[0] or not path.name.endswith(host_suffix)
        }
        substituted: dict[str, str] = {}
        for dist_info in staging.glob("*.dist-info"):
            name, version = _dist_name_version(dist_info)
            tops = _top_levels(dist_info)
            if not tops & foreign_tops:
                continue
            try:
                host_version = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                raise WiringError(
                    f"the artifact's {name} {version} is compiled for another platform and "
                    f"this machine has no {name} to stand in for it (make setup installs it)"
                ) from None
            if host_version != version:
                raise WiringError(
                    f"the artifact's {name} is {version}, this machine's is {host_version}: "
                    "the local run would not test the deployed code (pin the same version)"
                )
            substituted[name] = version
            for top in tops | {f"{top}.libs" for top in tops} | {dist_info.name}:
                shutil.rmtree(staging / top, ignore_errors=True)
        leftovers = sorted(top for top in foreign_tops if (staging / top).exists())
        if leftovers:
            raise WiringError(f"compiled code in the artifact with no host stand-in: {leftovers}")
        (staging / SUBSTITUTIONS).write_text(json.dumps(substituted))
        staging.rename(self.root)


def _dist_name_version(dist_info: Path) -> tuple[str, str]:
    fields = {}
    for line in (dist_info / "METADATA").read_text(errors="replace").splitlines():
        if not line:
            break
        key, _, value = line.partition(": ")
        fields.setdefault(key, value)
    return fields["Name"], fields["Version"]


def _top_levels(dist_info: Path) -> set[str]:
    """Top-level folders/modules a distribution installed (from RECORD)."""
    tops = set()
    record = dist_info / "RECORD"
    if record.exists():
        for line in record.read_text().splitlines():
            path = line.split(",", 1)[0]
            top = path.split("/", 1)[0]
            if top and not top.endswith(".dist-info") and top != "..":
                tops.add(top.removesuffix(".py"))
    return tops


# ------------------------------------------------------------------------------ Lambda


@dataclass(frozen=True)
class Invocation:
    """One attempt of one function on one event."""

    function: str
    request_id: str
    ok: bool
    payload: Any  # the handler's result, or Lambda's error {"errorType", "errorMessage", ...}
    seconds: float

    @property
    def error(self) -> str:
        if self.ok:
            return ""
        return f"{self.payload.get('errorType')}: {self.payload.get('errorMessage')}"


@dataclass
class AsyncOutcome:
    """An asynchronous invocation: its attempts and where the event went if all failed."""

    function: str
    event: dict[str, Any]
    attempts: list[Invocation] = field(default_factory=list)
    failure_destination: str | None = None

    @property
    def ok(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].ok

    @property
    def last(self) -> Invocation:
        return self.attempts[-1]


class _Sandbox:
    """A warm execution environment: one child process running devtools/lambda_runtime.py."""

    def __init__(
        self, fingerprint: tuple[Any, ...], env: dict[str, str], cwd: Path, log: Path
    ) -> None:
        self.fingerprint = fingerprint
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-s", "-P", str(RUNTIME)],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )

    def invoke(self, request: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """The runtime's answer, or None when it timed out or died (then it is gone)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
        except BrokenPipeError:
            return None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.process.stdout.readline()
        return json.loads(line) if line else None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.process.stdin:
                self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        if self.process.stdout:
            self.process.stdout.close()
        self._log.close()


class LambdaService:
    """Runs deployed functions from the artifact, as Lambda would, with the deployed config."""

    def __init__(
        self,
        clients: Clients,
        code: ArtifactCode,
        endpoints: dict[str, str],
        log_dir: Path,
        retry_delays: tuple[float, ...] = (0.2, 0.4),
    ) -> None:
        self._clients = clients
        self._code = code
        self._endpoints = endpoints
        self._log_dir = log_dir
        self._retry_delays = retry_delays
        self._sandboxes: dict[str, _Sandbox] = {}
        self._locks: dict[str, threading.Lock] = {}
        self.invocations: list[Invocation] = []

    def configuration(self, function: str) -> dict[str, Any]:
        return self._clients.lambda_.get_function_configuration(FunctionName=function)

    def invoke(self, function: str, event: dict[str, Any]) -> Invocation:
        """Synchronous invocation (RequestResponse), as the SQS poller makes."""
        function = function_name(function)
        lock = self._locks.setdefault(function, threading.Lock())
        with lock:
            config = self.configuration(function)
            sandbox = self._sandbox(function, config)
            request_id = str(uuid.uuid4())
            timeout = float(config.get("Timeout", 3))
            started = time.monotonic()
            answer = sandbox.invoke(
                {
                    "requestId": request_id,
                    "functionArn": config["FunctionArn"],
                    "deadlineMs": int((time.time() + timeout) * 1000),
                    "event": event,
                },
                timeout,
            )
            seconds = time.monotonic() - started
            if answer is None:
                # Lambda stops the sandbox on a timeout; the next event gets a fresh one.
                sandbox.process.kill()
                sandbox.close()
                del self._sandboxes[function]
                died = seconds < timeout
                payload = {
                    "errorType": "Runtime.ExitError" if died else "Sandbox.Timedout",
                    "errorMessage": (
                        f"RequestId: {request_id} Error: Runtime exited; see {self.log_path(function)}"
                        if died
                        else f"Task timed out after {timeout:.2f} seconds"
                    ),
                }
                invocation = Invocation(function, request_id, False, payload, seconds)
            else:
                invocation = Invocation(
                    function, request_id, bool(answer["ok"]), answer["payload"], seconds
                )
            self.invocations.append(invocation)
            return invocation

    def invoke_async(self, function: str, event: dict[str, Any]) -> AsyncOutcome:
        """Asynchronous invocation (Event): retries, then the on-failure destination or DLQ."""
        function = function_name(function)
        retries, destination = self._async_settings(function)
        outcome = AsyncOutcome(function, event)
        for attempt in range(retries + 1):
            if attempt:
                delays = self._retry_delays or (0.0,)
                time.sleep(delays[min(attempt - 1, len(delays) - 1)])
            outcome.attempts.append(self.invoke(function, event))
            if outcome.ok:
                return outcome
        if destination:
            self._send_failure(function, destination, outcome)
            outcome.failure_destination = destination
        return outcome

    def log_path(self, function: str) -> Path:
        return self._log_dir / f"{function}.log"

    def close(self) -> None:
        for sandbox in self._sandboxes.values():
            sandbox.close()
        self._sandboxes.clear()

    # -------------------------------------------------------------- internals
    def _sandbox(self, function: str, config: dict[str, Any]) -> _Sandbox:
        if config.get("PackageType", "Zip") != "Zip":
            raise WiringError(f"{function}: only zip functions can run here")
        if config.get("CodeSha256") != self._code.code_sha256:
            raise WiringError(
                f"{function}: the deployed code (CodeSha256 {config.get('CodeSha256')}) is not "
                f"{self._code.zip_path} ({self._code.code_sha256}); run make build and apply again"
            )
        variables = config.get("Environment", {}).get("Variables", {})
        fingerprint = (
            config.get("Handler"),
            tuple(sorted(variables.items())),
            config.get("CodeSha256"),
            config.get("MemorySize"),
            config.get("Timeout"),
            config.get("Runtime"),
        )
        sandbox = self._sandboxes.get(function)
        if sandbox is not None and sandbox.fingerprint == fingerprint:
            return sandbox
        if sandbox is not None:  # the configuration changed: Lambda starts new sandboxes
            sandbox.close()
        region = config["FunctionArn"].split(":")[3]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "TZ": ":UTC",
            **variables,
            # Lambda's reserved variables: a function's own settings cannot replace them.
            "_HANDLER": str(config.get("Handler", "")),
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.get('Runtime', 'python')}",
            "AWS_LAMBDA_FUNCTION_NAME": function,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.get("MemorySize", 128)),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function}",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
            "LAMBDA_TASK_ROOT": str(self._code.root),
            "PYTHONPATH": str(self._code.root),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "AWS_EC2_METADATA_DISABLED": "true",
            # Not Lambda's: where the embedded AWS and the local Rekognition listen.
            **self._endpoints,
        }
        sandbox = _Sandbox(fingerprint, env, self._code.root, self.log_path(function))
        self._sandboxes[function] = sandbox
        return sandbox

    def _async_settings(self, function: str) -> tuple[int, str | None]:
        retries, destination = DEFAULT_ASYNC_RETRIES, None
        try:
            invoke_config = self._clients.lambda_.get_function_event_invoke_config(
                FunctionName=function
            )
        except self._clients.lambda_.exceptions.ResourceNotFoundException:
            invoke_config = {}
        retries = int(invoke_config.get("MaximumRetryAttempts", retries))
        destination = (
            invoke_config.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        )
        if not destination:
            dead_letter = self.configuration(function).get("DeadLetterConfig", {})
            destination = dead_letter.get("TargetArn") and f"dlq:{dead_letter['TargetArn']}"
        return retries, destination

    def _send_failure(self, function: str, destination: str, outcome: AsyncOutcome) -> None:
        is_dlq = destination.startswith("dlq:")
        arn = destination.removeprefix("dlq:")
        if arn.split(":")[2] != "sqs":
            raise WiringError(
                f"{function}: only SQS failure destinations are delivered here, not {arn}"
            )
        queue_url = self._clients.queue_url(arn)
        last = outcome.last
        if is_dlq:
            # A dead-letter queue gets the event itself, the error in message attributes.
            self._clients.sqs.send_message(
                QueueUrl=queue_url,
                MessageBody=json.dumps(outcome.event),
                MessageAttributes={
                    "RequestID": {"DataType": "String", "StringValue": last.request_id},
                    "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                    "ErrorMessage": {"DataType": "String", "StringValue": last.error[:1024]},
                },
            )
            return
        config = self.configuration(function)
        record = {
            "version": "1.0",
            "timestamp": s3_events.now_iso(),
            "requestContext": {
                "requestId": last.request_id,
                "functionArn": f"{config['FunctionArn']}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": len(outcome.attempts),
            },
            "requestPayload": outcome.event,
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "responsePayload": last.payload,
        }
        self._clients.sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(record))


# --------------------------------------------------------------------------------- S3


@dataclass
class QueuedOutcome:
    """An S3 event sent to a queue, and the invocations of the queue's mapping that carried it."""

    function: str
    queue_arn: str
    event: dict[str, Any] | None = None  # the S3 event message, once a batch carried it
    attempts: list[Invocation] = field(default_factory=list)
    done: bool = False  # its message was deleted: the function handled it
    failure_destination: str | None = None  # the queue's DLQ, when the redrive moved it there

    @property
    def ok(self) -> bool:
        return self.done

    @property
    def last(self) -> Invocation:
        return self.attempts[-1]


Outcome = AsyncOutcome | QueuedOutcome


class S3Notifications:
    """S3 event notifications, as the bucket's deployed configuration says.

    The embedded endpoint itself builds AWS's event message for every object any client
    creates or removes (localaws/s3_events.py): an SQS destination receives it from the
    endpoint, a Lambda destination is journalled (localaws.embedded.lambda_events_path).
    Delivering means: invoke journalled Lambda events asynchronously, and poll the mappings
    of the queues that got messages until the message is handled or dead-lettered.
    """

    def __init__(
        self, clients: Clients, lambdas: LambdaService, mappings: SqsMappings, journal: Path
    ) -> None:
        self._clients = clients
        self._lambdas = lambdas
        self._mappings = mappings
        self._journal = journal
        self._offset = 0  # from the server's start: nothing it journalled is lost
        self._lock = threading.Lock()

    def put_object(
        self, bucket: str, key: str, body: bytes, content_type: str = "binary/octet-stream"
    ) -> list[Outcome]:
        """A camera's PUT, then the notifications S3 sends for it, delivered."""
        response = self._clients.s3.put_object(
            Bucket=bucket, Key=key, Body=body, ContentType=content_type
        )
        version = response.get("VersionId")
        return self.deliver(bucket, key, "ObjectCreated:Put", version)

    def delete_object(self, bucket: str, key: str, version_id: str | None = None) -> list[Outcome]:
        """A DELETE (of a version, or a delete marker), then its notifications, delivered."""
        args = {"VersionId": version_id} if version_id else {}
        response = self._clients.s3.delete_object(Bucket=bucket, Key=key, **args)
        if version_id:
            event = "ObjectRemoved:Delete"
        elif response.get("DeleteMarker"):
            event = "ObjectRemoved:DeleteMarkerCreated"
        else:
            event = "ObjectRemoved:Delete"
        return self.deliver(bucket, key, event, response.get("VersionId") or version_id)

    def deliver(
        self, bucket: str, key: str, event_name: str, version_id: str | None
    ) -> list[Outcome]:
        """Deliver what the endpoint sent for one event on one object (every destination)."""
        outcomes: list[Outcome] = list(self.deliver_journal())
        config = self._clients.s3.get_bucket_notification_configuration(Bucket=bucket)
        for rule in config.get("QueueConfigurations", []):
            if s3_events.event_matches(rule.get("Events", []), event_name) and (
                s3_events.filter_matches(rule.get("Filter"), key)
            ):
                outcomes.append(
                    self._mappings.deliver(
                        rule["QueueArn"], _names(bucket, key, event_name, version_id)
                    )
                )
        return outcomes

    def deliver_journal(self) -> list[AsyncOutcome]:
        """Invoke every event the endpoint journalled for a Lambda destination since last time."""
        return [self._lambdas.invoke_async(arn, event) for arn, event in self.journalled()]

    def journalled(self) -> list[tuple[str, dict[str, Any]]]:
        """(function ARN, S3 event) the endpoint journalled since last time, each once, in
        order; a function whose policy does not let this bucket invoke it fails loudly."""
        with self._lock:
            if not self._journal.exists():
                return []
            with self._journal.open() as journal:
                journal.seek(self._offset)
                lines = journal.readlines()
                # Only whole lines: the server may be writing the next one.
                whole = [line for line in lines if line.endswith("\n")]
                self._offset += sum(len(line.encode()) for line in whole)
        events = []
        for line in whole:
            entry = json.loads(line)
            record = entry["event"]["Records"][0]
            self._check_permission(entry["function"], record["s3"]["bucket"]["name"])
            events.append((entry["function"], entry["event"]))
        return events

    def object_created(
        self,
        bucket: str,
        key: str,
        version_id: str | None,
        size: int,
        etag: str = "",
        event_name: str = "ObjectCreated:Put",
    ) -> list[Outcome]:
        """Deliver one ObjectCreated event again (S3 delivers at least once) to every matching
        destination: Lambda functions asynchronously, queues by a message their mapping polls."""
        config = self._clients.s3.get_bucket_notification_configuration(Bucket=bucket)
        region = self._clients.region
        outcomes: list[Outcome] = []
        for kind, target in (
            ("LambdaFunctionConfigurations", "LambdaFunctionArn"),
            ("QueueConfigurations", "QueueArn"),
        ):
            for rule in config.get(kind, []):
                if not s3_events.event_matches(rule.get("Events", []), event_name):
                    continue
                if not s3_events.filter_matches(rule.get("Filter"), key):
                    continue
                record = s3_events.record(
                    event_name=event_name,
                    bucket=bucket,
                    region=region,
                    key=key,
                    configuration_id=rule.get("Id", ""),
                    version_id=version_id,
                    size=size,
                    etag=etag,
                )
                event = {"Records": [record]}
                arn = rule[target]
                if target == "LambdaFunctionArn":
                    self._check_permission(arn, bucket)
                    outcomes.append(self._lambdas.invoke_async(arn, event))
                    continue
                self._clients.sqs.send_message(
                    QueueUrl=self._clients.queue_url(arn), MessageBody=json.dumps(event)
                )
                sequence = record["s3"]["object"]["sequencer"]
                outcomes.append(
                    self._mappings.deliver(
                        arn, lambda body, s=sequence: _s3_object(body).get("sequencer") == s
                    )
                )
        return outcomes

    def _check_permission(self, function_arn: str, bucket: str) -> None:
        """S3 may only invoke a function whose resource policy allows it (from this bucket)."""
        lambda_ = self._clients.lambda_
        try:
            policy = json.loads(lambda_.get_policy(FunctionName=function_arn)["Policy"])
        except lambda_.exceptions.ResourceNotFoundException:
            policy = {"Statement": []}
        for statement in policy.get("Statement", []):
            principal = statement.get("Principal", {})
            service = principal.get("Service") if isinstance(principal, dict) else principal
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            if (
                statement.get("Effect") == "Allow"
                and service == "s3.amazonaws.com"
                and ("lambda:InvokeFunction" in actions or "lambda:*" in actions)
            ):
                source = _condition_value(statement.get("Condition", {}), "AWS:SourceArn")
                if source in (None, f"arn:aws:s3:::{bucket}"):
                    return
        raise WiringError(
            f"the notification of bucket {bucket} targets {function_arn}, whose policy does not "
            "let s3.amazonaws.com invoke it (aws_lambda_permission missing?)"
        )


def _s3_object(body: str) -> dict[str, Any]:
    """The object of an S3 event message body ({} for anything else: a test event...)."""
    try:
        records = json.loads(body).get("Records") or [{}]
        return dict(records[0].get("s3", {}).get("object", {}))
    except (ValueError, AttributeError):
        return {}


def _names(bucket: str, key: str, event_name: str, version_id: str | None) -> Callable[[str], bool]:
    """Matches the message S3 sent for this event on this object version."""

    def matches(body: str) -> bool:
        try:
            record = (json.loads(body).get("Records") or [{}])[0]
        except (ValueError, AttributeError):
            return False
        obj = record.get("s3", {}).get("object", {})
        return (
            record.get("eventName") == event_name
            and record.get("s3", {}).get("bucket", {}).get("name") == bucket
            and unquote_plus(obj.get("key", "")) == key
            and (obj.get("versionId") or "null") == (version_id or "null")
        )

    return matches


# The rules S3 applies (tests/devtools/test_deliver.py pins them).
_event_matches = s3_events.event_matches
_filter_matches = s3_events.filter_matches


def _condition_value(condition: dict[str, Any], key: str) -> str | None:
    for operator in condition.values():
        for name, value in operator.items():
            if name.lower() == key.lower():
                return value if isinstance(value, str) else value[0]
    return None


# -------------------------------------------------------------------------------- SQS


@dataclass(frozen=True)
class BatchOutcome:
    """One poll of an SQS event source mapping."""

    received: int
    deleted: int
    failed: tuple[str, ...]  # message ids left in the queue
    invocation: Invocation | None
    records: tuple[dict[str, Any], ...] = ()  # the SQS records the function got


class SqsMappings:
    """Lambda's SQS poller for the deployed event source mappings.

    `retry_wait`: a message `deliver` waits for that fails is made visible again after this
    many seconds instead of the queue's visibility timeout (time compressed, as the async
    retry delays are); None keeps AWS's timing (the pump of `make up`).
    """

    def __init__(
        self, clients: Clients, lambdas: LambdaService, retry_wait: float | None = 0.2
    ) -> None:
        self._clients = clients
        self._lambdas = lambdas
        self._retry_wait = retry_wait
        # What the pollers received and did not delete, for the queue metrics (the pump):
        # queue ARN -> message id -> (SentTimestamp in ms, when it was last received).
        self._held: dict[str, dict[str, tuple[int, float]]] = {}
        self._held_lock = threading.Lock()

    def mapping(self, uuid_: str) -> dict[str, Any]:
        return self._clients.lambda_.get_event_source_mapping(UUID=uuid_)

    def oldest_held(self, queue_arn: str, forget_after: float) -> int | None:
        """The oldest SentTimestamp (ms) among the messages a poll received from the queue
        and did not delete (they failed and wait for their visibility timeout), if any.

        A message not received again within `forget_after` seconds is taken to be gone (the
        redrive policy moved it to the DLQ on a receive, or another consumer deleted it).
        """
        now = time.time()
        with self._held_lock:
            held = self._held.get(queue_arn, {})
            for message_id in [m for m, (_, seen) in held.items() if now - seen > forget_after]:
                del held[message_id]
            return min((sent for sent, _ in held.values()), default=None)

    def enabled(self, uuid_: str) -> bool:
        return self.mapping(uuid_).get("State") == "Enabled"

    def all(self) -> list[dict[str, Any]]:
        """Every SQS event source mapping deployed."""
        return [
            m for m in _all_mappings(self._clients) if m["EventSourceArn"].split(":")[2] == "sqs"
        ]

    def for_queue(self, queue_arn: str) -> list[dict[str, Any]]:
        """The mappings that poll this queue."""
        return [m for m in self.all() if m["EventSourceArn"] == queue_arn]

    def poll(self, uuid_: str, wait_seconds: int = 0) -> BatchOutcome | None:
        """One batch, if the mapping is enabled (None when it is not)."""
        mapping = self.mapping(uuid_)
        if mapping.get("State") != "Enabled":
            return None
        source_arn = mapping["EventSourceArn"]
        if source_arn.split(":")[2] != "sqs":
            raise WiringError(f"mapping {uuid_}: only SQS sources are delivered here")
        queue_url = self._clients.queue_url(source_arn)
        batch_size = int(mapping.get("BatchSize") or 10)
        messages: list[dict[str, Any]] = []
        while len(messages) < batch_size:
            received = self._clients.sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=min(10, batch_size - len(messages)),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0 if messages else wait_seconds,
            ).get("Messages", [])
            if not received:
                break
            messages.extend(received)
        if not messages:
            return BatchOutcome(0, 0, (), None)
        records = [_sqs_record(message, source_arn) for message in messages]
        invocation = self._lambdas.invoke(mapping["FunctionArn"], {"Records": records})
        ids = [message["MessageId"] for message in messages]
        if not invocation.ok:
            failed = set(ids)  # a function error returns the whole batch to the queue
        elif "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or []):
            failed = _reported_failures(invocation.payload, set(ids))
        else:
            failed = set()
        done = [message for message in messages if message["MessageId"] not in failed]
        with self._held_lock:
            held = self._held.setdefault(source_arn, {})
            for message in messages:
                sent = int(message.get("Attributes", {}).get("SentTimestamp", 0))
                held[message["MessageId"]] = (sent, time.time())
            for message in done:
                held.pop(message["MessageId"], None)
        for start in range(0, len(done), 10):
            self._clients.sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(done[start : start + 10])
                ],
            )
        return BatchOutcome(
            len(messages), len(done), tuple(sorted(failed)), invocation, tuple(records)
        )

    def drain(self, uuid_: str, max_batches: int = 1000) -> list[BatchOutcome]:
        """Poll until the mapping is disabled or a poll finds no visible message."""
        outcomes = []
        for _ in range(max_batches):
            outcome = self.poll(uuid_)
            if outcome is None or outcome.received == 0:
                break
            outcomes.append(outcome)
        return outcomes

    def deliver(
        self, queue_arn: str, matches: Callable[[str], bool], max_polls: int = 1000
    ) -> QueuedOutcome:
        """Poll the queue's mapping until the message `matches` picks is handled, or its
        queue's redrive policy moved it to the DLQ after maxReceiveCount receives."""
        mappings = self.for_queue(queue_arn)
        if not mappings:
            raise WiringError(
                f"queue {queue_arn} receives S3 events but no event source mapping polls it"
            )
        [mapping] = mappings  # one consumer per queue in this stack
        outcome = QueuedOutcome(function_name(mapping["FunctionArn"]), queue_arn)
        queue_url = self._clients.queue_url(queue_arn)
        redrive = self._redrive(queue_url)
        receives = 0
        for _ in range(max_polls):
            batch = self.poll(mapping["UUID"])
            if batch is None or batch.received == 0:
                # Received maxReceiveCount times and failed: SQS moved it on this receive.
                if redrive and outcome.attempts and receives >= redrive[1]:
                    outcome.failure_destination = redrive[0]
                break
            found = [record for record in batch.records if matches(record["body"])]
            if not found:
                continue
            mine = found[0]
            receives = int(mine["attributes"].get("ApproximateReceiveCount", 0))
            outcome.event = json.loads(mine["body"])
            assert batch.invocation is not None
            outcome.attempts.append(batch.invocation)
            if mine["messageId"] not in batch.failed:
                outcome.done = True
                break
            if self._retry_wait is None:
                break  # AWS's visibility timeout decides when it comes back
            time.sleep(self._retry_wait)
            with contextlib.suppress(self._clients.sqs.exceptions.ClientError):
                self._clients.sqs.change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=mine["receiptHandle"], VisibilityTimeout=0
                )
        return outcome

    def _redrive(self, queue_url: str) -> tuple[str, int] | None:
        attributes = self._clients.sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["RedrivePolicy"]
        ).get("Attributes", {})
        if not attributes.get("RedrivePolicy"):
            return None
        policy = json.loads(attributes["RedrivePolicy"])
        return policy["deadLetterTargetArn"], int(policy["maxReceiveCount"])


def _all_mappings(clients: Clients) -> list[dict[str, Any]]:
    """Every event source mapping deployed, whatever its source."""
    mappings: list[dict[str, Any]] = []
    marker: dict[str, str] = {}
    while True:
        page = clients.lambda_.list_event_source_mappings(**marker)
        mappings += page.get("EventSourceMappings", [])
        if not page.get("NextMarker"):
            return mappings
        marker = {"Marker": page["NextMarker"]}


def _sqs_record(message: dict[str, Any], source_arn: str) -> dict[str, Any]:
    attributes = message.get("Attributes", {})
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            name: attributes[name]
            for name in (
                "ApproximateReceiveCount",
                "SentTimestamp",
                "SenderId",
                "ApproximateFirstReceiveTimestamp",
                "AWSTraceHeader",
                "MessageGroupId",
                "MessageDeduplicationId",
                "SequenceNumber",
            )
            if name in attributes
        },
        "messageAttributes": {
            name: _sqs_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", hashlib.md5(message["Body"].encode()).hexdigest()),  # noqa: S324 - SQS's checksum
        "eventSource": "aws:sqs",
        "eventSourceARN": source_arn,
        "awsRegion": source_arn.split(":")[3],
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _sqs_attribute(value: dict[str, Any]) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute


def _reported_failures(payload: Any, ids: set[str]) -> set[str]:
    """ReportBatchItemFailures: a malformed answer or an unknown id fails the whole batch."""
    if payload is None or payload == {}:
        return set()
    if not isinstance(payload, dict):
        return ids
    items = payload.get("batchItemFailures")
    if items is None:
        return set()
    if not isinstance(items, list):
        return ids
    failed = set()
    for item in items:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in ids:
            return ids
        failed.add(identifier)
    return failed


# ------------------------------------------------------------------------ DynamoDB streams


@dataclass(frozen=True)
class StreamBatch:
    """One batch of a DynamoDB stream mapping on one shard: what the function got and what
    became of it."""

    shard_id: str
    records: tuple[dict[str, Any], ...]  # the records the function got (after the filter)
    skipped: int  # records the filter left out (processed: the checkpoint passes them)
    invocation: Invocation | None  # None when the filter left nothing to deliver
    retry_from: str | None = None  # sequence number delivery resumes from, when it failed
    bisected: bool = False  # a failed batch split in two (BisectBatchOnFunctionError)
    gave_up: bool = False  # retries spent: the records are passed (AWS drops them)...
    failure_destination: str | None = None  # ...after an invocation record went there
    attempt: int = 1  # attempts of these records (1 + retries spent)

    @property
    def done(self) -> bool:
        """The checkpoint passed the batch: handled, filtered out, or given up on."""
        return self.retry_from is None and not self.bisected


@dataclass
class _Shard:
    """Lambda's in-memory checkpoint of one mapping on one shard."""

    after: str | None = None  # the last sequence number processed; None: nothing yet
    start_iterator: str | None = None  # where a LATEST mapping began, until `after` is set
    plan: list[int] = field(default_factory=list)  # sizes of the halves of a bisected batch
    retries: int = 0  # retries spent on the records at the checkpoint


class StreamMappings:
    """Lambda's DynamoDB-stream poller for the deployed event source mappings.

    As AWS documents it: records in order per shard, one checkpoint per mapping and shard,
    kept locally (from TRIM_HORIZON or, for LATEST, from the stream's end when first polled), batches
    of up to BatchSize records that pass FilterCriteria (the others count as processed), only
    while the mapping is Enabled; ReportBatchItemFailures (resume from the lowest reported
    sequence number), BisectBatchOnFunctionError (a failed batch is retried as two halves,
    which spends no retry), MaximumRetryAttempts (-1: until it succeeds), then an invocation
    record to the OnFailure destination (SQS) and on to the next records.
    MaximumBatchingWindowInSeconds is honoured only by `poll(wait_for_window=True)` (the
    pump); `drain` delivers what is there now. ParallelizationFactor above 1 is played as 1
    (stricter ordering than AWS's per-key ordering).
    """

    def __init__(
        self, clients: Clients, lambdas: LambdaService, checkpoints: Path | None = None
    ) -> None:
        """`checkpoints`: a folder where every poller of one endpoint keeps the checkpoints
        (a file per mapping, taken under a lock), so that two of them (make up's pump, and a
        test's or the demo's delivery beside it) are together the one poller Lambda runs per
        mapping, and no record is delivered twice; None keeps them in this object only."""
        self._clients = clients
        self._lambdas = lambdas
        self._checkpoints = checkpoints
        self._shards: dict[str, dict[str, _Shard]] = {}  # mapping UUID -> shard id -> position
        self._locks: dict[str, threading.Lock] = {}

    def mapping(self, uuid_: str) -> dict[str, Any]:
        return self._clients.lambda_.get_event_source_mapping(UUID=uuid_)

    def all(self) -> list[dict[str, Any]]:
        """Every DynamoDB stream event source mapping deployed."""
        return [m for m in _all_mappings(self._clients) if _is_stream(m["EventSourceArn"])]

    def for_stream(self, stream_arn: str) -> list[dict[str, Any]]:
        return [m for m in self.all() if m["EventSourceArn"] == stream_arn]

    def poll(self, uuid_: str, wait_for_window: bool = False) -> list[StreamBatch] | None:
        """One batch per shard that has records, if the mapping is enabled (None if not).

        `wait_for_window`: leave a batch that is not full until its first record is
        MaximumBatchingWindowInSeconds old, as Lambda gathers records.
        """
        with self._locks.setdefault(uuid_, threading.Lock()), self._checkpointed(uuid_) as shards:
            mapping = self.mapping(uuid_)
            if mapping.get("State") != "Enabled":
                return None
            stream_arn = mapping["EventSourceArn"]
            batches = []
            for shard_id in self._shard_ids(stream_arn):
                if shard_id not in shards:
                    shards[shard_id] = self._start(mapping, shard_id)
                batch = self._batch(mapping, shard_id, shards[shard_id], wait_for_window)
                if batch is not None:
                    batches.append(batch)
            return batches

    @contextlib.contextmanager
    def _checkpointed(self, uuid_: str) -> Iterator[dict[str, _Shard]]:
        """The mapping's checkpoints, shared with the endpoint's other pollers when there is
        a folder for them (read and written back under an exclusive lock)."""
        if self._checkpoints is None:
            yield self._shards.setdefault(uuid_, {})
            return
        self._checkpoints.mkdir(parents=True, exist_ok=True)
        path = self._checkpoints / f"{uuid_}.json"
        with (self._checkpoints / f"{uuid_}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            saved = json.loads(path.read_text()) if path.exists() else {}
            shards = {shard_id: _Shard(**state) for shard_id, state in saved.items()}
            try:
                yield shards
            finally:
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps({k: asdict(v) for k, v in shards.items()}))
                tmp.replace(path)

    def drain(self, uuid_: str, max_batches: int = 1000) -> list[StreamBatch]:
        """Poll until the mapping is disabled or no shard has records left to deliver (or
        `max_batches`: with MaximumRetryAttempts -1 a failing record is retried forever)."""
        outcomes: list[StreamBatch] = []
        while len(outcomes) < max_batches:
            batches = self.poll(uuid_)
            if not batches:
                break
            outcomes.extend(batches)
        return outcomes

    # -------------------------------------------------------------- internals
    def _shard_ids(self, stream_arn: str) -> list[str]:
        streams = self._clients.dynamodbstreams
        shards: list[dict[str, Any]] = []
        start: dict[str, str] = {}
        while True:
            description = streams.describe_stream(StreamArn=stream_arn, **start)[
                "StreamDescription"
            ]
            shards += description.get("Shards", [])
            if not description.get("LastEvaluatedShardId"):
                break
            start = {"ExclusiveStartShardId": description["LastEvaluatedShardId"]}
        # A parent shard's records come before its children's.
        ids = [shard["ShardId"] for shard in shards]
        parents = {shard["ShardId"]: shard.get("ParentShardId") for shard in shards}
        return sorted(ids, key=lambda shard_id: _depth(shard_id, parents))

    def _start(self, mapping: dict[str, Any], shard_id: str) -> _Shard:
        position = mapping.get("StartingPosition", "TRIM_HORIZON")
        if position == "LATEST":
            iterator = self._clients.dynamodbstreams.get_shard_iterator(
                StreamArn=mapping["EventSourceArn"], ShardId=shard_id, ShardIteratorType="LATEST"
            )["ShardIterator"]
            return _Shard(start_iterator=iterator)
        if position != "TRIM_HORIZON":
            raise WiringError(f"mapping {mapping['UUID']}: starting position {position}?")
        return _Shard()

    def _read(
        self,
        stream_arn: str,
        shard_id: str,
        shard: _Shard,
        wanted: int,
        keep: Callable[[dict[str, Any]], bool],
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Records from the checkpoint on, until `wanted` pass `keep` or the shard is read:
        (every record read, in order; those that pass)."""
        streams = self._clients.dynamodbstreams
        if shard.after is not None:
            iterator = streams.get_shard_iterator(
                StreamArn=stream_arn,
                ShardId=shard_id,
                ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                SequenceNumber=shard.after,
            )["ShardIterator"]
        elif shard.start_iterator is not None:
            iterator = shard.start_iterator
        else:
            iterator = streams.get_shard_iterator(
                StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        read: list[dict[str, Any]] = []
        kept: list[dict[str, Any]] = []
        while iterator and len(kept) < wanted:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            iterator = page.get("NextShardIterator")
            if not page.get("Records"):
                break
            for raw in page["Records"]:
                record = lambda_stream_record(raw, stream_arn)
                read.append(record)
                if keep(record):
                    kept.append(record)
                    if len(kept) == wanted:
                        break
        return read, kept

    def _batch(
        self, mapping: dict[str, Any], shard_id: str, shard: _Shard, wait_for_window: bool
    ) -> StreamBatch | None:
        stream_arn = mapping["EventSourceArn"]
        batch_size = int(mapping.get("BatchSize") or 100)
        wanted = shard.plan[0] if shard.plan else batch_size
        read, records = self._read(stream_arn, shard_id, shard, wanted, _filter(mapping))
        if not read:
            return None
        if not records:  # all filtered out: processed, nothing to invoke
            shard.after = _sequence(read[-1])
            return StreamBatch(shard_id, (), len(read), None)
        window = float(mapping.get("MaximumBatchingWindowInSeconds") or 0)
        if wait_for_window and len(records) < batch_size and not shard.plan:
            first = float(records[0]["dynamodb"].get("ApproximateCreationDateTime", 0))
            if time.time() - first < window:
                return None  # Lambda is still gathering this batch
        # `read` ends with the last record kept, or at the end of the shard: the records the
        # filter left out among them pass the checkpoint with this batch (when it is done).
        invocation = self._lambdas.invoke(mapping["FunctionArn"], {"Records": records})
        sequences = [_sequence(record) for record in records]
        if invocation.ok and "ReportBatchItemFailures" in (
            mapping.get("FunctionResponseTypes") or []
        ):
            failed = _reported_failures(invocation.payload, set(sequences))
        else:
            failed = set() if invocation.ok else set(sequences)
        attempt = shard.retries + 1
        batch = functools.partial(
            StreamBatch, shard_id, tuple(records), invocation=invocation, attempt=attempt
        )
        if not failed:
            self._advance(shard, _sequence(read[-1]))
            return batch(skipped=len(read) - len(records))
        index = sequences.index(min(failed, key=int))
        # Everything before the first failure is done: the checkpoint moves up to it.
        before = read[: read.index(records[index])]
        if before:
            shard.after = _sequence(before[-1])
        passed = len(before) - index  # records the filter left out, passed by the checkpoint
        remaining = records[index:]
        bisect = bool(mapping.get("BisectBatchOnFunctionError")) and not invocation.ok
        if bisect and len(remaining) > 1:
            half = (len(remaining) + 1) // 2
            shard.plan[:1] = [half, len(remaining) - half]
            return batch(skipped=passed, bisected=True)
        retries = int(mapping.get("MaximumRetryAttempts", -1))
        if retries < 0 or shard.retries < retries:
            shard.retries += 1
            shard.plan[:1] = [len(remaining)]
            return batch(skipped=passed, retry_from=sequences[index])
        destination = self._discard(mapping, shard_id, remaining, invocation, attempt)
        self._advance(shard, _sequence(read[-1]))
        return batch(
            skipped=len(read) - len(records), gave_up=True, failure_destination=destination
        )

    @staticmethod
    def _advance(shard: _Shard, sequence: str) -> None:
        shard.after = sequence
        shard.retries = 0
        if shard.plan:
            shard.plan.pop(0)

    def _discard(
        self,
        mapping: dict[str, Any],
        shard_id: str,
        records: list[dict[str, Any]],
        invocation: Invocation,
        attempts: int,
    ) -> str | None:
        """Send Lambda's invocation record for a stream batch to the OnFailure destination."""
        destination = (
            (mapping.get("DestinationConfig") or {}).get("OnFailure", {}).get("Destination")
        )
        if not destination:
            return None  # AWS drops the records
        if destination.split(":")[2] != "sqs":
            raise WiringError(
                f"mapping {mapping['UUID']}: only SQS failure destinations are delivered "
                f"here, not {destination}"
            )
        arrivals = [_iso(float(r["dynamodb"]["ApproximateCreationDateTime"])) for r in records]
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if not invocation.ok:
            response["functionError"] = "Unhandled"
        message = {
            "requestContext": {
                "requestId": invocation.request_id,
                "functionArn": mapping["FunctionArn"],
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "responseContext": response,
            "version": "1.0",
            "timestamp": s3_events.now_iso(),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": _sequence(records[0]),
                "endSequenceNumber": _sequence(records[-1]),
                "approximateArrivalOfFirstRecord": arrivals[0],
                "approximateArrivalOfLastRecord": arrivals[-1],
                "batchSize": len(records),
                "streamArn": mapping["EventSourceArn"],
            },
        }
        self._clients.sqs.send_message(
            QueueUrl=self._clients.queue_url(destination), MessageBody=json.dumps(message)
        )
        return destination


def _is_stream(arn: str) -> bool:
    return arn.split(":")[2] == "dynamodb" and "/stream/" in arn


def _depth(shard_id: str, parents: dict[str, str | None]) -> int:
    depth = 0
    while (shard_id := parents.get(shard_id) or "") in parents:
        depth += 1
    return depth


def _sequence(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def lambda_stream_record(raw: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda passes it: the stream's region (moto writes us-east-1),
    the stream's ARN, and ApproximateCreationDateTime in epoch seconds (boto3 parsed it)."""
    dynamodb = dict(raw["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        # DynamoDB Streams keeps it to the second; Lambda sends it as a number.
        dynamodb["ApproximateCreationDateTime"] = float(int(created.timestamp()))
    record = {
        "eventID": raw["eventID"],
        "eventName": raw["eventName"],
        "eventVersion": raw.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": stream_arn.split(":")[3],
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in raw:  # items the TTL process deleted
        record["userIdentity"] = {
            "type": raw["userIdentity"]["Type"],
            "principalId": raw["userIdentity"]["PrincipalId"],
        }
    return record


def _filter(mapping: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    """Lambda event filtering: a record passes when any of the mapping's patterns matches.

    The patterns are EventBridge's (exact values, prefix, suffix, exists, anything-but,
    numeric, equals-ignore-case, $or); moto's EventBridge implements them, and is used here
    rather than a second copy of the rules.
    """
    from moto.events.models import EventPattern

    filters = (mapping.get("FilterCriteria") or {}).get("Filters") or []
    if not filters:
        return lambda record: True
    try:
        patterns = [EventPattern.load(f["Pattern"]) for f in filters]
    except Exception as error:
        raise WiringError(f"mapping {mapping['UUID']}: bad filter pattern: {error}") from None
    return lambda record: any(pattern.matches_event(record) for pattern in patterns)


def _iso(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# -------------------------------------------------------------------------- schedules


@dataclass(frozen=True)
class Schedule:
    arn: str
    name: str
    group: str  # schedule group, or "rule" for an EventBridge rule
    expression: str
    time_zone: str
    target_arn: str
    input: str | None
    enabled: bool


class Schedules:
    """EventBridge Scheduler schedules (and EventBridge rules) that target Lambda functions."""

    def __init__(self, clients: Clients, lambdas: LambdaService) -> None:
        self._clients = clients
        self._lambdas = lambdas

    def all(self) -> list[Schedule]:
        found = []
        scheduler = self._clients.scheduler
        for summary in _pages(scheduler.list_schedules, "Schedules"):
            detail = scheduler.get_schedule(Name=summary["Name"], GroupName=summary["GroupName"])
            target = detail.get("Target", {})
            if ":lambda:" not in target.get("Arn", ""):
                continue
            found.append(
                Schedule(
                    arn=detail.get("Arn", ""),
                    name=detail["Name"],
                    group=detail.get("GroupName", "default"),
                    expression=detail.get("ScheduleExpression", ""),
                    time_zone=detail.get("ScheduleExpressionTimezone", "UTC"),
                    target_arn=target["Arn"],
                    input=target.get("Input"),
                    enabled=detail.get("State", "ENABLED") == "ENABLED",
                )
            )
        events = self._clients.events
        for rule in _pages(events.list_rules, "Rules"):
            if not rule.get("ScheduleExpression"):
                continue
            for target in events.list_targets_by_rule(Rule=rule["Name"]).get("Targets", []):
                if ":lambda:" in target.get("Arn", ""):
                    found.append(
                        Schedule(
                            rule.get("Arn", ""),
                            rule["Name"],
                            "rule",
                            rule["ScheduleExpression"],
                            "UTC",
                            target["Arn"],
                            target.get("Input"),
                            rule.get("State") == "ENABLED",
                        )
                    )
        return found

    def for_function(self, function: str) -> Schedule:
        """The one schedule that targets `function` (by name or ARN)."""
        name = function_name(function)
        matches = [s for s in self.all() if function_name(s.target_arn) == name]
        if len(matches) != 1:
            raise WiringError(f"expected one schedule targeting {name}, found {len(matches)}")
        return matches[0]

    def fire(self, schedule: Schedule, when: datetime | None = None) -> AsyncOutcome:
        """Invoke the target as the schedule would at `when` (default now), asynchronously.

        Scheduler fills its context attributes into the target's input (`<aws.scheduler.
        scheduled-time>` and the others) before it invokes.
        """
        if not schedule.enabled:
            raise WiringError(f"schedule {schedule.name} is disabled")
        when = when or datetime.now(UTC)
        if schedule.input is not None:
            text = schedule.input
            for name, value in {
                "scheduled-time": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "schedule-arn": schedule.arn,
                "execution-id": str(uuid.uuid4()),
                "attempt-number": "1",
            }.items():
                text = text.replace(f"<aws.scheduler.{name}>", value)
            event = json.loads(text)
        elif schedule.group == "rule":
            event = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": schedule.target_arn.split(":")[4],
                "time": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": schedule.target_arn.split(":")[3],
                "resources": [],
                "detail": {},
            }
        else:
            event = {}
        return self._lambdas.invoke_async(schedule.target_arn, event)


def _pages(operation: Any, key: str) -> Iterator[dict[str, Any]]:
    token = None
    while True:
        page = operation(**({"NextToken": token} if token else {}))
        yield from page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return


# ---------------------------------------------------------------------- all together


class Clients:
    """boto3 clients for the embedded endpoint (fake credentials, one region)."""

    def __init__(self, endpoint_url: str, region: str) -> None:
        self.region = region
        session = boto3.session.Session(region_name=region, **FAKE_CREDENTIALS)
        options = {"endpoint_url": endpoint_url}
        self.s3 = session.client("s3", **options)
        self.sqs = session.client("sqs", **options)
        self.lambda_ = session.client("lambda", **options)
        self.scheduler = session.client("scheduler", **options)
        self.events = session.client("events", **options)
        self.dynamodb = session.resource("dynamodb", **options)
        self.dynamodbstreams = session.client("dynamodbstreams", **options)
        self.cloudwatch = session.client("cloudwatch", **options)
        self._queue_urls: dict[str, str] = {}

    def queue_url(self, queue_arn: str) -> str:
        if queue_arn not in self._queue_urls:
            _, _, _, _, account, name = queue_arn.split(":")
            self._queue_urls[queue_arn] = self.sqs.get_queue_url(
                QueueName=name, QueueOwnerAWSAccountId=account
            )["QueueUrl"]
        return self._queue_urls[queue_arn]


class Delivery:
    """Everything that delivers events in the embedded environment.

    with Delivery(aws_url, rekognition_url, Path("dist/camblur-lambda.zip"), workdir) as aws:
        aws.s3.put_object(raw_bucket, "cam/1.jpg", data)     # -> live function
        aws.schedules.fire(aws.schedules.for_function(name)) # -> scheduled function
        aws.mappings.drain(mapping_uuid)                     # -> queue worker
        aws.streams.drain(stream_mapping_uuid)               # -> a table's stream reader
    """

    def __init__(
        self,
        aws_endpoint_url: str,
        rekognition_endpoint_url: str,
        artifact: Path,
        workdir: Path,
        region: str = "eu-west-1",
        log_dir: Path | None = None,
        retry_delays: tuple[float, ...] = (0.2, 0.4),
        queue_retry_wait: float | None = 0.2,
    ) -> None:
        self.clients = Clients(aws_endpoint_url, region)
        self.code = ArtifactCode(artifact, workdir)
        endpoints = {
            "AWS_ENDPOINT_URL": aws_endpoint_url,
            "AWS_ENDPOINT_URL_REKOGNITION": rekognition_endpoint_url,
        }
        self.lambdas = LambdaService(
            self.clients, self.code, endpoints, log_dir or workdir / "logs", retry_delays
        )
        self.mappings = SqsMappings(self.clients, self.lambdas, queue_retry_wait)
        self.s3 = S3Notifications(
            self.clients, self.lambdas, self.mappings, lambda_events_path(aws_endpoint_url)
        )
        self.schedules = Schedules(self.clients, self.lambdas)
        self.streams = StreamMappings(
            self.clients, self.lambdas, stream_checkpoints_path(aws_endpoint_url)
        )

    def close(self) -> None:
        self.lambdas.close()

    def __enter__(self) -> Delivery:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def function_name(name_or_arn: str) -> str:
    """arn:aws:lambda:<region>:<account>:function:<name>[:qualifier] -> name."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn.split(":")[6]
    return name_or_arn
