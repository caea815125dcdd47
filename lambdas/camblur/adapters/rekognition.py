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
from camblur.events import pinned_version

# Rekognition says no to the picture itself: permanent, never retried.
REFUSED_PICTURE_CODES = frozenset(
    {"InvalidImageFormatException", "ImageTooLargeException", "InvalidParameterException"}
)


# Capacity refusals: back off and call again (the model or the account is at its limit).
THROTTLING_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "LimitExceededException"}
)


class Throttled(TransientError):  # noqa: N818 - names the situation
    """Rekognition refused for capacity (a Custom Labels model at its inference units' limit)."""


class ModelNotReady(TransientError):  # noqa: N818 - names the situation
    """The Custom Labels model is not RUNNING: starting, stopping or stopped."""


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
        pinned = pinned_version(self.version_id or "")
        if pinned:
            s3_object["Version"] = pinned
        return {"S3Object": s3_object}


@dataclass(frozen=True)
class Detection:
    boxes: tuple[Box, ...]  # to anonymise
    detector: str
    model_version: str
    vehicles: tuple[Box, ...] = ()  # where plates may be: searched, not anonymised themselves


# Labels of Rekognition's list that carry plates and come with boxes (Instances). The list could
# not be downloaded here: names it does not have simply match nothing.
VEHICLE_LABELS = (
    "Car", "Truck", "Bus", "Van", "Motorcycle", "Pickup Truck", "Fire Truck", "Ambulance",
    "Tow Truck", "Trailer Truck", "Moving Van", "Tractor", "Bulldozer", "Forklift", "Machine",
)  # fmt: skip
PLATE_LABEL_NAME = "License Plate"
LIVE_LABELS = ("Person", *VEHICLE_LABELS, PLATE_LABEL_NAME)


class PeopleDetector:
    """One DetectLabels call: persons and "License Plate" instances to anonymise, and the
    vehicles a plate localiser searches (whether DetectLabels boxes plates could not be
    verified; the localiser does not depend on it)."""

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
            Settings={"GeneralLabels": {"LabelInclusionFilters": list(LIVE_LABELS)}},
        )
        labels = response.get("Labels", [])
        persons = self._instances(labels, {"Person"}, "person", "live")
        plates = self._instances(labels, {PLATE_LABEL_NAME}, "license_plate", "rekognition_label")
        vehicles = self._instances(labels, set(VEHICLE_LABELS), "vehicle", "live")
        return Detection(
            persons + plates,
            self.name,
            response.get("LabelModelVersion", "unknown"),
            # "Car" and "Van" may box the same vehicle: search it once.
            vehicles=tuple({(v.left, v.top, v.width, v.height): v for v in vehicles}.values()),
        )

    def _instances(
        self, labels: list[dict[str, Any]], names: set[str], label: str, source: str
    ) -> tuple[Box, ...]:
        return tuple(
            Box.from_rekognition(instance["BoundingBox"], label, instance["Confidence"], source)
            for found in labels
            if found.get("Name") in names
            for instance in found.get("Instances", [])
            if "BoundingBox" in instance and instance.get("Confidence", 0) >= self._min_confidence
        )


class CustomLabelsDetector:
    """Boxes from a Custom Labels model (DetectCustomLabels): only the configured labels count.

    Labels are compared in lower case; labels without a box (image-level) cannot be blurred.
    """

    name = "rekognition-custom-labels"

    def __init__(
        self,
        version_arn: str,
        label_names: frozenset[str],
        min_confidence: float,
        rekognition: Any = None,
    ) -> None:
        self._version_arn = version_arn
        self._label_names = frozenset(name.lower() for name in label_names)
        self._min_confidence = min_confidence
        self._rekognition = rekognition or client("rekognition")

    def detect(self, source: DetectionInput) -> Detection:
        response = call_rekognition(
            self._rekognition.detect_custom_labels,
            ProjectVersionArn=self._version_arn,
            Image=source.as_image(),
            MinConfidence=self._min_confidence,
        )
        boxes = tuple(
            Box.from_rekognition(
                label["Geometry"]["BoundingBox"],
                str(label["Name"]).lower(),
                float(label.get("Confidence", 0.0)),
                "custom",
            )
            for label in response.get("CustomLabels", [])
            if str(label.get("Name", "")).lower() in self._label_names
            and "BoundingBox" in label.get("Geometry", {})
            and float(label.get("Confidence", 0.0)) >= self._min_confidence
        )
        return Detection(boxes, self.name, self._version_arn)


