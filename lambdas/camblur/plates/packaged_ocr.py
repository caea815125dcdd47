"""`packaged_ocr`: PP-OCRv4's text detector on each vehicle crop, inside the Lambda.

The crop is scaled so that its long side is CROP_SIDE pixels: a plate is about 1/16 to 1/25 of
a vehicle's width, so after scaling its characters are roughly the size the detector was
trained on, whatever the distance to the camera. Every text region found inside the vehicle is
returned (a sign-written company name too: anonymising it is the safe side).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from camblur.core.boxes import Box
from camblur.plates import PLATE_LABEL, PlateSearchFailed
from camblur.plates.model import MODEL_PATH

if TYPE_CHECKING:
    import numpy as np

    from camblur.adapters.rekognition import DetectionInput
    from camblur.core.picture import Picture

CROP_SIDE = 640  # long side of a vehicle crop as the detector sees it (a multiple of 32)
STRIDE = 32  # the network's input sides must be multiples of this
SOURCE = "packaged_ocr"
# The detector outlines the characters; a plate's border and country strip lie around them.
# Grow by these fractions of the text's height (beyond the blur margin everything gets).
PAD_ACROSS = 0.8
PAD_UP_DOWN = 0.5


@cache
def session(model_path: Path = MODEL_PATH, threads: int = 0) -> Any:
    """One onnxruntime session per process (and per thread count: 0 = all cores)."""
    import onnxruntime  # ~0.25 s with the session: only once a vehicle is in sight

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # warnings about unused initialisers are noise here
    return onnxruntime.InferenceSession(
        str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
    )


class PackagedOcr:
    name = SOURCE

    def __init__(self, model_path: Path = MODEL_PATH, threads: int = 0) -> None:
        if not model_path.is_file():
            # A zip built without the model must fail at start, not publish plates.
            raise PlateSearchFailed(f"text detector model missing at {model_path}")
        self._model_path = model_path
        self._threads = threads

    def locate(
        self, source: DetectionInput, picture: Picture, vehicles: Sequence[Box]
    ) -> tuple[Box, ...]:
        try:
            return tuple(box for vehicle in vehicles for box in self.in_crop(picture, vehicle))
        except PlateSearchFailed:
            raise
        except Exception as error:  # onnxruntime's own errors have no common base
            raise PlateSearchFailed(f"packaged text detector failed: {error}") from error

    def in_crop(self, picture: Picture, vehicle: Box) -> list[Box]:
        from camblur.plates.db_boxes import text_boxes  # numpy: loaded on the first vehicle

        width, height = picture.size
        left, top, right, bottom = vehicle.to_pixels(width, height, 0.0)
        if right - left < 2 or bottom - top < 2:
            return []
        crop = picture.image.crop((left, top, right, bottom))
        probability = self.probability(crop)
        scale_x = (right - left) / probability.shape[1]
        scale_y = (bottom - top) / probability.shape[0]
        boxes = []
        for found in text_boxes(probability):
            text_height = (found.bottom - found.top) * scale_y
            box_left = max(left, left + found.left * scale_x - PAD_ACROSS * text_height)
            box_top = max(top, top + found.top * scale_y - PAD_UP_DOWN * text_height)
            box_right = min(right, left + found.right * scale_x + PAD_ACROSS * text_height)
            box_bottom = min(bottom, top + found.bottom * scale_y + PAD_UP_DOWN * text_height)
            boxes.append(
                Box(
                    left=box_left / width,
                    top=box_top / height,
                    width=(box_right - box_left) / width,
                    height=(box_bottom - box_top) / height,
                    label=PLATE_LABEL,
                    confidence=round(found.score * 100, 2),
                    source=SOURCE,
                )
            )
        return boxes

    def probability(self, crop: Image.Image) -> np.ndarray:
        """The detector's text probability for every pixel of `crop`, scaled to CROP_SIDE."""
        import numpy as np  # ~0.1 s (more on a busy host): only once a vehicle is in sight

        scale = CROP_SIDE / max(crop.size)
        size = tuple(max(STRIDE, round(side * scale / STRIDE) * STRIDE) for side in crop.size)
        resized = np.asarray(crop.resize(size, Image.Resampling.BILINEAR), dtype=np.float32)
        # PP-OCR was trained on OpenCV's BGR order, normalised to [-1, 1].
        tensor = (resized[:, :, ::-1] / 127.5 - 1.0).transpose(2, 0, 1)[None]
        model = session(self._model_path, self._threads)
        (output,) = model.run(None, {model.get_inputs()[0].name: np.ascontiguousarray(tensor)})
        return output[0, 0]
