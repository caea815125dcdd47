"""The newest raw version wins and deletes are honoured, whatever order S3 delivers events in.

Through the real live handler and refine worker: real S3 event shapes with real sequencers,
moto for S3 (versioned buckets) and DynamoDB, botocore's Stubber for DetectLabels.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pytest

from camblur.adapters.state import picture_pk
from camblur.adapters.storage import PictureStore
from camblur.events import ObjectEvent, sequence_order
from tests.support.aws import Stack, s3_put_event, s3_removed_event
from tests.support.live import PERSON, Live, labels_response, live_env_fixture
from tests.support.pictures import decode, jpeg_bytes, photo_like

KEY = "cam-3/2026-11-25/10-15-00.jpg"
# Sequencers of one key grow with each event; the second is shorter, as S3 may make them.
FIRST, SECOND, THIRD = "0055AED6DCD90281E5", "0055AED6DCD90281F0", "0055AED6DCD9028200"


@pytest.fixture
def live_env(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    yield from live_env_fixture(stack, monkeypatch)


def upload(live_env: Live, data: bytes, sequencer: str) -> dict:
    put = live_env.stack.s3.put_object(Bucket=live_env.stack.raw_bucket, Key=KEY, Body=data)
    return s3_put_event(
        live_env.stack.raw_bucket, KEY, put["VersionId"], len(data), sequencer=sequencer
    )


def picture(seed: int) -> bytes:
    return jpeg_bytes(photo_like(320, 240, seed=seed))


def blurred_versions(live_env: Live) -> int:
    listing = live_env.stack.s3.list_object_versions(Bucket=live_env.stack.blurred_bucket)
    return len(listing.get("Versions", [])) + len(listing.get("DeleteMarkers", []))


def test_sequencers_compare_as_s3_documents_after_left_padding() -> None:
    assert sequence_order("0055AED6DCD90281E5") < sequence_order("0055AED6DCD90281F0")
    assert sequence_order("FF") < sequence_order("0100")  # shorter but smaller once padded


def test_a_late_event_of_an_older_version_changes_nothing(live_env: Live) -> None:
    # Given v1 and then v2 uploaded, and v2's event processed first
    first = upload(live_env, picture(1), FIRST)
    second = upload(live_env, picture(2), SECOND)
    live_env.expect_detection(labels_response(PERSON))
    live_env.invoke(second)
    published = live_env.blurred(KEY)
    # When v1's event arrives late
    result = live_env.invoke(first)
    # Then it calls no Rekognition, and output and state stay v2's
    assert result["processed"][0]["status"] == "STALE_EVENT"
    assert live_env.blurred(KEY) == published
    state = live_env.state(KEY)
    assert state["raw_version_id"] == second["Records"][0]["s3"]["object"]["versionId"]


def test_an_older_version_whose_event_comes_first_is_not_published(live_env: Live) -> None:
    # Given v1 and v2 uploaded, and v1's event delivered before v2's
    first = upload(live_env, picture(1), FIRST)
    second = upload(live_env, picture(2), SECOND)
    live_env.expect_detection(labels_response(PERSON))
    # When v1's event is processed
    result = live_env.invoke(first)
    # Then nothing is published (v1 is no longer what S3 serves) and the item says why
    assert result["processed"][0]["status"] == "SUPERSEDED"
    assert live_env.blurred(KEY) is None
    assert live_env.state(KEY)["reason"] == "SUPERSEDED"
    # And v2's event then publishes v2
    live_env.expect_detection(labels_response(PERSON))
    live_env.invoke(second)
    assert live_env.state(KEY)["status"] == "LIVE_BLURRED"
    assert live_env.blurred(KEY) is not None


def test_a_late_live_event_never_downgrades_a_refined_newer_version(live_env: Live) -> None:
    # Given v2 published and then refined
    first = upload(live_env, picture(1), FIRST)
    second = upload(live_env, picture(2), SECOND)
    live_env.expect_detection(labels_response(PERSON))
    live_env.invoke(second)
    table = live_env.stack.dynamodb.Table(live_env.stack.state_table)
    table.update_item(
        Key={"pk": picture_pk(KEY), "sk": "STATE"},
        UpdateExpression="SET #s = :refined",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":refined": "REFINED"},
    )
    # When v1's event arrives late
    live_env.invoke(first)
    # Then the item is still v2, REFINED
    state = live_env.state(KEY)
    assert state["status"] == "REFINED"
    assert state["raw_version_id"] == second["Records"][0]["s3"]["object"]["versionId"]


def test_a_picture_deleted_before_its_event_is_delivered_is_never_published(
    live_env: Live,
) -> None:
    # Given an upload deleted (a delete marker) before its event reached the function
    created = upload(live_env, picture(1), FIRST)
    live_env.stack.s3.delete_object(Bucket=live_env.stack.raw_bucket, Key=KEY)
    live_env.expect_detection(labels_response(PERSON))
    # When the creation event is processed
    result = live_env.invoke(created)
    # Then nothing is published and the item says DELETED
    assert result["processed"][0]["status"] == "DELETED"
    assert live_env.blurred(KEY) is None
    assert live_env.state(KEY)["status"] == "DELETED"


def test_deleting_a_raw_picture_removes_every_version_of_its_blurred_copy(
    live_env: Live,
) -> None:
    # Given a picture published twice (a duplicate write leaves two blurred versions)
    created = upload(live_env, picture(1), FIRST)
    live_env.expect_detection(labels_response(PERSON))
    live_env.invoke(created)
    live_env.stack.s3.put_object(
        Bucket=live_env.stack.blurred_bucket, Key=KEY, Body=live_env.blurred(KEY)
    )
    assert blurred_versions(live_env) == 2
    # When the raw picture is deleted and the removal event arrives
    marker = live_env.stack.s3.delete_object(Bucket=live_env.stack.raw_bucket, Key=KEY)
    live_env.invoke(s3_removed_event(live_env.stack.raw_bucket, KEY, marker["VersionId"], SECOND))
    # Then no version of the blurred copy is left and the item says DELETED
    assert blurred_versions(live_env) == 0
    assert live_env.state(KEY)["status"] == "DELETED"
    # And the creation event delivered again later does not republish it
    live_env.invoke(created)
    assert live_env.blurred(KEY) is None
    assert live_env.state(KEY)["status"] == "DELETED"


def test_removing_a_version_nobody_sees_leaves_the_published_picture(live_env: Live) -> None:
    # Given v1 replaced by v2, and v2 published
    first = upload(live_env, picture(1), FIRST)
    second = upload(live_env, picture(2), SECOND)
    live_env.expect_detection(labels_response(PERSON))
    live_env.invoke(second)
    published = live_env.blurred(KEY)
    # When the noncurrent v1 is deleted by its version id
    v1 = first["Records"][0]["s3"]["object"]["versionId"]
    live_env.stack.s3.delete_object(Bucket=live_env.stack.raw_bucket, Key=KEY, VersionId=v1)
    live_env.invoke(
        s3_removed_event(live_env.stack.raw_bucket, KEY, v1, THIRD, delete_marker=False)
    )
    # Then v2's blurred picture and state stay
    assert live_env.blurred(KEY) == published
    assert live_env.state(KEY)["status"] == "LIVE_BLURRED"


def test_a_new_upload_after_a_delete_is_published_again(live_env: Live) -> None:
    # Given a picture uploaded, published and deleted
    live_env.expect_detection(labels_response(PERSON))
    live_env.invoke(upload(live_env, picture(1), FIRST))
    marker = live_env.stack.s3.delete_object(Bucket=live_env.stack.raw_bucket, Key=KEY)
    live_env.invoke(s3_removed_event(live_env.stack.raw_bucket, KEY, marker["VersionId"], SECOND))
    # When the camera uploads the key again
    original = picture(3)
    live_env.expect_detection(labels_response(PERSON))
    live_env.invoke(upload(live_env, original, THIRD))
    # Then the new picture is published, blurred
    output = live_env.blurred(KEY)
    assert output is not None and live_env.state(KEY)["status"] == "LIVE_BLURRED"
    before, after = decode(original), decode(output)
    assert np.abs(before[40:150, 100:190] - after[40:150, 100:190]).mean() > 5


@pytest.mark.parametrize(
    ("key", "camera"),
    [
        ("cam-1/2026-11-25/a.jpg", "cam-1"),
        ("/cam-1/a.jpg", "cam-1"),
        ("cam-1//a.jpg", "cam-1"),
        ("//cam-1/a.jpg", "cam-1"),
        ("./cam-1/a.jpg", "cam-1"),
        ("../a.jpg", "unknown"),
        ("../cam-1/a.jpg", "unknown"),
        ("a.jpg", "unknown"),
        ("cam-1/", "unknown"),
    ],
)
def test_the_camera_id_rule_for_odd_paths(key: str, camera: str) -> None:
    event = ObjectEvent("raw", key, "v1", 1, datetime.now(UTC), "")
    assert event.camera_id() == camera


def test_a_key_of_the_full_1024_bytes_s3_allows_gets_its_state_item(live_env: Live) -> None:
    # Given a key as long as S3 accepts, with multi-byte characters
    key = "cam-9/" + "é" * 505 + "a.jpg"
    assert len(key.encode()) == 1024 - 3
    key += "xyz"
    event = live_env.upload(key, jpeg_bytes(photo_like(200, 150)))
    live_env.expect_detection(labels_response(PERSON))
    # When the live function handles it
    live_env.invoke(event)
    # Then it is published and its item is findable by key and by capture day
    assert live_env.blurred(key + ".jpg") is not None
    state = live_env.state(key)
    assert state["status"] == "LIVE_BLURRED" and state["raw_key"] == key
    index = live_env.stack.dynamodb.Table(live_env.stack.state_table).query(
        IndexName="by_capture_day",
        KeyConditionExpression="capture_day = :day",
        ExpressionAttributeValues={":day": state["capture_day"]},
    )
    assert [item["raw_key"] for item in index["Items"]] == [key]


def test_overwrite_then_delete_while_the_new_event_waits_leaves_no_copy(live_env: Live) -> None:
    # Given v1 published, then v2 uploaded and the key deleted before v2's event is handled
    live_env.expect_detection(labels_response(PERSON))
    live_env.invoke(upload(live_env, picture(1), FIRST))
    second = upload(live_env, picture(2), SECOND)
    marker = live_env.stack.s3.delete_object(Bucket=live_env.stack.raw_bucket, Key=KEY)
    # When v2's event and then the removal are handled
    live_env.expect_detection(labels_response(PERSON))
    assert live_env.invoke(second)["processed"][0]["status"] == "DELETED"
    live_env.invoke(s3_removed_event(live_env.stack.raw_bucket, KEY, marker["VersionId"], THIRD))
    # Then v1's blurred copy is gone too
    assert live_env.state(KEY)["status"] == "DELETED"
    assert blurred_versions(live_env) == 0


def test_a_delete_racing_the_publish_leaves_no_copy(
    live_env: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the raw picture is deleted, and its removal handled, while the live pass encodes
    created = upload(live_env, picture(1), FIRST)
    original = PictureStore.write_jpeg
    raced: list[bool] = []

    def delete_then_write(self: PictureStore, bucket: str, key: str, data: bytes) -> None:
        if not raced:
            raced.append(True)
            marker = live_env.stack.s3.delete_object(Bucket=live_env.stack.raw_bucket, Key=KEY)
            live_env.invoke(
                s3_removed_event(live_env.stack.raw_bucket, KEY, marker["VersionId"], SECOND)
            )
        original(self, bucket, key, data)

    monkeypatch.setattr(PictureStore, "write_jpeg", delete_then_write)
    live_env.expect_detection(labels_response(PERSON))
    # When the live pass finishes its write
    result = live_env.invoke(created)
    # Then it takes the copy down again and records why
    assert result["processed"][0]["status"] == "DELETED"
    assert blurred_versions(live_env) == 0


def test_a_hand_made_event_without_a_sequencer_never_replaces_a_newer_item(
    live_env: Live,
) -> None:
    # Given v1 replaced by v2, and v2 published from its real (sequenced) event
    first = upload(live_env, picture(1), FIRST)
    second = upload(live_env, picture(2), SECOND)
    live_env.expect_detection(labels_response(PERSON))
    live_env.invoke(second)
    v2 = second["Records"][0]["s3"]["object"]["versionId"]
    # When someone invokes the function by hand with v1's event, stripped of its sequencer
    del first["Records"][0]["s3"]["object"]["sequencer"]
    live_env.expect_detection(labels_response(PERSON))
    live_env.invoke(first)
    # Then the item still describes v2, published and refinable (not SUPERSEDED)
    state = live_env.state(KEY)
    assert (state["raw_version_id"], state["status"]) == (v2, "LIVE_BLURRED")


def test_a_restored_picture_is_published_again_through_the_whole_pass(live_env: Live) -> None:
    # Given a picture published, then deleted (a delete marker) and taken down
    original = picture(5)
    created = upload(live_env, original, FIRST)
    live_env.expect_detection(labels_response(PERSON))
    live_env.invoke(created)
    raw = live_env.stack.raw_bucket
    marker = live_env.stack.s3.delete_object(Bucket=raw, Key=KEY)["VersionId"]
    live_env.invoke(s3_removed_event(raw, KEY, marker, SECOND))
    assert blurred_versions(live_env) == 0
    # When the owner restores it (deletes the delete marker: S3 serves v1 again)
    live_env.stack.s3.delete_object(Bucket=raw, Key=KEY, VersionId=marker)
    live_env.expect_detection(labels_response(PERSON))
    result = live_env.invoke(s3_removed_event(raw, KEY, marker, THIRD, delete_marker=False))
    # Then v1 is detected and blurred again, published, and the item describes it
    assert result["processed"][0]["status"] == "LIVE_BLURRED"
    state = live_env.state(KEY)
    assert (state["status"], state["raw_version_id"]) == ("LIVE_BLURRED", version_id(created))
    output = live_env.blurred(KEY)
    assert output is not None
    before, after = decode(original), decode(output)
    assert np.abs(before[40:150, 100:190] - after[40:150, 100:190]).mean() > 5


def test_an_erased_picture_is_never_restored(live_env: Live) -> None:
    # Given a picture published, deleted, and its item erased (camblur erase removes it first)
    created = upload(live_env, picture(6), FIRST)
    live_env.expect_detection(labels_response(PERSON))
    live_env.invoke(created)
    raw = live_env.stack.raw_bucket
    marker = live_env.stack.s3.delete_object(Bucket=raw, Key=KEY)["VersionId"]
    live_env.invoke(s3_removed_event(raw, KEY, marker, SECOND))
    live_env.stack.dynamodb.Table(live_env.stack.state_table).delete_item(
        Key={"pk": picture_pk(KEY), "sk": "STATE"}
    )
    # When the delete marker is removed while the erasure still works through the versions
    live_env.stack.s3.delete_object(Bucket=raw, Key=KEY, VersionId=marker)
    live_env.invoke(s3_removed_event(raw, KEY, marker, THIRD, delete_marker=False))
    # Then nothing is published and no item is created again
    assert live_env.blurred(KEY) is None
    assert live_env.state(KEY) is None


def version_id(event: dict) -> str:
    return str(event["Records"][0]["s3"]["object"]["versionId"])
