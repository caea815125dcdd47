"""The embedded endpoint sends S3's own event messages, for any client (localaws/embedded.py).

Given a moto server as `make up` runs it, a versioned bucket notifying a queue and a function,
when a client of its own puts, deletes (a delete marker) and deletes a version,
then the queue holds S3's test event and then one AWS-shaped record per event, in order
(URL-encoded key, versionId, sequencer, size and eTag only for creations), and the function's
events wait in the journal devtools/deliver.py invokes them from, each once.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.deliver import Clients, LambdaService, S3Notifications, SqsMappings
from localaws.embedded import embedded_aws, lambda_events_path
from tests.integration.deployment import aws_client

BUCKET = "camblur-events-check"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with embedded_aws() as url:
        yield url


def zipped() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


def wire(url: str) -> tuple[str, str, str]:
    """A versioned bucket whose events go to a queue (cameras/) and a function (removals)."""
    s3, sqs, lambda_, iam = (aws_client(url, name) for name in ("s3", "sqs", "lambda", "iam"))
    queue_url = sqs.create_queue(QueueName="events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    function = lambda_.create_function(
        FunctionName="fn",
        Runtime="python3.13",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": zipped()},
    )["FunctionArn"]
    lambda_.add_permission(
        FunctionName="fn",
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{BUCKET}",
    )
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": "live-blur",
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "cameras/"}]}},
                }
            ],
            "LambdaFunctionConfigurations": [
                {"Id": "removals", "LambdaFunctionArn": function, "Events": ["s3:ObjectRemoved:*"]}
            ],
        },
    )
    return queue_url, queue_arn, function


def bodies(url: str, queue_url: str) -> list[dict[str, Any]]:
    sqs = aws_client(url, "sqs")
    found = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return found


def test_any_clients_uploads_and_deletes_send_s3s_own_messages(
    endpoint: str, tmp_path: Path
) -> None:
    queue_url, _, function = wire(endpoint)
    s3 = aws_client(endpoint, "s3")
    key = "cameras/cam-1/survey team+1.jpg"

    put = s3.put_object(Bucket=BUCKET, Key=key, Body=b"picture")
    s3.put_object(Bucket=BUCKET, Key="other/ignored.jpg", Body=b"x")  # outside the prefix
    marker = s3.delete_object(Bucket=BUCKET, Key=key)
    s3.delete_object(Bucket=BUCKET, Key=key, VersionId=put["VersionId"])

    test_event, *events = bodies(endpoint, queue_url)
    assert test_event["Event"] == "s3:TestEvent" and test_event["Bucket"] == BUCKET
    assert {"Service", "Time", "RequestId", "HostId"} <= set(test_event)
    records = [event["Records"][0] for event in events]
    assert [r["eventName"] for r in records] == [
        "ObjectCreated:Put",
        "ObjectRemoved:DeleteMarkerCreated",
        "ObjectRemoved:Delete",
    ]
    objects = [r["s3"]["object"] for r in records]
    assert {o["key"] for o in objects} == {"cameras/cam-1/survey+team%2B1.jpg"}
    assert [o["versionId"] for o in objects] == [
        put["VersionId"],
        marker["VersionId"],
        put["VersionId"],
    ]
    assert objects[0]["size"] == len(b"picture") and objects[0]["eTag"] == put["ETag"].strip('"')
    assert "size" not in objects[1] and "eTag" not in objects[1]
    sequencers = [o["sequencer"] for o in objects]
    assert sequencers == sorted(sequencers) and len(set(sequencers)) == 3
    assert all(r["s3"]["configurationId"] == "live-blur" for r in records)
    assert all(r["s3"]["bucket"]["arn"] == f"arn:aws:s3:::{BUCKET}" for r in records)

    # The function's removals, journalled for deliver.py: each once, in order.
    clients = Clients(endpoint, "eu-west-1")
    lambdas = LambdaService(clients, None, {}, tmp_path)  # type: ignore[arg-type]
    notifications = S3Notifications(
        clients, lambdas, SqsMappings(clients, lambdas), lambda_events_path(endpoint)
    )
    journalled = notifications.journalled()
    assert [arn for arn, _ in journalled] == [function, function]
    assert [event["Records"][0]["eventName"] for _, event in journalled] == [
        "ObjectRemoved:DeleteMarkerCreated",
        "ObjectRemoved:Delete",
    ]
    assert notifications.journalled() == []
