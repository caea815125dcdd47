"""Configuration fails at start, naming the variable, instead of failing a picture later."""

from __future__ import annotations

import pytest

from camblur import config
from camblur.core.blur import BlurStyle

REQUIRED = {"RAW_BUCKET": "raw", "BLURRED_BUCKET": "blurred", "STATE_TABLE": "state"}


def test_defaults_are_the_documented_ones() -> None:
    settings = config.load(config.LiveConfig, REQUIRED)
    assert settings.blur_style is BlurStyle.PIXELATE
    assert settings.blur_margin == 0.2
    assert settings.jpeg_quality == 85
    assert str(settings.capture_time_zone) == "UTC"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("BLUR_STYLE", "swirl", "must be one of pixelate, gaussian, solid"),
        ("BLUR_MARGIN", "1.5", "must be between 0 and 1"),
        ("JPEG_QUALITY", "100", "must be between 1 and 95"),
        ("MAX_IMAGE_PIXELS", "-1", "must be a positive whole number"),
        ("PERSON_MIN_CONFIDENCE", "many", "could not convert"),
        ("CAPTURE_TIME_ZONE", "Mars/Olympus", "IANA time zone"),
    ],
)
def test_a_bad_value_is_refused_with_the_variable_name(name: str, value: str, message: str) -> None:
    with pytest.raises(config.ConfigError, match=name) as error:
        config.load(config.LiveConfig, REQUIRED | {name: value})
    assert message in str(error.value)


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_a_missing_required_variable_is_named(missing: str) -> None:
    environ = {name: value for name, value in REQUIRED.items() if name != missing}
    with pytest.raises(config.ConfigError, match=f"{missing} is required"):
        config.load(config.LiveConfig, environ)
