"""Live blur vs the decode+encode floor, on photo-like 1080p and 2160p JPEGs with 5 boxes.

    make bench            (or: .venv/bin/python benchmarks/bench_live_blur.py [--rounds N])

Four input classes, as cameras write them: plain (no profile, no orientation), an embedded
sRGB profile, a wide-gamut (Display P3) profile, and EXIF orientation 6 (stored sideways).
For each class and size, the floor is a plain decode + encode of that same file at the same
quality; the blur is what the live function does besides S3 and Rekognition (decode, orient,
convert colours, pixelate 5 boxes, strip metadata, encode). Every round runs each path once
for every picture, pictures and paths in random order (a picture's floor and blur back to back,
so that machine noise falls on both alike); the figure is the median of the per-round ratios. Also prints the peak memory (RSS) of a process that blurs one
2160p picture. Last line: `blur/floor ratio: <1080p> <2160p>` (plain class).
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lambdas"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.support: ICC profiles

from camblur.core.blur import BlurSettings, anonymise
from camblur.core.boxes import Box
from camblur.core.picture import decode_picture
from tests.support.icc import display_p3_profile, srgb_profile

SIZES = {"1080p": (1920, 1080), "2160p": (3840, 2160)}
CLASSES = ("plain", "srgb", "widegamut", "rot6")
ROUNDS = 40
QUALITY = 85
MAX_PIXELS = 40_000_000
# Five persons, 3 % of the picture each: 15 % in all (before the 20 % margin).
BOXES = [
    Box(left=0.04 + 0.19 * i, top=0.3 + 0.08 * (i % 2), width=0.12, height=0.25) for i in range(5)
]


def camera_scene(width: int, height: int) -> Image.Image:
    """A photo-like frame: smooth shading, edges and sensor noise."""
    rng = np.random.default_rng(42)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    scene = np.stack(
        [
            120 + 70 * np.sin(x / 180.0) * np.cos(y / 260.0),
            110 + 60 * np.cos(x / 310.0 + y / 150.0),
            100 + 50 * np.sin((x - y) / 220.0),
        ],
        axis=-1,
    )
    scene[(x.astype(int) // 96 + y.astype(int) // 64) % 7 == 0] += (
        40  # hard edges, like scaffolding
    )
    scene += rng.normal(0, 6, size=scene.shape)
    return Image.fromarray(np.clip(scene, 0, 255).astype(np.uint8))


def camera_frame(width: int, height: int, kind: str = "plain") -> bytes:
    """The scene as a camera saves it at q90, with the profile or orientation of `kind`."""
    scene, options = camera_scene(width, height), {}
    if kind == "srgb":
        options["icc_profile"] = srgb_profile(table=True)  # the common IEC61966-2.1 form
    elif kind == "widegamut":
        options["icc_profile"] = display_p3_profile()
    elif kind == "rot6":
        exif = Image.Exif()
        exif[0x0112] = 6  # displayed turned 90° clockwise: stored turned the other way
        scene, options["exif"] = scene.transpose(Image.Transpose.ROTATE_90), exif.tobytes()
    buffer = io.BytesIO()
    scene.save(buffer, "JPEG", quality=90, **options)
    return buffer.getvalue()


def floor(data: bytes) -> bytes:
    image = Image.open(io.BytesIO(data))
    image.load()
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=QUALITY)
    return buffer.getvalue()


def live_blur(data: bytes) -> bytes:
    return anonymise(decode_picture(data, MAX_PIXELS), BOXES, BlurSettings(jpeg_quality=QUALITY))


def timed_ms(work: Callable[[bytes], bytes], data: bytes) -> float:
    start = time.perf_counter()
    work(data)
    return (time.perf_counter() - start) * 1000


def peak_rss_mb(data: bytes) -> float:
    """Peak RSS of a fresh process that imports camblur, then decodes, blurs and encodes `data`."""
    code = (
        "import sys; sys.path.insert(0, 'benchmarks');"
        "import bench_live_blur as b; b.live_blur(sys.stdin.buffer.read());"
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent.
        "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))"
    )
    root = Path(__file__).resolve().parent.parent
    output = subprocess.run(
        [sys.executable, "-c", code], input=data, cwd=root, capture_output=True, check=True
    )
    return int(output.stdout.decode().strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    rounds = parser.parse_args().rounds
    frames = {
        (size, kind): camera_frame(width, height, kind)
        for size, (width, height) in SIZES.items()
        for kind in CLASSES
    }
    work = {"floor": floor, "blur": live_blur}
    for key in frames:  # warm up lazy imports and the per-profile transform cache
        for path in work:
            work[path](frames[key])
    keys, paths = list(frames), list(work)
    times: dict[tuple[tuple[str, str], str], list[float]] = {
        (key, path): [] for key in keys for path in paths
    }
    rng = random.Random(8)
    for _ in range(rounds):
        rng.shuffle(keys)
        for key in keys:
            # A picture's two paths back to back, in random order: a load spike hits both.
            rng.shuffle(paths)
            for path in paths:
                times[key, path].append(timed_ms(work[path], frames[key]))

    def ratio(key: tuple[str, str]) -> float:
        per_round = [b / f for b, f in zip(times[key, "blur"], times[key, "floor"], strict=True)]
        return statistics.median(per_round)

    print(
        f"{'size':6} {'class':10} {'floor ms':>9} {'blur ms':>8} {'ratio':>6}"
        f"   (median of {rounds} rounds; ratio: median of per-round ratios; q{QUALITY};"
        " 5 boxes, 15 % of the picture)"
    )
    for key in frames:
        floor_ms = statistics.median(times[key, "floor"])
        blur_ms = statistics.median(times[key, "blur"])
        print(f"{key[0]:6} {key[1]:10} {floor_ms:9.1f} {blur_ms:8.1f} {ratio(key):6.3f}")
    print(
        "peak RSS of a process blurring one 2160p picture:"
        f" {peak_rss_mb(frames['2160p', 'plain']):.0f} MB"
    )
    by_class = " ".join(f"{kind} {ratio(('2160p', kind)):.3f}" for kind in CLASSES)
    print(f"blur/floor by class 2160p: {by_class}")
    print(f"blur/floor ratio: {ratio(('1080p', 'plain')):.3f} {ratio(('2160p', 'plain')):.3f}")


if __name__ == "__main__":
    main()
