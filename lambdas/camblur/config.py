"""Configuration from environment variables: read once, validated, failing with the variable's name.

Each function has one config class. `ENVIRONMENT_BY_HANDLER` lists what every handler reads; a
test compares it with what Terraform sets, so code and infrastructure cannot drift apart.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from camblur.core.blur import BlurSettings, BlurStyle
from camblur.plates import PlateDetector


class ConfigError(ValueError):
    """A missing or invalid environment variable; the message names it."""


T = TypeVar("T")


def _env(name: str, parse: Callable[[str], T], default: T | None = None) -> Any:
    """A dataclass field read from environment variable `name` (required when no default)."""
    return field(metadata={"env": name, "parse": parse, "default": default})


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError("must be a positive whole number")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise ValueError("must be between 0 and 1")
    return value


def _confidence(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 100.0:
        raise ValueError("must be between 0 and 100")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError("must be a positive number")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 900:
        raise ValueError("must be between 0 and 900 seconds")
    return value


def _jpeg_quality(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 95:
        raise ValueError("must be between 1 and 95")
    return value


def _blur_style(text: str) -> BlurStyle:
    try:
        return BlurStyle(text)
    except ValueError:
        allowed = ", ".join(style.value for style in BlurStyle)
        raise ValueError(f"must be one of {allowed}") from None


def _plate_detector(text: str) -> PlateDetector:
    try:
        return PlateDetector(text)
    except ValueError:
        allowed = ", ".join(detector.value for detector in PlateDetector)
        raise ValueError(f"must be one of {allowed}") from None


def _time_zone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone such as Europe/Paris") from None


def _label_names(text: str) -> frozenset[str]:
    names = frozenset(name.strip().lower() for name in text.split(",") if name.strip())
    if not names:
        raise ValueError("must list at least one label name")
    return names


def _non_empty(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    return text.strip()


def _arn(text: str) -> str:
    if not text.startswith("arn:"):
        raise ValueError("must be an ARN (arn:aws:...)")
    return text


C = TypeVar("C")


def load(config_class: type[C], environ: Mapping[str, str] | None = None) -> C:
    """Build `config_class` from the environment; raise ConfigError naming the bad variable."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for item in fields(config_class):  # type: ignore[arg-type]
        name, parse, default = (
            item.metadata["env"],
            item.metadata["parse"],
            item.metadata["default"],
        )
        raw = environ.get(name)
        if raw is None or raw == "":
            if default is None:
                raise ConfigError(f"environment variable {name} is required")
            values[item.name] = default
            continue
        try:
            values[item.name] = parse(raw)
        except ValueError as error:
            raise ConfigError(f"environment variable {name}={raw!r} {error}") from None
    return config_class(**values)


def env_names(config_class: type) -> frozenset[str]:
    return frozenset(item.metadata["env"] for item in fields(config_class))


@dataclass(frozen=True)
class BlurConfig:
    """What every function that writes a blurred picture needs."""

    raw_bucket: str = _env("RAW_BUCKET", _non_empty)
    blurred_bucket: str = _env("BLURRED_BUCKET", _non_empty)
    state_table: str = _env("STATE_TABLE", _non_empty)
    blur_style: BlurStyle = _env("BLUR_STYLE", _blur_style, BlurStyle.PIXELATE)
    blur_margin: float = _env("BLUR_MARGIN", _fraction, 0.2)
    jpeg_quality: int = _env("JPEG_QUALITY", _jpeg_quality, 85)
    max_image_pixels: int = _env("MAX_IMAGE_PIXELS", _positive_int, 40_000_000)
    max_object_bytes: int = _env("MAX_OBJECT_BYTES", _positive_int, 50 * 1024 * 1024)
    # The account's rate for this function's Rekognition operation, and how many instances of
    # the function may run at once: each instance paces itself to its share (adapters/pacing).
    rekognition_tps: float = _env("REKOGNITION_TPS", _positive_float, 50.0)
    max_concurrency: int = _env("MAX_CONCURRENCY", _positive_int, 10)

    @property
    def blur_settings(self) -> BlurSettings:
        return BlurSettings(self.blur_style, self.blur_margin, self.jpeg_quality)


@dataclass(frozen=True)
class LiveConfig(BlurConfig):
    person_min_confidence: float = _env("PERSON_MIN_CONFIDENCE", _confidence, 50.0)
    capture_time_zone: ZoneInfo = _env("CAPTURE_TIME_ZONE", _time_zone, ZoneInfo("UTC"))
    state_ttl_days: int = _env("STATE_TTL_DAYS", _positive_int, 400)
    # The notification's key prefix (may be empty): the camera id is the segment after it.
    raw_key_prefix: str = _env("RAW_KEY_PREFIX", str, "")
    # How long one picture may wait out throttling inside an invocation before it is handed
    # back to the live queue with a delay (0: hand back at once).
    rekognition_max_wait_seconds: float = _env("REKOGNITION_MAX_WAIT_SECONDS", _seconds, 5.0)
    # Who finds plates inside the vehicles DetectLabels boxes (camblur.plates).
    plate_detector: PlateDetector = _env(
        "PLATE_DETECTOR", _plate_detector, PlateDetector.PACKAGED_OCR
    )


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("must be a whole number, 0 or more")
    return value


