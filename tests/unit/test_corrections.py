"""Corrections by people through the real handlers (moto; Rekognition stubbed or faked):
manual boxes and privacy zones survive a duplicate event, a live re-run (a new upload of the
key), a refinement, a pass racing with the correction, and the raw picture's expiry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import numpy as np
import pytest

from camblur.adapters.state import picture_pk
from camblur.corrections import CORRECTIONS_AUDIT_PK, ZoneCache, reblur_message
from camblur.handlers import live
from camblur.handlers import refine as refine_handler
from camblur_cli import corrections
from camblur_cli.deployment import Deployment
from tests.support.aws import REGION, Stack, s3_put_event
from tests.support.lambda_context import LambdaContext
from tests.support.live import Live, labels_response, live_env_fixture
from tests.support.pictures import decode, region_difference
from tests.support.refine import VERSION_ARN, Clock, fake_model, textured_jpeg

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

KEY = "cam-1/2026-11-25/10-15.jpg"
WIDTH, HEIGHT = 320, 240
# A manual box and a zone, in ratios, and their pixels in the 320x240 picture.
BOX = (0.5, 0.5, 0.25, 0.25)
BOX_PIXELS = (170, 130, 230, 170)  # inside, clear of the 20 % margin's edge
ZONE = (0.0, 0.0, 0.25, 0.25)
ZONE_PIXELS = (4, 4, 76, 56)
FAR = (260, 200, 316, 236)  # far from both
CAPTURED = "2026-11-25T10:15:00.000Z"
# Mean absolute difference to the raw picture: re-encoding the fine stripes as JPEG (q85) moves
# pixels by about 4; pixelation flattens the stripes (about 100).
UNCHANGED = 8
ANONYMISED = 30


@dataclass
class Corrections:
    live: Live
    deployment: Deployment
    sqs: Any
    queue_url: str
    queue_arn: str

    @property
    def stack(self) -> Stack:
        return self.live.stack

    def upload(self, key: str = KEY, captured: str = CAPTURED, seq: str = "0A") -> dict:
        data = textured_jpeg(WIDTH, HEIGHT)
        put = self.stack.s3.put_object(Bucket=self.stack.raw_bucket, Key=key, Body=data)
        return s3_put_event(self.stack.raw_bucket, key, put["VersionId"], len(data), captured, seq)

    def publish(self, event: dict) -> dict:
        self.live.expect_detection(labels_response())  # the detector finds nobody
        return self.live.invoke(event)

    def deliver(self) -> list[dict[str, Any]]:
        """Hand the live queue's messages to the live function, as its mapping does."""
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        )
        records = [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message["Attributes"],
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": self.queue_arn,
                "awsRegion": REGION,
            }
            for message in response.get("Messages", [])
        ]
        assert records, "no message on the live queue"
        result = live.handler({"Records": records}, LambdaContext())
        assert result == {"batchItemFailures": []}
        for record in records:
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=record["receiptHandle"])
        return records

    def output(self, key: str = KEY) -> np.ndarray:
        data = self.live.blurred(key)
        assert data is not None
        return decode(data)

    def raw(self) -> np.ndarray:
        return decode(textured_jpeg(WIDTH, HEIGHT))

    def refine(self, key: str = KEY) -> None:
        """One refine queue message through the real refine handler; the model finds nothing."""
        body = json.dumps({"raw_key": key, "capture_day": "2026-11-25", "run_id": "run-1"})
        record = {
            "messageId": "refine-1",
            "receiptHandle": "handle-refine-1",
            "body": body,
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "md5OfBody": "0",
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:camblur-test-refine",
            "awsRegion": REGION,
        }
        response = refine_handler.handler({"Records": [record]}, LambdaContext())
        assert response == {"batchItemFailures": []}


@pytest.fixture
def env(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Corrections]:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="camblur-test-live")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    monkeypatch.setenv("MODEL_VERSION_ARN", VERSION_ARN)
    model = fake_model(Clock(), start_seconds=0)
    model._set("RUNNING", 0)
    model.labels = lambda _params: []
    real_bounded = refine_handler.bounded_client
    monkeypatch.setattr(
        refine_handler,
        "bounded_client",
        lambda service, *limits: (
            model.client() if service == "rekognition" else real_bounded(service, *limits)
        ),
    )
    refine_handler.worker.cache_clear()
    deployment = Deployment(
        raw_bucket=stack.raw_bucket,
        blurred_bucket=stack.blurred_bucket,
        state_table=stack.state_table,
        queue_names={"live": "camblur-test-live"},
        region=REGION,
    )
    for live_env in live_env_fixture(stack, monkeypatch):
        yield Corrections(live_env, deployment, sqs, url, arn)
    refine_handler.worker.cache_clear()


