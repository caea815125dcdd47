"""The embedded AWS endpoint: a moto server on 127.0.0.1 that Terraform and boto3 can talk to.

CLI (what `make up` / `make down` use; pid and port are kept under .embedded-aws/):

    python -m localaws.embedded start   # prints the endpoint URL
    python -m localaws.embedded url     # prints it again, exits 1 when not running
    python -m localaws.embedded stop
    python -m localaws.embedded bucket NAME   # an S3 bucket on it (a Terraform state bucket)

Python (tests):

    with embedded_aws() as url:
        ...  # a private server in its own process, stopped on exit

The server always runs in a child process, never in the caller's: moto keeps its state in
module globals, and `mock_aws()` in a unit test of the same process would wipe it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from localaws import moto_query

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = ROOT / ".embedded-aws"
START_TIMEOUT_SECONDS = 30.0
_lock = threading.Lock()


def _patch_moto() -> None:
    """Make moto answer the way AWS does where the difference shows up as Terraform drift.

    moto renders an SQS queue's RedrivePolicy with spaces after ':' and ','; AWS does not, and
    the provider then shows a whitespace-only diff on every plan (terraform-provider-aws
    issue 16964). Re-render it compactly.
    """
    from moto.sqs.models import Queue

    original = Queue.attributes.fget

    def attributes(self: Queue) -> dict[str, Any]:
        result = original(self)
        if result.get("RedrivePolicy"):
            policy = json.loads(result["RedrivePolicy"])
            result["RedrivePolicy"] = json.dumps(policy, separators=(",", ":"))
        return result

    Queue.attributes = property(attributes)  # type: ignore[method-assign,assignment]
    _patch_moto_for_delivery()
    moto_query.patch()  # a Query costs its partition, as on DynamoDB (localaws/moto_query.py)


def _patch_moto_for_delivery() -> None:
    """What devtools/deliver.py needs from moto to run the pipeline (added by the demo work).

    - Bucket policies: moto ignores a statement's Condition, so the TLS-only statement
      (Deny s3:* when aws:SecureTransport is false) denies every object read and write.
      The endpoint is plain HTTP on 127.0.0.1 and cannot honour it anyway: statements with a
      Condition are left out of moto's evaluation (the others still apply).
    - moto tries to run Lambda functions itself (in Docker) on S3 notifications and on an SQS
      send while an event source mapping is enabled. There is no Docker here; the SQS case
      also *receives* the messages (raising their receive count) before failing. deliver.py
      delivers those events, so moto's own attempts are switched off.
    - ListObjectVersions ignores `encoding-type=url` and returns raw keys. The provider asks
      for URL encoding when it empties a bucket (force_destroy) and decodes what it gets:
      "a+b.jpg" comes back as "a b.jpg", the delete misses, and `terraform destroy` lists and
      deletes forever (it ran past 15 minutes and 20 GB before it was stopped). Encode them.
    """
    from urllib.parse import quote

    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3 import notifications
    from moto.s3.models import FakeBucket
    from moto.s3.responses import S3Response
    from moto.sqs.models import Queue

    list_object_versions = S3Response.list_object_versions

    def list_object_versions_encoded(self: S3Response) -> Any:
        if self.querystring.get("encoding-type", [None])[0] != "url":
            return list_object_versions(self)
        serialized = self.serialized

        def encode_keys(action_result: Any) -> Any:
            result = action_result.result
            for item in [*result.get("Versions", []), *result.get("DeleteMarkers", [])]:
                item["Key"] = quote(item["Key"])
            for name in ("Prefix", "KeyMarker", "NextKeyMarker", "Delimiter"):
                if result.get(name):
                    result[name] = quote(result[name])
            for common in result.get("CommonPrefixes", []):
                common["Prefix"] = quote(common["Prefix"])
            result["EncodingType"] = "url"
            return serialized(action_result)

        self.serialized = encode_keys  # type: ignore[method-assign]
        try:
            return list_object_versions(self)
        finally:
            del self.serialized

    S3Response.list_object_versions = list_object_versions_encoded  # type: ignore[method-assign]

    def get_permission(self: FakeBucket, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = json.loads(self.policy)
        statements = policy.get("Statement", [])
        statements = [statements] if isinstance(statements, dict) else statements
        kept = [statement for statement in statements if "Condition" not in statement]
        if not kept:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps({**policy, "Statement": kept})).is_action_permitted(
            action, resource
        )

    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]
    notifications._invoke_awslambda = lambda *args, **kwargs: None  # type: ignore[attr-defined]
    _patch_moto_notifications()
    # Queue.__init__ assigns an empty dict; the mapping code adds to it. Keep it empty.
    Queue.lambda_event_source_mappings = property(  # type: ignore[assignment]
        lambda self: {}, lambda self, value: None
    )
    # Same for a table's stream: moto would invoke the mapped function (in Docker) inside the
    # write, and drop the stream's records once it did. The stream keeps them for readers;
    # devtools/deliver.py polls it as Lambda's stream poller does.
    from moto.dynamodb.models.table import Table

    Table.lambda_event_source_mappings = property(  # type: ignore[assignment]
        lambda self: {}, lambda self, value: None
    )


# Where this server process writes the S3 events whose destination is a Lambda function
# (lambda_events_path): set by serve() once the port is known.
_lambda_events: Path | None = None
_quiet = threading.local()


def lambda_events_path(url: str) -> Path:
    """The journal of S3 events for Lambda destinations of the server at `url` (JSON lines:
    {"function": arn, "event": {...}}). devtools/deliver.py invokes them asynchronously."""
    return STATE_DIR / f"s3-lambda-events-{url.rsplit(':', 1)[1].strip('/')}.jsonl"


def stream_checkpoints_path(url: str) -> Path:
    """Where devtools/deliver.py keeps the DynamoDB-stream checkpoints of the server at `url`
    (a file per mapping), shared by every poller of that server; emptied when it starts."""
    return STATE_DIR / f"stream-checkpoints-{url.rsplit(':', 1)[1].strip('/')}"


def _patch_moto_notifications() -> None:
    """S3 event notifications as AWS sends them (localaws/s3_events.py), for every client.

    moto 5.2.5 sends S3 events to SQS destinations itself, and the s3:TestEvent when a
    configuration is written, but its records lack versionId, sequencer, userIdentity and
    the owner; it sends no event for a delete marker, and for a version's deletion only once
    the key's last version is gone. Here: every event builds AWS's record; queue and topic
    destinations get it from moto's own senders; Lambda destinations go to the journal of
    `lambda_events_path` (moto runs no function; deliver.py does). moto's FakeDeleteMarker
    also lacks the `dispose` its key store calls when a key's versions go
    ('FakeDeleteMarker' object has no attribute 'dispose'): give it one that does nothing.
    """
    from moto.s3 import notifications
    from moto.s3.models import FakeDeleteMarker, S3Backend

    from localaws import s3_events

    FakeDeleteMarker.dispose = lambda self, garbage=False: None  # type: ignore[attr-defined]
    notifications._get_test_event = s3_events.test_event  # type: ignore[attr-defined]

    def emit(account_id: str, bucket: Any, event_name: str, key_name: str, **fields: Any) -> None:
        config = bucket.notification_configuration
        if config is None:
            return
        event_name = str(getattr(event_name, "value", event_name))
        sequence = s3_events.sequencer()  # one event: one sequencer for every destination
        for kind in ("cloud_function", "queue", "topic"):
            for notification in getattr(config, kind):
                rules = notification.filters.get("S3Key", {}).get("FilterRule", [])
                if not notification._event_matches(event_name) or not s3_events.filter_matches(
                    {"Key": {"FilterRules": rules}}, key_name
                ):
                    continue
                body = {
                    "Records": [
                        s3_events.record(
                            event_name=event_name.removeprefix("s3:"),
                            bucket=bucket.name,
                            region=bucket.region_name,
                            key=key_name,
                            configuration_id=notification.id,
                            sequence=sequence,
                            **fields,
                        )
                    ]
                }
                region = notification.arn.split(":")[3]
                if kind == "queue":
                    queue = notification.arn.split(":")[-1]
                    notifications._send_sqs_message(account_id, body, queue, region)
                elif kind == "topic":
                    notifications._send_sns_message(account_id, body, notification.arn, region)
                elif _lambda_events is not None:
                    line = json.dumps({"function": notification.arn, "event": body})
                    with _lock, _lambda_events.open("a") as journal:
                        journal.write(line + "\n")

    def send_event(account_id: str, event_name: Any, bucket: Any, key: Any) -> None:
        if getattr(_quiet, "removals", False) and "ObjectRemoved" in str(event_name):
            return  # delete_object below sends AWS's removal events instead
        emit(
            account_id,
            bucket,
            event_name,
            key.name,
            version_id=key.version_id,
            size=key.size,
            etag=key.etag,
        )
        config = bucket.notification_configuration
        if config is not None and config.event_bridge is not None:
            notifications._send_event_bridge_message(account_id, bucket, event_name, key)

    notifications.send_event = send_event  # type: ignore[assignment]

    delete_object = S3Backend.delete_object

    def delete_object_notifying(
        self: S3Backend,
        bucket_name: str,
        key_name: str,
        version_id: str | None = None,
        bypass: bool = False,
    ) -> Any:
        _quiet.removals = True
        try:
            deleted, meta = delete_object(self, bucket_name, key_name, version_id, bypass)
        finally:
            _quiet.removals = False
        if deleted:
            bucket = self.get_bucket(bucket_name)
            marker = version_id is None and meta.get("delete-marker") == "true"
            emit(
                self.account_id,
                bucket,
                "s3:ObjectRemoved:DeleteMarkerCreated" if marker else "s3:ObjectRemoved:Delete",
                key_name,
                version_id=meta.get("version-id") if marker else version_id,
            )
        return deleted, meta

    S3Backend.delete_object = delete_object_notifying  # type: ignore[method-assign]


def serve(host: str, port: int, port_file: Path | None) -> None:
    """Run the server in this process until SIGTERM/SIGINT. Port 0 picks a free port."""
    from moto.server import ThreadedMotoServer

    _patch_moto()
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    _, bound_port = server.get_host_and_port()
    global _lambda_events
    _lambda_events = lambda_events_path(url_for(bound_port))
    _lambda_events.parent.mkdir(parents=True, exist_ok=True)
    _lambda_events.write_text("")  # a server before this one may have had the port
    checkpoints = stream_checkpoints_path(url_for(bound_port))
    shutil.rmtree(checkpoints, ignore_errors=True)  # ... and its stream checkpoints
    if port_file is not None:
        # Written only once the server listens: the parent waits for this file.
        tmp = port_file.with_suffix(".tmp")
        tmp.write_text(str(bound_port))
        tmp.replace(port_file)

    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    while not stopping:
        time.sleep(0.2)
    server.stop()
    _lambda_events.unlink(missing_ok=True)
    shutil.rmtree(checkpoints, ignore_errors=True)


def _child_environment() -> dict[str, str]:
    env = dict(os.environ)
    # Not needed by this stack (it attaches no AWS-managed policy); set
    # MOTO_IAM_LOAD_MANAGED_POLICIES=true yourself if a change does: loading them is slow.
    env.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "false")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _spawn(state_dir: Path, detach: bool) -> tuple[subprocess.Popen[bytes], int]:
    """Start `serve` in a child process; return it and its port once it listens."""
    state_dir.mkdir(parents=True, exist_ok=True)
    port_file = state_dir / "port"
    port_file.unlink(missing_ok=True)
    log = (state_dir / "server.log").open("ab")
    command = [
        sys.executable,
        "-m",
        "localaws.embedded",
        "serve",
        "--host",
        HOST,
        "--port",
        "0",
        "--port-file",
        str(port_file),
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=_child_environment(),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=detach,  # `make up` returns; the server stays
    )
    log.close()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if port_file.exists():
            port = int(port_file.read_text())
            if _answers(port):
                return process, port
        if process.poll() is not None:
            break
        time.sleep(0.1)
    _terminate(process.pid)
    raise RuntimeError(f"the embedded AWS endpoint did not start; see {state_dir / 'server.log'}")


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
        return True
    return False


def _terminate(pid: int, timeout: float = 10.0) -> None:
    """Stop the one process we started, politely first."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child (ours, not yet reaped) counts as gone.
    with contextlib.suppress(ChildProcessError):
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    return True


