"""`rekognition_text`: DetectText, looking only inside the vehicle boxes.

One call per ten vehicles (RegionsOfInterest takes at most ten); the line boxes it returns are
the plates (and any other lettering on the vehicle). Billed like DetectLabels, so a picture
with vehicles costs two calls instead of one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from camblur.adapters.aws import client
from camblur.adapters.rekognition import call_rekognition
from camblur.core.boxes import Box
from camblur.plates import PLATE_LABEL

if TYPE_CHECKING:
    from camblur.adapters.rekognition import DetectionInput
    from camblur.core.picture import Picture

MAX_REGIONS = 10  # DetectTextFilters.RegionsOfInterest
MIN_CONFIDENCE = 50.0  # DetectText's default is 80: an unread plate is worse than an extra box
SOURCE = "rekognition_text"


class RekognitionText:
    name = SOURCE

    def __init__(self, rekognition: Any = None) -> None:
        self._rekognition = rekognition or client("rekognition")

    def locate(
        self, source: DetectionInput, picture: Picture, vehicles: Sequence[Box]
    ) -> tuple[Box, ...]:
        found: list[Box] = []
        for first in range(0, len(vehicles), MAX_REGIONS):
            regions = [
                {"BoundingBox": _bounding_box(vehicle)}
                for vehicle in vehicles[first : first + MAX_REGIONS]
            ]
            response = call_rekognition(
                self._rekognition.detect_text,
                Image=source.as_image(),
                Filters={
                    "WordFilter": {"MinConfidence": MIN_CONFIDENCE},
                    "RegionsOfInterest": regions,
                },
            )
            found.extend(
                Box.from_rekognition(
                    text["Geometry"]["BoundingBox"],
                    PLATE_LABEL,
                    float(text.get("Confidence", 0.0)),
                    SOURCE,
                )
                for text in response.get("TextDetections", [])
                # A LINE covers its WORDs: one box per line is enough.
                if text.get("Type") == "LINE" and "BoundingBox" in text.get("Geometry", {})
            )
        return tuple(found)


def _bounding_box(box: Box) -> dict[str, float]:
    return {"Left": box.left, "Top": box.top, "Width": box.width, "Height": box.height}
