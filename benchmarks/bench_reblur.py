"""A manual box's re-blur: its cost against the decode+encode floor, and what anonymising the
published copy further (the raw version expired) does to the pixels outside the box.

    .venv/bin/python benchmarks/bench_reblur.py [--rounds N]

On the photo-like 1080p and 2160p frames of bench_live_blur (5 person boxes already
pixelated in the published copy; one manual box of 3 % of the picture added):

- from raw: decode the raw frame, pixelate the 5 boxes + the manual box, encode (what the
  pipeline does while the raw version exists: no detection, no Rekognition call);
- from the published copy: decode the published JPEG, pixelate the same boxes again, encode.

Each round runs the floor and both paths once per size, in random order; ratios are medians of
per-round ratios. Then, once per size: the mean absolute difference and PSNR, outside every
box, between the published copy and the copy anonymised further (JPEG generation loss).
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lambdas"))

from bench_live_blur import BOXES, MAX_PIXELS, QUALITY, SIZES, camera_frame, floor

from camblur.core.blur import BlurSettings, anonymise
from camblur.core.boxes import Box
from camblur.core.picture import decode_picture

MANUAL = Box(0.8, 0.05, 0.12, 0.25, source="manual")
ROUNDS = 15
SETTINGS = BlurSettings(jpeg_quality=QUALITY)


def blur(data: bytes, boxes: list[Box]) -> bytes:
    return anonymise(decode_picture(data, MAX_PIXELS), boxes, SETTINGS)


def outside_mask(width: int, height: int, boxes: list[Box]) -> np.ndarray:
    mask = np.ones((height, width), dtype=bool)
    for box in boxes:
        left, top, right, bottom = box.to_pixels(width, height, SETTINGS.margin)
        # and the 16-pixel JPEG blocks around it
        mask[max(0, top - 16) : bottom + 16, max(0, left - 16) : right + 16] = False
    return mask


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    rounds = parser.parse_args().rounds
    boxes = [*BOXES, MANUAL]
    raw = {size: camera_frame(*dimensions) for size, dimensions in SIZES.items()}
    published = {size: blur(data, list(BOXES)) for size, data in raw.items()}
    work = {
        "floor": lambda size: floor(raw[size]),
        "from raw": lambda size: blur(raw[size], boxes),
        "from published copy": lambda size: blur(published[size], boxes),
    }
    times: dict[tuple[str, str], list[float]] = {(s, p): [] for s in SIZES for p in work}
    rng = random.Random(13)
    jobs = [(size, path) for size in SIZES for path in work]
    for job in jobs:
        work[job[1]](job[0])  # warm up
    for _ in range(rounds):
        rng.shuffle(jobs)
        for size, path in jobs:
            start = time.perf_counter()
            work[path](size)
            times[size, path].append((time.perf_counter() - start) * 1000)
    print(f"{'size':6} {'path':20} {'ms':>7} {'ratio to floor':>15}   (median of {rounds} rounds)")
    for size in SIZES:
        for path in work:
            ratios = [t / f for t, f in zip(times[size, path], times[size, "floor"], strict=True)]
            print(
                f"{size:6} {path:20} {statistics.median(times[size, path]):7.1f} "
                f"{statistics.median(ratios):15.2f}"
            )
    for size, (width, height) in SIZES.items():
        before = np.asarray(Image.open(io.BytesIO(published[size])), dtype=np.float64)
        after = np.asarray(Image.open(io.BytesIO(blur(published[size], boxes))), dtype=np.float64)
        mask = outside_mask(width, height, boxes)
        error = np.abs(before[mask] - after[mask])
        psnr = 10 * np.log10(255**2 / float((error**2).mean()))
        print(
            f"{size}: outside the boxes, the copy anonymised further differs from the published "
            f"copy by {error.mean():.2f} on average (PSNR {psnr:.1f} dB)"
        )


if __name__ == "__main__":
    main()