def url_for(port: int) -> str:
    return f"http://{HOST}:{port}"


@contextlib.contextmanager
def embedded_aws() -> Iterator[str]:
    """A private embedded endpoint for the duration of the block; yields its URL."""
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    # One folder per server: several may run at once (pytest workers, the demo).
    state_dir = Path(tempfile.mkdtemp(prefix=f"session-{os.getpid()}-", dir=STATE_DIR))
    process, port = _spawn(state_dir, detach=False)
    try:
        yield url_for(port)
    finally:
        _terminate(process.pid)
        process.wait(timeout=10)
        for name in ("port", "server.log"):
            (state_dir / name).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            state_dir.rmdir()


# ------------------------------------------------------------------ shared server (CLI)


def running_url(state_dir: Path = STATE_DIR) -> str | None:
    """URL of the server `start` left running, or None."""
    pid_file, port_file = state_dir / "pid", state_dir / "port"
    if not (pid_file.exists() and port_file.exists()):
        return None
    pid, port = int(pid_file.read_text()), int(port_file.read_text())
    if _alive(pid) and _answers(port):
        return url_for(port)
    return None


def start(state_dir: Path = STATE_DIR) -> tuple[str, bool]:
    """Start the shared server unless it runs; return (URL, whether it was started now)."""
    url = running_url(state_dir)
    if url:
        return url, False
    process, port = _spawn(state_dir, detach=True)
    (state_dir / "pid").write_text(str(process.pid))
    return url_for(port), True


