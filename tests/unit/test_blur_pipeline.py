"""The blur pipeline both passes run (camblur.blur_pipeline), tested once for both.

moto for S3; Rekognition answered by botocore's Stubber through the real PeopleDetector adapter.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from botocore.stub import ANY, Stubber

from camblur import config
from camblur.adapters.rekognition import LIVE_LABELS, PeopleDetector
from camblur.adapters.storage import PictureStore
from camblur.blur_pipeline import BlurPipeline, RawVersion
from camblur.core.boxes import Box
from camblur.core.errors import PictureRejected
from tests.support.aws import Stack
from tests.support.live import PERSON, labels_response
from tests.support.pictures import astronaut, decode, jpeg_bytes

KEY = "cam-1/2026-11-25/10-00-00.jpg"


@pytest.fixture
def pipeline(stack: Stack) -> BlurPipeline:
    settings = config.load(
        config.LiveConfig,
        {
            "RAW_BUCKET": stack.raw_bucket,
            "BLURRED_BUCKET": stack.blurred_bucket,
            "STATE_TABLE": stack.state_table,
            "MAX_OBJECT_BYTES": str(2 * 1024 * 1024),
        },
    )
    return BlurPipeline(settings, PictureStore(stack.s3))


@pytest.fixture
def rekognition(stack: Stack) -> Iterator[Stubber]:
    with Stubber(stack.rekognition) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def upload(stack: Stack, data: bytes) -> RawVersion:
    put = stack.s3.put_object(Bucket=stack.raw_bucket, Key=KEY, Body=data)
    return RawVersion(stack.raw_bucket, KEY, put["VersionId"], len(data))


def test_when_rekognition_cannot_read_the_object_the_pixels_are_sent_instead(
    stack: Stack, pipeline: BlurPipeline, rekognition: Stubber
) -> None:
    # Given a plain JPEG Rekognition would read from S3, but may not (a missing KMS grant)
    original = jpeg_bytes(astronaut())
    raw = upload(stack, original)
    s3_image = {"S3Object": {"Bucket": stack.raw_bucket, "Name": KEY, "Version": raw.version_id}}
    rekognition.add_client_error(
        "detect_labels",
        service_error_code="InvalidS3ObjectException",
        expected_params={"Image": s3_image, **_detect_labels_params()},
    )
    rekognition.add_response(
        "detect_labels",
        labels_response(PERSON),
        {"Image": {"Bytes": ANY}, **_detect_labels_params()},
    )
    detector = PeopleDetector(50.0, stack.rekognition)

    # When the pipeline detects and publishes
    detected = pipeline.detect(raw, detector.detect)
    published = pipeline.publish(detected, keep=())

    # Then the person found in the bytes is pixelated in the published copy
    output = stack.s3.get_object(Bucket=stack.blurred_bucket, Key=published.blurred_key)
    before, after = decode(original), decode(output["Body"].read())
    assert np.abs(before[80:300, 180:300] - after[80:300, 180:300]).mean() > 10
    assert len(published.boxes) == 1


def test_an_object_over_the_size_limit_is_rejected_before_it_is_read(
    stack: Stack, pipeline: BlurPipeline
) -> None:
    # Given an event for an object larger than the limit, which is not even in the bucket
    raw = RawVersion(stack.raw_bucket, KEY, "v1", 3 * 1024 * 1024)

    # When the pipeline is asked to detect, then it refuses without reading (reading would fail)
    with pytest.raises(PictureRejected) as rejected:
        pipeline.detect(raw, PeopleDetector(50.0, stack.rekognition).detect)
    assert rejected.value.reason == "TOO_LARGE_OBJECT"


def test_publishing_again_after_a_race_blurs_from_the_raw_pixels_not_the_first_output(
    stack: Stack, pipeline: BlurPipeline, rekognition: Stubber
) -> None:
    # Given one detection, published once with the person it found
    raw = upload(stack, jpeg_bytes(astronaut()))
    rekognition.add_response("detect_labels", labels_response(PERSON), None)
    detected = pipeline.detect(raw, PeopleDetector(50.0, stack.rekognition).detect)
    pipeline.publish(detected, keep=())

    # When it is published again with a box another pass added, overlapping the person
    other = Box(0.45, 0.3, 0.3, 0.3, label="person", source="manual")
    again = pipeline.publish(detected, keep=(other,))

    # Then the output is exactly what one publish of both boxes from the raw picture gives
    rekognition.add_response("detect_labels", labels_response(PERSON), None)
    fresh = pipeline.publish(
        pipeline.detect(raw, PeopleDetector(50.0, stack.rekognition).detect), keep=(other,)
    )
    assert again.blurred_sha256 == fresh.blurred_sha256
    assert again.boxes[0] == other and len(again.boxes) == 2


def _detect_labels_params() -> dict[str, object]:
    return {
        "MinConfidence": ANY,
        "Features": ["GENERAL_LABELS"],
        "Settings": {"GeneralLabels": {"LabelInclusionFilters": list(LIVE_LABELS)}},
    }
