"""camblur end to end through the deployed wiring, with the machinery of `make demo`.

Given environments/local applied by its real Terraform to the embedded AWS endpoint, the local
Rekognition endpoint, and the built Lambda zip,
when sample camera pictures are uploaded (S3's notifications, as deployed, reach live_blur
through the live queue and its mapping)
and the daily refinement runs as deployed (schedule, reconciler ticks, queue mapping, worker),
then only good pictures have blurred copies, the pixels inside every recorded box changed and
nowhere else, outputs carry no metadata, the state table tells each picture's fate, the model
ran once and was stopped, plates are blurred, the queues are empty, and delivering the same
upload again does no work twice. Renaming a handler or an environment variable in the deployed
configuration without the code (or the code without the configuration) fails loudly.

Only AWS is stood in for (moto, the local Rekognition); every function runs the artifact's code.
The session's one deployment (tests/integration/conftest.py; terraform apply takes about a
minute and a half); the tests read its outcome in order and the last ones change the deployed
configuration, then restore it. Their uploads go under cameras/wiring-check/, apart from the
samples'.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import numpy as np
import pytest
from PIL import Image, ImageOps

from devtools import samples
from devtools.deliver import WiringError
from devtools.demo import (
    LocalEnvironment,
    RefinementReport,
    Upload,
    run_refinement,
    snapshot_blurred,
    upload_samples,
)
from tests.support.pictures import jpeg_segments

pytestmark = pytest.mark.integration

MCU = 16  # JPEG 4:2:0 blocks: an untouched block decodes identically, its neighbours may not


@dataclass
class LiveRun:
    uploads: list[Upload]
    states: dict[str, dict[str, Any]]
    blurred: dict[str, bytes | None]  # raw key -> blurred copy as the live pass left it
    calls: dict[str, Any]


@dataclass
class RefineRun:
    report: RefinementReport
    states: dict[str, dict[str, Any]]
    blurred: dict[str, bytes | None]
    calls: dict[str, Any]


@pytest.fixture(scope="module")
def env(local_environment: LocalEnvironment) -> LocalEnvironment:
    """The session's deployment of environments/local (tests/integration/conftest.py)."""
    return local_environment


@pytest.fixture(scope="module")
def live(env: LocalEnvironment) -> LiveRun:
    uploads = upload_samples(env, samples.generate())
    return LiveRun(
        uploads, env.picture_states(), snapshot_blurred(env, uploads), env.rekognition.calls()
    )


@pytest.fixture(scope="module")
def refined(env: LocalEnvironment, live: LiveRun) -> RefineRun:
    report = run_refinement(env, tick_seconds=1.0)
    return RefineRun(
        report,
        env.picture_states(),
        snapshot_blurred(env, live.uploads),
        env.rekognition.calls(),
    )


# ------------------------------------------------------------------------------ helpers


def upright(data: bytes) -> np.ndarray:
    """The picture as the functions see it: JPEGs turned by their EXIF orientation, RGB."""
    image = Image.open(io.BytesIO(data))
    if image.format == "JPEG":
        image = ImageOps.exif_transpose(image)
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def reencoded(pixels: np.ndarray, quality: int) -> np.ndarray:
    """The same pixels through the same JPEG encoder, without any box: the 'nothing changed' reference."""
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(buffer, format="JPEG", quality=quality)
    return upright(buffer.getvalue())


def pixel_box(box: dict[str, Any], width: int, height: int, margin: float = 0.0) -> tuple[int, ...]:
    left, top = float(box["left"]), float(box["top"])
    box_width, box_height = float(box["width"]), float(box["height"])
    return (
        max(0, int((left - margin * box_width) * width)),
        max(0, int((top - margin * box_height) * height)),
        min(width, int((left + box_width + margin * box_width) * width + 1)),
        min(height, int((top + box_height + margin * box_height) * height + 1)),
    )


