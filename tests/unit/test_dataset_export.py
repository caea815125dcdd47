"""`camblur dataset export`: a Rekognition Custom Labels training manifest from reviewed pictures,
checked field by field against the documented Ground Truth object-detection format, and the
correction commands as an operator types them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from typer.testing import CliRunner

from camblur.adapters.state import picture_pk
from camblur.core.boxes import Box
from camblur_cli import corrections
from camblur_cli.deployment import Deployment
from camblur_cli.main import app
from tests.support.aws import REGION, Stack

runner = CliRunner()
DAY = "2026-11-25"


def picture(stack: Stack, key: str, status: str = "REFINED", reviewed: bool = True, **extra: Any):
    item = {
        "pk": picture_pk(key),
        "sk": "STATE",
        "raw_key": key,
        "raw_version_id": "v1",
        "camera_id": key.split("/")[0],
        "capture_day": DAY,
        "captured_at": f"{DAY}T10:00:00+00:00",
        "status": status,
        "width": 640,
        "height": 480,
        "boxes": [
            Box(0.1, 0.2, 0.3, 0.4, "person", 97.0, "live").to_item(),
            Box(0.6, 0.7, 0.1, 0.05, "license_plate", 80.0, "packaged_ocr").to_item(),
            Box(0.5, 0.1, 0.1, 0.3, "person", 71.0, "custom").to_item(),
            Box(0.0, 0.0, 0.2, 0.2, "zone", 100.0, "zone").to_item(),
        ],
        **extra,
    }
    if reviewed:
        item |= {"reviewed_at": f"{DAY}T12:00:00+00:00", "reviewed_by": "dpo"}
    stack.dynamodb.Table(stack.state_table).put_item(Item=item)


@pytest.fixture
def outputs(stack: Stack, tmp_path: Path) -> Path:
    path = tmp_path / "outputs.json"
    names = {
        "raw_bucket": stack.raw_bucket,
        "blurred_bucket": stack.blurred_bucket,
        "state_table": stack.state_table,
        "queue_names": {"live": "camblur-test-live"},
    }
    path.write_text(json.dumps({name: {"value": value} for name, value in names.items()}))
    boto3.client("sqs", region_name=REGION).create_queue(QueueName="camblur-test-live")
    return path


def camblur(outputs: Path, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, [*args, "--env", "dev", "--outputs", str(outputs)])
    assert result.exit_code == code, result.output
    return result.output


def validate_ground_truth_line(line: dict[str, Any]) -> None:
    """The fields Rekognition Custom Labels documents for an object localization JSON line
    (SageMaker Ground Truth bounding box job output): source-ref; a label attribute with
    image_size [{width, height, depth}] and annotations [{class_id, left, top, width, height}]
    in pixels; its "-metadata" with objects [{confidence}], class-map, type
    "groundtruth/object-detection", human-annotated, creation-date and job-name."""
    assert re.fullmatch(r"s3://[a-z0-9.-]{3,63}/.+", line["source-ref"])
    labels = [name for name in line if name != "source-ref" and not name.endswith("-metadata")]
    assert len(labels) == 1, "one label attribute"
    label = labels[0]
    assert set(line) == {"source-ref", label, f"{label}-metadata"}
    boxes, metadata = line[label], line[f"{label}-metadata"]
    assert set(boxes) == {"image_size", "annotations"}
    (size,) = boxes["image_size"]
    assert set(size) == {"width", "height", "depth"}
    assert all(isinstance(size[name], int) and size[name] > 0 for name in size)
    assert size["depth"] == 3
    assert boxes["annotations"], "at least one object"
    for annotation in boxes["annotations"]:
        assert set(annotation) == {"class_id", "left", "top", "width", "height"}
        assert all(isinstance(value, int) for value in annotation.values())
        assert annotation["left"] >= 0 and annotation["top"] >= 0
        assert annotation["width"] >= 1 and annotation["height"] >= 1
        assert annotation["left"] + annotation["width"] <= size["width"]
        assert annotation["top"] + annotation["height"] <= size["height"]
        assert str(annotation["class_id"]) in metadata["class-map"]
    assert set(metadata) == {
        "objects",
        "class-map",
        "type",
        "human-annotated",
        "creation-date",
        "job-name",
    }
    assert len(metadata["objects"]) == len(boxes["annotations"])
    assert all(set(obj) == {"confidence"} for obj in metadata["objects"])
    assert all(isinstance(key, str) and key.isdigit() for key in metadata["class-map"])
    assert metadata["type"] == "groundtruth/object-detection"
    assert metadata["human-annotated"] in ("yes", "no")
    datetime.strptime(metadata["creation-date"], "%Y-%m-%dT%H:%M:%S")
    assert isinstance(metadata["job-name"], str) and metadata["job-name"]


def test_the_export_is_a_valid_manifest_of_reviewed_pictures_only(
    stack: Stack, outputs: Path, tmp_path: Path
) -> None:
    # Given reviewed pictures of cam-1 (one with a manual box not re-blurred yet), one not
    # reviewed, one whose raw is gone, and a reviewed one of cam-2
    manual = {
        "box_id": "b1", "left": Decimal("0.8"), "top": Decimal("0.1"),
        "width": Decimal("0.1"), "height": Decimal("0.2"),
        "label": "person", "added_by": "dpo", "added_at": f"{DAY}T11:00:00+00:00",
    }  # fmt: skip
    picture(stack, f"cam-1/{DAY}/a.jpg", manual_boxes=[manual])
    picture(stack, f"cam-1/{DAY}/b.jpg", status="LIVE_BLURRED")
    picture(stack, f"cam-1/{DAY}/c.jpg", reviewed=False)
    picture(stack, f"cam-1/{DAY}/d.jpg", status="RAW_MISSING")
    picture(stack, f"cam-2/{DAY}/e.jpg")
    # When cam-1 is exported to a local file
    target = tmp_path / "train.manifest"
    printed = camblur(outputs, "dataset", "export", "--camera", "cam-1", "--to", str(target))
    # Then every line is a valid Ground Truth object-detection line
    lines = [json.loads(text) for text in target.read_text().splitlines()]
    for line in lines:
        validate_ground_truth_line(line)
    # And only the reviewed pictures with a raw picture are in it, pointing at the raw bucket
    assert sorted(line["source-ref"] for line in lines) == [
        f"s3://{stack.raw_bucket}/cam-1/{DAY}/a.jpg",
        f"s3://{stack.raw_bucket}/cam-1/{DAY}/b.jpg",
    ]
    # And every person and plate of every source is there in pixels, zones are not
    first = next(line for line in lines if line["source-ref"].endswith("a.jpg"))
    annotations = first["bounding-box"]["annotations"]
    assert annotations == [
        {"class_id": 0, "left": 64, "top": 96, "width": 192, "height": 192},  # live person
        {"class_id": 1, "left": 384, "top": 336, "width": 64, "height": 24},  # plate
        {"class_id": 0, "left": 320, "top": 48, "width": 64, "height": 144},  # the model's
        {"class_id": 0, "left": 512, "top": 48, "width": 64, "height": 96},  # manual
    ]
    assert first["bounding-box-metadata"]["class-map"] == {"0": "person", "1": "license_plate"}
    assert "2 picture(s), 7 box(es)" in printed and "status RAW_MISSING" in printed


def test_the_export_goes_to_s3_and_selects_by_day_or_every_review(
    stack: Stack, outputs: Path
) -> None:
    picture(stack, f"cam-1/{DAY}/a.jpg")
    picture(stack, f"cam-2/{DAY}/e.jpg")
    picture(stack, "cam-3/2026-11-24/f.jpg", capture_day="2026-11-24")
    stack.s3.create_bucket(
        Bucket="camblur-test-training", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    for selection, expected in ((["--day", DAY], 2), (["--reviewed"], 3)):
        printed = camblur(
            outputs, "dataset", "export", *selection, "--to", "s3://camblur-test-training/sets"
        )
        uri = re.search(r"s3://camblur-test-training/\S+\.manifest", printed)
        assert uri is not None, printed
        key = uri.group(0).removeprefix("s3://camblur-test-training/")
        body = stack.s3.get_object(Bucket="camblur-test-training", Key=key)["Body"].read()
        lines = [json.loads(text) for text in body.decode().splitlines()]
        assert len(lines) == expected
        for line in lines:
            validate_ground_truth_line(line)
    # A manifest never goes into the raw bucket (it would reach the live function)
    camblur(
        outputs, "dataset", "export", "--reviewed", "--to", f"s3://{stack.raw_bucket}/x", code=1
    )
    camblur(outputs, "dataset", "export", "--camera", "cam-1", "--reviewed", code=2)


def test_zones_and_a_manual_box_as_the_operator_types_them(stack: Stack, outputs: Path) -> None:
    # Given a published picture of cam-1
    picture(stack, f"cam-1/{DAY}/a.jpg", status="LIVE_BLURRED")
    # When the operator sets a rectangle and a polygon zone, lists, and removes one
    camblur(outputs, "zones", "set", "cam-1", "--rect", "0,0,0.25,0.25")
    camblur(outputs, "zones", "set", "cam-1", "--polygon", "0.5,0.5,0.9,0.5,0.7,0.9")
    listed = json.loads(camblur(outputs, "zones", "list", "cam-1", "--json"))
    assert [(zone["zone_id"], zone["shape"]) for zone in listed] == [
        ("zone-1", "rectangle"),
        ("zone-2", "polygon"),
    ]
    assert listed[1]["anonymised"] == pytest.approx([0.5, 0.5, 0.4, 0.4])
    camblur(outputs, "zones", "remove", "cam-1", "zone-1", "--yes")
    assert [
        z["zone_id"] for z in json.loads(camblur(outputs, "zones", "list", "cam-1", "--json"))
    ] == ["zone-2"]
    # And adds a box to the picture
    printed = camblur(outputs, "blur", f"cam-1/{DAY}/a.jpg", "--box", "0.5,0.5,0.2,0.2")
    assert "re-blur requested via the live queue" in printed
    # Then the item holds it with who added it, and the live queue a reblur message
    item = stack.dynamodb.Table(stack.state_table).get_item(
        Key={"pk": picture_pk(f"cam-1/{DAY}/a.jpg"), "sk": "STATE"}
    )["Item"]
    assert item["manual_boxes"][0]["added_by"].startswith("arn:aws:")
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName="camblur-test-live")["QueueUrl"]
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    assert json.loads(message["Body"])["Key"] == f"cam-1/{DAY}/a.jpg"
    # And bad input is named, not a traceback
    camblur(outputs, "blur", f"cam-1/{DAY}/a.jpg", "--box", "0.5,0.5", code=2)
    camblur(outputs, "blur", f"cam-1/{DAY}/none.jpg", "--box", "0.1,0.1,0.1,0.1", code=1)
    camblur(outputs, "zones", "set", "cam-1", "--rect", "0.9,0.9,0.5,0.5", code=1)


def test_with_the_s3_async_trigger_the_live_function_is_invoked_with_the_payload(
    stack: Stack, outputs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    picture(stack, f"cam-1/{DAY}/a.jpg", status="LIVE_BLURRED")
    deployment = Deployment(
        stack.raw_bucket,
        stack.blurred_bucket,
        stack.state_table,
        queue_names={"live": None},
        function_names={"live_blur": "camblur-test-live-blur"},
        region=REGION,
    )
    lambda_client = boto3.client("lambda", region_name=REGION)
    stubber = Stubber(lambda_client)
    stubber.add_response(
        "invoke",
        {"StatusCode": 202},
        {"FunctionName": "camblur-test-live-blur", "InvocationType": "Event", "Payload": ANY},
    )
    real = Deployment.client
    monkeypatch.setattr(
        Deployment,
        "client",
        lambda self, service: lambda_client if service == "lambda" else real(self, service),
    )
    with stubber:
        result = corrections.add_manual_box(
            deployment, f"cam-1/{DAY}/a.jpg", 0.1, 0.1, 0.2, 0.2, "plate", "dpo",
            clock=lambda: datetime(2026, 11, 25, 12, tzinfo=UTC),
        )  # fmt: skip
    assert result.requested_via == "live_function"
    stubber.assert_no_pending_responses()
