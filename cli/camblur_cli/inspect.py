"""What `camblur status` and `camblur explain` read: the status counts, the state indexes, the
buckets, the queues, the model.

Status counts come from the counts items status_counts keeps from the table's stream
(adapters/state/counts.py): a 57,600-picture day is one partition of 3,200 small items, and a
camera's day 16 of them. `--recount` counts the pictures' index entries instead (projections
only, never the items): exact at any moment, and as slow as the day is large.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import chain
from typing import Any

from boto3.dynamodb.conditions import Key

from camblur.adapters.state import CAPTURE_DAY_INDEX, picture_pk
from camblur.adapters.state.counts import StatusCounts, facets
from camblur.adapters.storage import blurred_key_for
from camblur_cli.deployment import Deployment
from camblur_cli.erasure import CAMERA_INDEX
from camblur_cli.handover import REPROCESS_RUNS_PK
from camblur_cli.listing import object_versions, query_all

RUN_DAYS = 7  # refinement runs shown by status, and days of one camera without --day
CUSTOM_LABELS_HOUR_PRICE = 4.0  # USD per inference-unit hour (devtools/cost.py's default)
SEGMENTS = 4  # parallel queries for one day's index entries
STATUS_NAMES = {"#s": "status", "#r": "reason"}  # both are reserved words
STATUS_PROJECTION = "camera_id, capture_day, #s, #r, refine_outcome"


@dataclass
class Status:
    """Counts per (camera, day) by status, and what else an operator looks at first."""

    counts: dict[tuple[str, str], Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    queues: dict[str, dict[str, int]] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)
    session: dict[str, Any] | None = None
    model: dict[str, Any] | None = None
    source: str = "counts"  # or "index" (--recount)

    def add(self, item: dict[str, Any]) -> None:
        """Count one picture's index entry (--recount), as status_counts counts its changes."""
        key = (str(item.get("camera_id", "?")), str(item.get("capture_day", "?")))
        self.counts[key].update(facets(item))

    def as_json(self) -> dict[str, Any]:
        return {
            "pictures": [
                {"camera": camera, "day": day, "counts": dict(counts)}
                for (camera, day), counts in sorted(self.counts.items())
            ],
            "queues": self.queues,
            "runs": self.runs,
            "session": self.session,
            "model": self.model,
            "source": self.source,
        }


