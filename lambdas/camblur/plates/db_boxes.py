"""Text boxes from a DB (differentiable binarisation) probability map, in numpy alone.

PP-OCR's detector outputs, for every pixel, the probability that it is text. Its usual
post-processing (threshold, contours, polygon "unclip") needs OpenCV and pyclipper; we blur
axis-aligned rectangles, so connected components of the thresholded map and their bounding
boxes are all we need: ~80 lines here instead of OpenCV in the zip (opencv-python needs libGL,
which Lambda lacks; even the headless wheel would add ~70 MB) or scipy (~100 MB) for one
labelling call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PIXEL_THRESHOLD = 0.3  # a pixel is text above this probability (PP-OCR's default)
BOX_THRESHOLD = 0.4  # (PP-OCR: 0.5; a missed plate costs more than an extra box)
# a component is kept when its mean probability is above this
UNCLIP_RATIO = 1.6  # DB shrinks text regions when training: grow them back by area*r/perimeter
MIN_SIDE = 3  # pixels of the map: smaller components are noise


@dataclass(frozen=True)
class TextBox:
    """A text region in map pixels: [left, right) x [top, bottom), with its mean probability."""

    left: float
    top: float
    right: float
    bottom: float
    score: float


def text_boxes(probability: np.ndarray, box_threshold: float = BOX_THRESHOLD) -> list[TextBox]:
    """Rectangles around the text regions of an (H, W) probability map."""
    height, width = probability.shape
    binary = probability > PIXEL_THRESHOLD
    # PP-OCR dilates with a 2x2 kernel so that characters of one word join up.
    binary[:-1, :] |= binary[1:, :]
    binary[:, :-1] |= binary[:, 1:]
    rows, starts, ends = _runs(binary)
    if rows.size == 0:
        return []
    labels = _label_runs(rows, starts, ends)
    cumulative = np.cumsum(probability, axis=1, dtype=np.float64)
    cumulative = np.concatenate([np.zeros((height, 1)), cumulative], axis=1)
    run_scores = cumulative[rows, ends] - cumulative[rows, starts]
    count = int(labels.max()) + 1
    top = np.full(count, height)
    bottom = np.zeros(count, dtype=np.int64)
    left = np.full(count, width)
    right = np.zeros(count, dtype=np.int64)
    np.minimum.at(top, labels, rows)
    np.maximum.at(bottom, labels, rows + 1)
    np.minimum.at(left, labels, starts)
    np.maximum.at(right, labels, ends)
    area = np.bincount(labels, weights=ends - starts, minlength=count)
    score = np.bincount(labels, weights=run_scores, minlength=count) / np.maximum(area, 1)
    boxes = []
    for index in range(count):
        box_width, box_height = right[index] - left[index], bottom[index] - top[index]
        if min(box_width, box_height) < MIN_SIDE or score[index] < box_threshold:
            continue
        # DB's unclip distance for the region's own area and perimeter.
        grow = area[index] * UNCLIP_RATIO / (2.0 * (box_width + box_height))
        boxes.append(
            TextBox(
                left=max(0.0, left[index] - grow),
                top=max(0.0, top[index] - grow),
                right=min(float(width), right[index] + grow),
                bottom=min(float(height), bottom[index] + grow),
                score=float(score[index]),
            )
        )
    return boxes


def _runs(binary: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Horizontal runs of True: row, first column, one past the last column (row-major order)."""
    padded = np.zeros((binary.shape[0], binary.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = binary
    steps = np.diff(padded, axis=1)
    start_rows, starts = np.nonzero(steps == 1)
    _, ends = np.nonzero(steps == -1)
    return start_rows, starts, ends


def _label_runs(rows: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Component label of every run: runs on neighbouring rows that touch (8-connected) join."""
    parent = list(range(rows.size))

    def find(item: int) -> int:
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    row_first = np.searchsorted(rows, np.arange(int(rows[-1]) + 2))
    for row in range(1, int(rows[-1]) + 1):
        above = range(row_first[row - 1], row_first[row])
        here = range(row_first[row], row_first[row + 1])
        i, j = above.start, here.start
        while i < above.stop and j < here.stop:
            # Runs [s, e) touch diagonally when they overlap after growing by one column.
            if starts[i] <= ends[j] and starts[j] <= ends[i]:
                root_i, root_j = find(i), find(j)
                if root_i != root_j:
                    parent[max(root_i, root_j)] = min(root_i, root_j)
            if ends[i] < ends[j]:
                i += 1
            else:
                j += 1
    roots = np.array([find(item) for item in range(rows.size)])
    _, labels = np.unique(roots, return_inverse=True)
    return labels
