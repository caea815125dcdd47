"""Boxes as Rekognition gives them: ratios of the picture's width and height."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

ZONE_SOURCE = "zone"  # a privacy zone's box (camblur.corrections): anonymised as drawn, not grown


@dataclass(frozen=True)
class Box:
    """One region to make unrecognisable; left/top/width/height are ratios in 0..1."""

    left: float
    top: float
    width: float
    height: float
    label: str = "person"
    confidence: float = 100.0
    source: str = "live"

    def to_pixels(self, image_width: int, image_height: int, margin: float) -> tuple[int, ...]:
        """Grow the box by `margin` of its size on every side, clip to the picture, round outward."""
        grow_x = self.width * margin
        grow_y = self.height * margin
        left = max(0.0, self.left - grow_x) * image_width
        top = max(0.0, self.top - grow_y) * image_height
        right = min(1.0, self.left + self.width + grow_x) * image_width
        bottom = min(1.0, self.top + self.height + grow_y) * image_height
        return (
            max(0, int(left)),
            max(0, int(top)),
            min(image_width, int(right + 0.999999)),
            min(image_height, int(bottom + 0.999999)),
        )

    def to_item(self) -> dict[str, Any]:
        """DynamoDB wants Decimal, not float."""
        return {
            key: Decimal(str(round(value, 6))) if isinstance(value, float) else value
            for key, value in asdict(self).items()
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Box:
        return cls(
            left=float(item["left"]),
            top=float(item["top"]),
            width=float(item["width"]),
            height=float(item["height"]),
            label=str(item.get("label", "person")),
            confidence=float(item.get("confidence", 100)),
            source=str(item.get("source", "live")),
        )

    @classmethod
    def from_rekognition(
        cls, box: dict[str, Any], label: str, confidence: float, source: str
    ) -> Box:
        """Rekognition may return slightly negative or >1 ratios at the picture's edge: clip them."""
        left = min(max(float(box.get("Left", 0.0)), 0.0), 1.0)
        top = min(max(float(box.get("Top", 0.0)), 0.0), 1.0)
        width = min(max(float(box.get("Width", 0.0)), 0.0), 1.0 - left)
        height = min(max(float(box.get("Height", 0.0)), 0.0), 1.0 - top)
        return cls(left, top, width, height, label=label, confidence=confidence, source=source)
