"""The local Rekognition endpoint speaks the protocol boto3 and camblur's adapters expect.

The endpoint (devtools/local_rekognition.py) is development tooling: it stands in for Amazon
Rekognition in the embedded environment. These tests talk to it over 127.0.0.1 with real boto3
clients, the way the deployed functions do.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from PIL import Image

from camblur.adapters.rekognition import (
    CustomLabelsDetector,
    DetectionInput,
    ModelControl,
    PeopleDetector,
)
from devtools import samples
from devtools.local_rekognition import (
    LocalRekognition,
    OpenCvDetector,
    ScriptedDetector,
    fetch_calls,
)
from tests.support.aws import REGION, create_bucket
from tests.support.pictures import astronaut, jpeg_bytes

PROJECT_ARN = "arn:aws:rekognition:eu-west-1:123456789012:project/site/1700000000000"
VERSION_ARN = (
    "arn:aws:rekognition:eu-west-1:123456789012:project/site/version/site.v1/1700000000001"
)
# scikit-image's astronaut: her face lies around x 177..272, y 66..161 of 512x512.
ASTRONAUT_FACE = (177 / 512, 66 / 512, 272 / 512, 161 / 512)


@pytest.fixture(scope="module")
def detector() -> OpenCvDetector:
    return OpenCvDetector()


@pytest.fixture(scope="module")
def scenes() -> list[samples.Sample]:
    """The demo's pictures: [0] two persons and a van, [3] a van only, [-1] a truncated JPEG."""
    return samples.generate()


def client_for(service: LocalRekognition) -> Any:
    return boto3.client("rekognition", endpoint_url=service.url, region_name=REGION)


@pytest.fixture
def rekognition(detector: OpenCvDetector) -> Iterator[tuple[LocalRekognition, Any]]:
    with LocalRekognition(detector, model_start_seconds=0.3, model_stop_seconds=0.2) as service:
        yield service, client_for(service)


def contains(box: dict[str, float], region: tuple[float, float, float, float]) -> bool:
    left, top, right, bottom = region
    return (
        box["Left"] <= left
        and box["Top"] <= top
        and box["Left"] + box["Width"] >= right
        and box["Top"] + box["Height"] >= bottom
    )


def test_detect_labels_reports_the_astronaut_as_a_person(rekognition: Any) -> None:
    _, client = rekognition

    response = client.detect_labels(
        Image={"Bytes": jpeg_bytes(astronaut())},
        MinConfidence=50,
        Features=["GENERAL_LABELS"],
        Settings={"GeneralLabels": {"LabelInclusionFilters": ["Person"]}},
    )

    assert response["LabelModelVersion"].startswith("local-opencv-")
    [person] = response["Labels"]
    assert person["Name"] == "Person"
    [instance] = person["Instances"]
    assert instance["Confidence"] >= 50
    assert contains(instance["BoundingBox"], ASTRONAUT_FACE)  # head and body, not just the face


def test_inclusion_filter_and_confidence_are_honoured(
    rekognition: Any, scenes: list[samples.Sample]
) -> None:
    _, client = rekognition
    scene = scenes[0].data

    everything = client.detect_labels(Image={"Bytes": scene})
    plates_only = client.detect_labels(
        Image={"Bytes": scene},
        Settings={"GeneralLabels": {"LabelInclusionFilters": ["License Plate"]}},
    )
    too_sure = client.detect_labels(Image={"Bytes": scene}, MinConfidence=99.9)

    assert {label["Name"] for label in everything["Labels"]} == {"Person", "License Plate", "Van"}
    assert [label["Name"] for label in plates_only["Labels"]] == ["License Plate"]
    assert too_sure["Labels"] == []


def test_the_live_pass_adapter_gets_person_boxes(
    rekognition: Any, scenes: list[samples.Sample]
) -> None:
    """camblur's own PeopleDetector, with its boto3 client pointed at the endpoint."""
    _, client = rekognition
    scene = scenes[0]

    detection = PeopleDetector(50.0, rekognition=client).detect(DetectionInput(jpeg=scene.data))

    persons = [box for box in detection.boxes if box.label == "person"]
    assert len(persons) == scene.persons
    assert all(box.width > 0.1 for box in persons)
    # The live call asks for "License Plate" too, and the endpoint's plate finder answers it.
    plates = [box for box in detection.boxes if box.label == "license_plate"]
    assert [box.source for box in plates] == ["rekognition_label"] * scene.plates
    # And its vans, which the live pass searches for plates itself (never blurred whole).
    assert len(detection.vehicles) == scene.plates
    assert all(box not in detection.boxes for box in detection.vehicles)


def test_s3_object_is_read_and_turned_upright_by_its_exif_orientation(
    detector: OpenCvDetector,
) -> None:
    """Rekognition returns boxes for the orientation-corrected JPEG: so does the endpoint."""
    upright = astronaut()
    sideways = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        create_bucket(s3, "raw")
        s3.put_object(Bucket="raw", Key="cam/sideways.jpg", Body=jpeg_bytes(sideways, exif=exif))
        with LocalRekognition(detector, s3=s3) as service:
            client = client_for(service)
            from_s3 = client.detect_labels(
                Image={"S3Object": {"Bucket": "raw", "Name": "cam/sideways.jpg"}}
            )
            missing = pytest.raises(client.exceptions.InvalidS3ObjectException)
            with missing:
                client.detect_labels(Image={"S3Object": {"Bucket": "raw", "Name": "cam/gone.jpg"}})

    [person] = from_s3["Labels"]
    assert contains(person["Instances"][0]["BoundingBox"], ASTRONAUT_FACE)


