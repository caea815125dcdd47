"""The blur core: people made unrecognisable inside their boxes, nothing else touched, no metadata."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from camblur.core.blur import BlurSettings, BlurStyle, anonymise
from camblur.core.boxes import Box
from camblur.core.picture import decode_picture
from tests.support.pictures import (
    astronaut,
    decode,
    grace_hopper,
    jpeg_bytes,
    jpeg_segments,
    outside_difference,
    photo_like,
)

MAX_PIXELS = 40_000_000
# The astronaut's head and shoulders, as ratios (found by eye on the 512x512 photo).
ASTRONAUT_FACE = Box(left=0.32, top=0.08, width=0.26, height=0.34)
# Grace Hopper's face in matplotlib's 512x600 sample.
HOPPER_FACE = Box(left=0.27, top=0.12, width=0.45, height=0.42)


def faces_found(data: bytes) -> int:
    """OpenCV's frontal-face Haar cascade: a real, offline face detector."""
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    gray = cv2.cvtColor(decode(data).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    return len(cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(40, 40)))


def blur(data: bytes, boxes: list[Box], **settings: object) -> bytes:
    return anonymise(decode_picture(data, MAX_PIXELS), boxes, BlurSettings(**settings))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("photo", "face"), [(astronaut, ASTRONAUT_FACE), (grace_hopper, HOPPER_FACE)]
)
@pytest.mark.parametrize("style", list(BlurStyle))
def test_a_blurred_face_is_no_longer_found_by_a_face_detector(photo, face, style) -> None:
    # Given a real photo in which a face detector finds a face
    original = jpeg_bytes(photo())
    assert faces_found(original) >= 1
    # When the person's box is blurred
    blurred = blur(original, [face], style=BlurStyle(style))
    # Then the detector finds no face any more
    assert faces_found(blurred) == 0


@pytest.mark.parametrize("style", list(BlurStyle))
def test_pixels_change_inside_the_grown_box_and_nowhere_else(style) -> None:
    # Given a 640x480 frame and a person box
    original = jpeg_bytes(photo_like(640, 480, seed=3))
    box = Box(left=0.25, top=0.25, width=0.25, height=0.25)  # 160x120 px at (160, 120)
    # When it is blurred with a 20 % margin, and separately re-encoded with no box at all
    blurred = decode(blur(original, [box], style=BlurStyle(style), margin=0.2))
    untouched = decode(blur(original, [], margin=0.2))
    # Then the grown box (128..352 x 96..264) differs strongly from the re-encoded original
    inner = untouched[104:256, 136:344]
    assert np.abs(blurred[104:256, 136:344] - inner).mean() > 10
    # And, beyond the 16-px JPEG blocks that touch the box, every pixel is exactly the same
    assert outside_difference(untouched, blurred, (112, 80, 368, 280)) == 0.0


def test_pixelation_leaves_at_most_six_cells_across_the_long_side() -> None:
    # Given a textured frame and one box
    original = jpeg_bytes(photo_like(600, 600, seed=5), quality=95)
    box = Box(left=0.2, top=0.2, width=0.5, height=0.3)
    # When it is pixelated with no margin at the highest quality
    blurred = decode(blur(original, [box], margin=0.0, jpeg_quality=95))
    # Then along the long side (300 px) the row through the box's middle has at most 6 colour runs
    row = blurred[210, 120:420].mean(axis=1)
    runs = 1 + int(np.count_nonzero(np.abs(np.diff(row)) > 12))
    assert runs <= 6


def test_exif_rotated_jpeg_is_blurred_where_rekognition_sees_the_person() -> None:
    # Given a picture stored sideways with EXIF Orientation 6 (display rotated 90° clockwise)
    upright = photo_like(400, 300, seed=7)
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    data = jpeg_bytes(stored, exif=exif.tobytes())
    # And a box in the upright picture's coordinates (what Rekognition returns for such a JPEG)
    box = Box(left=0.0, top=0.0, width=0.3, height=0.3)
    # When it is blurred
    output = decode(blur(data, [box], margin=0.0))
    reference = decode(blur(data, [], margin=0.0))
    # Then the output is upright (400x300) and the top-left corner, not another one, changed
    assert output.shape[:2] == (300, 400)
    assert np.abs(output[:80, :110] - reference[:80, :110]).mean() > 10
    assert np.abs(output[-80:, -110:] - reference[-80:, -110:]).mean() == 0.0


def test_no_metadata_survives_exif_gps_thumbnail_xmp_comment() -> None:
    # Given a camera JPEG with EXIF (camera model, GPS position, a thumbnail), XMP and a comment
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    exif[0x0110] = "SiteCam 3000"
    exif.get_ifd(0x8825)[2] = (48.0, 51.0, 24.0)  # GPS latitude
    thumbnail = io.BytesIO()
    photo_like(160, 120, seed=1).save(thumbnail, "JPEG")
    data = jpeg_bytes(
        photo_like(640, 480, seed=2),
        exif=exif.tobytes(),
        comment=b"site 42, gate B, worker John Smith",
        xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>John Smith</x:xmpmeta>",
    )
    assert 0xE1 in jpeg_segments(data) and 0xFE in jpeg_segments(data)
    # When it is anonymised
    output = blur(data, [Box(0.1, 0.1, 0.2, 0.2)])
    # Then no APP1 (EXIF/XMP), APP13 (IPTC) or COM segment is left, and no text leaked
    segments = jpeg_segments(output)
    assert not {0xE1, 0xED, 0xFE} & set(segments)
    assert b"John Smith" not in output and b"SiteCam" not in output
    assert Image.open(io.BytesIO(output)).getexif() == {}


def test_output_is_8_bit_rgb_jpeg_at_the_configured_quality() -> None:
    # Given a PNG with transparency
    rgba = photo_like(320, 240).convert("RGBA")
    rgba.putalpha(128)
    buffer = io.BytesIO()
    rgba.save(buffer, "PNG")
    # When anonymised at quality 60 and 95
    low = blur(buffer.getvalue(), [], jpeg_quality=60)
    high = blur(buffer.getvalue(), [], jpeg_quality=95)
    # Then both are 8-bit RGB JPEGs and quality changes the size
    assert Image.open(io.BytesIO(low)).mode == "RGB"
    assert Image.open(io.BytesIO(low)).format == "JPEG"
    assert len(low) < len(high)


def test_boxes_at_the_edge_are_clipped_to_the_picture() -> None:
    # Given a box that Rekognition reports slightly outside the frame
    box = Box.from_rekognition(
        {"Left": -0.05, "Top": 0.9, "Width": 0.3, "Height": 0.2}, "person", 90.0, "live"
    )
    # When it is turned into pixels with a margin
    left, top, right, bottom = box.to_pixels(1000, 500, margin=0.2)
    # Then it stays inside the picture
    assert (left, right, bottom) == (0, right, 500) and 0 < right <= 1000 and top < 500
    original = jpeg_bytes(photo_like(1000, 500))
    assert decode(blur(original, [box])).shape == (500, 1000, 3)