class Inspector:
    def __init__(
        self,
        deployment: Deployment,
        queue_names: dict[str, str | None] | None = None,
        segments: int | None = None,
    ) -> None:
        self._deployment = deployment
        self._table = deployment.resource("dynamodb").Table(deployment.state_table)
        self._s3 = deployment.client("s3")
        self._sqs = deployment.client("sqs")
        self._queue_names = queue_names or {}
        # Parallel queries against AWS; the embedded endpoint (moto) serves them one at a time
        # and does a whole day's work for each, so there one query is faster.
        self._segments = segments or (1 if deployment.endpoint_url else SEGMENTS)

    def status(self, day: str | None, camera: str | None, recount: bool = False) -> Status:
        result = Status(source="index" if recount else "counts")
        if recount:
            for item in self._pictures(day, camera):
                if camera is None or item.get("camera_id") == camera:
                    result.add(item)
        else:
            self._counted(result, day, camera)
        result.queues = self._queue_depths()
        last = date.fromisoformat(day) if day else self._deployment.today()
        for back in range(RUN_DAYS):
            run = self._get(f"RUN#{(last - timedelta(days=back)).isoformat()}", "RUN")
            if run:
                result.runs.append(_plain(run))
        session = self._get("RUN#ACTIVE", "SESSION")
        result.session = _plain(session) if session else None
        shown = {run.get("run_day") for run in result.runs}
        for run_day in [*sorted((session or {}).get("days", ())), *self._reprocess_runs()]:
            # A reprocess's own run (RUN#reprocess-<id>): while its session is open, and the
            # last few after it.
            if run_day not in shown and (run := self._get(f"RUN#{run_day}", "RUN")):
                shown.add(run_day)
                result.runs.append(_plain(run))
        for run in result.runs:
            run["estimated_cost_usd"] = _model_cost(run)
        result.model = self._model()
        return result

    def _reprocess_runs(self, last: int = 5) -> list[str]:
        """The days (`reprocess-<id>`) of the last reprocess runs, newest first."""
        page = self._table.query(
            KeyConditionExpression=Key("pk").eq(REPROCESS_RUNS_PK),
            ScanIndexForward=False,
            Limit=last,
        )
        return [str(item["run_day"]) for item in page.get("Items", [])]

    def _counted(self, result: Status, day: str | None, camera: str | None) -> None:
        counts = StatusCounts(self._deployment.state_table, self._deployment.resource("dynamodb"))
        if camera is None:
            day = day or self._deployment.today().isoformat()
            for camera_id, found in counts.of_day(day):
                result.counts[(camera_id, day)].update(found)
        else:
            last = date.fromisoformat(day) if day else self._deployment.today()
            days = (
                [day]
                if day
                else [(last - timedelta(days=back)).isoformat() for back in range(RUN_DAYS)]
            )
            for found_day, found in counts.of_camera(camera, days):
                result.counts[(camera, found_day)].update(found)
        for key in [key for key, found in result.counts.items() if not +found]:
            del result.counts[key]  # every picture of it erased or expired

    def _model(self) -> dict[str, Any] | None:
        """The Custom Labels model version's state as Rekognition reports it, if the outputs
        name one (on the embedded endpoint: the pump's local Rekognition)."""
        model = self._deployment.model
        if not model.get("version_arn") or not model.get("project_arn"):
            return None
        name = str(model["version_arn"]).split("/version/")[-1].split("/")[0]
        try:
            rekognition = self._deployment.client("rekognition", local_service="rekognition")
            answer = rekognition.describe_project_versions(
                ProjectArn=model["project_arn"], VersionNames=[name]
            )
        except Exception as error:  # status shows what it could not read
            return {"version_arn": model["version_arn"], "status": f"unknown ({error})"}
        versions = answer.get("ProjectVersionDescriptions", [])
        if not versions:
            return {"version_arn": model["version_arn"], "status": "missing"}
        version = versions[0]
        return {
            "version_arn": model["version_arn"],
            "status": version.get("Status"),
            "inference_units": version.get("MinInferenceUnits"),
            "message": version.get("StatusMessage"),
        }

    def explain(self, key: str) -> dict[str, Any]:
        item = self._get(picture_pk(key), "STATE")
        blurred_key = str((item or {}).get("blurred_key") or blurred_key_for(key))
        boxes: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for box in (item or {}).get("boxes", []):
            boxes[str(box.get("source", "?"))].append(_plain(box))
        raw_versions = self._versions(self._deployment.raw_bucket, key)
        blurred_versions = self._versions(self._deployment.blurred_bucket, blurred_key)
        state = _plain(item) if item else None
        return {
            "key": key,
            "state": state,
            "boxes_by_source": dict(boxes),
            "raw_versions": raw_versions,
            "blurred_key": blurred_key,
            "blurred_versions": blurred_versions,
            "passes": _passes(state or {}, raw_versions, blurred_versions),
        }

    def _pictures(self, day: str | None, camera: str | None) -> Iterator[dict[str, Any]]:
        """The index entries of one day, of one camera, or of one camera on one day, with only
        the attributes status counts (less to send, less to decode)."""
        if camera is not None:
            condition = Key("camera_id").eq(camera)
            if day is not None:
                # captured_at is UTC; a capture day (in the cameras' zone) lies within a day of it.
                moment = date.fromisoformat(day)
                condition &= Key("captured_at").between(
                    (moment - timedelta(days=1)).isoformat(),
                    (moment + timedelta(days=2)).isoformat(),
                )
            items = self._query(CAMERA_INDEX, condition)
        else:
            items = self._query_segments(day or self._deployment.today().isoformat())
        return (item for item in items if day is None or item.get("capture_day") == day)

    def _query(self, index: str, condition: Any, table: Any = None) -> Iterator[dict[str, Any]]:
        return query_all(
            table or self._table,
            IndexName=index,
            KeyConditionExpression=condition,
            ProjectionExpression=STATUS_PROJECTION,
            ExpressionAttributeNames=STATUS_NAMES,
        )

    def _query_segments(self, day: str) -> Iterator[dict[str, Any]]:
        """A day in SEGMENTS parallel queries, split on the index's sort key (the item's pk, a
        hash: the segments are the same size)."""
        if self._segments <= 1:
            return self._query(CAPTURE_DAY_INDEX, Key("capture_day").eq(day))
        prefixes = [f"PICTURE#{digit:x}" for digit in range(16)]
        groups = [prefixes[index :: self._segments] for index in range(self._segments)]

        # boto3 resources are not thread-safe: one per segment, made here.
        name = self._deployment.state_table
        tables = [self._deployment.resource("dynamodb").Table(name) for _ in groups]

        def segment(table: Any, group: list[str]) -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = []
            for prefix in group:
                condition = Key("capture_day").eq(day) & Key("pk").begins_with(prefix)
                found.extend(self._query(CAPTURE_DAY_INDEX, condition, table))
            return found

        with ThreadPoolExecutor(max_workers=self._segments) as pool:
            return chain.from_iterable(list(pool.map(segment, tables, groups)))

    def _queue_depths(self) -> dict[str, dict[str, Any]]:
        depths: dict[str, dict[str, Any]] = {}
        for role, name in sorted(self._queue_names.items()):
            if not name:
                continue
            url = self._sqs.get_queue_url(QueueName=name)["QueueUrl"]
            attributes = self._sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            )["Attributes"]
            depths[role] = {
                "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
                "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
                "delayed": int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
                "oldest_age_seconds": self._oldest_age(name),
            }
        return depths

    def _oldest_age(self, queue: str) -> int | None:
        """SQS publishes the age of a queue's oldest message to CloudWatch only (every
        minute); None when there is no recent figure."""
        now = datetime.now(UTC)
        try:
            answer = self._deployment.client("cloudwatch").get_metric_statistics(
                Namespace="AWS/SQS",
                MetricName="ApproximateAgeOfOldestMessage",
                Dimensions=[{"Name": "QueueName", "Value": queue}],
                StartTime=now - timedelta(minutes=10),
                EndTime=now,
                Period=60,
                Statistics=["Maximum"],
            )
        except Exception:  # an operator without cloudwatch:Get* still gets depths
            return None
        points = sorted(answer.get("Datapoints", []), key=lambda point: point["Timestamp"])
        return int(points[-1]["Maximum"]) if points else None

    def _versions(self, bucket: str, key: str) -> list[dict[str, Any]]:
        found = [
            {
                "kind": kind,
                "version_id": entry["VersionId"],
                "latest": entry.get("IsLatest", False),
                "last_modified": entry["LastModified"].isoformat(),
                "size": entry.get("Size"),
            }
            for kind, entry in object_versions(self._s3, bucket, key)
            if entry["Key"] == key
        ]
        return sorted(found, key=lambda entry: entry["last_modified"])

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        return self._table.get_item(Key={"pk": pk, "sk": sk}, ConsistentRead=True).get("Item")


