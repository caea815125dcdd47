"""Which stack the command talks to: an environment's Terraform outputs, and its endpoint.

The same code runs against an AWS account (the operator's own credentials, as boto3 finds
them) and against the embedded endpoint of `make up` (environment `local`): there the endpoint
is read from `.embedded-aws/port`, which the endpoint writes when it starts.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3

ROOT = Path(__file__).resolve().parents[2]
EMBEDDED_PORT_FILE = ROOT / ".embedded-aws" / "port"
PUMP_INFO_FILE = ROOT / ".embedded-aws" / "pump.json"  # the local Rekognition's URL
LOCAL_REGION = "eu-west-1"  # environments/local/variables.tf


class DeploymentError(RuntimeError):
    """The stack cannot be found: not deployed, no outputs, endpoint not running."""


@dataclass(frozen=True)
class Deployment:
    """The names the stack's Terraform outputs give, and a way to make clients for them."""

    raw_bucket: str
    blurred_bucket: str
    state_table: str
    refine_queue_url: str = ""
    raw_key_prefix: str = ""
    queue_names: dict[str, str | None] = field(default_factory=dict)
    function_names: dict[str, str] = field(default_factory=dict)
    model: dict[str, str] = field(default_factory=dict)
    capture_time_zone: str = "UTC"
    endpoint_url: str | None = None
    region: str | None = None

    @classmethod
    def from_outputs(cls, outputs: dict[str, Any], **where: Any) -> Deployment:
        """From `terraform output -json` (each output is {"value": ...})."""

        def value(name: str, default: Any = "") -> Any:
            entry = outputs.get(name)
            return entry["value"] if isinstance(entry, dict) and "value" in entry else default

        missing = [
            name for name in ("raw_bucket", "blurred_bucket", "state_table") if not value(name)
        ]
        if missing:
            raise DeploymentError(f"the Terraform outputs lack {', '.join(missing)}")
        notification = value("raw_notification", {}) or {}
        return cls(
            raw_bucket=value("raw_bucket"),
            blurred_bucket=value("blurred_bucket"),
            state_table=value("state_table"),
            refine_queue_url=value("refine_queue_url"),
            raw_key_prefix=str(notification.get("prefix") or ""),
            queue_names=dict(value("queue_names", {}) or {}),
            function_names=dict(value("function_names", {}) or {}),
            model=dict(value("model", {}) or {}),
            capture_time_zone=str(value("capture_time_zone", "UTC") or "UTC"),
            **where,
        )

    def today(self) -> date:
        """Today's capture day: the date in the cameras' zone, not this machine's."""
        return datetime.now(ZoneInfo(self.capture_time_zone)).date()

    def client(self, service: str, local_service: str | None = None) -> Any:
        """A client of the stack's endpoint. `local_service`: on the embedded endpoint, the
        service is played by the pump (Rekognition), at the URL it wrote in pump.json."""
        endpoint = self.endpoint_url
        if endpoint and local_service:
            try:
                info = json.loads(PUMP_INFO_FILE.read_text())
            except (OSError, ValueError):
                info = {}
            endpoint = info.get(f"{local_service}_url") or endpoint
        return self._session.client(service, endpoint_url=endpoint)

    def queue_url(self, role: str) -> str | None:
        """The URL of the stack's queue in `role` (live, live_dlq, refine, refine_dlq), if any."""
        name = self.queue_names.get(role)
        if not name:
            return None
        return str(self.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])

    def function(self, role: str) -> str:
        name = self.function_names.get(role)
        if not name:
            raise DeploymentError(f"the Terraform outputs name no {role} function (function_names)")
        return name

    def resource(self, service: str) -> Any:
        return self._session.resource(service, endpoint_url=self.endpoint_url)

    @cached_property
    def _session(self) -> boto3.Session:
        if self.endpoint_url:
            # The embedded endpoint takes any key; never let a real profile's keys travel there.
            return boto3.Session(
                aws_access_key_id="test",
                aws_secret_access_key="test",  # noqa: S106 - the embedded endpoint's fake key
                region_name=self.region,
            )
        return boto3.Session(region_name=self.region)


def resolve(env: str, outputs_file: Path | None = None) -> Deployment:
    """The deployment of environments/<env>: its outputs file if given, else `terraform output`."""
    if outputs_file is not None:
        try:
            outputs = json.loads(outputs_file.read_text())
        except (OSError, ValueError) as error:
            raise DeploymentError(
                f"cannot read the outputs file {outputs_file}: {error}"
            ) from error
    else:
        outputs = _terraform_outputs(env)
    if env != "local":
        return Deployment.from_outputs(outputs, region=os.environ.get("AWS_REGION"))
    return Deployment.from_outputs(outputs, endpoint_url=embedded_endpoint(), region=LOCAL_REGION)


def embedded_endpoint() -> str:
    configured = os.environ.get("AWS_ENDPOINT_URL")
    if configured:
        return configured
    try:
        port = int(EMBEDDED_PORT_FILE.read_text())
    except (OSError, ValueError):
        raise DeploymentError(
            "the embedded endpoint is not running: start it with `make up`"
        ) from None
    return f"http://127.0.0.1:{port}"


def _terraform_outputs(env: str) -> dict[str, Any]:
    folder = ROOT / "environments" / env
    if not folder.is_dir():
        valid = sorted(path.name for path in (ROOT / "environments").iterdir() if path.is_dir())
        raise DeploymentError(f"environments/{env} does not exist; valid: {', '.join(valid)}")
    try:
        result = subprocess.run(
            ["terraform", f"-chdir={folder}", "output", "-json"],
            check=True,
            capture_output=True,
            text=True,
        )
    except (OSError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", "") or str(error)
        raise DeploymentError(f"terraform output failed for {env}: {detail.strip()}") from error
    outputs = json.loads(result.stdout or "{}")
    if not outputs:
        deploy = "make up" if env == "local" else f"make deploy ENV={env}"
        raise DeploymentError(f"environments/{env} has no outputs: is it deployed? ({deploy})")
    return outputs
