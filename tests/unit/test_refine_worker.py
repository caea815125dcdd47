"""refine_worker: live + Custom Labels boxes blurred from the raw picture, never less than before."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat

from camblur.adapters.state import BlurStateTable, Status, picture_pk
from camblur.adapters.storage import PictureStore
from camblur.core.boxes import Box
from camblur.refine.batch import DEADLINE_MARGIN_SECONDS
from camblur.refine.messages import RefineMessage
from localaws.custom_labels import FakeError
from tests.support.aws import Stack
from tests.support.refine import (
    DAY,
    VERSION_ARN,
    Refinement,
    make_refinement,
    put_live_picture,
    sqs_record,
    textured_jpeg,
)

RUN_ID = f"{DAY}#run1"
PERSON = Box(0.05, 0.1, 0.25, 0.5, label="person", confidence=91.0, source="live")
# Ratios of the picture (160x120): the plate and the worker the live pass missed.
PLATE = {"Left": 0.6, "Top": 0.6, "Width": 0.25, "Height": 0.2}
WORKER = {"Left": 0.4, "Top": 0.05, "Width": 0.15, "Height": 0.4}


def custom_label(name: str, box: dict[str, float], confidence: float = 88.0) -> dict[str, Any]:
    return {"Name": name, "Confidence": confidence, "Geometry": {"BoundingBox": box}}


@pytest.fixture
def refinement(stack: Stack) -> Iterator[Refinement]:
    refinement = make_refinement(stack, start_seconds=0)
    refinement.model.answer(
        "StartProjectVersion", {"ProjectVersionArn": VERSION_ARN, "MinInferenceUnits": 1}
    )
    assert refinement.model.status() == "RUNNING"
    yield refinement


def message(key: str, message_id: str = "m-1", run_id: str = RUN_ID) -> dict[str, Any]:
    return sqs_record(message_id, RefineMessage(key, DAY, run_id).to_body())


def blurred(refinement: Refinement, key: str) -> Image.Image:
    body = refinement.stack.s3.get_object(Bucket=refinement.stack.blurred_bucket, Key=key)["Body"]
    return Image.open(io.BytesIO(body.read())).convert("RGB")


def change_inside(raw: Image.Image, output: Image.Image, box: dict[str, float]) -> float:
    """Mean absolute pixel difference inside `box` (ratios), 0..255."""
    width, height = raw.size
    region = (
        int(box["Left"] * width),
        int(box["Top"] * height),
        int((box["Left"] + box["Width"]) * width),
        int((box["Top"] + box["Height"]) * height),
    )
    difference = ImageChops.difference(raw.crop(region), output.crop(region))
    return sum(ImageStat.Stat(difference).mean) / 3


def as_ratios(box: Box) -> dict[str, float]:
    return {"Left": box.left, "Top": box.top, "Width": box.width, "Height": box.height}


RAW = Image.open(io.BytesIO(textured_jpeg())).convert("RGB")
UNTOUCHED = {"Left": 0.9, "Top": 0.0, "Width": 0.1, "Height": 0.3}  # away from every box


def test_plates_and_missed_people_are_blurred_on_top_of_the_live_boxes(
    refinement: Refinement,
) -> None:
    # Given a picture the live pass blurred one person in, with a plate and a worker it missed
    key = f"cam-1/{DAY}/0001.jpg"
    put_live_picture(refinement.stack, key, boxes=(PERSON,))
    refinement.runs().create_run(DAY, RUN_ID, refinement.clock(), 0, VERSION_ARN)
    refinement.model.labels = lambda _params: [
        custom_label("License_Plate", PLATE),
        custom_label("person", WORKER),
        custom_label("excavator", UNTOUCHED),  # not a configured label: left alone
    ]

    # When the worker refines it
    result = refinement.worker().process_batch([message(key)], lambda: 60.0)

    # Then the plate, the missed worker and the live person are all pixelated in the output
    assert result.failed_message_ids == []
    output = blurred(refinement, key)
    assert change_inside(RAW, output, PLATE) > 40
    assert change_inside(RAW, output, WORKER) > 40
    assert change_inside(RAW, output, as_ratios(PERSON)) > 40
    # And the rest of the picture is only re-encoded
    assert change_inside(RAW, output, UNTOUCHED) < 8
    # And the state says REFINED with every box, the model version and the hashes
    item = refinement.picture_item(key)
    assert item["status"] == Status.REFINED.value
    labels = sorted((box["label"], box["source"]) for box in item["boxes"])
    assert labels == [("license_plate", "custom"), ("person", "custom"), ("person", "live")]
    assert item["refine_model_version"] == VERSION_ARN
    assert item["refine_run_id"] == RUN_ID
    stored_output = refinement.stack.s3.get_object(Bucket=refinement.stack.blurred_bucket, Key=key)[
        "Body"
    ].read()
    assert item["blurred_sha256"] == hashlib.sha256(stored_output).hexdigest()
    assert item["raw_sha256"] == hashlib.sha256(textured_jpeg()).hexdigest()
    # And the run counts the picture
    assert refinement.run_item()["pictures_refined"] == 1


def test_a_model_that_finds_nothing_never_blurs_less_than_the_live_pass(
    refinement: Refinement,
) -> None:
    # Given a live-blurred person and a model that finds nothing
    key = f"cam-1/{DAY}/0002.jpg"
    put_live_picture(refinement.stack, key, boxes=(PERSON,))
    refinement.model.labels = lambda _params: []

    # When the worker refines it
    refinement.worker().process_batch([message(key)], lambda: 60.0)

    # Then the live person is still pixelated and still recorded
    assert change_inside(RAW, blurred(refinement, key), as_ratios(PERSON)) > 40
    item = refinement.picture_item(key)
    assert item["status"] == Status.REFINED.value
    assert [Box.from_item(box) for box in item["boxes"]] == [PERSON]


def test_refining_again_keeps_every_box_found_before(refinement: Refinement) -> None:
    # Given a picture refined once with a plate
    key = f"cam-1/{DAY}/0003.jpg"
    put_live_picture(refinement.stack, key, boxes=(PERSON,))
    refinement.model.labels = lambda _params: [custom_label("license_plate", PLATE)]
    refinement.worker().process_batch([message(key)], lambda: 60.0)

    # When a later run's model finds only the worker
    refinement.model.labels = lambda _params: [custom_label("person", WORKER)]
    refinement.worker().process_batch([message(key, run_id=f"{DAY}#run2")], lambda: 60.0)

    # Then the output and the state hold the live person, the plate and the worker
    output = blurred(refinement, key)
    for box in (PLATE, WORKER, as_ratios(PERSON)):
        assert change_inside(RAW, output, box) > 40
    assert len(refinement.picture_item(key)["boxes"]) == 3


def test_a_message_delivered_twice_costs_one_inference(refinement: Refinement) -> None:
    # Given a picture this run refined already
    key = f"cam-1/{DAY}/0004.jpg"
    put_live_picture(refinement.stack, key)
    worker = refinement.worker()
    worker.process_batch([message(key, "m-1")], lambda: 60.0)

    # When the same message arrives again (SQS delivers at least once)
    result = worker.process_batch([message(key, "m-2")], lambda: 60.0)

    # Then it is deleted without calling the model again
    assert result.failed_message_ids == []
    assert result.outcomes == {"DUPLICATE": 1}
    assert refinement.model.calls["DetectCustomLabels"] == 1


def test_a_pass_writing_meanwhile_costs_no_second_inference_and_loses_no_box(
    refinement: Refinement,
) -> None:
    # Given a live-blurred person, and another run that refines the same raw version with a
    # worker's box while this worker's model call is under way
    key = f"cam-1/{DAY}/race.jpg"
    put_live_picture(refinement.stack, key, boxes=(PERSON,))
    pictures = BlurStateTable(refinement.stack.state_table, refinement.stack.dynamodb)
    worker_box = Box(0.4, 0.05, 0.15, 0.4, label="person", confidence=80.0, source="custom")

    def labels_while_another_run_writes(_params: dict[str, Any]) -> list[dict[str, Any]]:
        current = pictures.get(key)
        assert current is not None
        pictures.record_refined(
            current,
            [*current.boxes, worker_box],
            {"refine_run_id": f"{DAY}#other", "updated_at": "2026-11-25T03:00:00+00:00"},
        )
        return [custom_label("license_plate", PLATE)]

    refinement.model.labels = labels_while_another_run_writes

    # When this worker's conditional state write loses that race
    result = refinement.worker().process_batch([message(key)], lambda: 60.0)

    # Then it redid only the union and the write: one inference, every box in output and state
    assert result.failed_message_ids == []
    assert result.outcomes == {"REFINED": 1}
    assert refinement.model.calls["DetectCustomLabels"] == 1
    output = blurred(refinement, key)
    for box in (PLATE, WORKER, as_ratios(PERSON)):
        assert change_inside(RAW, output, box) > 40
    item = refinement.picture_item(key)
    assert item["refine_run_id"] == RUN_ID
    assert sorted(box["label"] for box in item["boxes"]) == ["license_plate", "person", "person"]


def test_a_missing_raw_picture_is_marked_and_not_retried(refinement: Refinement) -> None:
    # Given a picture whose raw object expired before its refinement
    key = f"cam-1/{DAY}/0005.jpg"
    item = put_live_picture(refinement.stack, key, boxes=(PERSON,))
    refinement.stack.s3.delete_object(
        Bucket=refinement.stack.raw_bucket, Key=key, VersionId=item["raw_version_id"]
    )

    # When the worker gets its message
    result = refinement.worker().process_batch([message(key)], lambda: 60.0)

    # Then the message is not returned to the queue, the item says RAW_MISSING, no inference
    assert result.failed_message_ids == []
    state = refinement.picture_item(key)
    assert state["status"] == Status.RAW_MISSING.value
    assert state["refine_outcome"] == "RAW_MISSING"
    assert refinement.model.calls["DetectCustomLabels"] == 0


def test_a_raw_picture_deleted_before_its_refinement_is_not_republished(
    refinement: Refinement,
) -> None:
    # Given a live-blurred picture whose raw object was then deleted (a delete marker), the
    # removal event not yet handled
    key = f"cam-1/{DAY}/deleted.jpg"
    put_live_picture(refinement.stack, key, boxes=(PERSON,))
    refinement.stack.s3.put_object(Bucket=refinement.stack.blurred_bucket, Key=key, Body=b"live")
    refinement.stack.s3.delete_object(Bucket=refinement.stack.raw_bucket, Key=key)

    # When the worker gets its message
    result = refinement.worker().process_batch([message(key)], lambda: 60.0)

    # Then it publishes nothing from the noncurrent version, and the item says why
    assert result.failed_message_ids == []
    assert result.outcomes == {"NOT_CURRENT": 1}
    body = refinement.stack.s3.get_object(Bucket=refinement.stack.blurred_bucket, Key=key)["Body"]
    assert body.read() == b"live"
    item = refinement.picture_item(key)
    assert (item["refine_outcome"], item["refine_reason"]) == ("NOT_CURRENT", "RAW_DELETED")


def test_partial_batch_failure_reports_exactly_the_failed_messages(
    refinement: Refinement,
) -> None:
    # Given a batch of a good picture, a malformed message, a picture Rekognition fails on,
    # and another good picture
    good = [f"cam-1/{DAY}/ok-{index}.jpg" for index in range(2)]
    failing = f"cam-1/{DAY}/server-error.jpg"
    for key in [*good, failing]:
        put_live_picture(refinement.stack, key)

    def labels(params: dict[str, Any]) -> list[dict[str, Any]]:
        if params["Image"].get("S3Object", {}).get("Name") == failing:
            raise FakeError("InternalServerError", "try again", status=500)
        return []

    refinement.model.labels = labels
    records = [
        message(good[0], "m-good-0"),
        sqs_record("m-malformed", "{not json"),
        message(failing, "m-failing"),
        message(good[1], "m-good-1"),
    ]

    # When the worker processes the batch
    response = refinement.worker().process_batch(records, lambda: 60.0).response()

    # Then only the malformed and the failed messages go back to the queue
    assert response == {
        "batchItemFailures": [{"itemIdentifier": "m-malformed"}, {"itemIdentifier": "m-failing"}]
    }
    assert refinement.picture_item(good[1])["status"] == Status.REFINED.value
    assert refinement.picture_item(failing)["status"] == Status.LIVE_BLURRED.value


def test_a_model_that_is_not_running_hands_the_whole_batch_back_untouched(
    refinement: Refinement,
) -> None:
    # Given a batch and a model that was stopped meanwhile
    keys = [f"cam-1/{DAY}/{index}.jpg" for index in range(3)]
    for key in keys:
        put_live_picture(refinement.stack, key, boxes=(PERSON,))
    refinement.model.answer("StopProjectVersion", {"ProjectVersionArn": VERSION_ARN})

    # When the worker processes it
    records = [message(key, f"m-{index}") for index, key in enumerate(keys)]
    result = refinement.worker().process_batch(records, lambda: 60.0)

    # Then every message returns to the queue after one model call, no state changed
    assert result.failed_message_ids == ["m-0", "m-1", "m-2"]
    assert refinement.model.calls["DetectCustomLabels"] == 1
    assert all(refinement.picture_item(key)["status"] == "LIVE_BLURRED" for key in keys)


def test_throttling_is_absorbed_with_backoff_inside_the_invocation(
    refinement: Refinement,
) -> None:
    # Given a model that serves one picture per second and a batch of four
    refinement.model.pictures_per_second_per_unit = 1
    keys = [f"cam-1/{DAY}/t{index}.jpg" for index in range(4)]
    for key in keys:
        put_live_picture(refinement.stack, key)
    records = [message(key, f"m-{index}") for index, key in enumerate(keys)]

    # When the worker processes it (the fake sleep moves the fake clock)
    result = refinement.worker().process_batch(records, lambda: 60.0)

    # Then the model throttled, and yet every picture was refined and no message returned
    assert refinement.model.throttled > 0
    assert result.failed_message_ids == []
    assert result.outcomes == {"REFINED": 4}


def test_messages_not_started_before_the_deadline_go_back_unprocessed(
    refinement: Refinement,
) -> None:
    # Given an invocation about to time out
    keys = [f"cam-1/{DAY}/d{index}.jpg" for index in range(2)]
    for key in keys:
        put_live_picture(refinement.stack, key)
    records = [message(key, f"m-{index}") for index, key in enumerate(keys)]

    # When the worker has less than its safety margin left
    result = refinement.worker().process_batch(records, lambda: DEADLINE_MARGIN_SECONDS - 1)

    # Then it touches nothing and hands both back
    assert result.failed_message_ids == ["m-0", "m-1"]
    assert refinement.model.calls["DetectCustomLabels"] == 0


def test_a_picture_the_model_refuses_keeps_its_live_result(refinement: Refinement) -> None:
    # Given a picture Custom Labels refuses
    key = f"cam-1/{DAY}/refused.jpg"
    put_live_picture(refinement.stack, key, boxes=(PERSON,))

    def refuse(_params: dict[str, Any]) -> list[dict[str, Any]]:
        raise FakeError("InvalidImageFormatException", "unsupported")

    refinement.model.labels = refuse

    # When the worker processes it
    result = refinement.worker().process_batch([message(key)], lambda: 60.0)

    # Then the message is not retried and the state keeps LIVE_BLURRED with the reason
    assert result.failed_message_ids == []
    item = refinement.picture_item(key)
    assert item["status"] == Status.LIVE_BLURRED.value
    assert (item["refine_outcome"], item["refine_reason"]) == ("REJECTED", "REKOGNITION_REFUSED")


def test_labels_below_the_confidence_or_not_configured_are_not_blurred(
    refinement: Refinement,
) -> None:
    # Given a model answer with a weak plate and a configured label only
    key = f"cam-1/{DAY}/weak.jpg"
    put_live_picture(refinement.stack, key)
    thresholds: list[float] = []

    def answer(params: dict[str, Any]) -> list[dict[str, Any]]:
        thresholds.append(params["MinConfidence"])
        return [custom_label("license_plate", PLATE, 30.0), custom_label("crane", WORKER)]

    refinement.model.labels = answer

    # When the worker runs with a 60 % threshold
    refinement.worker(CUSTOM_MIN_CONFIDENCE="60").process_batch([message(key)], lambda: 60.0)

    # Then neither region is blurred, and the worker sent its threshold to the model
    output = blurred(refinement, key)
    assert change_inside(RAW, output, PLATE) < 8
    assert change_inside(RAW, output, WORKER) < 8
    assert refinement.picture_item(key)["boxes"] == []
    assert thresholds == [60.0]


def test_an_empty_batch_is_a_success(refinement: Refinement) -> None:
    # Lambda never sends one, but a hand-made test invocation may: it must not raise
    assert refinement.worker().process_batch([], lambda: 60.0).response() == {
        "batchItemFailures": []
    }


def test_an_erasure_between_the_check_and_the_write_leaves_no_copy(
    refinement: Refinement, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a picture erased (raw versions, item, blurred versions) while the worker encodes
    key = f"cam-1/{DAY}/erased.jpg"
    stack = refinement.stack
    put_live_picture(stack, key, boxes=(PERSON,))
    refinement.model.labels = lambda _params: []
    original = PictureStore.write_jpeg

    def erase_then_write(self: PictureStore, bucket: str, target: str, data: bytes) -> None:
        for name in (stack.raw_bucket, stack.blurred_bucket):
            for version in stack.s3.list_object_versions(Bucket=name).get("Versions", []):
                stack.s3.delete_object(
                    Bucket=name, Key=version["Key"], VersionId=version["VersionId"]
                )
        stack.dynamodb.Table(stack.state_table).delete_item(
            Key={"pk": picture_pk(key), "sk": "STATE"}
        )
        original(self, bucket, target, data)

    monkeypatch.setattr(PictureStore, "write_jpeg", erase_then_write)
    # When the worker finishes its write
    result = refinement.worker().process_batch([message(key)], lambda: 60.0)
    # Then no blurred version of the erased picture is left, and nothing is retried
    assert result.failed_message_ids == []
    assert stack.s3.list_object_versions(Bucket=stack.blurred_bucket).get("Versions", []) == []
