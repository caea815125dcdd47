"""The blur pipeline both passes run: a stored raw version → detection → anonymised, published copy.

    detect():  size guard → read → decode → detection input → detect (S3 reference, else bytes)
    publish(): still the current raw version? → union with the boxes to keep → anonymise →
               write → hashes

The live pass and the refine worker call the same two steps and keep only their state
decisions (what to record, when to skip). Splitting detect from publish is what lets a pass
whose state write lost a race redo only the union and the write: no second download, no
second (billed) detection.

Fail closed: nothing is written unless detection succeeded on these very pixels. Permanent
problems raise PictureRejected, a vanished raw version RawPictureMissing; anything else is
transient and propagates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from camblur.adapters.rekognition import Detection, DetectionInput, ObjectUnreadable
from camblur.adapters.storage import PictureStore, blurred_key_for
from camblur.config import BlurConfig
from camblur.core.blur import anonymise
from camblur.core.boxes import Box
from camblur.core.errors import PictureRejected, TransientError
from camblur.core.picture import Picture, decode_picture, detection_jpeg
from camblur.observability import logger

Detect = Callable[[DetectionInput], Detection]
# A second look inside the first detection's regions (plates inside vehicles): the image as
# Rekognition reads it, the decoded pixels and the regions in; boxes to anonymise out.
Localise = Callable[[DetectionInput, Picture, Sequence[Box]], tuple[Box, ...]]


class VersionNotCurrent(Exception):  # noqa: N818 - names the situation
    """The raw version was replaced or deleted since its event: publishing it would show a
    picture S3 no longer serves (an older one, or one its owner deleted)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason  # SUPERSEDED or RAW_DELETED
        self.detail = detail


@dataclass(frozen=True)
class RawVersion:
    """One stored version of a raw picture, as an S3 event or a state item names it."""

    bucket: str
    key: str
    version_id: str
    size: int


@dataclass
class Detected:
    """A raw version read, decoded and run through a detector; nothing written yet."""

    raw: RawVersion
    data: bytes
    detection: Detection
    _picture: Picture | None  # anonymise() works in place: used once, then decoded again


@dataclass(frozen=True)
class Published:
    """What a pass records about the picture it wrote to the blurred bucket."""

    blurred_key: str
    boxes: tuple[Box, ...]  # every box in the output: the ones kept, then the new ones
    raw_sha256: str
    blurred_sha256: str
    width: int
    height: int


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def union(kept: Iterable[Box], found: Iterable[Box]) -> tuple[Box, ...]:
    """Every box to keep, then each found box not already there: boxes only ever grow."""
    boxes: list[Box] = []
    for box in (*kept, *map(as_stored, found)):
        if box not in boxes:
            boxes.append(box)
    return tuple(boxes)


def as_stored(box: Box) -> Box:
    """The box as DynamoDB will hold it (Box.to_item rounds to 6 places), so that a later pass
    finds it equal instead of adding a near-copy."""
    return replace(
        box,
        left=round(box.left, 6),
        top=round(box.top, 6),
        width=round(box.width, 6),
        height=round(box.height, 6),
        confidence=round(box.confidence, 6),
    )


