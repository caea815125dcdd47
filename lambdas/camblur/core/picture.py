"""Decode and validate an uploaded picture; prepare what Rekognition is given.

Every decision about bad input lives here, so that the live pass and the refinement treat a
picture the same way and the boxes Rekognition returns always refer to the pixels we blur.
"""

from __future__ import annotations

import functools
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageCms, ImageOps, UnidentifiedImageError

from camblur.core.errors import PictureRejected

# Rekognition's image limits (DetectLabels / DetectCustomLabels).
REKOGNITION_FORMATS = frozenset({"JPEG", "PNG"})
REKOGNITION_MIN_SIDE = 80
REKOGNITION_MAX_SIDE = 10_000
REKOGNITION_MAX_S3_BYTES = 15 * 1024 * 1024
REKOGNITION_MAX_INLINE_BYTES = 4 * 1024 * 1024  # 5 MB for DetectLabels, 4 MB for DetectCustomLabels
DETECTION_MAX_SIDE = 4096  # long side of a converted picture sent inline

EXIF_ORIENTATION = 0x0112
SRGB_PROFILE = ImageCms.createProfile("sRGB")
# A profile whose conversion moves no colour by more than this is sRGB, whatever it is called.
SRGB_TOLERANCE = 1
PROFILES_CACHED = 8  # distinct camera profiles kept per process, with their transforms
SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})


@dataclass(frozen=True)
class Picture:
    """A decoded picture, upright, 8-bit RGB, ready to be blurred.

    `rekognition_reads_original` says whether Rekognition may read the stored object itself
    (an S3 reference, no bytes sent): only when it would see exactly these pixels.
    """

    image: Image.Image
    source_format: str
    rekognition_reads_original: bool
    icc_profile: bytes | None

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size


def decode_picture(data: bytes, max_pixels: int) -> Picture:
    """Decode `data` into an upright RGB picture, or raise PictureRejected with a reason.

    JPEG orientation is applied (Rekognition returns boxes for the orientation-corrected JPEG);
    other formats are never rotated by Rekognition, so we send them our own upright copy.
    """
    if not data:
        raise PictureRejected("EMPTY_OBJECT", "the object has zero bytes")
    # Pillow warns above MAX_IMAGE_PIXELS and refuses above twice that: use our limit.
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            _check_dimensions(image.size, max_pixels)
            source_format = image.format or "UNKNOWN"
            if getattr(image, "n_frames", 1) > 1:
                raise PictureRejected(
                    "ANIMATED_IMAGE", f"{source_format} with {image.n_frames} frames"
                )
            image.load()
    except PictureRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise PictureRejected("TOO_MANY_PIXELS", str(error)) from error
    except UnidentifiedImageError as error:
        raise PictureRejected("NOT_AN_IMAGE", "not a picture format we can read") from error
    except (OSError, SyntaxError, ValueError) as error:
        raise PictureRejected("CORRUPT_IMAGE", f"cannot decode: {error}") from error

    icc_profile = image.info.get("icc_profile") or None
    plain_rgb = image.mode in ("RGB", "L")
    orientation = image.getexif().get(EXIF_ORIENTATION, 1) if source_format == "JPEG" else 1
    if orientation not in (1, None):
        ImageOps.exif_transpose(image, in_place=True)  # one turn of the pixels, no copy after
    image = _to_rgb(image)
    _to_srgb(image, icc_profile)
    # Pillow re-writes what `info` holds (the JPEG comment, for one) on save: carry no metadata.
    image.info = {}
    reads_original = (
        source_format in REKOGNITION_FORMATS
        and plain_rgb
        and len(data) <= REKOGNITION_MAX_S3_BYTES
        and max(image.size) <= REKOGNITION_MAX_SIDE
    )
    return Picture(image, source_format, reads_original, icc_profile)


def _check_dimensions(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise PictureRejected(
            "TOO_MANY_PIXELS", f"{width}x{height} is over the limit of {max_pixels} pixels"
        )
    if min(width, height) < REKOGNITION_MIN_SIDE:
        raise PictureRejected(
            "TOO_SMALL", f"{width}x{height}: Rekognition needs {REKOGNITION_MIN_SIDE} px a side"
        )


def _to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB, flattening transparency onto white so that no hidden pixels resurface."""
    if image.mode == "RGB":
        return image
    if image.mode in SIXTEEN_BIT_MODES:
        # Scale 16-bit samples to 8 bits; a plain convert("L") would clip everything above 255.
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L").convert("RGB")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> None:
    """Convert an RGB image in place from its embedded profile to sRGB (the output has no other).

    Most cameras embed an sRGB profile, which needs no conversion: skipping it is what keeps a
    profiled picture at the cost of a plain one (converting a 2160p frame costs twice a decode).
    """
    if icc_profile is None:
        return
    transform = _transform_to_srgb(icc_profile)
    if transform is not None:
        ImageCms.applyTransform(image, transform, inPlace=True)


@functools.lru_cache(maxsize=PROFILES_CACHED)
def _transform_to_srgb(icc_profile: bytes) -> ImageCms.ImageCmsTransform | None:
    """The RGB->sRGB transform for a profile, or None when the pixels are to be left as they are.

    Whether a profile is sRGB is decided by what it does, not by its name: converting a grid of
    colours through it. Cameras embed many sRGB variants (a 1024-point curve or a parametric one,
    v2 or v4, under various names), and each leaves the grid within ±1; Display P3 shares sRGB's
    curve and Adobe RGB its red and blue, yet both move saturated colours by tens of levels.
    """
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        transform = ImageCms.buildTransform(source, SRGB_PROFILE, "RGB", "RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        # Unreadable, or not an RGB profile: the pixels are still right in most viewers.
        return None
    grid = _colour_grid()
    moved = ImageChops.difference(grid, ImageCms.applyTransform(grid, transform))
    if max(high for _, high in moved.getextrema()) <= SRGB_TOLERANCE:
        return None
    return transform


@functools.cache
def _colour_grid() -> Image.Image:
    """16 levels a channel in every combination, and the full ramp of grey and each primary."""
    levels = [round(i * 255 / 15) for i in range(16)]
    colours = [(r, g, b) for r in levels for g in levels for b in levels]
    for v in range(256):
        colours += [(v, v, v), (v, 0, 0), (0, v, 0), (0, 0, v)]
    return Image.frombytes("RGB", (len(colours), 1), bytes(c for rgb in colours for c in rgb))


def detection_jpeg(picture: Picture, max_bytes: int = REKOGNITION_MAX_INLINE_BYTES) -> bytes:
    """The picture as a JPEG Rekognition accepts inline: same pixels, long side ≤ 4096 px.

    Boxes are ratios, so a scaled-down copy gives boxes that fit the full-size picture.
    """
    image = picture.image
    if max(image.size) > DETECTION_MAX_SIDE:
        image = image.copy()
        image.thumbnail((DETECTION_MAX_SIDE, DETECTION_MAX_SIDE), Image.Resampling.LANCZOS)
    for quality in (90, 80, 70, 60):
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality)
        if buffer.tell() <= max_bytes:
            return buffer.getvalue()
    image = image.copy()
    image.thumbnail((2048, 2048), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=70)
    return buffer.getvalue()
