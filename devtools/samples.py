"""Sample camera pictures for the demo and the integration tests, generated at run time.

The people are real photos that ship inside pip packages (no download, no file in the
repository): scikit-image's astronaut (Eileen Collins) and cameraman, and matplotlib's Grace
Hopper. They are composited into camera-like construction-site scenes drawn here (sky, crane,
scaffold, fence, gravel from scikit-image's texture sample), with a camera overlay (name and
time) and a parked vehicle with a synthetic licence plate (a white rectangle with dark
characters, which the local Rekognition endpoint's plate detector finds).

The set covers what the live pass must handle: a JPEG with two persons and a plate, a JPEG whose
EXIF Orientation says "rotate 90°" (pixels stored sideways, as a camera mounted on its side
writes them), an RGB PNG, a picture with no person (only a plate), a truncated JPEG, and keys
with spaces and a "+" (S3 URL-encodes them in events).

Run `python -m devtools.samples OUTPUT_DIR` to write them to a folder and look at them.
"""

from __future__ import annotations

import argparse
import io
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

SCENE_SIZE = (1280, 720)
EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class Sample:
    """One object a camera uploads; `expect` is what the pipeline should make of it."""

    key: str
    data: bytes
    content_type: str
    expect: str  # "blurred" (a picture with persons), "no_person", "rejected"
    persons: int = 0  # persons placed in the scene
    plates: int = 0  # plates placed in the scene
    note: str = ""


# ---------------------------------------------------------------- people from pip packages


def astronaut() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut()).crop((90, 10, 400, 512))


def cameraman() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.camera()).convert("RGB").crop((70, 30, 330, 512))


def grace_hopper() -> Image.Image:
    import matplotlib.cbook

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as handle:
        return Image.open(handle).convert("RGB").crop((60, 40, 460, 600))


def _gravel() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.gravel()).convert("RGB")


# ------------------------------------------------------------------------- scene drawing


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def construction_site(seed: int, size: tuple[int, int] = SCENE_SIZE) -> Image.Image:
    """A camera-like view of a building site: sky, crane, scaffold, fence, gravel ground."""
    rng = random.Random(seed)  # noqa: S311 - a repeatable layout, not a secret
    width, height = size
    horizon = int(height * 0.55)
    sky = np.linspace([150, 190, 230], [225, 232, 240], horizon).astype(np.uint8)
    image = Image.new("RGB", size)
    image.paste(Image.fromarray(np.repeat(sky[:, None, :], width, axis=1)), (0, 0))
    ground = _gravel().resize((width, height - horizon)).point(lambda v: int(v * 0.55 + 70))
    image.paste(ground, (0, horizon))
    draw = ImageDraw.Draw(image)

    # A tower crane: mast, jib and a hanging load.
    mast_x = rng.randint(int(width * 0.55), int(width * 0.85))
    yellow = (226, 180, 30)
    draw.rectangle((mast_x - 10, int(height * 0.08), mast_x + 10, horizon), fill=yellow)
    for y in range(int(height * 0.08), horizon, 24):
        draw.line((mast_x - 10, y, mast_x + 10, y + 24), fill=(120, 95, 20), width=2)
    jib_y = int(height * 0.1)
    draw.rectangle((mast_x - int(width * 0.45), jib_y, mast_x + 120, jib_y + 10), fill=yellow)
    hook_x = mast_x - rng.randint(150, 400)
    draw.line((hook_x, jib_y + 10, hook_x, jib_y + 150), fill=(40, 40, 40), width=2)
    draw.rectangle((hook_x - 40, jib_y + 150, hook_x + 40, jib_y + 180), fill=(110, 110, 120))

    # A half-built concrete frame with scaffolding.
    left = rng.randint(20, int(width * 0.2))
    top = int(height * 0.25)
    draw.rectangle((left, top, left + 360, horizon + 20), fill=(170, 168, 160))
    for floor in range(top, horizon, 45):
        draw.rectangle((left, floor, left + 360, floor + 8), fill=(120, 118, 112))
    for x in range(left, left + 361, 36):
        draw.line((x, top - 20, x, horizon + 20), fill=(90, 90, 95), width=3)

    # A site fence along the horizon.
    for x in range(0, width, 18):
        draw.line((x, horizon - 40, x, horizon + 5), fill=(70, 80, 70), width=2)
    draw.line((0, horizon - 40, width, horizon - 40), fill=(70, 80, 70), width=3)
    return image


