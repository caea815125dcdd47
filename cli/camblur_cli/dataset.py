"""Training data from reviewed pictures: a Rekognition Custom Labels manifest.

The format is SageMaker Ground Truth's object-detection (bounding box) job output, one JSON
line per picture, which CreateDataset accepts (`DatasetSource.GroundTruthManifest`):

    {"source-ref": "s3://<raw bucket>/<key>",
     "bounding-box": {"image_size": [{"width": W, "height": H, "depth": 3}],
                      "annotations": [{"class_id": 0, "left": x, "top": y, "width": w, "height": h}]},
     "bounding-box-metadata": {"objects": [{"confidence": 1}], "class-map": {"0": "person", ...},
                               "type": "groundtruth/object-detection", "human-annotated": "yes",
                               "creation-date": "...", "job-name": "..."}}

Pixels, not ratios; every box of every source that is a person or a plate (live detections,
plates, the model's, manual boxes). Zone boxes are left out: a zone is an area of the view,
not an object, and teaching the model that a pavement is a person would make it worse.

Where source-ref points: the raw picture. A model learns persons from the pixels of persons;
the blurred copy has every one of them pixelated, and a model trained on it would learn to find
pixelated squares. The raw bucket stays confined to the pipeline's roles: the manifest holds
keys, not pictures, and whoever calls CreateDataset with it (the break-glass or training
principal, through Rekognition, which reads the images with the caller's permissions) must be
allowed to read them. Raw pictures live `raw_retention_days` (3), so the dataset must be
created within that time of capture; pictures whose raw is known gone (RAW_MISSING) are left
out. Only reviewed pictures (`reviewed_at`, written by camblur.corrections.mark_reviewed) are
exported: a person has looked at them, so their boxes are ground truth ("human-annotated").
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from camblur.adapters.state import CAPTURE_DAY_INDEX, picture_pk
from camblur.corrections import MANUAL_SOURCE, ZONE_SOURCE
from camblur_cli.deployment import Deployment
from camblur_cli.erasure import CAMERA_INDEX
from camblur_cli.listing import query_all

LABEL_ATTRIBUTE = "bounding-box"
CLASS_MAP = {"0": "person", "1": "license_plate"}
CLASS_IDS = {name: int(number) for number, name in CLASS_MAP.items()}
EXPORTABLE = ("LIVE_BLURRED", "REFINED")  # raw still there (as far as the state knows)


@dataclass(frozen=True)
class Selection:
    """Reviewed pictures of one camera, of one capture day, or all of them."""

    camera: str | None = None
    day: str | None = None
    every_reviewed: bool = False

    def __post_init__(self) -> None:
        if sum((self.camera is not None, self.day is not None, self.every_reviewed)) != 1:
            raise ValueError("choose one of --camera, --day or --reviewed")

    def describe(self) -> str:
        if self.camera is not None:
            return f"camera-{self.camera}"
        if self.day is not None:
            return f"day-{self.day}"
        return "reviewed"


@dataclass
class Export:
    """What an export wrote."""

    destination: str
    job_name: str
    lines: list[dict[str, Any]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def boxes(self) -> int:
        return sum(len(line[LABEL_ATTRIBUTE]["annotations"]) for line in self.lines)


def manifest_line(
    item: dict[str, Any], raw_bucket: str, job_name: str, created: datetime
) -> dict[str, Any] | None:
    """The picture's JSON line; None when it has no size or no person/plate box."""
    width, height = int(item.get("width") or 0), int(item.get("height") or 0)
    if width <= 0 or height <= 0:
        return None
    annotations: list[dict[str, int]] = []
    for box in _boxes(item):
        class_id = _class_id(box)
        if class_id is None:
            continue
        left = min(max(round(float(box["left"]) * width), 0), width - 1)
        top = min(max(round(float(box["top"]) * height), 0), height - 1)
        right = min(round((float(box["left"]) + float(box["width"])) * width), width)
        bottom = min(round((float(box["top"]) + float(box["height"])) * height), height)
        annotation = {
            "class_id": class_id,
            "left": left,
            "top": top,
            "width": right - left,
            "height": bottom - top,
        }
        if annotation["width"] >= 1 and annotation["height"] >= 1 and annotation not in annotations:
            annotations.append(annotation)
    if not annotations:
        return None
    return {
        "source-ref": f"s3://{raw_bucket}/{item['raw_key']}",
        LABEL_ATTRIBUTE: {
            "image_size": [{"width": width, "height": height, "depth": 3}],
            "annotations": annotations,
        },
        f"{LABEL_ATTRIBUTE}-metadata": {
            "objects": [{"confidence": 1} for _ in annotations],
            "class-map": dict(CLASS_MAP),
            "type": "groundtruth/object-detection",
            "human-annotated": "yes",
            "creation-date": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            "job-name": job_name,
        },
    }