def item(env: Corrections, key: str = KEY) -> dict[str, Any]:
    table = env.stack.dynamodb.Table(env.stack.state_table)
    found = table.get_item(Key={"pk": picture_pk(key), "sk": "STATE"}).get("Item")
    assert found is not None
    return found


def sources(state: dict[str, Any]) -> list[str]:
    return sorted(str(box["source"]) for box in state["boxes"])


def test_a_manual_box_is_blurred_at_once_and_survives_every_later_pass(env: Corrections) -> None:
    # Given a picture the live pass published with nobody found
    event = env.upload()
    env.publish(event)
    before = env.output()
    assert region_difference(env.raw(), before, BOX_PIXELS) < UNCHANGED
    # When an operator adds a box there
    result = corrections.add_manual_box(env.deployment, KEY, *BOX, label="person", actor="dpo")
    assert result.requested_via == "live_queue"
    env.deliver()
    # Then the published picture is anonymised inside the box, and unchanged far from it
    after = env.output()
    assert region_difference(before, after, BOX_PIXELS) > ANONYMISED
    assert region_difference(before, after, FAR) < 1  # the same raw pixels, encoded alike
    state = item(env)
    assert sources(state) == ["manual"]
    assert state["manual_boxes"][0]["added_by"] == "dpo"
    assert state["reblur_source"] == "raw"
    # And the addition is audited (who, when, which box)
    audit = env.stack.dynamodb.Table(env.stack.state_table).query(
        KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": CORRECTIONS_AUDIT_PK}
    )["Items"]
    assert [(entry["who"], entry["raw_key"]) for entry in audit] == [("dpo", KEY)]
    # And only the anonymised copy is retrievable: the older one lacked the box
    versions = env.stack.s3.list_object_versions(Bucket=env.stack.blurred_bucket, Prefix=KEY)
    assert len(versions["Versions"]) == 1

    # When the same S3 event is delivered again (at least once delivery)
    assert live.handler(event, LambdaContext())["processed"][0]["status"].startswith("DUPLICATE")
    # And the daily refinement refines the picture
    env.refine()
    # Then the box is still anonymised and recorded
    state = item(env)
    assert state["status"] == "REFINED"
    assert sources(state) == ["manual"]
    assert region_difference(env.raw(), env.output(), BOX_PIXELS) > ANONYMISED

    # When the camera uploads the key again (a new version: the live pass runs again)
    env.publish(env.upload(seq="0B"))
    # Then the new picture gets the manual box too
    state = item(env)
    assert state["status"] == "LIVE_BLURRED"
    assert sources(state) == ["manual"]
    assert region_difference(env.raw(), env.output(), BOX_PIXELS) > ANONYMISED
    assert region_difference(env.raw(), env.output(), FAR) < UNCHANGED