def stop(state_dir: Path = STATE_DIR) -> bool:
    """Stop the shared server; False when none was running."""
    pid_file = state_dir / "pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text())
    was_alive = _alive(pid)
    if was_alive:
        _terminate(pid)
    for name in ("pid", "port"):
        (state_dir / name).unlink(missing_ok=True)
    return was_alive


def create_bucket(url: str, name: str, region: str = "eu-west-1") -> None:
    """A bucket on the endpoint at `url`; one that exists already is kept."""
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106 - the embedded endpoint's fake key
    )
    exists = (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists)
    with contextlib.suppress(*exists):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})


def terraform_cli_config(mirror: str = "/opt/tf-plugins", path: Path | None = None) -> Path | None:
    """Write a Terraform CLI config that installs hashicorp/* from a filesystem mirror.

    Returns its path, or None when the mirror does not exist (then the registry is used).
    Same content as the one `mk/terraform.mk` writes to .terraform.tfrc.
    """
    if not mirror or not Path(mirror).is_dir():
        return None
    path = path or ROOT / ".terraform.tfrc"
    text = (
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{mirror}"\n'
        '    include = ["registry.terraform.io/hashicorp/*"]\n'
        "  }\n"
        "  direct {\n"
        '    exclude = ["registry.terraform.io/hashicorp/*"]\n'
        "  }\n"
        "}\n"
    )
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localaws.embedded", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("start", help="start the shared endpoint (if needed) and print its URL")
    commands.add_parser("stop", help="stop the shared endpoint")
    commands.add_parser("url", help="print the shared endpoint's URL; exit 1 if not running")
    bucket_parser = commands.add_parser("bucket", help="create a bucket on the shared endpoint")
    bucket_parser.add_argument("name")
    serve_parser = commands.add_parser("serve", help="run a server in the foreground")
    serve_parser.add_argument("--host", default=HOST)
    serve_parser.add_argument("--port", type=int, default=0)
    serve_parser.add_argument("--port-file", type=Path)
    args = parser.parse_args(argv)

    if args.command == "serve":
        serve(args.host, args.port, args.port_file)
        return 0
    if args.command == "start":
        url, started = start()
        print(url)
        print(
            "embedded AWS endpoint " + ("started" if started else "already running"),
            file=sys.stderr,
        )
        return 0
    if args.command in ("url", "bucket"):
        url = running_url()
        if url is None:
            print("embedded AWS endpoint not running (make up starts it)", file=sys.stderr)
            return 1
        if args.command == "bucket":
            create_bucket(url, args.name)
        else:
            print(url)
        return 0
    stopped = stop()
    print(
        "embedded AWS endpoint " + ("stopped" if stopped else "was not running"),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
