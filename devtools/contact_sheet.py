"""A before/after contact sheet: one row per uploaded picture, readable at a glance.

Columns: the upload as the camera sent it (turned upright) with every box camblur recorded
drawn on it, the picture after the live pass, and after the daily refinement. A picture that
was rejected shows the reason instead of pictures. Box colours: persons found by the live pass
in red, persons found by the refinement model in orange, licence plates in blue.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

CELL_WIDTH = 400
CAPTION_HEIGHT = 58
MARGIN = 12
HEADER_HEIGHT = 78
BACKGROUND = (245, 245, 242)
INK = (25, 25, 25)
MUTED = (110, 110, 110)
COLOURS = {
    ("person", "live"): (220, 30, 30),
    ("person", "custom"): (245, 140, 0),
    ("plate", "live"): (30, 90, 230),
    ("plate", "custom"): (30, 90, 230),
}
COLUMNS = ("uploaded (boxes camblur recorded)", "after the live pass", "after the daily refinement")


@dataclass(frozen=True)
class Row:
    """One picture: what was uploaded, what came out, and what the state table says."""

    key: str
    status: str
    original: bytes | None
    after_live: bytes | None = None
    after_refinement: bytes | None = None
    boxes: Sequence[dict[str, Any]] = field(default_factory=tuple)
    reason: str = ""
    persons: int = 0
    plates: int = 0


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _decode(data: bytes | None) -> Image.Image | None:
    if not data:
        return None
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    if image.format == "JPEG":
        image = ImageOps.exif_transpose(image)
    return image.convert("RGB")


def _thumbnail(image: Image.Image) -> Image.Image:
    height = round(image.height * CELL_WIDTH / image.width)
    return image.resize((CELL_WIDTH, height), Image.Resampling.LANCZOS)


def _colour(box: dict[str, Any]) -> tuple[int, int, int]:
    kind = "plate" if "plate" in str(box.get("label", "")) else "person"
    source = "custom" if str(box.get("source", "live")) != "live" else "live"
    return COLOURS[(kind, source)]


def _with_boxes(image: Image.Image, boxes: Iterable[dict[str, Any]]) -> Image.Image:
    thumb = _thumbnail(image)
    draw = ImageDraw.Draw(thumb)
    width, height = thumb.size
    font = _font(13)
    for box in boxes:
        # Refinement boxes often repeat a live one: draw them 4 px inside so both show.
        inset = 4 if str(box.get("source", "live")) != "live" else 0
        left = float(box["left"]) * width + inset
        top = float(box["top"]) * height + inset
        right = left + float(box["width"]) * width - 2 * inset
        bottom = top + float(box["height"]) * height - 2 * inset
        colour = _colour(box)
        draw.rectangle((left, top, right, bottom), outline=colour, width=3)
        label = f"{box.get('label', '?')} {float(box.get('confidence', 0)):.0f}"
        # Live labels above the box, plate labels below (inside, one would hide the plate),
        # other refinement labels inside the box's top; inside whenever there is no room.
        if inset == 0 and top >= 18:
            at = (left + 1, top - 17)
        elif "plate" in str(box.get("label", "")) and bottom + 20 <= height:
            at = (left + 1, bottom + 3)
        else:
            at = (left + 3, top + 2)
        text_box = draw.textbbox(at, label, font=font)
        draw.rectangle(text_box, fill=colour)
        draw.text(at, label, fill=(255, 255, 255), font=font)
    return thumb


def _placeholder(text: str, height: int) -> Image.Image:
    cell = Image.new("RGB", (CELL_WIDTH, height), (225, 222, 215))
    draw = ImageDraw.Draw(cell)
    draw.rectangle((0, 0, CELL_WIDTH - 1, height - 1), outline=(190, 185, 175), width=2)
    font = _font(17)
    lines = text.split("\n")
    y = height // 2 - 12 * len(lines)
    for line in lines:
        box = draw.textbbox((0, 0), line, font=font)
        draw.text(((CELL_WIDTH - (box[2] - box[0])) // 2, y), line, fill=MUTED, font=font)
        y += 24
    return cell


def build(rows: Sequence[Row], title: str) -> Image.Image:
    """The sheet as one RGB image."""
    cells: list[list[Image.Image]] = []
    for row in rows:
        original = _decode(row.original)
        if original is None:
            size_text = f"{len(row.original or b'')} bytes"
            first = _placeholder(f"cannot be decoded\n({size_text})", 225)
        else:
            first = _with_boxes(original, row.boxes)
        height = first.height
        rest = []
        for data, missing in (
            (row.after_live, "no blurred picture\nafter the live pass"),
            (row.after_refinement, "no blurred picture\nafter the refinement"),
        ):
            image = _decode(data)
            rest.append(_thumbnail(image) if image is not None else _placeholder(missing, height))
        cells.append([first, *rest])

    width = MARGIN + len(COLUMNS) * (CELL_WIDTH + MARGIN)
    height = HEADER_HEIGHT + sum(
        max(cell.height for cell in row_cells) + CAPTION_HEIGHT + MARGIN for row_cells in cells
    )
    sheet = Image.new("RGB", (width, height + MARGIN), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    draw.text((MARGIN, 10), title, fill=INK, font=_font(22))
    legend_x = MARGIN
    for text, colour in (
        ("person (live pass)", COLOURS[("person", "live")]),
        ("person (refinement model)", COLOURS[("person", "custom")]),
        ("licence plate", COLOURS[("plate", "custom")]),
    ):
        draw.rectangle((legend_x, 42, legend_x + 14, 56), outline=colour, width=3)
        draw.text((legend_x + 20, 41), text, fill=INK, font=_font(14))
        legend_x += 40 + int(draw.textlength(text, font=_font(14)))
    for index, column in enumerate(COLUMNS):
        draw.text(
            (MARGIN + index * (CELL_WIDTH + MARGIN), HEADER_HEIGHT - 16),
            column,
            fill=MUTED,
            font=_font(14),
        )

    y = HEADER_HEIGHT + 2
    for row, row_cells in zip(rows, cells, strict=True):
        for index, cell in enumerate(row_cells):
            sheet.paste(cell, (MARGIN + index * (CELL_WIDTH + MARGIN), y))
        y += max(cell.height for cell in row_cells) + 4
        draw.text((MARGIN, y), row.key, fill=INK, font=_font(16))
        summary = f"{row.status}"
        if row.reason:
            summary += f" ({row.reason})"
        summary += f"  ·  persons {row.persons}  ·  plates {row.plates}"
        draw.text((MARGIN, y + 22), summary, fill=MUTED, font=_font(15))
        y += CAPTION_HEIGHT + MARGIN - 4
    return sheet


def save(rows: Sequence[Row], title: str, path: Any) -> None:
    build(rows, title).save(path, format="PNG", optimize=True)