def add_person(
    scene: Image.Image, person: Image.Image, where: tuple[int, int], height: int
) -> None:
    """Paste a person photo with a soft oval mask, feet (or waist) at the bottom of the box."""
    scale = height / person.height
    resized = person.resize((int(person.width * scale), height), Image.Resampling.LANCZOS)
    mask = Image.new("L", resized.size, 0)
    ImageDraw.Draw(mask).ellipse(
        (0, -resized.height * 0.15, resized.width, resized.height * 1.6), fill=255
    )
    mask = mask.filter(ImageFilter.GaussianBlur(max(2, resized.width // 40)))
    scene.paste(resized, where, mask)


def plate(text: str, height: int = 44) -> Image.Image:
    """A synthetic licence plate: white, a dark border, dark characters (about 4.7:1)."""
    width = int(height * 4.7)
    image = Image.new("RGB", (width, height), (245, 245, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width - 1, height - 1), outline=(20, 20, 20), width=max(2, height // 16))
    draw.rectangle((3, 3, height // 3, height - 4), fill=(30, 60, 160))  # country strip
    font = _font(int(height * 0.72))
    box = draw.textbbox((0, 0), text, font=font)
    text_x = height // 3 + (width - height // 3 - (box[2] - box[0])) // 2 - box[0]
    text_y = (height - (box[3] - box[1])) // 2 - box[1]
    draw.text((text_x, text_y), text, fill=(15, 15, 15), font=font)
    return image


def add_vehicle(
    scene: Image.Image, where: tuple[int, int], plate_text: str, scale: float = 1.0
) -> None:
    """A parked van seen from behind, its plate centred on the bumper."""
    x, y = where
    width, height = int(330 * scale), int(230 * scale)
    draw = ImageDraw.Draw(scene)
    draw.rounded_rectangle(
        (x, y, x + width, y + height), radius=int(18 * scale), fill=(235, 235, 238)
    )
    draw.rectangle(
        (
            x + int(20 * scale),
            y + int(15 * scale),
            x + width - int(20 * scale),
            y + int(95 * scale),
        ),
        fill=(60, 75, 90),
    )
    for wheel_x in (x + int(25 * scale), x + width - int(85 * scale)):
        draw.rectangle(
            (wheel_x, y + height, wheel_x + int(60 * scale), y + height + int(28 * scale)),
            fill=(25, 25, 25),
        )
    draw.rectangle((x, y + height - int(45 * scale), x + width, y + height), fill=(90, 90, 95))
    for lamp_x in (x + int(8 * scale), x + width - int(38 * scale)):
        draw.rectangle(
            (lamp_x, y + int(110 * scale), lamp_x + int(30 * scale), y + int(140 * scale)),
            fill=(200, 40, 30),
        )
    badge = plate(plate_text, int(44 * scale))
    scene.paste(badge, (x + (width - badge.width) // 2, y + height - int(100 * scale)))


def camera_overlay(scene: Image.Image, camera: str, when: str) -> None:
    """The camera's own caption, burnt into the pixels like a real site camera's."""
    draw = ImageDraw.Draw(scene)
    text = f"{camera.upper()}  {when}"
    font = _font(22)
    box = draw.textbbox((16, 12), text, font=font)
    draw.rectangle((box[0] - 6, box[1] - 4, box[2] + 6, box[3] + 4), fill=(0, 0, 0))
    draw.text((16, 12), text, fill=(255, 255, 255), font=font)


# --------------------------------------------------------------------------- encodings


def jpeg(image: Image.Image, quality: int = 90, exif: Image.Exif | None = None) -> bytes:
    buffer = io.BytesIO()
    options: dict[str, object] = {"format": "JPEG", "quality": quality}
    if exif is not None:
        options["exif"] = exif
    image.save(buffer, **options)
    return buffer.getvalue()


def camera_exif(orientation: int = 1) -> Image.Exif:
    """What a site camera writes: make, model, orientation and a GPS position (to be stripped)."""
    exif = Image.Exif()
    exif[0x010F] = "CamblurDemo"  # Make
    exif[0x0110] = "SiteCam 4K"  # Model
    exif[EXIF_ORIENTATION] = orientation
    exif[0x0132] = "2026:11:25 09:20:00"  # DateTime
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (48.0, 51.0, 24.0)
    gps[3], gps[4] = "E", (2.0, 21.0, 8.0)
    return exif


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# ------------------------------------------------------------------------------ the set


def generate() -> list[Sample]:
    """The demo's uploads, in upload order. Deterministic: same bytes on every run."""
    samples = []

    scene = construction_site(seed=1)
    add_person(scene, astronaut(), (180, 250), 440)
    add_person(scene, grace_hopper(), (560, 300), 400)
    add_vehicle(scene, (900, 420), "CB 421 LX")
    camera_overlay(scene, "cam-north gate", "2026-11-25 09:15:02")
    samples.append(
        Sample(
            "cam-north/gate/09-15 entrance.jpg",
            jpeg(scene, exif=camera_exif()),
            "image/jpeg",
            "blurred",
            persons=2,
            plates=1,
            note="two persons, a van; EXIF with GPS",
        )
    )

    # Mounted on its side: the camera stores the pixels rotated and says so in EXIF.
    scene = construction_site(seed=2)
    add_person(scene, grace_hopper(), (700, 250), 440)
    camera_overlay(scene, "cam-north crane", "2026-11-25 09:20:00")
    sideways = scene.transpose(Image.Transpose.ROTATE_90)  # orientation 6 undoes this
    samples.append(
        Sample(
            "cam-north/crane/09-20 rotated.jpg",
            jpeg(sideways, exif=camera_exif(orientation=6)),
            "image/jpeg",
            "blurred",
            persons=1,
            note="EXIF Orientation 6 (stored sideways)",
        )
    )

    scene = construction_site(seed=3)
    add_person(scene, cameraman(), (420, 200), 500)
    add_vehicle(scene, (850, 430), "KL 77 ZEN", scale=0.9)
    camera_overlay(scene, "cam-south yard", "2026-11-25 09:30:00")
    samples.append(
        Sample(
            "cam-south/yard/09-30 survey+team.png",
            png(scene),
            "image/png",
            "blurred",
            persons=1,
            plates=1,
            note="PNG; a '+' and a space in the key",
        )
    )

    scene = construction_site(seed=4)
    add_vehicle(scene, (480, 400), "PV 908 QR", scale=1.1)
    camera_overlay(scene, "cam-south yard", "2026-11-25 09:35:00")
    samples.append(
        Sample(
            "cam-south/yard/09-35 empty.jpg",
            jpeg(scene),
            "image/jpeg",
            "no_person",
            plates=1,
            note="no person, one plate",
        )
    )

    whole = jpeg(construction_site(seed=5))
    samples.append(
        Sample(
            "cam-east/ramp/09-40 broken.jpg",
            whole[: len(whole) // 3],
            "image/jpeg",
            "rejected",
            note="truncated JPEG (upload cut off)",
        )
    )
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    args = parser.parse_args()
    for sample in generate():
        path = args.output / sample.key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(sample.data)
        print(f"{path}  {len(sample.data)} bytes  {sample.note}")


if __name__ == "__main__":
    main()
