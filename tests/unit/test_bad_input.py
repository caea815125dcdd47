"""Every kind of bad input gets a clear, recorded outcome, and never an unblurred output.

Through the live handler (moto S3/DynamoDB, Stubber for Rekognition): a rejected picture has
status REJECTED with a reason and nothing in the blurred bucket; a convertible one is sent to
Rekognition as our own upright 8-bit JPEG (bytes), so its boxes fit the pixels we blur.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
from botocore.stub import ANY
from PIL import Image

from tests.support.live import PERSON, Live, labels_response
from tests.support.pictures import decode, encode, jpeg_bytes, photo_like


def zero_bytes() -> bytes:
    return b""


def text_named_jpg() -> bytes:
    return b"this is not a picture, it is a text file named .jpg\n" * 20


def truncated_jpeg() -> bytes:
    data = jpeg_bytes(photo_like(400, 300))
    return data[: len(data) // 2]


def heic_header() -> bytes:
    # The start of an ISO-BMFF HEIC file: Pillow has no HEIC decoder.
    return b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200


def decompression_bomb() -> bytes:
    # 9000x9000 bilevel PNG: a few kB on disk, 81 Mpx (over the 10 Mpx limit set by the fixture).
    return encode(Image.new("1", (9000, 9000)), "PNG", optimize=True)


def animated_gif() -> bytes:
    frames = [photo_like(120, 100, seed=seed).convert("P") for seed in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100)
    return buffer.getvalue()


def too_small() -> bytes:
    return jpeg_bytes(photo_like(60, 60))


REJECTED: list[tuple[str, Callable[[], bytes], str]] = [
    ("zero.jpg", zero_bytes, "EMPTY_OBJECT"),
    ("text.jpg", text_named_jpg, "NOT_AN_IMAGE"),
    ("truncated.jpg", truncated_jpeg, "CORRUPT_IMAGE"),
    ("photo.heic", heic_header, "NOT_AN_IMAGE"),
    ("bomb.png", decompression_bomb, "TOO_MANY_PIXELS"),
    ("anim.gif", animated_gif, "ANIMATED_IMAGE"),
    ("tiny.jpg", too_small, "TOO_SMALL"),
]


@pytest.mark.parametrize(("name", "make", "reason"), REJECTED, ids=[r[0] for r in REJECTED])
def test_bad_input_is_rejected_with_a_reason_and_no_output(
    live_env: Live, name: str, make: Callable[[], bytes], reason: str
) -> None:
    # Given a bad file uploaded by a camera (no Rekognition answer is stubbed: none may be asked)
    event = live_env.upload(f"cam-9/{name}", make())
    # When the live function handles its event, it does not fail (Lambda must not retry it)
    live_env.invoke(event)
    # Then the state says REJECTED with the reason, and nothing was written
    state = live_env.state(f"cam-9/{name}")
    assert (state["status"], state["reason"]) == ("REJECTED", reason)
    assert state["error"]
    assert live_env.blurred_keys() == []
    # And a second delivery of the same event does nothing more
    live_env.invoke(event)
    assert live_env.state(f"cam-9/{name}") == state


def test_an_object_over_the_size_limit_is_rejected_unread(live_env: Live) -> None:
    event = live_env.upload("cam-9/huge.jpg", jpeg_bytes(photo_like(300, 200)))
    event["Records"][0]["s3"]["object"]["size"] = 6_000_000  # the fixture's limit is 5 MB
    live_env.invoke(event)
    state = live_env.state("cam-9/huge.jpg")
    assert (state["status"], state["reason"]) == ("REJECTED", "TOO_LARGE_OBJECT")
    assert live_env.blurred_keys() == []


def sixteen_bit_png() -> Image.Image:
    gradient = np.tile(np.linspace(0, 65535, 300, dtype=np.uint16), (200, 1))
    return Image.fromarray(gradient)


def rgba_png() -> Image.Image:
    image = photo_like(300, 200).convert("RGBA")
    image.putalpha(200)
    return image


CONVERTED: list[tuple[str, Callable[[], bytes]]] = [
    ("deep.png", lambda: encode(sixteen_bit_png(), "PNG")),
    ("alpha.png", lambda: encode(rgba_png(), "PNG")),
    ("palette.gif", lambda: encode(photo_like(300, 200).convert("P"), "GIF")),
    ("cmyk.jpg", lambda: jpeg_bytes(photo_like(300, 200).convert("CMYK"))),
    ("frame.webp", lambda: encode(photo_like(300, 200), "WEBP", quality=90)),
]


@pytest.mark.parametrize(("name", "make"), CONVERTED, ids=[c[0] for c in CONVERTED])
def test_convertible_formats_are_sent_as_our_jpeg_and_blurred(
    live_env: Live, name: str, make: Callable[[], bytes]
) -> None:
    # Given a format Rekognition cannot read from S3 as it is
    event = live_env.upload(f"cam-9/{name}", make())
    # Then Rekognition is sent bytes (our upright 8-bit JPEG), not the S3 object
    live_env.expect_detection(labels_response(PERSON), image={"Bytes": ANY})
    live_env.invoke(event)
    state = live_env.state(f"cam-9/{name}")
    assert state["status"] == "LIVE_BLURRED"
    # And the output is an RGB JPEG with the person's region pixelated
    key = state["blurred_key"]
    output = live_env.blurred(key)
    assert Image.open(io.BytesIO(output)).mode == "RGB"
    pixels = decode(output)
    assert pixels.shape == (200, 300, 3)


def test_sixteen_bit_png_keeps_its_tones(live_env: Live) -> None:
    # Given a 16-bit grey gradient (a naive conversion would clip it to white)
    event = live_env.upload("cam-9/deep.png", encode(sixteen_bit_png(), "PNG"))
    live_env.expect_detection(labels_response(), image={"Bytes": ANY})
    live_env.invoke(event)
    pixels = decode(live_env.blurred("cam-9/deep.png.jpg"))
    # Then the left edge is dark, the right edge bright, the middle mid-grey
    assert pixels[:, :10].mean() < 20 and pixels[:, -10:].mean() > 235
    assert 100 < pixels[:, 145:155].mean() < 155
