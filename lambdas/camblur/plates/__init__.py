"""Licence plates inside vehicle boxes: a small interface and the localisers behind it.

DetectLabels gives the vehicles; a localiser finds the plates (in practice: any text) inside
them. Chosen by PLATE_DETECTOR:

    packaged_ocr      PP-OCRv4's text detector, run in the Lambda with onnxruntime (default)
    rekognition_text  DetectText on the vehicle boxes (RegionsOfInterest), billed per picture
    none              no localiser: only plates Rekognition labels itself are blurred

Fail closed: a localiser that cannot answer raises (PlateSearchFailed is transient), so the
picture is not published with readable plates; it is retried, then dead-lettered.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from camblur.core.errors import TransientError

if TYPE_CHECKING:
    from camblur.adapters.rekognition import DetectionInput
    from camblur.core.boxes import Box
    from camblur.core.picture import Picture

PLATE_LABEL = "license_plate"  # the label of every plate box, whoever found it


class PlateDetector(StrEnum):
    PACKAGED_OCR = "packaged_ocr"
    REKOGNITION_TEXT = "rekognition_text"
    NONE = "none"


class PlateSearchFailed(TransientError):  # noqa: N818 - names the situation
    """The plate localiser could not answer: never read as "no plates"."""


class PlateLocaliser(Protocol):
    name: str

    def locate(
        self, source: DetectionInput, picture: Picture, vehicles: Sequence[Box]
    ) -> tuple[Box, ...]:
        """Plate (text) boxes inside `vehicles`, as ratios of the whole picture.

        `source` is the image as Rekognition reads it, `picture` the decoded pixels: the same.
        """
        ...


def make_localiser(detector: PlateDetector) -> PlateLocaliser | None:
    """The localiser for `detector`; imports only what it needs (onnxruntime is slow to load)."""
    if detector is PlateDetector.PACKAGED_OCR:
        from camblur.plates.packaged_ocr import PackagedOcr

        return PackagedOcr()
    if detector is PlateDetector.REKOGNITION_TEXT:
        from camblur.plates.rekognition_text import RekognitionText

        return RekognitionText()
    return None
