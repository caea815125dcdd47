"""The AWS/SQS metrics the pump publishes (devtools/pump.py QueueMetrics), on a private endpoint.

Given a moto server as `make up` runs it and queues as the deployment has them (a DLQ, a
queue with a redrive policy, one a mapping reads),
when the pump measures and publishes,
then CloudWatch holds ApproximateNumberOfMessagesVisible and ApproximateAgeOfOldestMessage
per QueueName, the age from SentTimestamps known without disturbing delivery: no message is
hidden and no receive is counted on a queue whose redrive policy counts them; where that
leaves the age unknown, it is left out.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devtools.deliver import Delivery
from devtools.pump import QueueMetrics
from localaws.embedded import embedded_aws
from tests.integration.deployment import REGION, aws_client

AGE = "ApproximateAgeOfOldestMessage"
VISIBLE = "ApproximateNumberOfMessagesVisible"
HOUR = 3600.0

FAILING = """
def handler(event, context):
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}
"""


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with embedded_aws() as url:
        yield url


@pytest.fixture
def delivery(endpoint: str, tmp_path: Path) -> Iterator[Delivery]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", FAILING)
    artifact = tmp_path / "failing.zip"
    artifact.write_bytes(buffer.getvalue())
    with Delivery(endpoint, "http://127.0.0.1:9", artifact, tmp_path, region=REGION) as d:
        yield d


def queue(url: str, name: str, redrive_to: str | None = None, receives: int = 1) -> tuple:
    sqs = aws_client(url, "sqs")
    attributes = {}
    if redrive_to:
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": redrive_to, "maxReceiveCount": receives}
        )
    queue_url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return queue_url, arn


def send(url: str, queue_url: str, count: int = 1) -> tuple[float, float]:
    """Send; the times before and after (the SentTimestamps lie between)."""
    before = time.time()
    for index in range(count):
        aws_client(url, "sqs").send_message(QueueUrl=queue_url, MessageBody=f"m{index}")
    return before, time.time()


def published(url: str, queue_name: str, metric: str, at: float) -> list[float]:
    moment = datetime.fromtimestamp(at, UTC)
    points = aws_client(url, "cloudwatch").get_metric_statistics(
        Namespace="AWS/SQS",
        MetricName=metric,
        Dimensions=[{"Name": "QueueName", "Value": queue_name}],
        StartTime=moment - timedelta(minutes=1),
        EndTime=moment + timedelta(minutes=1),
        Period=60,
        Statistics=["Maximum"],
    )["Datapoints"]
    return [point["Maximum"] for point in points]


def test_a_dlq_reports_its_depth_and_its_oldest_message_and_still_holds_them(
    endpoint: str, delivery: Delivery
) -> None:
    dlq_url, _ = queue(endpoint, "metrics-dlq")
    before, after = send(endpoint, dlq_url, count=2)
    now = after + HOUR  # an hour later: the age is an hour, give or take the sends

    figures = QueueMetrics(delivery).publish(now)["metrics-dlq"]

    assert figures[VISIBLE] == 2
    assert now - after - 0.001 <= figures[AGE] <= now - before + 0.001
    assert published(endpoint, "metrics-dlq", VISIBLE, now) == [2.0]
    assert published(endpoint, "metrics-dlq", AGE, now) == [figures[AGE]]
    # The peek hid nothing: a consumer (camblur redrive) receives both at once.
    received = aws_client(endpoint, "sqs").receive_message(
        QueueUrl=dlq_url, MaxNumberOfMessages=10
    )["Messages"]
    assert len(received) == 2


def test_a_queue_whose_redrive_policy_counts_receives_is_never_peeked(
    endpoint: str, delivery: Delivery
) -> None:
    _, dlq_arn = queue(endpoint, "closed-dlq")
    closed_url, _ = queue(endpoint, "closed", redrive_to=dlq_arn, receives=1)
    send(endpoint, closed_url)

    figures = QueueMetrics(delivery).publish()["closed"]

    assert figures == {VISIBLE: 1.0}  # no age: nothing known about the message
    # A receive by the pump would have been its one allowed receive: it would be in the DLQ.
    [message] = aws_client(endpoint, "sqs").receive_message(
        QueueUrl=closed_url, AttributeNames=["ApproximateReceiveCount"]
    )["Messages"]
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"


def test_a_message_the_poller_received_and_failed_gives_the_age(
    endpoint: str, delivery: Delivery
) -> None:
    _, dlq_arn = queue(endpoint, "worked-dlq")
    worked_url, worked_arn = queue(endpoint, "worked", redrive_to=dlq_arn, receives=5)
    lambda_, iam = aws_client(endpoint, "lambda"), aws_client(endpoint, "iam")
    role = iam.create_role(RoleName="worker", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lambda_.create_function(
        FunctionName="worker",
        Runtime="python3.13",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": delivery.code.zip_path.read_bytes()},
    )
    mapping = lambda_.create_event_source_mapping(
        EventSourceArn=worked_arn,
        FunctionName="worker",
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )["UUID"]
    before, after = send(endpoint, worked_url)
    batch = delivery.mappings.poll(mapping)
    assert batch is not None and len(batch.failed) == 1  # back to the queue, in flight
    now = after + 10.0

    figures: dict[str, Any] = QueueMetrics(delivery).publish(now)["worked"]

    assert figures[VISIBLE] == 0
    assert now - after - 0.001 <= figures[AGE] <= now - before + 0.001


def test_an_empty_queue_has_no_age(endpoint: str, delivery: Delivery) -> None:
    queue(endpoint, "empty")

    assert QueueMetrics(delivery).publish()["empty"] == {VISIBLE: 0.0, AGE: 0.0}
