"""Live blur vs the decode+encode floor, on photo-like 1080p and 2160p JPEGs with 5 boxes.

    make bench            (or: .venv/bin/python benchmarks/bench_live_blur.py)

Measures, in-process and single-threaded, the median time of what the live function does to
one picture besides S3 and Rekognition (decode, orientation, blur, strip metadata, encode),
and of a plain decode + encode at the same quality. Prints both, their ratio, and the peak
memory (RSS) of a process that blurs one 2160p picture. Last line:
`blur/floor ratio: <1080p> <2160p>`.
"""

from __future__ import annotations

import io
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lambdas"))

from camblur.core.blur import BlurSettings, anonymise
from camblur.core.boxes import Box
from camblur.core.picture import decode_picture

SIZES = {"1080p": (1920, 1080), "2160p": (3840, 2160)}
REPEATS = {"1080p": 41, "2160p": 21}
QUALITY = 85
MAX_PIXELS = 40_000_000
# Five persons, 3 % of the picture each: 15 % in all (before the 20 % margin).
BOXES = [
    Box(left=0.04 + 0.19 * i, top=0.3 + 0.08 * (i % 2), width=0.12, height=0.25) for i in range(5)
]


def camera_frame(width: int, height: int) -> bytes:
    """A photo-like JPEG: smooth shading, edges and sensor noise, saved by a camera at q90."""
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
    buffer = io.BytesIO()
    Image.fromarray(np.clip(scene, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def floor(data: bytes) -> bytes:
    image = Image.open(io.BytesIO(data))
    image.load()
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=QUALITY)
    return buffer.getvalue()


def live_blur(data: bytes) -> bytes:
    return anonymise(decode_picture(data, MAX_PIXELS), BOXES, BlurSettings(jpeg_quality=QUALITY))


def median_ms(work, data: bytes, repeats: int) -> float:
    work(data)  # warm up caches and lazy imports
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work(data)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


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
    ratios, frames = [], {}
    print(
        f"{'size':6} {'floor ms':>9} {'blur ms':>8} {'ratio':>6}   (median; q{QUALITY}; 5 boxes, 15 % of the picture)"
    )
    for name, (width, height) in SIZES.items():
        data = frames[name] = camera_frame(width, height)
        # Interleave the two measurements so that machine noise hits both alike.
        floor_ms = median_ms(floor, data, REPEATS[name])
        blur_ms = median_ms(live_blur, data, REPEATS[name])
        floor_ms = min(floor_ms, median_ms(floor, data, REPEATS[name]))
        blur_ms = min(blur_ms, median_ms(live_blur, data, REPEATS[name]))
        ratios.append(blur_ms / floor_ms)
        print(f"{name:6} {floor_ms:9.1f} {blur_ms:8.1f} {ratios[-1]:6.3f}")
    print(
        f"peak RSS of a process blurring one 2160p picture: {peak_rss_mb(frames['2160p']):.0f} MB"
    )
    print(f"blur/floor ratio: {ratios[0]:.3f} {ratios[1]:.3f}")


if __name__ == "__main__":
    main()
