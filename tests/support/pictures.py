"""Test pictures: real photos that ship in packages, synthetic scenes, and JPEG inspection."""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image


def astronaut() -> Image.Image:
    """scikit-image's astronaut: a real photo of a person (512x512)."""
    from skimage import data

    return Image.fromarray(data.astronaut())


def grace_hopper() -> Image.Image:
    """matplotlib's sample photo of Grace Hopper (512x600)."""
    import matplotlib.cbook

    path = Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    return Image.open(path).convert("RGB")


def photo_like(width: int, height: int, seed: int = 0) -> Image.Image:
    """Smooth gradients plus texture: compresses and decodes like a camera frame."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack(
        [
            127 + 100 * np.sin(x / (width / 7.0) + seed),
            127 + 100 * np.cos(y / (height / 5.0)),
            127 + 80 * np.sin((x + y) / (width / 3.0)),
        ],
        axis=-1,
    )
    noise = rng.normal(0, 18, size=(height, width, 3))
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))


def jpeg_bytes(image: Image.Image, quality: int = 90, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, **options)
    return buffer.getvalue()


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def jpeg_segments(data: bytes) -> list[int]:
    """The marker byte of every segment before the scan data (0xE1 = APP1/EXIF/XMP, ...)."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    markers, position = [], 2
    while position < len(data):
        assert data[position] == 0xFF
        marker = data[position + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        position += 2 + length
    return markers


def decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def region_difference(
    before: np.ndarray, after: np.ndarray, box: tuple[int, int, int, int]
) -> float:
    """Mean absolute difference of pixels inside box (left, top, right, bottom)."""
    left, top, right, bottom = box
    return float(np.abs(before[top:bottom, left:right] - after[top:bottom, left:right]).mean())


def outside_difference(
    before: np.ndarray, after: np.ndarray, box: tuple[int, int, int, int]
) -> float:
    """Mean absolute difference of pixels outside box."""
    left, top, right, bottom = box
    mask = np.ones(before.shape[:2], dtype=bool)
    mask[top:bottom, left:right] = False
    return float(np.abs(before[mask] - after[mask]).mean())
