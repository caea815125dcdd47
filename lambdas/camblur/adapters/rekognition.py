"""Amazon Rekognition behind a small interface, so a detector can be swapped out.

Rekognition features do get retired (People Pathing, Streaming Video): handlers depend on
`Detection`/`DetectionInput`, not on Rekognition's response shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from camblur.adapters.aws import client
from camblur.core.boxes import Box
from camblur.core.errors import PictureRejected, TransientError

# Rekognition says no to the picture itself: permanent, never retried.
REFUSED_PICTURE_CODES = frozenset(
    {"InvalidImageFormatException", "ImageTooLargeException", "InvalidParameterException"}
)


class ObjectUnreadable(Exception):  # noqa: N818 - names the situation
    """Rekognition could not read the S3 object itself (permissions, KMS): send bytes instead."""


@dataclass(frozen=True)
class DetectionInput:
    """Either an S3 object Rekognition reads itself, or JPEG bytes we send."""

    bucket: str | None = None
    key: str | None = None
    version_id: str | None = None
    jpeg: bytes | None = None

    def as_image(self) -> dict[str, Any]:
        if self.jpeg is not None:
            return {"Bytes": self.jpeg}
        s3_object: dict[str, str] = {"Bucket": str(self.bucket), "Name": str(self.key)}
        if self.version_id and self.version_id != "null":
            s3_object["Version"] = self.version_id
        return {"S3Object": s3_object}


@dataclass(frozen=True)
class Detection:
    boxes: tuple[Box, ...]
    detector: str
    model_version: str


class PeopleDetector:
    """Persons from DetectLabels: the `Instances` of the Person label, above a confidence."""

    name = "rekognition-detect-labels"

    def __init__(self, min_confidence: float, rekognition: Any = None) -> None:
        self._min_confidence = min_confidence
        self._rekognition = rekognition or client("rekognition")

    def detect(self, source: DetectionInput) -> Detection:
        response = call_rekognition(
            self._rekognition.detect_labels,
            Image=source.as_image(),
            MinConfidence=self._min_confidence,
            Features=["GENERAL_LABELS"],
            Settings={"GeneralLabels": {"LabelInclusionFilters": ["Person"]}},
        )
        boxes = tuple(
            Box.from_rekognition(instance["BoundingBox"], "person", instance["Confidence"], "live")
            for label in response.get("Labels", [])
            if label.get("Name") == "Person"
            for instance in label.get("Instances", [])
            if "BoundingBox" in instance and instance.get("Confidence", 0) >= self._min_confidence
        )
        return Detection(boxes, self.name, response.get("LabelModelVersion", "unknown"))


def call_rekognition(operation: Any, **request: Any) -> dict[str, Any]:
    """Call one Rekognition operation and sort its errors into permanent and transient."""
    try:
        return operation(**request)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        message = error.response["Error"].get("Message", "")
        if code in REFUSED_PICTURE_CODES:
            raise PictureRejected("REKOGNITION_REFUSED", f"{code}: {message}") from error
        if code == "InvalidS3ObjectException":
            raise ObjectUnreadable(f"{code}: {message}") from error
        raise TransientError(f"Rekognition {code}: {message}") from error
    except BotoCoreError as error:  # connection errors, timeouts: worth another try
        raise TransientError(f"Rekognition unreachable: {error}") from error
