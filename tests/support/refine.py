"""Helpers for the daily refinement's tests: a settable clock, pictures, queue, mapping, model."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image, ImageDraw

from camblur import config
from camblur.adapters.lambda_mapping import EventSourceMapping
from camblur.adapters.queue import MessageVisibility, QueueDepth, RefineQueue
from camblur.adapters.rekognition import CustomLabelsDetector, ModelControl
from camblur.adapters.state import BlurStateTable, RunTable, picture_pk, run_key
from camblur.adapters.storage import PictureStore
from camblur.core.boxes import Box
from camblur.refine.reconciler import ModelReconciler
from camblur.refine.schedule import RefineScheduler
from camblur.refine.worker import RefineWorker
from localaws.custom_labels import FakeCustomLabels
from tests.support.aws import REGION, Stack

PROJECT_ARN = "arn:aws:rekognition:eu-west-1:123456789012:project/camblur-test/1700000000000"
VERSION_ARN = (
    "arn:aws:rekognition:eu-west-1:123456789012:project/camblur-test/version/"
    "camblur-test.v1/1700000000001"
)
DAY = "2026-11-24"


@dataclass
class Clock:
    """A clock the test moves by hand; `seconds()` is what the fake model reads."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 25, 2, 30, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def seconds(self) -> float:
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def fake_model(clock: Clock, **options: Any) -> FakeCustomLabels:
    return FakeCustomLabels(PROJECT_ARN, VERSION_ARN, clock.seconds, **options)


def textured_jpeg(width: int = 160, height: int = 120) -> bytes:
    """Fine stripes everywhere: pixelation visibly flattens any region it touches."""
    image = Image.new("RGB", (width, height), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 2):
        draw.line([(x, 0), (x, height)], fill=(20, 20 + x % 200, 40))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def put_live_picture(
    stack: Stack,
    key: str,
    day: str = DAY,
    status: str = "LIVE_BLURRED",
    boxes: tuple[Box, ...] = (),
    data: bytes | None = None,
) -> dict[str, Any]:
    """A raw picture in S3 and the state item the live pass would have written for it."""
    data = textured_jpeg() if data is None else data
    version = stack.s3.put_object(Bucket=stack.raw_bucket, Key=key, Body=data)["VersionId"]
    item = {
        "pk": picture_pk(key),
        "sk": "STATE",
        "raw_key": key,
        "raw_version_id": version,
        "raw_size": len(data),
        "camera_id": key.split("/", 1)[0],
        "capture_day": day,
        "status": status,
        "boxes": [box.to_item() for box in boxes],
        "blurred_key": key,
        "updated_at": "2026-11-24T10:00:00+00:00",
    }
    stack.dynamodb.Table(stack.state_table).put_item(Item=item)
    return item


def create_refine_queue(sqs: Any, name: str = "camblur-test-refine") -> str:
    return sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "720"})["QueueUrl"]


def create_refine_mapping(lambda_client: Any, iam: Any, sqs: Any, queue_url: str) -> str:
    """The refine queue's event source mapping, created disabled as Terraform does (moto)."""
    role = iam.create_role(RoleName="refine-worker", AssumeRolePolicyDocument="{}")["Role"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    lambda_client.create_function(
        FunctionName="camblur-test-refine-worker",
        Runtime="python3.13",
        Role=role["Arn"],
        Handler="handler.handler",
        Code={"ZipFile": code.getvalue()},
    )
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    return lambda_client.create_event_source_mapping(
        EventSourceArn=queue_arn,
        FunctionName="camblur-test-refine-worker",
        Enabled=False,
        BatchSize=5,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )["UUID"]


def schedule_config(stack: Stack, queue_url: str, **overrides: str) -> config.ScheduleConfig:
    return config.load(
        config.ScheduleConfig,
        {
            "STATE_TABLE": stack.state_table,
            "REFINE_QUEUE_URL": queue_url,
            "MODEL_PROJECT_ARN": PROJECT_ARN,
            "MODEL_VERSION_ARN": VERSION_ARN,
            "MODEL_MIN_INFERENCE_UNITS": "2",
            "MODEL_MAX_INFERENCE_UNITS": "2",
            "CAPTURE_TIME_ZONE": "Europe/Paris",
            **overrides,
        },
    )


def refine_config(stack: Stack, **overrides: str) -> config.RefineConfig:
    return config.load(
        config.RefineConfig,
        {
            "RAW_BUCKET": stack.raw_bucket,
            "BLURRED_BUCKET": stack.blurred_bucket,
            "STATE_TABLE": stack.state_table,
            "MODEL_VERSION_ARN": VERSION_ARN,
            "BLUR_MARGIN": "0",
            **overrides,
        },
    )


def reconcile_config(stack: Stack, queue_url: str, mapping_uuid: str) -> config.ReconcileConfig:
    return config.load(
        config.ReconcileConfig,
        {
            "STATE_TABLE": stack.state_table,
            "REFINE_QUEUE_URL": queue_url,
            "MODEL_PROJECT_ARN": PROJECT_ARN,
            "MODEL_VERSION_ARN": VERSION_ARN,
            "MODEL_MAX_RUN_MINUTES": "240",
            "REFINE_MAPPING_UUID": mapping_uuid,
        },
    )


def queued_bodies(sqs: Any, queue_url: str) -> list[str]:
    """Every message body in the queue, duplicates included; the messages stay in the queue."""
    bodies: list[str] = []
    handles: list[str] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300
        ).get("Messages", [])
        if not messages:
            break
        bodies.extend(message["Body"] for message in messages)
        handles.extend(message["ReceiptHandle"] for message in messages)
    for handle in handles:  # visible again, as they were
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0)
    return bodies


