"""A local Amazon Rekognition endpoint for the embedded environment (development tooling only).

moto's Rekognition answers every picture with the same canned box and does not implement the
Custom Labels model lifecycle (field notes). This small HTTP server on 127.0.0.1 speaks the
Rekognition JSON 1.1 protocol (POST /, `X-Amz-Target: RekognitionService.<Operation>`) for the
operations camblur calls, so the handlers reach it through `AWS_ENDPOINT_URL_REKOGNITION` and
do not know they are not talking to AWS:

- DetectLabels: `Person` (and `License Plate`) labels with `Instances[].BoundingBox` as ratios,
  `MinConfidence`, `MaxLabels` and `Settings.GeneralLabels` inclusion/exclusion filters.
- StartProjectVersion / StopProjectVersion / DescribeProjectVersions / DetectCustomLabels:
  each project version is a `localaws.custom_labels.FakeCustomLabels` (the one Custom Labels
  fake, that the unit tests use in-process) on the real clock: STOPPED -> STARTING -> RUNNING
  after a configurable delay, RUNNING -> STOPPING -> STOPPED; while RUNNING it answers
  `CustomLabels` named `person` and `license_plate` found by the detector below.

Answers come from a real offline detector whose model ships inside a pip package (OpenCV's
Haar face cascades, a face being widened into the person's box, and a plate finder for the
white, dark-lettered plates of devtools/samples.py), or from a scripted answer file for tests.
`Image.S3Object` is read from the embedded S3 endpoint; JPEGs are turned upright by their EXIF
orientation first, as Rekognition does (it returns boxes for the orientation-corrected picture,
and never rotates a PNG).

Not deployed anywhere. Call counts and model states: `GET /_calls` (JSON) or `.calls()`.

    python -m devtools.local_rekognition --s3-endpoint-url http://127.0.0.1:5000 --start-seconds 5
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import io
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

from PIL import Image, ImageOps, UnidentifiedImageError

from localaws.custom_labels import FakeCustomLabels, FakeError, parse_version_arn, same_project

HOST = "127.0.0.1"
TARGET_PREFIX = "RekognitionService."
PERSON = "person"
LICENSE_PLATE = "license_plate"
VEHICLE = "vehicle"  # DetectLabels only: the live pass searches vehicles for plates
# DetectLabels names for our classes; Custom Labels use the lower-case names above.
GENERAL_LABEL_NAMES = {PERSON: "Person", LICENSE_PLATE: "License Plate", VEHICLE: "Van"}
GENERAL_LABEL_EXTRAS: dict[str, dict[str, Any]] = {
    PERSON: {
        "Parents": [],
        "Aliases": [{"Name": "Human"}],
        "Categories": [{"Name": "Person Description"}],
    },
    LICENSE_PLATE: {
        "Parents": [{"Name": "Transportation"}, {"Name": "Vehicle"}],
        "Aliases": [],
        "Categories": [{"Name": "Vehicles and Automotive"}],
    },
    VEHICLE: {
        "Parents": [{"Name": "Transportation"}, {"Name": "Vehicle"}],
        "Aliases": [],
        "Categories": [{"Name": "Vehicles and Automotive"}],
    },
}
# Rekognition's own limits (DetectLabels; DetectCustomLabels takes 4 MB inline).
MAX_INLINE_BYTES = {"DetectLabels": 5 * 1024 * 1024, "DetectCustomLabels": 4 * 1024 * 1024}
MAX_S3_BYTES = 15 * 1024 * 1024
MIN_SIDE = 80
MAX_SIDE = 10_000


@dataclass(frozen=True)
class Finding:
    """One thing found in a picture; the box is in ratios of the upright picture's size."""

    label: str  # PERSON or LICENSE_PLATE
    confidence: float
    left: float
    top: float
    width: float
    height: float

    def bounding_box(self) -> dict[str, float]:
        return {
            "Width": round(self.width, 6),
            "Height": round(self.height, 6),
            "Left": round(self.left, 6),
            "Top": round(self.top, 6),
        }

    def polygon(self) -> list[dict[str, float]]:
        right, bottom = self.left + self.width, self.top + self.height
        corners = [(self.left, self.top), (right, self.top), (right, bottom), (self.left, bottom)]
        return [{"X": round(x, 6), "Y": round(y, 6)} for x, y in corners]


