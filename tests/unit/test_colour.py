"""Colour profiles and orientation: the output is upright sRGB whatever the camera embedded."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageCms

from camblur.core.blur import BlurSettings, anonymise
from camblur.core.boxes import Box
from camblur.core.picture import decode_picture
from tests.support.icc import adobe_rgb_profile, display_p3_profile, srgb_profile
from tests.support.pictures import astronaut, decode, encode, jpeg_bytes, photo_like

MAX_PIXELS = 40_000_000
SRGB = ImageCms.createProfile("sRGB")
SRGB_VARIANTS = {
    "lcms built-in": lambda: ImageCms.ImageCmsProfile(SRGB).tobytes(),
    "IEC61966-2.1, 1024-point curve (v2)": lambda: srgb_profile(table=True),
    "IEC61966-2.1, parametric curve (v4)": lambda: srgb_profile(),
    "compact, other name": lambda: srgb_profile(description="c2"),
}
WIDE_GAMUT = {"Display P3": display_p3_profile, "Adobe RGB": adobe_rgb_profile}
# A warm skin-like tone and a grass green: inside every gamut here, far from the axes.
COLOURS = [(200, 80, 60), (60, 180, 70)]


def converted_as_before(image: Image.Image, icc_profile: bytes) -> np.ndarray:
    """What decoding did before sRGB was recognised: always convert through lcms."""
    source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
    converted = ImageCms.profileToProfile(image.convert("RGB"), source, SRGB, outputMode="RGB")
    return np.asarray(converted, dtype=np.int16)


def block_means(pixels: np.ndarray, side: int = 10) -> np.ndarray:
    height, width = pixels.shape[0] // side, pixels.shape[1] // side
    return pixels.reshape(height, side, width, side, 3).mean(axis=(1, 3))


@pytest.fixture
def whole_picture_conversions(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The sizes of the pictures (not the small probes) that a colour transform was applied to."""
    applied: list[tuple[int, int]] = []
    apply = ImageCms.ImageCmsTransform.apply  # what every Pillow conversion path ends in

    def spy(transform, image: Image.Image, out: Image.Image | None = None) -> Image.Image:
        if image.height > 1:
            applied.append(image.size)
        return apply(transform, image, out)

    monkeypatch.setattr(ImageCms.ImageCmsTransform, "apply", spy)
    return applied


@pytest.mark.parametrize("variant", list(SRGB_VARIANTS))
def test_an_srgb_profiled_photo_keeps_its_pixels_and_is_not_converted(
    variant: str, whole_picture_conversions: list[tuple[int, int]]
) -> None:
    # Given a real photo saved by a camera with one of the sRGB profiles cameras embed
    icc_profile = SRGB_VARIANTS[variant]()
    data = jpeg_bytes(astronaut(), icc_profile=icc_profile)
    # When it is decoded and anonymised
    picture = decode_picture(data, MAX_PIXELS)
    output = anonymise(picture, [], BlurSettings(jpeg_quality=95))
    # Then no colour conversion ran over the picture
    assert whole_picture_conversions == []
    # And its pixels are what converting them used to give, within one level
    expected = converted_as_before(Image.open(io.BytesIO(data)), icc_profile)
    assert np.abs(np.asarray(picture.image, dtype=np.int16) - expected).max() <= 1
    # And the output still says it is sRGB, with our own profile
    embedded = Image.open(io.BytesIO(output)).info["icc_profile"]
    assert "sRGB" in ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(embedded)))


@pytest.mark.parametrize("gamut", list(WIDE_GAMUT))
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_wide_gamut_picture_is_converted_to_srgb(
    gamut: str, fmt: str, whole_picture_conversions: list[tuple[int, int]]
) -> None:
    # Given patches of colour stored in a wide-gamut profile (raw numbers mean other colours)
    icc_profile = WIDE_GAMUT[gamut]()
    stored = Image.new("RGB", (160, 80))
    for index, colour in enumerate(COLOURS):
        stored.paste(colour, (index * 80, 0, index * 80 + 80, 80))
    data = encode(
        stored, fmt, icc_profile=icc_profile, **({"quality": 95} if fmt == "JPEG" else {})
    )
    # When it is decoded
    picture = decode_picture(data, MAX_PIXELS)
    pixels = np.asarray(picture.image, dtype=np.int16)
    assert whole_picture_conversions == [(160, 80)]
    # Then each patch holds the sRGB colour lcms gives for it, not the raw numbers
    expected = converted_as_before(Image.open(io.BytesIO(data)), icc_profile)
    assert np.abs(pixels - expected).max() <= 1
    for index, colour in enumerate(COLOURS):
        centre = pixels[40, index * 80 + 40]
        assert np.abs(centre - np.array(colour)).max() > 10


def test_the_transform_for_a_profile_is_reused_across_pictures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given three pictures from the same phone, with the same Display P3 profile
    from camblur.core import picture as picture_module

    picture_module._transform_to_srgb.cache_clear()
    built = []
    build = ImageCms.buildTransform
    monkeypatch.setattr(
        ImageCms, "buildTransform", lambda *a, **k: built.append(1) or build(*a, **k)
    )
    icc_profile = display_p3_profile()
    # When they are decoded one after another
    for seed in range(3):
        decode_picture(jpeg_bytes(photo_like(200, 120, seed), icc_profile=icc_profile), MAX_PIXELS)
    # Then the colour transform was built once
    assert len(built) == 1


@pytest.mark.parametrize(
    ("orientation", "stored_as"),
    [
        (3, Image.Transpose.ROTATE_180),
        (6, Image.Transpose.ROTATE_90),
        (8, Image.Transpose.ROTATE_270),
    ],
)
def test_a_turned_picture_is_blurred_where_the_upright_box_is(
    orientation: int, stored_as: Image.Transpose
) -> None:
    # Given an upright scene stored turned, with the EXIF orientation that turns it back
    upright = photo_like(400, 300, seed=11)
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = jpeg_bytes(upright.transpose(stored_as), exif=exif.tobytes(), quality=95)
    # And a box in the upright picture's coordinates, as Rekognition returns it
    box = Box(left=0.0, top=0.0, width=0.3, height=0.3)
    # When it is blurred
    output = decode(anonymise(decode_picture(data, MAX_PIXELS), [box], BlurSettings(margin=0.0)))
    # Then the output is the upright scene (compared by 10-px block means, above the noise) ...
    assert output.shape == (300, 400, 3)
    reference = np.asarray(upright, dtype=np.int16)
    away = block_means(output[-100:, -150:]) - block_means(reference[-100:, -150:])
    assert np.abs(away).max() < 4
    # ... and pixelated in the upright top-left corner only
    assert np.abs(output[:80, :110] - reference[:80, :110]).mean() > 10
