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

    @property
    def blur_settings(self) -> BlurSettings:
        return BlurSettings(self.blur_style, self.blur_margin, self.jpeg_quality)


@dataclass(frozen=True)
class LiveConfig(BlurConfig):
    person_min_confidence: float = _env("PERSON_MIN_CONFIDENCE", _confidence, 50.0)
    capture_time_zone: ZoneInfo = _env("CAPTURE_TIME_ZONE", _time_zone, ZoneInfo("UTC"))
    state_ttl_days: int = _env("STATE_TTL_DAYS", _positive_int, 400)


@dataclass(frozen=True)
class ModelConfig:
    """The Custom Labels model: the project and the version (the model) it runs."""

    state_table: str = _env("STATE_TABLE", _non_empty)
    model_project_arn: str = _env("MODEL_PROJECT_ARN", _arn)
    model_version_arn: str = _env("MODEL_VERSION_ARN", _arn)


ENVIRONMENT_BY_HANDLER: dict[str, frozenset[str]] = {
    "camblur.handlers.live.handler": env_names(LiveConfig),
}
"""Handler path -> the environment variables it reads (besides Powertools' own)."""

POWERTOOLS_VARIABLES = frozenset(
    {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}
)
