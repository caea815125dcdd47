"""A van with a readable plate, the DetectLabels answers that box it, and pixel checks."""

from __future__ import annotations

from typing import Any

import numpy as np

from camblur.core.boxes import Box
from devtools.plate_scenes import van_scene
from tests.support.pictures import jpeg_bytes

MARGIN = 0.2  # the live pass's default blur margin


class Van:
    """The scene as a JPEG, the van's DetectLabels box (ratios) and the plate (pixels)."""

    def __init__(self) -> None:
        scene, van, plate = van_scene()
        self.size = scene.size
        self.jpeg = jpeg_bytes(scene)
        width, height = scene.size
        self.box = {
            "Left": van[0] / width,
            "Top": van[1] / height,
            "Width": (van[2] - van[0]) / width,
            "Height": (van[3] - van[1]) / height,
        }
        self.plate = plate

    def plate_ratios(self) -> dict[str, float]:
        width, height = self.size
        left, top, right, bottom = self.plate
        return {
            "Left": left / width,
            "Top": top / height,
            "Width": (right - left) / width,
            "Height": (bottom - top) / height,
        }


def labels(van: dict[str, float] | None = None, plate: dict[str, float] | None = None) -> dict:
    """A DetectLabels answer: a Van instance and/or a License Plate instance."""
    found: list[dict[str, Any]] = []
    if van is not None:
        instances = [{"BoundingBox": van, "Confidence": 96.0}]
        found.append({"Name": "Van", "Confidence": 96.0, "Instances": instances, "Parents": []})
    if plate is not None:
        instances = [{"BoundingBox": plate, "Confidence": 88.0}]
        found.append(
            {"Name": "License Plate", "Confidence": 88.0, "Instances": instances, "Parents": []}
        )
    return {"Labels": found, "LabelModelVersion": "3.0"}


def detail(pixels: np.ndarray) -> float:
    """Mean absolute difference between neighbouring pixels: how much a region still shows."""
    return float(np.abs(np.diff(pixels.astype(np.float32), axis=1)).mean())


def grown_mask(boxes: list[Box], width: int, height: int) -> np.ndarray:
    mask = np.zeros((height, width), dtype=bool)
    for box in boxes:
        left, top, right, bottom = box.to_pixels(width, height, MARGIN)
        mask[top:bottom, left:right] = True
    return mask


def covered(mask: np.ndarray, region: tuple[int, int, int, int]) -> float:
    left, top, right, bottom = region
    return float(mask[top:bottom, left:right].mean())