def test_pictures_rekognition_cannot_read_are_refused(
    rekognition: Any, scenes: list[samples.Sample]
) -> None:
    _, client = rekognition
    gif = io.BytesIO()
    astronaut().save(gif, format="GIF")

    for data in (b"this is not a picture", gif.getvalue(), scenes[-1].data):
        with pytest.raises(client.exceptions.InvalidImageFormatException):
            client.detect_labels(Image={"Bytes": data})


def test_model_goes_from_stopped_to_running_and_back(
    rekognition: Any, scenes: list[samples.Sample]
) -> None:
    service, client = rekognition
    service.register_model(VERSION_ARN)
    scene = scenes[0].data

    def status() -> str:
        [description] = client.describe_project_versions(
            ProjectArn=PROJECT_ARN, VersionNames=["site.v1"]
        )["ProjectVersionDescriptions"]
        assert description["ProjectVersionArn"] == VERSION_ARN
        return description["Status"]

    assert status() == "STOPPED"
    with pytest.raises(client.exceptions.ResourceNotReadyException):
        client.detect_custom_labels(ProjectVersionArn=VERSION_ARN, Image={"Bytes": scene})

    assert (
        client.start_project_version(ProjectVersionArn=VERSION_ARN, MinInferenceUnits=1)["Status"]
        == "STARTING"
    )
    assert status() == "STARTING"
    with pytest.raises(client.exceptions.ResourceInUseException):
        client.start_project_version(ProjectVersionArn=VERSION_ARN, MinInferenceUnits=1)
    time.sleep(0.35)
    assert status() == "RUNNING"

    labels = client.detect_custom_labels(ProjectVersionArn=VERSION_ARN, Image={"Bytes": scene})
    names = sorted(label["Name"] for label in labels["CustomLabels"])
    assert names == ["license_plate", "person", "person"]
    assert all("BoundingBox" in label["Geometry"] for label in labels["CustomLabels"])

    assert client.stop_project_version(ProjectVersionArn=VERSION_ARN)["Status"] == "STOPPING"
    time.sleep(0.25)
    assert status() == "STOPPED"

    counts = fetch_calls(service.url)
    assert counts == service.calls()
    assert counts["models"][VERSION_ARN] == {"status": "STOPPED", "starts": 1, "stops": 1}
    assert counts["calls"]["StartProjectVersion"] == 2  # one accepted, one refused


def test_the_refinement_adapters_understand_the_model(
    rekognition: Any, scenes: list[samples.Sample]
) -> None:
    """camblur's ModelControl and CustomLabelsDetector against the endpoint."""
    service, client = rekognition
    service.register_model(VERSION_ARN)
    control = ModelControl(PROJECT_ARN, VERSION_ARN, rekognition=client)
    detector = CustomLabelsDetector(
        VERSION_ARN, frozenset({"person", "license_plate"}), 50.0, rekognition=client
    )

    assert control.describe().status == "STOPPED"
    assert control.start(1, 1)
    assert not control.start(1, 1)  # busy starting: try again on the next pass
    time.sleep(0.35)
    assert control.describe().status == "RUNNING"
    detection = detector.detect(DetectionInput(jpeg=scenes[3].data))
    assert [box.label for box in detection.boxes] == ["license_plate"]
    assert control.stop()


def test_unknown_models_are_not_found_when_auto_register_is_off(detector: OpenCvDetector) -> None:
    with LocalRekognition(detector, auto_register=False) as service:
        client = client_for(service)
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.start_project_version(ProjectVersionArn=VERSION_ARN, MinInferenceUnits=1)
        assert (
            client.describe_project_versions(ProjectArn=PROJECT_ARN)["ProjectVersionDescriptions"]
            == []
        )


def test_scripted_answers_by_key_and_by_sha256(tmp_path: Path) -> None:
    picture = jpeg_bytes(astronaut())
    answers = {
        "version": "scripted-test",
        "answers": {
            hashlib.sha256(picture).hexdigest(): [
                {"label": "person", "confidence": 97.5, "box": [0.1, 0.2, 0.3, 0.4]}
            ],
            "cam/plate.jpg": [{"label": "license_plate", "box": [0.5, 0.5, 0.2, 0.1]}],
        },
        "default": [],
    }
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(answers))
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        create_bucket(s3, "raw")
        s3.put_object(Bucket="raw", Key="cam/plate.jpg", Body=picture)
        with LocalRekognition(ScriptedDetector.from_file(path), s3=s3) as service:
            client = client_for(service)
            by_sha = client.detect_labels(Image={"Bytes": picture})
            by_key = client.detect_labels(
                Image={"S3Object": {"Bucket": "raw", "Name": "cam/plate.jpg"}}
            )
            other = client.detect_labels(Image={"Bytes": jpeg_bytes(astronaut(), quality=50)})

    assert by_sha["LabelModelVersion"] == "local-scripted-test"
    [person] = by_sha["Labels"]
    assert person["Instances"] == [
        {"BoundingBox": {"Width": 0.3, "Height": 0.4, "Left": 0.1, "Top": 0.2}, "Confidence": 97.5}
    ]
    assert [label["Name"] for label in by_key["Labels"]] == ["License Plate"]
    assert other["Labels"] == []