def _inference_units(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 100:
        raise ValueError("must be between 1 and 100")
    return value


def _version_arn(text: str) -> str:
    arn = _arn(text)
    if ":project/" not in arn or "/version/" not in arn:
        raise ValueError(
            "must be a Custom Labels project version ARN (...:project/<p>/version/<v>/<n>)"
        )
    return arn


def _queue_url(text: str) -> str:
    if not text.startswith(("https://", "http://")):
        raise ValueError("must be an SQS queue URL (https://sqs...)")
    return text


@dataclass(frozen=True)
class ScheduleConfig:
    """refine_schedule: which day to refine, where to queue it, which model to start and how big."""

    state_table: str = _env("STATE_TABLE", _non_empty)
    refine_queue_url: str = _env("REFINE_QUEUE_URL", _queue_url)
    model_project_arn: str = _env("MODEL_PROJECT_ARN", _arn)
    model_version_arn: str = _env("MODEL_VERSION_ARN", _version_arn)
    # The sizing (refine/sizing.py) picks the session's units between these two: the floor,
    # and the ceiling (the account's inference units per model, AWS default 5).
    min_inference_units: int = _env("MODEL_MIN_INFERENCE_UNITS", _inference_units, 1)
    max_inference_units: int = _env("MODEL_MAX_INFERENCE_UNITS", _inference_units, 5)
    # Serving time a day should take, and the guess of one unit's throughput until a past
    # run measured it.
    window_minutes: int = _env("REFINE_WINDOW_MINUTES", _positive_int, 60)
    pictures_per_second_per_unit: float = _env(
        "REFINE_PICTURES_PER_SECOND_PER_UNIT", _positive_float, 5.0
    )
    # One refine_worker's time per picture (S3, decode, blur, encode, inference): how many
    # workers keep the units busy.
    worker_seconds_per_picture: float = _env(
        "REFINE_WORKER_SECONDS_PER_PICTURE", _positive_float, 0.85
    )
    rekognition_tps: float = _env("REKOGNITION_TPS", _positive_float, 50.0)  # DetectCustomLabels
    max_concurrency: int = _env("MAX_CONCURRENCY", _positive_int, 25)  # refine_worker's cap
    max_run_minutes: int = _env("MODEL_MAX_RUN_MINUTES", _positive_int, 240)  # watchdog ceiling
    refine_days_back: int = _env("REFINE_DAYS_BACK", _non_negative_int, 1)
    # The live pass files pictures under capture days of this zone: "yesterday" must use it too.
    capture_time_zone: ZoneInfo = _env("CAPTURE_TIME_ZONE", _time_zone, ZoneInfo("UTC"))
    state_ttl_days: int = _env("STATE_TTL_DAYS", _positive_int, 400)

    def __post_init__(self) -> None:
        if self.max_inference_units < self.min_inference_units:
            raise ConfigError(
                f"environment variable MODEL_MAX_INFERENCE_UNITS={self.max_inference_units} "
                f"must be at least MODEL_MIN_INFERENCE_UNITS={self.min_inference_units}"
            )


@dataclass(frozen=True)
class RefineConfig(BlurConfig):
    """refine_worker: the blur settings of the live pass plus the Custom Labels model to ask.

    Only the version ARN: DetectCustomLabels needs nothing else, and the worker never starts,
    stops or describes the model.
    """

    model_version_arn: str = _env("MODEL_VERSION_ARN", _version_arn)
    custom_label_names: frozenset[str] = _env(
        "CUSTOM_LABEL_NAMES", _label_names, frozenset({"person", "license_plate"})
    )
    custom_min_confidence: float = _env("CUSTOM_MIN_CONFIDENCE", _confidence, 50.0)
    # The function's own timeout: every SDK wait (timeouts x attempts) is sized to fit in it.
    function_timeout_seconds: float = _env("FUNCTION_TIMEOUT_SECONDS", _positive_float, 120.0)
    # The refine queue's maxReceiveCount: a failure on this receive dead-letters the message,
    # so the worker marks the picture DEAD_LETTERED before it goes.
    max_receive_count: int = _env("MAX_RECEIVE_COUNT", _positive_int, 3)


@dataclass(frozen=True)
class ReconcileConfig:
    """model_reconciler: the run/session items, the model, the queue and its event source mapping."""

    state_table: str = _env("STATE_TABLE", _non_empty)
    refine_queue_url: str = _env("REFINE_QUEUE_URL", _queue_url)
    model_project_arn: str = _env("MODEL_PROJECT_ARN", _arn)
    model_version_arn: str = _env("MODEL_VERSION_ARN", _version_arn)
    max_run_minutes: int = _env("MODEL_MAX_RUN_MINUTES", _positive_int, 240)
    # Two empty queue readings at least this far apart before the model is stopped.
    drain_confirm_seconds: int = _env("MODEL_DRAIN_CONFIRM_SECONDS", _positive_int, 45)
    refine_mapping_uuid: str = _env("REFINE_MAPPING_UUID", _non_empty)


@dataclass(frozen=True)
class StatusCountsConfig:
    """status_counts: the state table, whose stream it reads and whose counts items it keeps."""

    state_table: str = _env("STATE_TABLE", _non_empty)


ENVIRONMENT_BY_HANDLER: dict[str, frozenset[str]] = {
    "camblur.handlers.live.handler": env_names(LiveConfig),
    "camblur.handlers.schedule.handler": env_names(ScheduleConfig),
    "camblur.handlers.refine.handler": env_names(RefineConfig),
    "camblur.handlers.reconcile.handler": env_names(ReconcileConfig),
    "camblur.handlers.status_counts.handler": env_names(StatusCountsConfig),
}
"""Handler path -> the environment variables it reads (besides Powertools' own)."""

POWERTOOLS_VARIABLES = frozenset(
    {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}
)