def test_a_zone_applies_from_its_start_and_its_removal_only_to_later_pictures(
    env: Corrections,
) -> None:
    # Given a zone over the top-left corner of cam-1, in force from 10:00
    zone = corrections.set_zone(
        env.deployment,
        "cam-1",
        "dpo",
        rectangle=ZONE,
        since=datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
    )
    # When pictures captured at 09:59 and 10:15 are published
    env.publish(env.upload("cam-1/early.jpg", "2026-11-25T09:59:00.000Z"))
    env.publish(env.upload(KEY, CAPTURED))
    # Then only the 10:15 one is anonymised in the zone, with no margin around it, and its
    # item records the zone's id and version
    assert region_difference(env.raw(), env.output("cam-1/early.jpg"), ZONE_PIXELS) < UNCHANGED
    assert region_difference(env.raw(), env.output(), ZONE_PIXELS) > ANONYMISED
    assert region_difference(env.raw(), env.output(), (80, 4, 120, 56)) < UNCHANGED  # right of it
    assert region_difference(env.raw(), env.output(), FAR) < UNCHANGED
    state = item(env)
    assert sources(state) == ["zone"]
    assert state["zones"] == [{"zone_id": zone.zone_id, "version": 1}]
    assert "zones" not in item(env, "cam-1/early.jpg") or not item(env, "cam-1/early.jpg")["zones"]

    # When the zone is removed at 12:00
    corrections.remove_zone(
        env.deployment,
        "cam-1",
        zone.zone_id,
        "dpo",
        clock=lambda: datetime(2026, 11, 25, 12, 0, tzinfo=UTC),
    )
    live.live_pass.cache_clear()  # a new process (or the cache's minute passed)
    refine_handler.worker.cache_clear()
    env.publish(env.upload("cam-1/later.jpg", "2026-11-25T12:30:00.000Z"))
    env.refine(KEY)
    # Then the picture captured after the removal shows the area, and the one captured while
    # the zone applied keeps it through its refinement
    assert region_difference(env.raw(), env.output("cam-1/later.jpg"), ZONE_PIXELS) < UNCHANGED
    assert item(env)["status"] == "REFINED"
    assert sources(item(env)) == ["zone"]
    assert region_difference(env.raw(), env.output(), ZONE_PIXELS) > ANONYMISED


def test_a_zone_set_with_an_earlier_start_reaches_pictures_at_their_refinement(
    env: Corrections,
) -> None:
    # Given a picture published before any zone existed
    env.publish(env.upload())
    # When a zone is set from the start of that day, and the day is refined
    corrections.set_zone(
        env.deployment, "cam-1", "dpo", polygon=[(0.0, 0.0), (0.25, 0.0), (0.0, 0.25)],
        since=datetime(2026, 11, 25, 0, 0, tzinfo=UTC),
    )  # fmt: skip
    env.refine()
    # Then the refined picture is anonymised in the polygon's bounding area
    assert region_difference(env.raw(), env.output(), ZONE_PIXELS) > ANONYMISED
    assert sources(item(env)) == ["zone"]