def blur_settings(env: LocalEnvironment, function: str) -> tuple[float, int]:
    variables = env.delivery.lambdas.configuration(env.deployment.functions[function])[
        "Environment"
    ]["Variables"]
    return float(variables.get("BLUR_MARGIN", "0.2")), int(variables.get("JPEG_QUALITY", "85"))


def assert_only_boxes_changed(
    raw: bytes, blurred: bytes, boxes: list[dict[str, Any]], margin: float, quality: int
) -> None:
    """Inside every box the pixels changed; away from the boxes, not a single pixel did."""
    original = upright(raw)
    output = upright(blurred)
    assert output.shape == original.shape
    height, width = original.shape[:2]
    reference = reencoded(original, quality)
    untouched = np.ones((height, width), dtype=bool)
    for box in boxes:
        left, top, right, bottom = pixel_box(box, width, height)
        inside = np.abs(output[top:bottom, left:right] - original[top:bottom, left:right])
        assert inside.mean() > 8, f"box {box} looks unchanged (mean difference {inside.mean():.1f})"
        assert (inside.max(axis=2) > 4).mean() > 0.5, f"box {box}: most pixels unchanged"
        # Outside the grown box and the JPEG blocks it touches, nothing may change.
        g_left, g_top, g_right, g_bottom = pixel_box(box, width, height, margin)
        untouched[
            max(0, (g_top // MCU - 1) * MCU) : min(height, (-(-g_bottom // MCU) + 1) * MCU),
            max(0, (g_left // MCU - 1) * MCU) : min(width, (-(-g_right // MCU) + 1) * MCU),
        ] = False
    assert untouched.any()
    difference = np.abs(output - reference).max(axis=2)[untouched]
    assert difference.max() == 0, f"{(difference > 0).sum()} pixels changed away from the boxes"


def good(uploads: list[Upload]) -> list[Upload]:
    return [upload for upload in uploads if upload.sample.expect != "rejected"]


# -------------------------------------------------------------------------- live pass


def test_every_upload_reached_live_blur_once_and_succeeded(live: LiveRun) -> None:
    for upload in live.uploads:
        assert len(upload.outcomes) == 1, f"{upload.key}: {len(upload.outcomes)} notifications"
        [outcome] = upload.outcomes
        assert outcome.ok and len(outcome.attempts) == 1, f"{upload.key}: {upload.error}"


def test_blurred_copies_exist_only_for_good_pictures(env: LocalEnvironment, live: LiveRun) -> None:
    listed = env.clients.s3.list_objects_v2(Bucket=env.deployment.blurred_bucket)
    keys = {item["Key"] for item in listed.get("Contents", [])}

    expected = {
        upload.key if upload.key.endswith(".jpg") else f"{upload.key}.jpg"
        for upload in good(live.uploads)
    }
    assert keys == expected


def test_pixels_changed_inside_every_box_and_nowhere_else(
    env: LocalEnvironment, live: LiveRun
) -> None:
    margin, quality = blur_settings(env, "live_blur")
    for upload in good(live.uploads):
        boxes = live.states[upload.key]["boxes"]
        persons = [box for box in boxes if box["label"] == "person"]
        plates = [box for box in boxes if box["label"] == "license_plate"]
        assert len(persons) == upload.sample.persons, upload.key
        assert len(plates) >= upload.sample.plates, upload.key  # from the first write on
        assert_only_boxes_changed(
            upload.sample.data, live.blurred[upload.key] or b"", boxes, margin, quality
        )


def test_state_table_tells_each_pictures_fate(live: LiveRun) -> None:
    for upload in live.uploads:
        item = live.states[upload.key]
        assert item["raw_version_id"] == upload.version_id
        assert item["capture_day"], upload.key
        if upload.sample.expect == "rejected":
            assert item["status"] == "REJECTED"
            assert item["reason"] == "CORRUPT_IMAGE"
            assert "blurred_key" not in item
        else:
            assert item["status"] == "LIVE_BLURRED", upload.key
            assert item["detector_model_version"].startswith("local-opencv-")


def test_rekognition_saw_each_good_picture_once(live: LiveRun) -> None:
    assert live.calls["calls"].get("DetectLabels") == len(good(live.uploads))
    assert "StartProjectVersion" not in live.calls["calls"]


# ------------------------------------------------------------------------- refinement


def test_the_refinement_ran_from_the_deployed_schedule(
    env: LocalEnvironment, refined: RefineRun
) -> None:
    """The daily schedule's own input, its scheduled-time keyword filled in by 'Scheduler'."""
    outcome = refined.report.schedule
    assert outcome.function == env.deployment.functions["refine_schedule"]
    assert set(outcome.event) == {"scheduled_time"}, outcome.event
    assert outcome.last.payload["status"] == "QUEUED"


def test_refinement_started_the_model_once_and_stopped_it(
    env: LocalEnvironment, refined: RefineRun
) -> None:
    [model] = refined.calls["models"].values()
    assert model["starts"] == 1
    assert model["stops"] == 1
    assert model["status"] in ("STOPPING", "STOPPED")
    assert refined.report.ticks[-1]["result"] == "CLOSED"
    assert not env.delivery.mappings.enabled(env.deployment.refine_mapping_uuid)


def test_refinement_blurred_the_plates(
    env: LocalEnvironment, live: LiveRun, refined: RefineRun
) -> None:
    margin, quality = blur_settings(env, "refine_worker")
    for upload in good(live.uploads):
        item = refined.states[upload.key]
        assert item["status"] == "REFINED", upload.key
        boxes = item["boxes"]
        plates = [
            box for box in boxes if box["label"] == "license_plate" and box["source"] == "custom"
        ]
        assert len(plates) == upload.sample.plates, upload.key
        # Every box the live pass stored is still there: refinement only adds.
        live_boxes = live.states[upload.key]["boxes"]
        assert all(box in boxes for box in live_boxes), upload.key
        assert_only_boxes_changed(
            upload.sample.data, refined.blurred[upload.key] or b"", boxes, margin, quality
        )
        if plates:
            # packaged_ocr, run for real inside the live function on the van DetectLabels
            # boxed, found the plate itself (besides DetectLabels' own License Plate box).
            ocr = [box for box in live_boxes if box["source"] == "packaged_ocr"]
            assert len(ocr) >= upload.sample.plates, f"{upload.key}: packaged_ocr found no plate"
            # The plate was anonymised from the live pass's first write on (License Plate
            # boxes of DetectLabels, or the plate localiser inside vehicles), and stays so.
            raw = upright(upload.sample.data)
            for stage, output in (("live", live.blurred), ("refined", refined.blurred)):
                after = upright(output[upload.key] or b"")
                left, top, right, bottom = pixel_box(plates[0], raw.shape[1], raw.shape[0])
                change = np.abs(after[top:bottom, left:right] - raw[top:bottom, left:right]).mean()
                assert change > 8, f"{upload.key}: plate readable after the {stage} pass"


def test_queues_and_dead_letter_queues_are_empty(
    env: LocalEnvironment, live: LiveRun, refined: RefineRun
) -> None:
    assert refined.report.messages == len(good(live.uploads))
    assert refined.report.failed_messages == 0
    depths = env.queues()
    # The live queue too: the s3:TestEvent S3 sent it when Terraform wrote the notification
    # was handled (deleted unread) with the first batch, not dead-lettered.
    assert set(depths) == {"refine queue", "refine DLQ", "live queue", "live DLQ"}
    assert all(depth == (0, 0) for depth in depths.values()), depths


def test_outputs_carry_no_metadata(live: LiveRun, refined: RefineRun) -> None:
    for upload in good(live.uploads):
        for stage, data in (
            ("live", live.blurred[upload.key]),
            ("refined", refined.blurred[upload.key]),
        ):
            markers = jpeg_segments(data or b"")
            assert 0xE1 not in markers, f"{upload.key} ({stage}): EXIF/XMP left"
            assert 0xED not in markers, f"{upload.key} ({stage}): IPTC left"
            assert 0xFE not in markers, f"{upload.key} ({stage}): comment left"
            assert 0xE2 not in markers, f"{upload.key} ({stage}): a colour profile it did not have"


def test_delivering_the_same_uploads_again_does_no_work(
    env: LocalEnvironment, live: LiveRun, refined: RefineRun
) -> None:
    """S3 delivers at least once: the same notifications again change nothing and cost nothing."""
    versions_before = {
        upload.key: env.blurred_versions(live.states[upload.key]["blurred_key"])
        for upload in good(live.uploads)
    }

    for upload in live.uploads:
        [outcome] = env.delivery.s3.object_created(
            env.deployment.raw_bucket, upload.key, upload.version_id, len(upload.sample.data)
        )
        assert outcome.ok, outcome.last.error  # handled (the message deleted), not failed
    schedule = env.delivery.schedules.for_function(env.deployment.functions["refine_schedule"])
    again = env.delivery.schedules.fire(schedule, _scheduled_time(refined))

    calls = env.rekognition.calls()
    for operation in ("DetectLabels", "DetectCustomLabels", "StartProjectVersion"):
        assert calls["calls"].get(operation) == refined.calls["calls"].get(operation), operation
    assert again.ok, again.last.error
    assert again.last.payload["status"] != "QUEUED", again.last.payload  # the day's run is done
    assert env.queues()["refine queue"] == (0, 0)
    assert env.picture_states() == refined.states
    for key, count in versions_before.items():
        assert env.blurred_versions(live.states[key]["blurred_key"]) == count


def _scheduled_time(refined: RefineRun) -> datetime | None:
    event = refined.report.schedule.event
    moment = event.get("scheduled_time")
    return datetime.fromisoformat(moment.replace("Z", "+00:00")) if moment else None


# ------------------------------------------------ Terraform and code must agree (wiring)


@pytest.fixture
def live_function(env: LocalEnvironment) -> Iterator[dict[str, Any]]:
    """live_blur's deployed configuration; whatever a test changes in it is put back."""
    name = env.deployment.functions["live_blur"]
    lambda_ = env.clients.lambda_
    original = lambda_.get_function_configuration(FunctionName=name)
    yield original
    lambda_.update_function_configuration(
        FunctionName=name, Handler=original["Handler"], Environment=original["Environment"]
    )
    dead_letters = env.clients.queue_url(
        lambda_.get_function_event_invoke_config(FunctionName=name)["DestinationConfig"][
            "OnFailure"
        ]["Destination"]
    )
    while messages := env.clients.sqs.receive_message(
        QueueUrl=dead_letters, MaxNumberOfMessages=10
    ).get("Messages", []):
        for message in messages:
            env.clients.sqs.delete_message(
                QueueUrl=dead_letters, ReceiptHandle=message["ReceiptHandle"]
            )


def upload_one(env: LocalEnvironment, name: str) -> tuple[str, Any]:
    picture = samples.generate()[0]
    key = f"cameras/wiring-check/{name}.jpg"
    [outcome] = env.delivery.s3.put_object(
        env.deployment.raw_bucket, key, picture.data, picture.content_type
    )
    return key, outcome


def dead_letter(env: LocalEnvironment, outcome: Any) -> dict[str, Any]:
    """The S3 event in the live DLQ: the live queue's message itself (its redrive policy
    moved it), or the requestPayload of Lambda's on-failure record (live_trigger s3_async)."""
    assert outcome.failure_destination, "nothing was dead-lettered"
    url = env.clients.queue_url(outcome.failure_destination)
    [message] = env.clients.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    # Read and removed: a message left in flight would outlast the fixture's purge.
    env.clients.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    body = json.loads(message["Body"])
    return dict(body.get("requestPayload", body))


def receives_before_dead_letter(env: LocalEnvironment) -> int:
    """Every delivery attempt the deployed trigger makes: the live queue's maxReceiveCount,
    or Lambda's first asynchronous attempt and two retries."""
    queue = env.live_queue_arn()
    if queue is None:
        return 3
    policy = env.clients.sqs.get_queue_attributes(
        QueueUrl=env.clients.queue_url(queue), AttributeNames=["RedrivePolicy"]
    )["Attributes"]["RedrivePolicy"]
    return int(json.loads(policy)["maxReceiveCount"])


@pytest.mark.parametrize(
    "handler",
    [
        "camblur.handlers.live.handle",  # Terraform renamed the function, the code did not
        "camblur.handlers.live_blur.handler",  # the code's module renamed, Terraform not
    ],
)
def test_a_handler_renamed_on_one_side_fails_loudly(
    env: LocalEnvironment, live_function: dict[str, Any], handler: str
) -> None:
    env.clients.lambda_.update_function_configuration(
        FunctionName=live_function["FunctionName"], Handler=handler
    )

    key, outcome = upload_one(env, "renamed-handler")

    assert not outcome.ok
    assert len(outcome.attempts) == receives_before_dead_letter(env)  # every attempt failed
    assert outcome.last.payload["errorType"] in (
        "Runtime.HandlerNotFound",
        "Runtime.ImportModuleError",
    )
    event = dead_letter(env, outcome)
    assert event["Records"][0]["s3"]["object"]["key"] == quote_plus(key, safe="/")
    assert key not in env.picture_states(), "nothing may have run"


@pytest.mark.parametrize("variable", ["STATE_TABLE", "BLURRED_BUCKET"])
def test_an_environment_variable_renamed_on_one_side_fails_loudly(
    env: LocalEnvironment, live_function: dict[str, Any], variable: str
) -> None:
    """Terraform renames the variable (or the code starts reading a new name): same result."""
    variables = dict(live_function["Environment"]["Variables"])
    variables[f"{variable}_NAME"] = variables.pop(variable)
    env.clients.lambda_.update_function_configuration(
        FunctionName=live_function["FunctionName"], Environment={"Variables": variables}
    )

    key, outcome = upload_one(env, f"renamed-{variable.lower()}")

    assert not outcome.ok
    assert outcome.last.payload["errorType"] == "ConfigError"
    assert f"environment variable {variable} is required" in outcome.last.payload["errorMessage"]
    assert dead_letter(env, outcome)["Records"][0]["s3"]["object"]["key"] == quote_plus(
        key, safe="/"
    )
    assert key not in env.picture_states()


def test_the_wiring_works_again_once_both_sides_agree(
    env: LocalEnvironment, live_function: dict[str, Any]
) -> None:
    key, outcome = upload_one(env, "restored")

    assert outcome.ok, outcome.last.error
    assert env.picture_states()[key]["status"] == "LIVE_BLURRED"


def test_code_that_is_not_the_artifact_is_refused(env: LocalEnvironment, tmp_path: Path) -> None:
    """Delivery runs only the code Terraform deployed: another zip in Lambda fails loudly."""
    name = env.deployment.functions["refine_worker"]
    lambda_ = env.clients.lambda_
    original = env.delivery.code.zip_path.read_bytes()
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("camblur/__init__.py", "")
    lambda_.update_function_code(FunctionName=name, ZipFile=other.read_bytes())
    try:
        with pytest.raises(WiringError, match="is not"):
            env.delivery.lambdas.invoke(name, {"Records": []})
    finally:
        lambda_.update_function_code(FunctionName=name, ZipFile=original)
    assert env.delivery.lambdas.invoke(name, {"Records": []}).ok
