"""The live function fed by the live queue, through its real handler: S3 notifications inside
SQS messages (moto SQS with real receipt handles), partial batch responses, hand-backs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from camblur.events import reprocess_request
from camblur.handlers import live
from tests.support.aws import REGION
from tests.support.lambda_context import LambdaContext
from tests.support.live import PERSON, Live, labels_response
from tests.support.pictures import jpeg_bytes, photo_like

TEST_EVENT = {
    "Service": "Amazon S3",
    "Event": "s3:TestEvent",
    "Time": "2026-11-25T10:15:00.000Z",
    "Bucket": "camblur-test-raw",
    "RequestId": "5582815E1AEA5ADF",
    "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
}


@dataclass
class LiveQueue:
    live: Live
    sqs: Any
    url: str
    arn: str

    def send(self, body: dict[str, Any] | str) -> None:
        text = body if isinstance(body, str) else json.dumps(body)
        self.sqs.send_message(QueueUrl=self.url, MessageBody=text)

    def receive(self) -> list[dict[str, Any]]:
        """Up to ten messages, as the event source mapping hands them to the function."""
        response = self.sqs.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=10, AttributeNames=["All"]
        )
        return [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message["Attributes"],
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": self.arn,
                "awsRegion": REGION,
            }
            for message in response.get("Messages", [])
        ]

    def invoke(self, records: list[dict[str, Any]]) -> list[str]:
        """Run the handler on the batch; delete what succeeded (as the mapping does)."""
        response = live.handler({"Records": records}, LambdaContext())
        failed = [item["itemIdentifier"] for item in response["batchItemFailures"]]
        for record in records:
            if record["messageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=record["receiptHandle"])
        return failed

    def upload(self, key: str) -> dict[str, Any]:
        return self.live.upload(key, jpeg_bytes(photo_like(200, 150)))


@pytest.fixture
def queue(live_env: Live) -> Iterator[LiveQueue]:
    sqs = boto3.client("sqs", region_name=REGION)
    # A long visibility timeout: a message seen again soon was handed back by the function.
    url = sqs.create_queue(QueueName="camblur-test-live", Attributes={"VisibilityTimeout": "3600"})[
        "QueueUrl"
    ]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    yield LiveQueue(live_env, sqs, url, arn)


def test_an_s3_event_inside_an_sqs_message_is_blurred_and_deleted(queue: LiveQueue) -> None:
    # Given S3's notification for a new picture, delivered through the live queue
    queue.send(queue.upload("cam-1/2026-11-25/10-15-00.jpg"))
    queue.live.expect_detection(labels_response(PERSON))
    # When the function gets the batch
    failed = queue.invoke(queue.receive())
    # Then the picture is blurred, recorded, and its message is not returned
    assert failed == []
    assert queue.live.state("cam-1/2026-11-25/10-15-00.jpg")["status"] == "LIVE_BLURRED"
    assert queue.live.blurred_keys() == ["cam-1/2026-11-25/10-15-00.jpg"]


def test_the_s3_test_event_is_deleted_and_nothing_done(queue: LiveQueue) -> None:
    # Given the message S3 sends when the notification is configured (no Rekognition stub)
    queue.send(TEST_EVENT)
    # When the function gets it, then it succeeds, writes nothing and the queue is empty
    assert queue.invoke(queue.receive()) == []
    assert queue.live.blurred_keys() == []
    assert queue.receive() == []


def test_only_the_failed_picture_returns_to_the_queue(queue: LiveQueue) -> None:
    # Given two pictures, Rekognition answering the first and failing on the second
    queue.send(queue.upload("cam-1/good.jpg"))
    queue.send(queue.upload("cam-1/bad.jpg"))
    records = queue.receive()
    assert [json.loads(r["body"])["Records"][0]["s3"]["object"]["key"] for r in records] == [
        "cam-1/good.jpg",
        "cam-1/bad.jpg",
    ]
    queue.live.expect_detection(labels_response())
    queue.live.expect_error("InternalServerError")
    # When the function gets the batch
    failed = queue.invoke(records)
    # Then only the second message is reported failed; the first picture is published
    assert failed == [records[1]["messageId"]]
    assert queue.live.blurred_keys() == ["cam-1/good.jpg"]
    assert queue.live.state("cam-1/bad.jpg")["status"] == "FAILED"


def test_a_throttled_picture_is_handed_back_with_a_delay_and_then_published(
    queue: LiveQueue,
) -> None:
    # Given Rekognition throttles the first of two pictures
    queue.send(queue.upload("cam-1/busy.jpg"))
    queue.send(queue.upload("cam-1/next.jpg"))
    records = queue.receive()
    queue.live.expect_error("ThrottlingException")
    # When the function gets the batch
    failed = queue.invoke(records)
    # Then both go back (the second was not even tried: the account is at its rate) and
    # nothing was published
    assert failed == [record["messageId"] for record in records]
    assert queue.live.blurred_keys() == []
    # And they are visible again after seconds, not after the queue's visibility timeout
    time.sleep(2.5)
    again = queue.receive()
    assert sorted(r["messageId"] for r in again) == sorted(failed)
    assert {r["attributes"]["ApproximateReceiveCount"] for r in again} == {"2"}
    # When Rekognition answers the second time, then both pictures are published
    queue.live.expect_detection(labels_response(PERSON))
    queue.live.expect_detection(labels_response())
    assert queue.invoke(again) == []
    assert sorted(queue.live.blurred_keys()) == ["cam-1/busy.jpg", "cam-1/next.jpg"]


def test_a_short_throttle_is_waited_out_inside_the_invocation(
    queue: LiveQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given pictures may wait out throttling for up to 5 s, and Rekognition throttles once
    monkeypatch.setenv("REKOGNITION_MAX_WAIT_SECONDS", "5")
    live.live_pass.cache_clear()
    queue.send(queue.upload("cam-1/blip.jpg"))
    queue.live.expect_error("ThrottlingException")
    queue.live.expect_detection(labels_response(PERSON))
    # When the function gets the message, then it is published without going back
    assert queue.invoke(queue.receive()) == []
    assert queue.live.state("cam-1/blip.jpg")["status"] == "LIVE_BLURRED"


def test_a_picture_rekognition_refuses_is_recorded_and_its_message_deleted(
    queue: LiveQueue,
) -> None:
    queue.send(queue.upload("cam-1/odd.jpg"))
    queue.live.expect_error("InvalidImageFormatException")
    assert queue.invoke(queue.receive()) == []
    assert queue.live.state("cam-1/odd.jpg")["status"] == "REJECTED"
    assert queue.live.blurred_keys() == []


def test_keys_are_url_decoded_per_record_of_one_message(queue: LiveQueue) -> None:
    # Given one notification that carries two records with keys S3 had to URL-encode
    keys = ["cam 1/picture one.jpg", "cam+2/a+b €.jpg"]
    events = [queue.upload(key) for key in keys]
    queue.send({"Records": [event["Records"][0] for event in events]})
    queue.live.expect_detection(labels_response())
    queue.live.expect_detection(labels_response())
    # When the function gets it, then both pictures are found under their real keys
    assert queue.invoke(queue.receive()) == []
    assert sorted(queue.live.blurred_keys()) == sorted(keys)


def test_a_message_that_is_no_s3_event_fails_alone(queue: LiveQueue) -> None:
    # Given a message that is not JSON beside a good one
    queue.send("not json")
    queue.send(queue.upload("cam-1/fine.jpg"))
    records = queue.receive()
    queue.live.expect_detection(labels_response())
    # Then only the malformed message is returned (to end in the DLQ after its receives)
    assert queue.invoke(records) == [records[0]["messageId"]]
    assert queue.live.blurred_keys() == ["cam-1/fine.jpg"]


def test_a_direct_s3_event_still_works(queue: LiveQueue) -> None:
    event = queue.upload("cam-1/direct.jpg")
    queue.live.expect_detection(labels_response())
    assert live.handler(event, LambdaContext())["processed"][0]["status"] == "LIVE_BLURRED"


def test_a_reprocess_request_redoes_the_current_version_that_was_done_already(
    queue: LiveQueue,
) -> None:
    # Given a picture blurred live with no person found
    key = "cam-1/2026-11-25/redo.jpg"
    event = queue.upload(key)
    queue.send(event)
    queue.live.expect_detection(labels_response())
    assert queue.invoke(queue.receive()) == []
    before = queue.live.state(key)
    assert before["status"] == "LIVE_BLURRED" and before["boxes"] == []
    # When the operator reprocesses it and Rekognition now finds a person
    queue.send(reprocess_request(key))
    queue.live.expect_detection(labels_response(PERSON))
    assert queue.invoke(queue.receive()) == []
    # Then the same version is detected and published again (not skipped as a duplicate),
    # with its capture time and event order kept
    after = queue.live.state(key)
    assert after["status"] == "LIVE_BLURRED"
    assert [box["label"] for box in after["boxes"]] == ["person"]
    for name in ("raw_version_id", "captured_at", "capture_day", "event_order"):
        assert after[name] == before[name], name
    versions = queue.live.stack.s3.list_object_versions(
        Bucket=queue.live.stack.blurred_bucket, Prefix=key
    )["Versions"]
    assert len(versions) == 2
    # And the S3 event delivered once more is still a duplicate (no Rekognition call)
    queue.send(event)
    assert queue.invoke(queue.receive()) == []


def test_a_reprocess_request_for_a_picture_never_recorded_creates_its_item(
    queue: LiveQueue,
) -> None:
    # Given a picture whose S3 event was lost
    key = "cam-2/2026-11-25/lost.jpg"
    queue.upload(key)
    # When it is reprocessed, then it is blurred and recorded under its camera
    queue.send(reprocess_request(key))
    queue.live.expect_detection(labels_response(PERSON))
    assert queue.invoke(queue.receive()) == []
    state = queue.live.state(key)
    assert state["status"] == "LIVE_BLURRED" and state["camera_id"] == "cam-2"
    assert queue.live.blurred_keys() == [key]


def test_a_reprocess_request_for_a_deleted_picture_publishes_nothing(queue: LiveQueue) -> None:
    # Given a picture whose raw object was deleted (no Rekognition stub: none may be called)
    key = "cam-1/gone.jpg"
    queue.upload(key)
    queue.live.stack.s3.delete_object(Bucket=queue.live.stack.raw_bucket, Key=key)
    # When it is reprocessed, then the message is done and nothing is written
    queue.send(reprocess_request(key))
    assert queue.invoke(queue.receive()) == []
    assert queue.live.blurred_keys() == []
    assert queue.live.state(key) is None


def test_a_reprocess_request_without_a_key_fails_alone(queue: LiveQueue) -> None:
    queue.send({"Event": "camblur:Reprocess"})
    [record] = queue.receive()
    assert queue.invoke([record]) == [record["messageId"]]