def _passes(
    item: dict[str, Any], raw: list[dict[str, Any]], blurred: list[dict[str, Any]]
) -> list[dict[str, str]]:
    """What happened to the picture, in time order, from what S3 and the item record: each
    upload and publication (object versions), the passes' own times and results. The item
    keeps each pass's last time only (not a log): an earlier attempt shows as its output."""
    events = [
        {
            "at": version["last_modified"],
            "what": "uploaded" if version["kind"] == "version" else "raw deleted (delete marker)",
            "detail": f"raw version {version['version_id']}",
        }
        for version in raw
    ]
    events += [
        {
            "at": version["last_modified"],
            "what": "published" if version["kind"] == "version" else "blurred copy removed",
            "detail": f"blurred version {version['version_id']}",
        }
        for version in blurred
    ]
    status = item.get("status")
    for attribute, what, detail in (
        # A pass stamps updated_at when it begins; its result is the status it wrote.
        ("updated_at", "last pass began", f"its result: {status} {item.get('reason') or ''}"),
        ("refined_at", "refined", f"run {item.get('refine_run_id', '?')}"),
        ("refine_failed_at", "refinement failed", str(item.get("refine_error", ""))),
        ("reblurred_at", "re-blurred", f"from {item.get('reblur_source', '?')}"),
        ("reviewed_at", "reviewed", f"by {item.get('reviewed_by', '?')}"),
    ):
        if item.get(attribute):
            events.append({"at": str(item[attribute]), "what": what, "detail": detail.strip()})
    for box in item.get("manual_boxes", []):
        events.append(
            {
                "at": str(box.get("added_at", "")),
                "what": "manual box added",
                "detail": f"{box.get('label', '?')} by {box.get('added_by', '?')}",
            }
        )
    return sorted(events, key=lambda event: _utc_text(event["at"]))


def _utc_text(moment: str) -> str:
    try:
        parsed = datetime.fromisoformat(moment)
    except ValueError:
        return moment
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat()


def _model_cost(run: dict[str, Any]) -> float | None:
    """The run's model minutes at its minimum inference units and the list price: a lower
    bound (auto scaling may have added units)."""
    minutes = run.get("model_minutes")
    if minutes is None:
        return None
    units = int(run.get("min_inference_units") or 1)
    return round(float(minutes) / 60 * units * CUSTOM_LABELS_HOUR_PRICE, 2)


def _plain(value: Any) -> Any:
    """DynamoDB's Decimals and sets as JSON-friendly numbers and lists."""
    from decimal import Decimal

    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(inner) for inner in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
