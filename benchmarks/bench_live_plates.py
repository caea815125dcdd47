"""The live pass's in-process time on a 2160p picture with three vehicles, plates included.

    .venv/bin/python benchmarks/bench_live_plates.py

What the live function does to one picture besides S3 and Rekognition, with packaged_ocr:
decode, the text detector on each vehicle crop (one onnxruntime thread), pixelate persons and
plates, encode. Median of several runs after a warm-up (the session is made once per process,
as in Lambda). Last line: `live with plates 2160p: <ms> (<n> crops)`.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lambdas"))

from camblur.adapters.rekognition import DetectionInput
from camblur.core.blur import BlurSettings, anonymise
from camblur.core.boxes import Box
from camblur.core.picture import decode_picture
from camblur.plates.packaged_ocr import PackagedOcr
from devtools import plate_model
from devtools.plate_scenes import backgrounds, vehicle_crop
from tests.support.pictures import jpeg_bytes

ROOT = Path(__file__).resolve().parent.parent
SIZE = (3840, 2160)
REPEATS = 7
PERSONS = [Box(0.05 + 0.2 * i, 0.3, 0.08, 0.3) for i in range(3)]


def scene() -> tuple[bytes, list[Box], list[np.ndarray]]:
    """A 2160p frame with three vehicles at different distances; their boxes and plate masks."""
    rng = random.Random(3)
    frame = backgrounds()[3].resize(SIZE)
    width, height = SIZE
    vehicles, masks = [], []
    places = ((300, 900), (1700, 1100), (2900, 1300))
    for (x, y), plate_height in zip(places, (48, 32, 20), strict=True):
        crop = vehicle_crop(rng, plate_height, "eu")
        frame.paste(crop.image, (x, y))
        mask = np.zeros((height, width), dtype=bool)
        mask[y : y + crop.image.height, x : x + crop.image.width] = crop.plate_mask
        masks.append(mask)
        vehicles.append(
            Box(x / width, y / height, crop.image.width / width, crop.image.height / height)
        )
    return jpeg_bytes(frame), vehicles, masks


def main() -> None:
    plate_model.install(ROOT / "lambdas" / "camblur")
    data, vehicles, masks = scene()
    localiser = PackagedOcr(threads=1)
    settings = BlurSettings()

    def live_pass() -> list[Box]:
        picture = decode_picture(data, 40_000_000)
        plates = list(localiser.locate(DetectionInput(jpeg=b""), picture, vehicles))
        anonymise(picture, PERSONS + plates, settings)
        return plates

    plates = live_pass()  # warm-up: the onnxruntime session, lazy imports
    walls, cpus = [], []
    for _ in range(REPEATS):
        wall, cpu = time.perf_counter(), time.process_time()
        live_pass()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    anonymised = np.zeros(masks[0].shape, dtype=bool)
    for box in plates:
        left, top, right, bottom = box.to_pixels(*SIZE, settings.margin)
        anonymised[top:bottom, left:right] = True
    coverage = [float((anonymised & mask).sum() / mask.sum()) for mask in masks]
    print(f"plates covered: {', '.join(f'{value:.2f}' for value in coverage)} (>= 0.90 counts)")
    print(f"cpu time: {statistics.median(cpus):.0f} ms (one onnxruntime thread)")
    print(f"live with plates 2160p: {statistics.median(walls):.0f} ({len(vehicles)} crops)")


if __name__ == "__main__":
    main()
