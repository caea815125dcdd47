"""Helpers for tests that read the deployment of environments/local (see conftest.py)."""

from __future__ import annotations

import json
from typing import Any

import boto3

from devtools.demo import LocalEnvironment

REGION = "eu-west-1"  # environments/local/variables.tf


def aws_client(endpoint_url: str, service: str) -> Any:
    """A boto3 client for the embedded endpoint, with its fake keys."""
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def terraform_show(environment: LocalEnvironment) -> dict[str, Any]:
    """`terraform show -json` of the deployment's state as it is now."""
    return dict(json.loads(environment.terraform.run("show", "-json")))


def count_resources(show: dict[str, Any]) -> int:
    """Managed resources in a `terraform show -json` document, child modules included."""

    def count(module: dict[str, Any]) -> int:
        own = [r for r in module.get("resources", []) if r["mode"] == "managed"]
        return len(own) + sum(count(child) for child in module.get("child_modules", []))

    return count(show.get("values", {}).get("root_module", {}))


def deliver_s3_event(env: LocalEnvironment, event: dict[str, Any]) -> None:
    """Deliver an S3 event to live_blur as the raw bucket's deployed notification does: an
    asynchronous invocation, or the live queue and its mapping."""
    config = env.clients.s3.get_bucket_notification_configuration(Bucket=env.deployment.raw_bucket)
    functions = [
        rule["LambdaFunctionArn"] for rule in config.get("LambdaFunctionConfigurations", [])
    ]
    queues = [rule["QueueArn"] for rule in config.get("QueueConfigurations", [])]
    assert len(functions) + len(queues) == 1, config
    for function in functions:
        outcome = env.delivery.lambdas.invoke_async(function, event)
        assert outcome.ok, outcome.last.error
    for queue in queues:
        env.clients.sqs.send_message(
            QueueUrl=env.clients.queue_url(queue), MessageBody=json.dumps(event)
        )
        [mapping] = env.clients.lambda_.list_event_source_mappings(EventSourceArn=queue)[
            "EventSourceMappings"
        ]
        batches = env.delivery.mappings.drain(mapping["UUID"])
        assert batches and all(not batch.failed for batch in batches), batches