@dataclass(frozen=True)
class Picture:
    """What the detector is given: the upright RGB picture and where it came from."""

    image: Image.Image
    sha256: str  # of the bytes Rekognition received or read
    s3_key: str | None = None


class Detector(Protocol):
    version: str

    def find(self, picture: Picture) -> list[Finding]: ...


# ------------------------------------------------------------------------- detectors


class OpenCvDetector:
    """Persons and plates found by OpenCV models that ship in opencv-python-headless (<5).

    Persons: Haar frontal-face and profile-face cascades (the profile one both ways round) on
    a copy scaled to `max_side`. A face becomes a person box the way DetectLabels draws
    persons (head and body below it): about 2.8 face widths wide and 6 face heights tall,
    clipped to the picture. The cascades' own operating points are kept: profile detections
    with a level weight under 2 were false positives on vehicles in the samples.
    (OpenCV's HOG people detector was tried too: it needs whole standing bodies, found none
    of the samples' people, and took about 3 s per 1280x720 picture.)

    Plates: bright, nearly rectangular regions 2-6.5 times as wide as high, each holding a row
    of at least four dark character-sized blobs. It finds the plates of devtools/samples.py;
    OpenCV's Haar plate cascades (trained on Russian plates) found them with boxes twice too
    large and a false positive on a scaffold.
    """

    def __init__(self, max_side: int = 960) -> None:
        import cv2

        self._cv2 = cv2
        self._max_side = max_side
        self.version = f"opencv-{cv2.__version__}-haar"
        cascades = Path(cv2.data.haarcascades)
        # (cascade, also run on the mirrored picture, minimum level weight)
        self._faces = [
            (cv2.CascadeClassifier(str(cascades / "haarcascade_frontalface_alt2.xml")), False, 0.0),
            (cv2.CascadeClassifier(str(cascades / "haarcascade_profileface.xml")), True, 2.0),
        ]
        # CascadeClassifier is not safe to share between threads.
        self._lock = threading.Lock()

    def find(self, picture: Picture) -> list[Finding]:
        import numpy as np

        rgb = np.asarray(picture.image.convert("RGB"))
        with self._lock:
            return self.persons(rgb) + self.plates(rgb) + self.vehicles(rgb)

    def persons(self, rgb: Any) -> list[Finding]:
        cv2 = self._cv2
        height, width = rgb.shape[:2]
        scale = min(1.0, self._max_side / max(width, height))
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        if scale < 1.0:
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        gray = cv2.equalizeHist(gray)
        faces: list[tuple[float, float, float, float, float]] = []
        for cascade, mirrored, min_weight in self._faces:
            for flip in (False, True) if mirrored else (False,):
                source = cv2.flip(gray, 1) if flip else gray
                boxes, _, weights = cascade.detectMultiScale3(
                    source,
                    scaleFactor=1.1,
                    minNeighbors=3,
                    minSize=(24, 24),
                    outputRejectLevels=True,
                )
                for (x, y, w, h), weight in zip(boxes, weights, strict=False):
                    if float(weight) < min_weight:
                        continue
                    if flip:
                        x = source.shape[1] - x - w
                    confidence = min(99.5, 80.0 + 4.0 * float(weight))
                    faces.append((x / scale, y / scale, w / scale, h / scale, confidence))
        found = []
        for x, y, w, h, confidence in _merge_overlapping(faces):
            left = max(0.0, x - 0.9 * w)
            top = max(0.0, y - 0.5 * h)
            right = min(float(width), x + 1.9 * w)
            bottom = min(float(height), y + 5.5 * h)
            found.append(
                Finding(
                    PERSON,
                    confidence,
                    left / width,
                    top / height,
                    (right - left) / width,
                    (bottom - top) / height,
                )
            )
        return found

    def vehicles(self, rgb: Any) -> list[Finding]:
        """The vans of devtools/samples.py: their pale grey body, one large region each."""
        cv2 = self._cv2
        height, width = rgb.shape[:2]
        body = cv2.inRange(rgb, (229, 229, 232), (241, 241, 244))
        body = cv2.morphologyEx(
            body, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9))
        )
        contours, _ = cv2.findContours(body, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        found = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            if w * h < 0.01 * width * height or not 0.9 <= w / h <= 2.2:
                continue
            if cv2.contourArea(contour) < 0.6 * w * h:
                continue
            # The wheels hang below the body: Rekognition's box would hold them.
            h = min(height - y, int(h * 1.15))
            found.append(Finding(VEHICLE, 92.0, x / width, y / height, w / width, h / height))
        return found

    def plates(self, rgb: Any) -> list[Finding]:
        cv2 = self._cv2
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        height, width = gray.shape
        _, bright = cv2.threshold(gray, 190, 255, cv2.THRESH_BINARY)
        contours, _ = cv2.findContours(bright, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        candidates = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            if h < 12 or w < 40 or h > 0.2 * height or w * h > 0.05 * width * height:
                continue
            if not 2.0 <= w / h <= 6.5 or cv2.contourArea(contour) < 0.8 * w * h:
                continue
            dark = (gray[y : y + h, x : x + w] < 110).astype("uint8")
            count, _, stats, centroids = cv2.connectedComponentsWithStats(dark)
            characters = [
                i
                for i in range(1, count)
                if 0.35 * h <= stats[i, 3] <= 0.95 * h
                and stats[i, 2] <= 0.9 * h
                and stats[i, 0] > 0
                and stats[i, 0] + stats[i, 2] < w
            ]
            if len(characters) < 4:
                continue
            rows = centroids[characters, 1]
            if rows.max() - rows.min() > 0.3 * h:
                continue
            confidence = min(99.0, 70.0 + 4.0 * len(characters))
            # Grow a little: the plate's dark border is outside the bright region.
            grow_x, grow_y = 0.04 * w, 0.12 * h
            candidates.append((x - grow_x, y - grow_y, w + 2 * grow_x, h + 2 * grow_y, confidence))
        return [
            Finding(
                LICENSE_PLATE,
                confidence,
                max(0.0, x) / width,
                max(0.0, y) / height,
                min(w, width - max(0.0, x)) / width,
                min(h, height - max(0.0, y)) / height,
            )
            for x, y, w, h, confidence in _merge_overlapping(candidates)
        ]


def _merge_overlapping(
    boxes: list[tuple[float, float, float, float, float]],
) -> list[tuple[float, float, float, float, float]]:
    """Keep the largest of boxes that overlap by more than half of the smaller one."""
    kept: list[tuple[float, float, float, float, float]] = []
    for box in sorted(boxes, key=lambda b: b[2] * b[3], reverse=True):
        _, _, w, h, _ = box
        if not any(
            _intersection(box, other) > 0.5 * min(w * h, other[2] * other[3]) for other in kept
        ):
            kept.append(box)
    return kept


def _intersection(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0.0, width) * max(0.0, height)


class ScriptedDetector:
    """Answers read from a JSON file, for tests that need exact boxes.

        {
          "version": "scripted-1",
          "answers": {
            "<sha256 of the image bytes> or <S3 key>": [
              {"label": "person", "confidence": 99.0, "box": [left, top, width, height]}
            ]
          },
          "default": []
        }

    An `Image.S3Object` is looked up by key first, then by the sha256 of the object's bytes;
    `Image.Bytes` by the sha256 of the bytes sent. Pictures not listed get `default`.
    """

    def __init__(self, answers: dict[str, Any]) -> None:
        self.version = str(answers.get("version", "scripted"))
        self._answers = {key: _findings(items) for key, items in answers["answers"].items()}
        self._default = _findings(answers.get("default", []))

    @classmethod
    def from_file(cls, path: Path) -> ScriptedDetector:
        return cls(json.loads(path.read_text()))

    def find(self, picture: Picture) -> list[Finding]:
        if picture.s3_key is not None and picture.s3_key in self._answers:
            return self._answers[picture.s3_key]
        return self._answers.get(picture.sha256, self._default)


def _findings(items: Iterable[dict[str, Any]]) -> list[Finding]:
    return [
        Finding(str(item["label"]), float(item.get("confidence", 99.0)), *map(float, item["box"]))
        for item in items
    ]


# --------------------------------------------------------------------------- the service


class LocalRekognition:
    """The endpoint: `with LocalRekognition(...) as rekognition: rekognition.url`.

    `s3` is a boto3 S3 client used for `Image.S3Object` (made from `s3_endpoint_url` when not
    given). With `auto_register` any well-formed version ARN exists (stopped) on first use,
    like a model trained beforehand; otherwise `register_model` makes one exist.
    """

    def __init__(
        self,
        detector: Detector | None = None,
        *,
        answers_file: Path | None = None,
        s3: Any = None,
        s3_endpoint_url: str | None = None,
        region: str = "eu-west-1",
        model_start_seconds: float = 5.0,
        model_stop_seconds: float = 1.0,
        auto_register: bool = True,
        port: int = 0,
    ) -> None:
        if detector is None:
            detector = (
                ScriptedDetector.from_file(answers_file) if answers_file else OpenCvDetector()
            )
        self.detector = detector
        self._s3 = s3
        self._s3_endpoint_url = s3_endpoint_url
        self._region = region
        self.model_start_seconds = model_start_seconds
        self.model_stop_seconds = model_stop_seconds
        self._auto_register = auto_register
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._models: dict[str, FakeCustomLabels] = {}
        # S3 key -> seconds DetectCustomLabels takes on it: a test makes a picture hang.
        self.slow_keys: dict[str, float] = {}
        self._server = ThreadingHTTPServer((HOST, port), _handler_class(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> LocalRekognition:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="local-rekognition", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LocalRekognition:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ inspection
    def register_model(self, version_arn: str) -> FakeCustomLabels:
        with self._lock:
            return self._model(version_arn, create=True)

    def calls(self) -> dict[str, Any]:
        """Operation call counts and every model's state (also served at GET /_calls)."""
        with self._lock:
            models = {
                arn: {"status": model.status(), "starts": model.starts, "stops": model.stops}
                for arn, model in self._models.items()
            }
            return {"calls": dict(self._calls), "models": models}

    # ------------------------------------------------------------------ protocol
    def dispatch(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._calls[operation] += 1
        handlers = {
            "DetectLabels": self.detect_labels,
            "DetectCustomLabels": partial(self.model_call, operation="DetectCustomLabels"),
            "StartProjectVersion": partial(self.model_call, operation="StartProjectVersion"),
            "StopProjectVersion": partial(self.model_call, operation="StopProjectVersion"),
            "DescribeProjectVersions": self.describe_project_versions,
        }
        if operation not in handlers:
            raise FakeError(
                "UnknownOperationException",
                f"{operation} is not implemented by the local Rekognition endpoint",
            )
        return handlers[operation](request)

    def detect_labels(self, request: dict[str, Any]) -> dict[str, Any]:
        picture = self._picture(request, "DetectLabels")
        min_confidence = float(request.get("MinConfidence", 55.0))
        general = request.get("Settings", {}).get("GeneralLabels", {})
        include = set(general.get("LabelInclusionFilters") or [])
        exclude = set(general.get("LabelExclusionFilters") or [])
        findings = self.detector.find(picture)
        labels = []
        for label, name in GENERAL_LABEL_NAMES.items():
            if (include and name not in include) or name in exclude:
                continue
            instances = [
                {"BoundingBox": found.bounding_box(), "Confidence": round(found.confidence, 4)}
                for found in findings
                if found.label == label and found.confidence >= min_confidence
            ]
            if instances:
                labels.append(
                    {
                        "Name": name,
                        "Confidence": max(instance["Confidence"] for instance in instances),
                        "Instances": instances,
                        **GENERAL_LABEL_EXTRAS[label],
                    }
                )
        if "MaxLabels" in request:
            labels = labels[: int(request["MaxLabels"])]
        return {"Labels": labels, "LabelModelVersion": f"local-{self.detector.version}"}

    def model_call(self, request: dict[str, Any], operation: str) -> dict[str, Any]:
        """DetectCustomLabels, StartProjectVersion, StopProjectVersion: the model answers."""
        with self._lock:
            model = self._model(request["ProjectVersionArn"], create=self._auto_register)
        return model.answer(operation, request)

    def custom_labels(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        """What a RUNNING model finds in the picture (the model's `labels`)."""
        picture = self._picture(request, "DetectCustomLabels")
        if picture.s3_key in self.slow_keys:
            time.sleep(self.slow_keys[picture.s3_key])  # outside every lock: others go on
        min_confidence = float(request.get("MinConfidence", 50.0))
        found = sorted(
            (
                item
                for item in self.detector.find(picture)
                if item.label != VEHICLE and item.confidence >= min_confidence
            ),
            key=lambda item: item.confidence,
            reverse=True,
        )
        if "MaxResults" in request:
            found = found[: int(request["MaxResults"])]
        return [
            {
                "Name": item.label,
                "Confidence": round(item.confidence, 4),
                "Geometry": {"BoundingBox": item.bounding_box(), "Polygon": item.polygon()},
            }
            for item in found
        ]

    def describe_project_versions(self, request: dict[str, Any]) -> dict[str, Any]:
        names = set(request.get("VersionNames") or [])
        with self._lock:
            models = list(self._models.values())
        return {
            "ProjectVersionDescriptions": [
                model.describe()
                for model in models
                if same_project(request["ProjectArn"], model.project_arn)
                and not (names and model.version_name not in names)
            ]
        }

    # ------------------------------------------------------------------ helpers
    def _model(self, arn: str, create: bool) -> FakeCustomLabels:
        """Caller holds the lock."""
        if arn not in self._models:
            project_arn, _ = parse_version_arn(arn)
            if not create:
                raise FakeError("ResourceNotFoundException", f"The model {arn} does not exist.")
            self._models[arn] = FakeCustomLabels(
                project_arn,
                arn,
                time.monotonic,
                start_seconds=self.model_start_seconds,
                stop_seconds=self.model_stop_seconds,
                labels=self.custom_labels,
            )
        return self._models[arn]

    def _s3_client(self) -> Any:
        if self._s3 is None:
            import boto3

            self._s3 = boto3.client(
                "s3",
                endpoint_url=self._s3_endpoint_url,
                region_name=self._region,
                aws_access_key_id="local",
                aws_secret_access_key="local",  # noqa: S106 - the embedded endpoint's fake key
            )
        return self._s3

    def _picture(self, request: dict[str, Any], operation: str) -> Picture:
        image = request.get("Image") or {}
        key = None
        if "Bytes" in image:
            data = base64.b64decode(image["Bytes"])
            if len(data) > MAX_INLINE_BYTES[operation]:
                raise FakeError(
                    "ImageTooLargeException",
                    f"Image bytes exceed the limit of {MAX_INLINE_BYTES[operation]}.",
                )
        elif "S3Object" in image:
            data, key = self._read_s3(image["S3Object"])
        else:
            raise FakeError("InvalidParameterException", "Image needs Bytes or S3Object.")
        return Picture(_decode(data), hashlib.sha256(data).hexdigest(), key)

    def _read_s3(self, s3_object: dict[str, str]) -> tuple[bytes, str]:
        from botocore.exceptions import ClientError

        request = {"Bucket": s3_object.get("Bucket", ""), "Key": s3_object.get("Name", "")}
        if s3_object.get("Version"):
            request["VersionId"] = s3_object["Version"]
        try:
            response = self._s3_client().get_object(**request)
        except ClientError as error:
            raise FakeError(
                "InvalidS3ObjectException",
                f"Unable to get object metadata from S3. Check object key, region and/or access permissions. ({error.response['Error']['Code']})",
            ) from error
        if int(response.get("ContentLength", 0)) > MAX_S3_BYTES:
            raise FakeError("ImageTooLargeException", "Image size is too large.")
        return response["Body"].read(), request["Key"]


def _decode(data: bytes) -> Image.Image:
    """Decode as Rekognition does: JPEG or PNG only, JPEG turned upright by its EXIF."""
    try:
        image = Image.open(io.BytesIO(data))
        image_format = image.format
        if image_format not in ("JPEG", "PNG"):
            raise FakeError("InvalidImageFormatException", "Request has unsupported image format")
        image.load()
    except FakeError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise FakeError(
            "InvalidImageFormatException", "Request has unsupported image format"
        ) from error
    if image_format == "JPEG":
        image = ImageOps.exif_transpose(image)
    width, height = image.size
    if min(width, height) < MIN_SIDE or max(width, height) > MAX_SIDE:
        raise FakeError(
            "InvalidParameterException",
            f"Image of {width}x{height} is outside {MIN_SIDE}..{MAX_SIDE} pixels a side.",
        )
    return image.convert("RGB")


def _handler_class(service: LocalRekognition) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b"{}"
            target = self.headers.get("X-Amz-Target", "")
            if not target.startswith(TARGET_PREFIX):
                self._reply(400, _error("UnknownOperationException", f"bad target {target!r}"))
                return
            try:
                request = json.loads(body or b"{}")
                answer = service.dispatch(target.removeprefix(TARGET_PREFIX), request)
            except FakeError as error:
                self._reply(error.status, _error(error.code, error.message), error.code)
                return
            except (KeyError, TypeError, ValueError) as error:
                code = "InvalidParameterException"
                self._reply(400, _error(code, f"{type(error).__name__}: {error}"), code)
                return
            except Exception as error:  # a bug here must look like AWS's 500, not hang boto3
                code = "InternalServerError"
                self._reply(500, _error(code, f"{type(error).__name__}: {error}"), code)
                return
            self._reply(200, answer)

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/_calls":
                self._reply(200, service.calls())
            else:
                self._reply(404, _error("NotFound", self.path))

        def _reply(
            self, status: int, payload: dict[str, Any], error_type: str | None = None
        ) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            if error_type:
                self.send_header("x-amzn-ErrorType", error_type)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the demo prints its own progress

    return Handler


def _error(code: str, message: str) -> dict[str, str]:
    return {"__type": code, "message": message}


def fetch_calls(url: str) -> dict[str, Any]:
    """GET /_calls of a running endpoint (another process's, say)."""
    from urllib.request import urlopen

    with urlopen(f"{url.rstrip('/')}/_calls", timeout=5) as response:  # noqa: S310 - 127.0.0.1
        return json.loads(response.read())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.local_rekognition", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--s3-endpoint-url", help="embedded S3 endpoint for Image.S3Object")
    parser.add_argument("--answers", type=Path, help="scripted answer file instead of OpenCV")
    parser.add_argument("--start-seconds", type=float, default=5.0, help="model start time")
    parser.add_argument("--stop-seconds", type=float, default=1.0, help="model stop time")
    args = parser.parse_args(argv)
    service = LocalRekognition(
        answers_file=args.answers,
        s3_endpoint_url=args.s3_endpoint_url,
        model_start_seconds=args.start_seconds,
        model_stop_seconds=args.stop_seconds,
        port=args.port,
    )
    with service:
        print(service.url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