class BlurPipeline:
    def __init__(self, config: BlurConfig, store: PictureStore) -> None:
        self._config = config
        self._store = store

    def detect(self, raw: RawVersion, detect: Detect) -> Detected:
        """Read and decode `raw`, and run `detect` on exactly the pixels that will be blurred."""
        if raw.size > self._config.max_object_bytes:
            raise PictureRejected(
                "TOO_LARGE_OBJECT",
                f"{raw.size} bytes is over the limit of {self._config.max_object_bytes}",
            )
        data = self._store.read(raw.bucket, raw.key, raw.version_id)
        picture = self._decode(data)
        detection = _detect_with_fallback(detect, raw, picture)
        return Detected(raw, data, detection, picture)

    def load(self, raw: RawVersion) -> Detected:
        """Read and decode `raw` without detecting anything: a re-blur with recorded boxes
        only (manual boxes, zones), which costs no detection. Raises RawPictureMissing."""
        data = self._store.read(raw.bucket, raw.key, raw.version_id)
        return Detected(raw, data, Detection((), "none", ""), self._decode(data))

    def anonymise_published(self, blurred_key: str, boxes: Sequence[Box]) -> Published:
        """Anonymise the published copy further, for a picture whose raw version is gone
        (expired): the copy is already blurred and free of metadata, and its pixels are the
        upright picture the boxes' ratios refer to. Raises RawPictureMissing when there is no
        published copy either."""
        bucket = self._config.blurred_bucket
        data = self._store.read(bucket, blurred_key)
        picture = self._decode(data)
        blurred = anonymise(picture, list(boxes), self._config.blur_settings)
        self._store.write_jpeg(bucket, blurred_key, blurred)
        return Published(
            blurred_key=blurred_key,
            boxes=tuple(boxes),
            raw_sha256="",
            blurred_sha256=sha256(blurred),
            width=picture.size[0],
            height=picture.size[1],
        )

    def localise(self, detected: Detected, localise: Localise) -> Detected:
        """Add what `localise` finds inside `detected`'s vehicles, on the very same pixels."""
        picture = detected._picture or self._decode(detected.data)
        detected._picture = picture  # localisers only read (crop) it
        detection = detected.detection

        def look(source: DetectionInput) -> Detection:
            found = localise(source, picture, detection.vehicles)
            return replace(detection, boxes=(*detection.boxes, *found))

        return replace(detected, detection=_detect_with_fallback(look, detected.raw, picture))

    def publish(
        self, detected: Detected, keep: Sequence[Box], blurred_key: str | None = None
    ) -> Published:
        """Anonymise the kept boxes and the detected ones, and write the blurred copy.

        Raises VersionNotCurrent, writing nothing, unless `detected.raw` is still the version S3
        serves (one HEAD; the raw bucket is versioned, so an older or deleted version is told
        apart from the current one). A second HEAD after the write catches a delete that came
        meanwhile: every version of the copy is removed again, and VersionNotCurrent raised.
        """
        self._check_current(detected.raw)
        picture = detected._picture or self._decode(detected.data)
        detected._picture = None
        boxes = union(keep, detected.detection.boxes)
        blurred = anonymise(picture, list(boxes), self._config.blur_settings)
        key = blurred_key or blurred_key_for(detected.raw.key)
        self._store.write_jpeg(self._config.blurred_bucket, key, blurred)
        if self._store.current_version(detected.raw.bucket, detected.raw.key) is None:
            # Deleted (or erased) between the check and the write, and its removal may have
            # been handled already: take down what was just written, whoever wrote last.
            self._store.remove_every_version(self._config.blurred_bucket, key)
            raise VersionNotCurrent(
                "RAW_DELETED",
                f"s3://{detected.raw.bucket}/{detected.raw.key} was deleted while publishing",
            )
        return Published(
            blurred_key=key,
            boxes=boxes,
            raw_sha256=sha256(detected.data),
            blurred_sha256=sha256(blurred),
            width=picture.size[0],
            height=picture.size[1],
        )

    def _check_current(self, raw: RawVersion) -> None:
        current = self._store.current_version(raw.bucket, raw.key)
        if current is None:
            raise VersionNotCurrent("RAW_DELETED", f"s3://{raw.bucket}/{raw.key} was deleted")
        if current != raw.version_id:
            raise VersionNotCurrent(
                "SUPERSEDED", f"version {raw.version_id} was replaced by {current}"
            )

    def _decode(self, data: bytes) -> Picture:
        return decode_picture(data, self._config.max_image_pixels)


def _detect_with_fallback(detect: Detect, raw: RawVersion, picture: Picture) -> Detection:
    """Let Rekognition read the object itself when it sees our pixels; otherwise send them.

    Rekognition may fail to read the S3 object (a KMS grant, say): then send the bytes.
    """
    if picture.rekognition_reads_original:
        try:
            return detect(DetectionInput(bucket=raw.bucket, key=raw.key, version_id=raw.version_id))
        except ObjectUnreadable as error:
            logger.warning("Rekognition could not read the object; sending bytes", error=str(error))
    try:
        return detect(DetectionInput(jpeg=detection_jpeg(picture)))
    except ObjectUnreadable as error:
        raise TransientError(str(error)) from error
