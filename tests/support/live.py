"""The live function's test harness: a picture uploaded to moto S3, its real S3 event, the
handler invoked as Lambda would, and Rekognition answered by botocore's Stubber."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from camblur.adapters import aws
from camblur.adapters.rekognition import LIVE_LABELS
from camblur.adapters.state import picture_pk
from camblur.handlers import live
from tests.support.aws import Stack, s3_put_event
from tests.support.lambda_context import LambdaContext

PERSON = {"Left": 0.3, "Top": 0.1, "Width": 0.3, "Height": 0.5}


def labels_response(*boxes: dict[str, float], confidence: float = 97.5) -> dict[str, Any]:
    instances = [{"BoundingBox": box, "Confidence": confidence} for box in boxes]
    labels = [{"Name": "Person", "Confidence": 99.0, "Instances": instances, "Parents": []}]
    return {"Labels": labels if boxes else [], "LabelModelVersion": "3.0"}


@dataclass
class Live:
    stack: Stack
    rekognition: Stubber

    def upload(self, key: str, data: bytes) -> dict[str, Any]:
        """Put the picture in the raw bucket; return the S3 event Lambda would receive."""
        put = self.stack.s3.put_object(Bucket=self.stack.raw_bucket, Key=key, Body=data)
        return s3_put_event(self.stack.raw_bucket, key, put.get("VersionId"), len(data))

    def expect_detection(
        self, response: dict[str, Any], image: dict[str, Any] | None = None
    ) -> None:
        expected = {
            "Image": image or ANY,
            "MinConfidence": ANY,
            "Features": ["GENERAL_LABELS"],
            "Settings": {"GeneralLabels": {"LabelInclusionFilters": list(LIVE_LABELS)}},
        }
        self.rekognition.add_response("detect_labels", response, expected)

    def expect_error(self, code: str) -> None:
        self.rekognition.add_client_error("detect_labels", service_error_code=code)

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        return live.handler(event, LambdaContext())

    def state(self, key: str) -> dict[str, Any] | None:
        table = self.stack.dynamodb.Table(self.stack.state_table)
        return table.get_item(Key={"pk": picture_pk(key), "sk": "STATE"}).get("Item")

    def blurred(self, key: str) -> bytes | None:
        try:
            body = self.stack.s3.get_object(Bucket=self.stack.blurred_bucket, Key=key)["Body"]
        except self.stack.s3.exceptions.NoSuchKey:
            return None
        return body.read()

    def blurred_keys(self) -> list[str]:
        listing = self.stack.s3.list_objects_v2(Bucket=self.stack.blurred_bucket)
        return [item["Key"] for item in listing.get("Contents", [])]


def live_env_fixture(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    monkeypatch.setenv("RAW_BUCKET", stack.raw_bucket)
    monkeypatch.setenv("BLURRED_BUCKET", stack.blurred_bucket)
    monkeypatch.setenv("STATE_TABLE", stack.state_table)
    monkeypatch.setenv("MAX_IMAGE_PIXELS", "10000000")
    monkeypatch.setenv("MAX_OBJECT_BYTES", "5000000")
    # A throttled picture is handed back at once (the in-invocation backoff has its own tests).
    monkeypatch.setenv("REKOGNITION_MAX_WAIT_SECONDS", "0")
    live.live_pass.cache_clear()
    # The handler's Rekognition client is made once per process: stub that very client.
    with Stubber(aws.client("rekognition")) as stubber:
        yield Live(stack, stubber)
        stubber.assert_no_pending_responses()
    live.live_pass.cache_clear()
