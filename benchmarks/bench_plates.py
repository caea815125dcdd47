"""packaged_ocr on a generated set of vehicle crops: does it anonymise the plates, at what cost?

    make bench-plates     (or: .venv/bin/python benchmarks/bench_plates.py [--crops 540])

The set is synthetic (devtools/plate_scenes.py): EU and US layouts in five fonts, plates 12-60
px high, perspective up to 30 degrees, motion blur, noise, night, dirt and partial occlusion,
drawn on a simple vehicle body over real photos shipped by scikit-image and matplotlib. Real
plates on real vehicles will differ; this measures the localiser, not the world.

A plate counts as anonymised when at least 90 % of its pixels are inside the anonymised region
(the found boxes grown by the blur margin, as the live pass pixelates them). False area: the
share of the vehicle crop's area that is anonymised but holds no plate. Time: per crop, one
onnxruntime thread, CPU time (the machine may be shared). Last line: `plates recall: <at >= 16 px> false-area: <f> ms-per-crop: <ms>`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lambdas"))

from camblur.core.blur import BlurSettings
from camblur.core.boxes import Box
from camblur.core.picture import Picture
from camblur.plates.packaged_ocr import PackagedOcr
from devtools import plate_model
from devtools.plate_scenes import vehicle_crop

ROOT = Path(__file__).resolve().parent.parent
BANDS = ((12, 15), (16, 23), (24, 35), (36, 60))
COVERED = 0.9
WHOLE_CROP = Box(0.0, 0.0, 1.0, 1.0, label="vehicle")


def anonymised_mask(boxes: list[Box], width: int, height: int, margin: float) -> np.ndarray:
    mask = np.zeros((height, width), dtype=bool)
    for box in boxes:
        left, top, right, bottom = box.to_pixels(width, height, margin)
        mask[top:bottom, left:right] = True
    return mask


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crops", type=int, default=540)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    plate_model.install(ROOT / "lambdas" / "camblur")
    localiser = PackagedOcr(threads=1)
    margin = BlurSettings().margin
    rng = random.Random(args.seed)
    found = {band: [] for band in BANDS}
    false_area, crop_area, times = 0, 0, []
    localiser.in_crop(Picture(vehicle_crop(rng, 30, "eu").image, "PNG", True, None), WHOLE_CROP)
    for index in range(args.crops):
        band = BANDS[index % len(BANDS)]
        crop = vehicle_crop(rng, rng.randint(*band), "eu" if index % 2 else "us")
        picture = Picture(crop.image, "PNG", True, None)
        start = time.process_time()
        boxes = localiser.in_crop(picture, WHOLE_CROP)
        times.append((time.process_time() - start) * 1000)
        mask = anonymised_mask(boxes, *crop.image.size, margin)
        inside = (mask & crop.plate_mask).sum() / max(1, crop.plate_mask.sum())
        found[band].append(inside >= COVERED)
        false_area += int((mask & ~crop.plate_mask).sum())
        crop_area += mask.size
    print(f"{args.crops} synthetic vehicle crops (EU + US plates), 1 onnxruntime thread")
    for (low, high), hits in found.items():
        print(
            f"  plates {low:2d}-{high:2d} px: recall {np.mean(hits):.3f} ({sum(hits)}/{len(hits)})"
        )
    at_16 = [hit for (low, _), hits in found.items() if low >= 16 for hit in hits]
    ms = statistics.median(times)
    print(f"  false area (anonymised, no plate) / crop area: {false_area / crop_area:.3f}")
    print(f"  ms per crop: median {ms:.0f}, p90 {np.percentile(times, 90):.0f}")
    print(
        f"plates recall: {np.mean(at_16):.3f} false-area: {false_area / crop_area:.3f} "
        f"ms-per-crop: {ms:.0f}"
    )


if __name__ == "__main__":
    main()