# Custom Labels model states (DescribeProjectVersions), grouped by what camblur may do.
MODEL_RUNNING = "RUNNING"
MODEL_ACTIVE = frozenset({"STARTING", "RUNNING"})  # billed, or about to be
MODEL_STARTABLE = frozenset({"STOPPED", "TRAINING_COMPLETED", "COPYING_COMPLETED"})
MODEL_STOPPING = "STOPPING"
# Anything else (FAILED, DEPRECATED, EXPIRED, TRAINING_*, DELETING, COPYING_*, MISSING) cannot
# serve and will not by itself: reported, never retried.


@dataclass(frozen=True)
class ModelState:
    status: str
    message: str = ""
    min_inference_units: int | None = None
    max_inference_units: int | None = None

    @property
    def running(self) -> bool:
        return self.status == MODEL_RUNNING

    @property
    def active(self) -> bool:
        return self.status in MODEL_ACTIVE

    @property
    def startable(self) -> bool:
        return self.status in MODEL_STARTABLE

    @property
    def stopping(self) -> bool:
        return self.status == MODEL_STOPPING

    @property
    def unusable(self) -> bool:
        return not (self.active or self.startable or self.stopping)


def version_name(version_arn: str) -> str:
    """`arn:...:project/<project>/version/<name>/<timestamp>` -> `<name>`."""
    return version_arn.split("/version/", 1)[1].split("/", 1)[0]


class ModelControl:
    """Start, stop and describe one Custom Labels model (a project version).

    `start`/`stop` return False when the model is busy changing state (ResourceInUseException):
    the caller simply tries again on its next scheduled pass.
    """

    def __init__(self, project_arn: str, version_arn: str, rekognition: Any = None) -> None:
        self._project_arn = project_arn
        self._version_arn = version_arn
        self._rekognition = rekognition or client("rekognition")

    @property
    def version_arn(self) -> str:
        return self._version_arn

    def for_version(self, version_arn: str) -> ModelControl:
        """Another version of the same project (a model replaced while it ran), same client."""
        return ModelControl(self._project_arn, version_arn, self._rekognition)

    def describe(self) -> ModelState:
        response = _call_control(
            self._rekognition.describe_project_versions,
            ProjectArn=self._project_arn,
            VersionNames=[version_name(self._version_arn)],
        )
        for description in (response or {}).get("ProjectVersionDescriptions", []):
            if description.get("ProjectVersionArn") == self._version_arn:
                return ModelState(
                    status=str(description.get("Status", "UNKNOWN")),
                    message=str(description.get("StatusMessage", "")),
                    min_inference_units=description.get("MinInferenceUnits"),
                    max_inference_units=description.get("MaxInferenceUnits"),
                )
        return ModelState("MISSING", f"{self._version_arn} not found in {self._project_arn}")

    def start(self, min_units: int, max_units: int) -> bool:
        request: dict[str, Any] = {
            "ProjectVersionArn": self._version_arn,
            "MinInferenceUnits": min_units,
        }
        if max_units > min_units:  # MaxInferenceUnits turns autoscaling on
            request["MaxInferenceUnits"] = max_units
        return _call_control(self._rekognition.start_project_version, **request) is not None

    def stop(self) -> bool:
        return (
            _call_control(
                self._rekognition.stop_project_version, ProjectVersionArn=self._version_arn
            )
            is not None
        )


def _call_control(operation: Any, **request: Any) -> dict[str, Any] | None:
    """None when the model is busy changing state; TransientError for anything else."""
    try:
        return operation(**request)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code == "ResourceInUseException":
            return None
        message = error.response["Error"].get("Message", "")
        raise TransientError(f"Rekognition {code}: {message}") from error
    except BotoCoreError as error:
        raise TransientError(f"Rekognition unreachable: {error}") from error


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
        # Both are TransientError: callers that only know that class treat them as before.
        if code in THROTTLING_CODES:
            raise Throttled(f"Rekognition {code}: {message}") from error
        if code == "ResourceNotReadyException":
            raise ModelNotReady(f"Rekognition {code}: {message}") from error
        raise TransientError(f"Rekognition {code}: {message}") from error
    except BotoCoreError as error:  # connection errors, timeouts: worth another try
        raise TransientError(f"Rekognition unreachable: {error}") from error
