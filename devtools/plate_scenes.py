"""Synthetic licence plates on vehicles, for the plate tests and `make bench-plates`.

Everything here is generated: EU and US plate layouts in Pillow's default font and the DejaVu
fonts matplotlib ships, drawn on a simple vehicle body over real photos that ship in packages
(scikit-image, matplotlib), then distorted the way site cameras distort them. No real plate.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
EU_RATIO = 520 / 110  # width / height of an EU plate
US_RATIO = 12 / 6


@cache
def font_files() -> tuple[str | None, ...]:
    """None (Pillow's default font) and the DejaVu TTFs in matplotlib's wheel."""
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    names = ("DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSans.ttf")
    return (None, *(str(folder / name) for name in names if (folder / name).is_file()))


def font(file: str | None, size: int) -> Font:
    if file is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(file, size)


@cache
def backgrounds() -> tuple[Image.Image, ...]:
    """Real photos shipped by scikit-image and matplotlib."""
    import matplotlib.cbook
    from skimage import data

    photos = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket(), data.cat()]
    photos += [np.stack([data.camera()] * 3, axis=-1), np.stack([data.brick()] * 3, axis=-1)]
    images = [Image.fromarray(photo).convert("RGB") for photo in photos]
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as handle:
        images.append(Image.open(handle).convert("RGB"))
    return tuple(images)


def plate_text(rng: random.Random, layout: str) -> str:
    letters = string.ascii_uppercase
    if layout == "eu":
        return (
            f"{''.join(rng.choices(letters, k=2))} {rng.randint(10, 9999)} "
            f"{''.join(rng.choices(letters, k=rng.randint(1, 2)))}"
        )
    return f"{rng.randint(1, 9)}{''.join(rng.choices(letters, k=3))}{rng.randint(100, 999)}"


def render_plate(text: str, layout: str, height: int, font_file: str | None) -> Image.Image:
    """A flat plate, `height` px high: EU (white, blue strip) or US (tinted, state line)."""
    width = round(height * (EU_RATIO if layout == "eu" else US_RATIO))
    fill = (246, 246, 240) if layout == "eu" else (236, 238, 250)
    image = Image.new("RGB", (width, height), fill)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width - 1, height - 1), outline=(25, 25, 25), width=max(1, height // 20))
    left = 0
    if layout == "eu":
        left = max(2, round(height * 0.36))
        draw.rectangle((1, 1, left, height - 2), fill=(20, 60, 170))
        glyphs, top, bottom = text, 0.12, 0.88
    else:
        state = font(font_file, max(6, height // 6))
        draw.text((width / 2, height * 0.04), "STATE", fill=(170, 30, 30), font=state, anchor="ma")
        glyphs, top, bottom = text, 0.26, 0.92
    size = max(6, round(height * (bottom - top)))
    face = font(font_file, size)
    box = draw.textbbox((0, 0), glyphs, font=face)
    # Shrink the font until the characters fit the plate's width.
    while box[2] - box[0] > (width - left) * 0.92 and size > 6:
        size -= 1
        face = font(font_file, size)
        box = draw.textbbox((0, 0), glyphs, font=face)
    x = left + (width - left - (box[2] - box[0])) / 2 - box[0]
    y = height * (top + bottom) / 2 - (box[1] + box[3]) / 2
    draw.text((x, y), glyphs, fill=(15, 15, 25), font=face)
    return image


@dataclass(frozen=True)
class VehicleCrop:
    """A vehicle crop with its plate: `plate_mask` is True on the plate's pixels."""

    image: Image.Image
    plate_mask: np.ndarray
    plate_height: int
    layout: str


def vehicle_crop(rng: random.Random, plate_height: int, layout: str) -> VehicleCrop:
    """A vehicle seen from behind or in front, the plate `plate_height` px high, distorted."""
    plate = render_plate(plate_text(rng, layout), layout, plate_height, rng.choice(font_files()))
    # A plate is 1/14 to 1/22 of a vehicle's width (cars to trucks): the crop follows.
    width = round(plate_height * rng.uniform(14, 22) * (1.0 if layout == "eu" else 0.6))
    width = max(width, plate.width + 20)
    height = round(width * rng.uniform(0.7, 1.0))
    photo = rng.choice(backgrounds())
    scale = max(width / photo.width, height / photo.height) * rng.uniform(1.0, 1.8)
    large = photo.resize((int(photo.width * scale) + 1, int(photo.height * scale) + 1))
    left, top = rng.randint(0, large.width - width), rng.randint(0, large.height - height)
    image = large.crop((left, top, left + width, top + height))
    draw = ImageDraw.Draw(image)
    body = tuple(rng.randint(30, 240) for _ in range(3))
    margin = round(width * 0.04)
    draw.rounded_rectangle(
        (margin, round(height * 0.1), width - margin, round(height * 0.9)),
        radius=round(width * 0.05),
        fill=body,
    )
    draw.rectangle(
        (margin * 3, round(height * 0.16), width - margin * 3, round(height * 0.45)),
        fill=(50, 60, 75),
    )
    # The plate, tilted in perspective (up to 30 degrees), with its own mask.
    tilted, mask = _perspective(plate, rng.uniform(-30, 30), rng.uniform(-12, 12))
    x = rng.randint(margin * 2, max(margin * 2, width - tilted.width - margin * 2))
    y = rng.randint(round(height * 0.55), max(round(height * 0.55), height - tilted.height - 4))
    image.paste(tilted, (x, y), mask)
    full_mask = np.zeros((height, width), dtype=bool)
    part = np.asarray(mask) > 127
    full_mask[y : y + part.shape[0], x : x + part.shape[1]] = part[: height - y, : width - x]
    image = _camera_effects(rng, image, (x, y, x + tilted.width, y + tilted.height))
    return VehicleCrop(image, full_mask, plate_height, layout)


def _perspective(plate: Image.Image, yaw: float, pitch: float) -> tuple[Image.Image, Image.Image]:
    """The plate turned by `yaw` (its far side shorter) and `pitch`, and its alpha mask."""
    width, height = plate.size
    squeeze = np.cos(np.radians(yaw))
    shrink = 0.5 * abs(np.sin(np.radians(yaw))) * height * 0.35
    out_width = max(4, round(width * squeeze))
    shear = round(np.tan(np.radians(pitch)) * out_width * 0.2)
    out_height = height + abs(shear)
    # Corners of the plate in the output (top-left, top-right, bottom-right, bottom-left).
    near, far = (0.0, shrink) if yaw > 0 else (shrink, 0.0)
    top_shift = max(shear, 0)
    corners = [
        (0, near + top_shift),
        (out_width, far + top_shift - shear),
        (out_width, height - far + top_shift - shear),
        (0, height - near + top_shift),
    ]
    coefficients = _perspective_coefficients(
        corners, [(0, 0), (width, 0), (width, height), (0, height)]
    )
    flat = Image.new("L", plate.size, 255)
    size = (out_width, out_height)
    tilted = plate.transform(
        size, Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BILINEAR
    )
    mask = flat.transform(
        size, Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BILINEAR
    )
    return tilted, mask


def _perspective_coefficients(
    output: list[tuple[float, float]], source: list[tuple[float, float]]
) -> list[float]:
    """Pillow's 8 coefficients mapping output corners back to source corners."""
    rows = []
    for (x, y), (u, v) in zip(output, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    targets = np.array([value for point in source for value in point], dtype=float)
    return list(np.linalg.solve(np.array(rows, dtype=float), targets))


def _camera_effects(
    rng: random.Random, image: Image.Image, plate_box: tuple[int, int, int, int]
) -> Image.Image:
    """Motion blur, noise, night/low contrast, dirt and partial occlusion, each sometimes."""
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = plate_box
    if rng.random() < 0.3:  # dirt: blotches on the plate
        for _ in range(rng.randint(2, 6)):
            cx, cy = rng.uniform(left, right), rng.uniform(top, bottom)
            r = rng.uniform(1, max(2, (bottom - top) * 0.25))
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(110, 95, 70))
    if rng.random() < 0.2:  # partial occlusion: a tow bar or a post over up to a fifth
        bar = round((right - left) * rng.uniform(0.05, 0.2))
        x = rng.randint(left, max(left, right - bar))
        draw.rectangle((x, top - 2, x + bar, bottom + 2), fill=(40, 40, 40))
    pixels = np.asarray(image, dtype=np.float32)
    if rng.random() < 0.3:  # motion blur along the road
        length = rng.randint(2, max(3, (bottom - top) // 4))
        kernel = np.ones(length) / length
        pixels = np.apply_along_axis(lambda row: np.convolve(row, kernel, mode="same"), 1, pixels)
    if rng.random() < 0.3:  # night / low contrast
        pixels = pixels * rng.uniform(0.25, 0.5) + rng.uniform(0, 25)
    if rng.random() < 0.5:  # sensor noise
        noise = np.random.default_rng(rng.randint(0, 2**31)).normal(
            0, rng.uniform(3, 12), pixels.shape
        )
        pixels = pixels + noise
    result = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    if rng.random() < 0.2:
        result = result.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.2)))
    return result


def van_scene(
    text: str = "KA 4711 TB", size: tuple[int, int] = (1280, 720)
) -> tuple[Image.Image, tuple[int, int, int, int], tuple[int, int, int, int]]:
    """A parked van seen from behind on a real photo, its plate readable: the scene, the van's
    box and the plate's box, in pixels (left, top, right, bottom)."""
    scene = backgrounds()[1].resize(size, Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(scene)
    van = (500, 260, 860, 620)
    draw.rounded_rectangle(van, radius=20, fill=(232, 232, 236))
    draw.rectangle((525, 280, 835, 380), fill=(60, 75, 90))
    draw.rectangle((500, 560, 860, 620), fill=(85, 85, 92))
    plate = render_plate(text, "eu", 48, font_files()[1 if len(font_files()) > 1 else 0])
    x, y = 680 - plate.width // 2, 490
    scene.paste(plate, (x, y))
    return scene, van, (x, y, x + plate.width, y + plate.height)