def export(
    deployment: Deployment,
    selection: Selection,
    to: str | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Export:
    """Write the manifest of the selected reviewed pictures to `to` (s3://bucket/prefix, or a
    local path; default a file in the working folder) and say what was written."""
    now = clock()
    job_name = re.sub(r"[^a-zA-Z0-9-]", "-", f"camblur-{selection.describe()}-{now:%Y%m%dT%H%M%S}")
    result = Export(destination="", job_name=job_name)
    for item in _reviewed(deployment, selection, result.skipped):
        line = manifest_line(item, deployment.raw_bucket, job_name, now)
        if line is None:
            result.skipped["no person or plate box"] += 1
        else:
            result.lines.append(line)
    body = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in result.lines)
    result.destination = _write(deployment, to, f"{job_name}.manifest", body)
    return result


def _write(deployment: Deployment, to: str | None, name: str, body: str) -> str:
    if to and to.startswith("s3://"):
        bucket, _, prefix = to.removeprefix("s3://").partition("/")
        if bucket == deployment.raw_bucket:
            # A manifest in the raw bucket would reach the live function as an upload.
            raise ValueError("write the manifest elsewhere than the raw bucket")
        key = f"{prefix.rstrip('/')}/{name}" if prefix.strip("/") else name
        deployment.client("s3").put_object(
            Bucket=bucket, Key=key, Body=body.encode(), ContentType="application/jsonlines"
        )
        return f"s3://{bucket}/{key}"
    path = Path(to) if to else Path(name)
    if path.is_dir():
        path = path / name
    path.write_text(body)
    return str(path)


def _reviewed(
    deployment: Deployment, selection: Selection, skipped: Counter[str]
) -> Iterator[dict[str, Any]]:
    table = deployment.resource("dynamodb").Table(deployment.state_table)
    if selection.every_reviewed:
        # The one scan of the command set: every reviewed picture of every camera and day,
        # for an occasional export (indexes cover the --camera and --day cases).
        items = _scan(table, Attr("reviewed_at").exists() & Attr("pk").begins_with("PICTURE#"))
    else:
        if selection.camera is not None:
            index, condition = CAMERA_INDEX, Key("camera_id").eq(selection.camera)
        else:
            index, condition = CAPTURE_DAY_INDEX, Key("capture_day").eq(selection.day)
        items = (
            table.get_item(Key={"pk": picture_pk(entry["raw_key"]), "sk": "STATE"}).get("Item")
            for entry in query_all(table, IndexName=index, KeyConditionExpression=condition)
        )
    for item in items:
        if not item or not item.get("reviewed_at"):
            continue
        if item.get("status") not in EXPORTABLE:
            skipped[f"status {item.get('status')}"] += 1
            continue
        yield item


def _scan(table: Any, condition: Any) -> Iterator[dict[str, Any]]:
    request: dict[str, Any] = {"FilterExpression": condition}
    while True:
        page = table.scan(**request)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _boxes(item: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every box in the published copy, then manual boxes not re-blurred yet."""
    yield from item.get("boxes", [])
    yield from ({**entry, "source": MANUAL_SOURCE} for entry in item.get("manual_boxes", []))


def _class_id(box: dict[str, Any]) -> int | None:
    if box.get("source") == ZONE_SOURCE:
        return None
    label = str(box.get("label", "person"))
    if "plate" in label:
        return CLASS_IDS["license_plate"]
    return CLASS_IDS["person"] if label == "person" else None