def sqs_record(message_id: str, body: str, receive_count: int = 1) -> dict[str, Any]:
    """One record of the SQS event Lambda's event source mapping delivers."""
    return {
        "messageId": message_id,
        "receiptHandle": f"handle-{message_id}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": "1795660000000",
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": "1795660000000",
        },
        "messageAttributes": {},
        "md5OfBody": "0",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:camblur-test-refine",
        "awsRegion": REGION,
    }


@dataclass
class Refinement:
    """The refinement's three services wired to moto (S3, DynamoDB, SQS, Lambda) and a fake model."""

    stack: Stack
    clock: Clock
    model: FakeCustomLabels
    sqs: Any
    queue_url: str
    lambda_client: Any
    _mapping_uuid: str | None = None

    @property
    def mapping_uuid(self) -> str:
        """Created on first use: only the reconciler's tests need the function and mapping."""
        if self._mapping_uuid is None:
            import boto3

            self._mapping_uuid = create_refine_mapping(
                self.lambda_client,
                boto3.client("iam", region_name=REGION),
                self.sqs,
                self.queue_url,
            )
        return self._mapping_uuid

    def scheduler(self, **env: str) -> RefineScheduler:
        return RefineScheduler(
            schedule_config(self.stack, self.queue_url, **env),
            BlurStateTable(self.stack.state_table, self.stack.dynamodb),
            self.runs(),
            RefineQueue(self.queue_url, self.sqs, parallelism=1),
            ModelControl(PROJECT_ARN, VERSION_ARN, self.model.client()),
            clock=self.clock,
        )

    def worker(self, **env: str) -> RefineWorker:
        settings = refine_config(self.stack, **env)
        return RefineWorker(
            settings,
            PictureStore(self.stack.s3),
            BlurStateTable(self.stack.state_table, self.stack.dynamodb),
            self.runs(),
            CustomLabelsDetector(
                VERSION_ARN,
                settings.custom_label_names,
                settings.custom_min_confidence,
                self.model.client(),
            ),
            clock=self.clock,
            sleep=self.clock.advance,
            jitter=lambda: 0.5,
            visibility=MessageVisibility(self.sqs),
        )

    def reconciler(self, **options: Any) -> ModelReconciler:
        return ModelReconciler(
            reconcile_config(self.stack, self.queue_url, self.mapping_uuid),
            self.runs(),
            ModelControl(PROJECT_ARN, VERSION_ARN, self.model.client()),
            RefineQueue(self.queue_url, self.sqs),
            EventSourceMapping(self.mapping_uuid, self.lambda_client),
            clock=self.clock,
            **options,
        )

    def runs(self) -> RunTable:
        return RunTable(self.stack.state_table, self.stack.dynamodb)

    def run_item(self, day: str = DAY) -> dict[str, Any]:
        return self.stack.dynamodb.Table(self.stack.state_table).get_item(Key=run_key(day))["Item"]

    def picture_item(self, key: str) -> dict[str, Any]:
        return self.stack.dynamodb.Table(self.stack.state_table).get_item(
            Key={"pk": picture_pk(key), "sk": "STATE"}
        )["Item"]

    def mapping_state(self) -> str:
        return str(self.lambda_client.get_event_source_mapping(UUID=self.mapping_uuid)["State"])

    def depth(self) -> QueueDepth:
        return RefineQueue(self.queue_url, self.sqs).depth()

    def receive(self, count: int = 10) -> list[dict[str, Any]]:
        """What the event source mapping would do: receive messages, shape them as Lambda does."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=count,
            AttributeNames=["ApproximateReceiveCount"],
        ).get("Messages", [])
        self._handles = {m["MessageId"]: m["ReceiptHandle"] for m in messages}
        return [
            sqs_record(m["MessageId"], m["Body"], int(m["Attributes"]["ApproximateReceiveCount"]))
            for m in messages
        ]

    def settle(self, records: list[dict[str, Any]], failed_ids: list[str]) -> None:
        """The mapping deletes every message the worker did not report as failed."""
        for record in records:
            if record["messageId"] not in failed_ids:
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=self._handles[record["messageId"]]
                )


def make_refinement(stack: Stack, **model_options: Any) -> Refinement:
    import boto3

    clock = Clock()
    sqs = boto3.client("sqs", region_name=REGION)
    return Refinement(
        stack,
        clock,
        fake_model(clock, **model_options),
        sqs,
        create_refine_queue(sqs),
        boto3.client("lambda", region_name=REGION),
    )
