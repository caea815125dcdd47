"""The live pass through its Lambda handler: real S3 event shapes, moto for S3/DynamoDB,
botocore's Stubber (validated against the real API model) for Rekognition."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from camblur.adapters import aws
from camblur.adapters.state import picture_pk
from camblur.core.errors import TransientError
from camblur.events import reprocess_request
from camblur.handlers import live
from tests.support.live import PERSON, Live, labels_response
from tests.support.pictures import astronaut, decode, encode, jpeg_bytes, jpeg_segments, photo_like


def test_a_person_is_blurred_and_the_state_recorded(live_env: Live) -> None:
    # Given a camera picture of a person
    original = jpeg_bytes(astronaut())
    event = live_env.upload("cam-007/2026-11-25/10-15-00.jpg", original)
    live_env.expect_detection(labels_response(PERSON))
    # When the S3 event reaches the live function
    live_env.invoke(event)
    # Then a blurred copy is in the blurred bucket under the same key
    output = live_env.blurred("cam-007/2026-11-25/10-15-00.jpg")
    assert output is not None
    before, after = decode(original), decode(output)
    assert np.abs(before[80:300, 180:300] - after[80:300, 180:300]).mean() > 10  # the person
    assert np.abs(before[400:, :100] - after[400:, :100]).mean() < 3  # a corner far away
    assert not {0xE1, 0xED, 0xFE} & set(jpeg_segments(output))
    # And the state item says what happened, findable by camera and capture day
    state = live_env.state("cam-007/2026-11-25/10-15-00.jpg")
    assert state["status"] == "LIVE_BLURRED"
    assert state["camera_id"] == "cam-007"
    assert state["capture_day"] == "2026-11-25"
    assert len(state["boxes"]) == 1 and float(state["boxes"][0]["confidence"]) == 97.5
    assert state["detector"] == "rekognition-detect-labels"
    assert state["detector_model_version"] == "3.0"
    assert len(state["raw_sha256"]) == 64 and len(state["blurred_sha256"]) == 64


def test_rekognition_reads_a_plain_jpeg_from_s3_itself(live_env: Live) -> None:
    # Given a plain JPEG within Rekognition's limits
    event = live_env.upload("cam-1/a.jpg", jpeg_bytes(photo_like(320, 240)))
    version = event["Records"][0]["s3"]["object"]["versionId"]
    # Then Rekognition is given the S3 object (that exact version), not bytes
    live_env.expect_detection(
        labels_response(),
        image={
            "S3Object": {
                "Bucket": live_env.stack.raw_bucket,
                "Name": "cam-1/a.jpg",
                "Version": version,
            }
        },
    )
    live_env.invoke(event)
    assert live_env.state("cam-1/a.jpg")["status"] == "LIVE_BLURRED"


@pytest.mark.parametrize(
    "key",
    ["cam 1/picture one.jpg", "cam+2/a+b.jpg", "kamera-ü/bild-ß €.jpg", "cam-3/100%.jpeg"],
)
def test_url_encoded_keys_are_decoded_per_record(live_env: Live, key: str) -> None:
    # Given a key with spaces, plus signs, unicode or percent signs (S3 URL-encodes it in events)
    event = live_env.upload(key, jpeg_bytes(photo_like(200, 150)))
    live_env.expect_detection(labels_response())
    # When the event is handled
    live_env.invoke(event)
    # Then the picture under the real key was found and blurred
    assert live_env.state(key)["status"] == "LIVE_BLURRED"
    assert live_env.blurred(key) is not None


def test_a_png_is_written_as_jpeg_under_the_raw_key_plus_jpg(live_env: Live) -> None:
    event = live_env.upload("cam-1/frame.png", encode(photo_like(200, 150), "PNG"))
    live_env.expect_detection(labels_response())
    live_env.invoke(event)
    assert live_env.blurred_keys() == ["cam-1/frame.png.jpg"]
    assert Image.open(io.BytesIO(live_env.blurred("cam-1/frame.png.jpg"))).format == "JPEG"


def test_a_duplicate_event_costs_nothing_and_changes_nothing(live_env: Live) -> None:
    # Given a picture already blurred
    event = live_env.upload("cam-1/dup.jpg", jpeg_bytes(photo_like(200, 150)))
    live_env.expect_detection(labels_response(PERSON))
    live_env.invoke(event)
    first = live_env.state("cam-1/dup.jpg")
    # When S3 delivers the same event again (no second Rekognition answer is stubbed)
    live_env.invoke(event)
    # Then Rekognition was not called again and the state is unchanged
    assert live_env.state("cam-1/dup.jpg") == first


def test_a_refined_picture_is_never_downgraded_by_a_late_live_event(live_env: Live) -> None:
    # Given a picture that the daily refinement already blurred with more boxes
    event = live_env.upload("cam-1/late.jpg", jpeg_bytes(photo_like(200, 150)))
    live_env.expect_detection(labels_response())
    live_env.invoke(event)
    table = live_env.stack.dynamodb.Table(live_env.stack.state_table)
    table.update_item(
        Key={"pk": picture_pk("cam-1/late.jpg"), "sk": "STATE"},
        UpdateExpression="SET #s = :refined",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":refined": "REFINED"},
    )
    refined_output = live_env.blurred("cam-1/late.jpg")
    # When the same upload's event arrives late
    live_env.invoke(event)
    # Then nothing is re-done: status and blurred picture stay those of the refinement
    assert live_env.state("cam-1/late.jpg")["status"] == "REFINED"
    assert live_env.blurred("cam-1/late.jpg") == refined_output


def test_throttling_fails_closed_then_the_lambda_retry_succeeds(live_env: Live) -> None:
    # Given Rekognition throttles (after the client's own adaptive retries)
    event = live_env.upload("cam-1/busy.jpg", jpeg_bytes(photo_like(200, 150)))
    live_env.expect_error("ThrottlingException")
    # When the event is handled, the invocation fails so that Lambda retries it
    with pytest.raises(TransientError):
        live_env.invoke(event)
    # Then nothing reached the blurred bucket and the failure is recorded
    assert live_env.blurred_keys() == []
    assert live_env.state("cam-1/busy.jpg")["status"] == "FAILED"
    assert "ThrottlingException" in live_env.state("cam-1/busy.jpg")["error"]
    # When Lambda retries and Rekognition answers
    live_env.expect_detection(labels_response(PERSON))
    live_env.invoke(event)
    # Then the picture is blurred
    assert live_env.state("cam-1/busy.jpg")["status"] == "LIVE_BLURRED"
    assert live_env.blurred_keys() == ["cam-1/busy.jpg"]


@pytest.mark.parametrize("code", ["InternalServerError", "AccessDeniedException"])
def test_a_rekognition_failure_writes_nothing(live_env: Live, code: str) -> None:
    event = live_env.upload("cam-1/x.jpg", jpeg_bytes(photo_like(200, 150)))
    live_env.expect_error(code)
    with pytest.raises(TransientError):
        live_env.invoke(event)
    assert live_env.blurred_keys() == []
    assert live_env.state("cam-1/x.jpg")["status"] == "FAILED"


def test_a_picture_rekognition_refuses_is_rejected_not_retried(live_env: Live) -> None:
    event = live_env.upload("cam-1/odd.jpg", jpeg_bytes(photo_like(200, 150)))
    live_env.expect_error("InvalidImageFormatException")
    live_env.invoke(event)  # no exception: Lambda must not retry it
    state = live_env.state("cam-1/odd.jpg")
    assert (state["status"], state["reason"]) == ("REJECTED", "REKOGNITION_REFUSED")
    assert live_env.blurred_keys() == []


def test_one_bad_record_does_not_stop_the_others(live_env: Live) -> None:
    # Given an event with two records: one Rekognition fails on, one it answers
    first = live_env.upload("cam-1/one.jpg", jpeg_bytes(photo_like(200, 150, seed=1)))
    second = live_env.upload("cam-1/two.jpg", jpeg_bytes(photo_like(200, 150, seed=2)))
    event = {"Records": first["Records"] + second["Records"]}
    live_env.expect_error("ServiceUnavailableException")
    live_env.expect_detection(labels_response())
    # When handled, the invocation fails (for a retry) but the good picture is done
    with pytest.raises(TransientError, match=r"cam-1/one\.jpg"):
        live_env.invoke(event)
    assert live_env.blurred_keys() == ["cam-1/two.jpg"]
    # And the retry only costs a Rekognition call for the failed one
    live_env.expect_detection(labels_response())
    live_env.invoke(event)
    assert sorted(live_env.blurred_keys()) == ["cam-1/one.jpg", "cam-1/two.jpg"]


def test_an_object_deleted_before_processing_is_marked_missing(live_env: Live) -> None:
    event = live_env.upload("cam-1/gone.jpg", jpeg_bytes(photo_like(200, 150)))
    live_env.stack.s3.delete_object(
        Bucket=live_env.stack.raw_bucket,
        Key="cam-1/gone.jpg",
        VersionId=event["Records"][0]["s3"]["object"]["versionId"],
    )
    live_env.invoke(event)
    assert live_env.state("cam-1/gone.jpg")["status"] == "RAW_MISSING"
    assert live_env.blurred_keys() == []


def test_a_refinement_finishing_during_the_live_pass_keeps_its_output(live_env: Live) -> None:
    # Given a picture whose refinement finishes while the live pass is waiting for Rekognition
    event = live_env.upload("cam-1/race.jpg", jpeg_bytes(photo_like(200, 150)))
    version = event["Records"][0]["s3"]["object"]["versionId"]
    table = live_env.stack.dynamodb.Table(live_env.stack.state_table)

    def refinement_finishes(**_: object) -> None:
        live_env.stack.s3.put_object(
            Bucket=live_env.stack.blurred_bucket, Key="cam-1/race.jpg", Body=b"refined output"
        )
        table.put_item(
            Item={
                "pk": picture_pk("cam-1/race.jpg"),
                "sk": "STATE",
                "raw_key": "cam-1/race.jpg",
                "raw_version_id": version,
                "status": "REFINED",
            }
        )

    aws.client("rekognition").meta.events.register(
        "after-call.rekognition.DetectLabels", refinement_finishes
    )
    live_env.expect_detection(labels_response(PERSON))
    # When the live pass completes
    live_env.invoke(event)
    # Then the refined output and state are left as the refinement wrote them
    assert live_env.blurred("cam-1/race.jpg") == b"refined output"
    assert live_env.state("cam-1/race.jpg")["status"] == "REFINED"


def test_the_camera_id_follows_the_notification_prefix(
    live_env: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given cameras upload under the prefix the S3 notification filters on
    monkeypatch.setenv("RAW_KEY_PREFIX", "cameras/")
    live.live_pass.cache_clear()
    event = live_env.upload("cameras/cam-12/2026-11-25/0800.jpg", jpeg_bytes(photo_like(200, 150)))
    live_env.expect_detection(labels_response())
    # When the live function handles it
    live_env.invoke(event)
    # Then the camera id is the segment after the prefix
    assert live_env.state("cameras/cam-12/2026-11-25/0800.jpg")["camera_id"] == "cam-12"


def test_a_direct_reprocess_request_redoes_the_picture(live_env: Live) -> None:
    # Given a picture blurred live with no person found
    live_env.expect_detection(labels_response())
    live_env.invoke(live_env.upload("cam-1/again.jpg", jpeg_bytes(photo_like(200, 150))))
    assert live_env.state("cam-1/again.jpg")["boxes"] == []
    # When the live function is invoked (asynchronously, as for S3) with a reprocess request
    live_env.expect_detection(labels_response(PERSON))
    result = live_env.invoke(reprocess_request("cam-1/again.jpg"))
    # Then it is detected and blurred again, with the person found this time
    assert result["processed"][0]["status"] == "LIVE_BLURRED"
    assert [box["label"] for box in live_env.state("cam-1/again.jpg")["boxes"]] == ["person"]


def test_a_reprocess_request_never_replaces_a_refinement(live_env: Live) -> None:
    event = live_env.upload("cam-1/refined.jpg", jpeg_bytes(photo_like(200, 150)))
    live_env.expect_detection(labels_response())
    live_env.invoke(event)
    table = live_env.stack.dynamodb.Table(live_env.stack.state_table)
    table.update_item(
        Key={"pk": picture_pk("cam-1/refined.jpg"), "sk": "STATE"},
        UpdateExpression="SET #s = :refined",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":refined": "REFINED"},
    )
    # When it is reprocessed live (no Rekognition stub: no call may be made)
    result = live_env.invoke(reprocess_request("cam-1/refined.jpg"))
    # Then the refinement stays
    assert result["processed"][0]["status"] == "DUPLICATE_REFINED"
    assert live_env.state("cam-1/refined.jpg")["status"] == "REFINED"