def test_a_box_added_while_the_live_pass_works_is_blurred_in_not_written_away(
    env: Corrections, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a picture whose first live pass failed (recorded), so the retry runs the pass again
    event = env.upload()
    env.live.expect_error("InternalServerError")
    with pytest.raises(Exception, match="failed"):
        env.live.invoke(event)
    assert item(env)["status"] == "FAILED"
    # When an operator adds a box while the retried pass is publishing
    service = live.live_pass()
    publish = service._pipeline.publish
    calls = []

    def publish_while_a_box_is_added(*args: Any, **kwargs: Any) -> Any:
        if not calls:
            corrections.add_manual_box(env.deployment, KEY, *BOX, label="person", actor="dpo")
        calls.append(kwargs.get("keep"))
        return publish(*args, **kwargs)

    monkeypatch.setattr(service._pipeline, "publish", publish_while_a_box_is_added)
    env.publish(event)
    # Then the pass published again with the box (no second detection) and kept it
    assert len(calls) == 2
    state = item(env)
    assert state["status"] == "LIVE_BLURRED"
    assert sources(state) == ["manual"]
    assert len(state["manual_boxes"]) == 1
    assert region_difference(env.raw(), env.output(), BOX_PIXELS) > ANONYMISED


def test_after_the_raw_expired_the_published_copy_is_anonymised_further(
    env: Corrections,
) -> None:
    # Given a published picture whose raw versions the lifecycle rule expired (no event)
    env.publish(env.upload())
    before = env.output()
    for version in env.stack.s3.list_object_versions(Bucket=env.stack.raw_bucket)["Versions"]:
        env.stack.s3.delete_object(
            Bucket=env.stack.raw_bucket, Key=version["Key"], VersionId=version["VersionId"]
        )
    # When a box is added
    corrections.add_manual_box(env.deployment, KEY, *BOX, label="plate", actor="dpo")
    env.deliver()
    # Then the published copy is anonymised inside it and barely changed elsewhere
    after = env.output()
    assert region_difference(before, after, BOX_PIXELS) > ANONYMISED
    assert region_difference(before, after, FAR) < UNCHANGED
    state = item(env)
    assert state["reblur_source"] == "published_copy"
    assert [box["label"] for box in state["boxes"]] == ["license_plate"]


def test_a_reblur_payload_invoked_directly_blurs_the_box_too(env: Corrections) -> None:
    # Given live_trigger = "s3_async": the command invokes the live function with the payload
    env.publish(env.upload())
    corrections.add_manual_box(env.deployment, KEY, *BOX, label="person", actor="dpo")
    payload = reblur_message(KEY, "dpo", "2026-11-25T11:00:00+00:00")
    # When the payload arrives as an asynchronous invocation
    result = live.handler(payload, LambdaContext())
    # Then the picture is re-blurred
    assert result["processed"][0]["status"] == "REBLURRED"
    assert region_difference(env.raw(), env.output(), BOX_PIXELS) > ANONYMISED


def test_corrections_are_refused_for_unknown_deleted_and_outside_boxes(env: Corrections) -> None:
    with pytest.raises(corrections.CorrectionError, match="no picture"):
        corrections.add_manual_box(env.deployment, "cam-1/none.jpg", *BOX, "person", "dpo")
    env.publish(env.upload())
    with pytest.raises(corrections.CorrectionError, match="inside the picture"):
        corrections.add_manual_box(env.deployment, KEY, 0.9, 0.9, 0.2, 0.2, "person", "dpo")
    with pytest.raises(corrections.CorrectionError, match="person or plate"):
        corrections.add_manual_box(env.deployment, KEY, *BOX, "car", "dpo")  # type: ignore[arg-type]
    with pytest.raises(corrections.CorrectionError, match="no zone"):
        corrections.remove_zone(env.deployment, "cam-1", "zone-9", "dpo")
    with pytest.raises(corrections.CorrectionError, match="three points"):
        corrections.set_zone(env.deployment, "cam-1", "dpo", polygon=[(0, 0), (1, 1)])


def test_reviews_and_boxes_by_source(env: Corrections) -> None:
    # Given two published pictures of cam-1's day, one with a manual box
    env.publish(env.upload())
    env.publish(env.upload("cam-1/b.jpg"))
    corrections.add_manual_box(env.deployment, KEY, *BOX, label="person", actor="dpo")
    # When one is marked reviewed, then the whole day
    corrections.mark_reviewed(env.deployment, KEY, "dpo")
    marked = corrections.mark_day_reviewed(env.deployment, "cam-1", "2026-11-25", "lead")
    # Then the day mark counts only the picture not reviewed yet; the first mark stays
    assert marked == 1
    assert item(env)["reviewed_by"] == "dpo"
    assert item(env, "cam-1/b.jpg")["reviewed_by"] == "lead"
    # And the boxes name their source; the manual one is pending until its re-blur ran
    (box,) = corrections.picture_boxes(env.deployment, KEY)
    assert (box.source, box.added_by, box.applied) == ("manual", "dpo", False)
    env.deliver()
    (box,) = corrections.picture_boxes(env.deployment, KEY)
    assert box.applied
    # And a re-blur keeps the review mark (the same raw version)
    assert item(env)["reviewed_by"] == "dpo"


def test_zone_versions_and_the_cache_time_to_live(env: Corrections) -> None:
    # Given a zone, changed once
    first = corrections.set_zone(env.deployment, "cam-1", "dpo", rectangle=ZONE)
    second = corrections.set_zone(
        env.deployment, "cam-1", "dpo", rectangle=(0.0, 0.0, 0.5, 0.5), zone_id=first.zone_id
    )
    # Then the first version ended where the second starts; only the second is in force
    every = corrections.list_zones(env.deployment, "cam-1", include_ended=True)
    assert [(zone.version, zone.until) for zone in every] == [(1, second.since), (2, None)]
    assert [zone.version for zone in corrections.list_zones(env.deployment, "cam-1")] == [2]
    # And a function's cache sees a change only after its time to live
    now = [0.0]
    cache = ZoneCache(env.stack.state_table, env.stack.dynamodb, ttl=60, clock=lambda: now[0])
    assert cache.zones("cam-1").revision == 2
    corrections.remove_zone(env.deployment, "cam-1", first.zone_id, "dpo")
    now[0] = 59
    assert cache.zones("cam-1").revision == 2
    now[0] = 61
    assert cache.zones("cam-1").revision == 3
