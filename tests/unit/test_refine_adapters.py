"""The refinement's adapters: Custom Labels (Stubber), SQS and Lambda mapping (moto), run items."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from camblur.adapters.lambda_mapping import EventSourceMapping
from camblur.adapters.queue import RefineQueue
from camblur.adapters.rekognition import (
    CustomLabelsDetector,
    DetectionInput,
    ModelControl,
    ModelNotReady,
    Throttled,
)
from camblur.adapters.state import (
    BlurStateTable,
    RunStatus,
    RunTable,
    SessionStopping,
    StateConflict,
    picture_pk,
)
from camblur.core.boxes import Box
from camblur.core.errors import TransientError
from tests.support.aws import REGION, Stack
from tests.support.refine import (
    DAY,
    PROJECT_ARN,
    VERSION_ARN,
    Clock,
    create_refine_mapping,
    create_refine_queue,
    put_live_picture,
)


@pytest.fixture
def rekognition() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("rekognition", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_the_model_is_started_with_the_configured_inference_units(rekognition: Any) -> None:
    client, stubber = rekognition
    # Given a fixed size (min = max) and an autoscaling one (max > min)
    stubber.add_response(
        "start_project_version",
        {"Status": "STARTING"},
        {"ProjectVersionArn": VERSION_ARN, "MinInferenceUnits": 1},
    )
    stubber.add_response(
        "start_project_version",
        {"Status": "STARTING"},
        {"ProjectVersionArn": VERSION_ARN, "MinInferenceUnits": 1, "MaxInferenceUnits": 3},
    )
    control = ModelControl(PROJECT_ARN, VERSION_ARN, client)

    # When each is started / Then MaxInferenceUnits is sent only to turn autoscaling on
    assert control.start(1, 1) is True
    assert control.start(1, 3) is True


def test_a_busy_model_is_not_an_error_and_describe_finds_the_version(rekognition: Any) -> None:
    client, stubber = rekognition
    stubber.add_client_error("stop_project_version", "ResourceInUseException", "stopping")
    stubber.add_response(
        "describe_project_versions",
        {
            "ProjectVersionDescriptions": [
                {"ProjectVersionArn": VERSION_ARN, "Status": "EXPIRED", "StatusMessage": "old"}
            ]
        },
        {"ProjectArn": PROJECT_ARN, "VersionNames": ["camblur-test.v1"]},
    )
    stubber.add_response("describe_project_versions", {"ProjectVersionDescriptions": []})
    control = ModelControl(PROJECT_ARN, VERSION_ARN, client)

    assert control.stop() is False
    expired = control.describe()
    assert (expired.status, expired.message, expired.unusable) == ("EXPIRED", "old", True)
    missing = control.describe()
    assert missing.status == "MISSING" and missing.unusable


def test_custom_labels_keeps_the_configured_labels_above_the_confidence(rekognition: Any) -> None:
    client, stubber = rekognition
    # Given a model answer with a plate, a weak person, a label we do not blur, a boxless label
    stubber.add_response(
        "detect_custom_labels",
        {
            "CustomLabels": [
                {
                    "Name": "License_Plate",
                    "Confidence": 90.0,
                    "Geometry": {
                        "BoundingBox": {"Left": 0.5, "Top": 0.5, "Width": 0.2, "Height": 0.1}
                    },
                },
                {
                    "Name": "person",
                    "Confidence": 40.0,
                    "Geometry": {
                        "BoundingBox": {"Left": 0.1, "Top": 0.1, "Width": 0.2, "Height": 0.5}
                    },
                },
                {
                    "Name": "crane",
                    "Confidence": 99.0,
                    "Geometry": {
                        "BoundingBox": {"Left": 0.0, "Top": 0.0, "Width": 0.1, "Height": 0.1}
                    },
                },
                {"Name": "person", "Confidence": 99.0},
            ]
        },
        {
            "ProjectVersionArn": VERSION_ARN,
            "Image": {"S3Object": {"Bucket": "raw", "Name": "cam/a.jpg", "Version": "v1"}},
            "MinConfidence": 50.0,
        },
    )
    detector = CustomLabelsDetector(
        VERSION_ARN, frozenset({"person", "license_plate"}), 50.0, client
    )

    # When a picture is read from S3
    detection = detector.detect(DetectionInput(bucket="raw", key="cam/a.jpg", version_id="v1"))

    # Then only the plate counts, as a custom box, and the model version is recorded
    assert detection.boxes == (
        Box(0.5, 0.5, 0.2, 0.1, label="license_plate", confidence=90.0, source="custom"),
    )
    assert detection.model_version == VERSION_ARN


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("ProvisionedThroughputExceededException", Throttled),
        ("ThrottlingException", Throttled),
        ("ResourceNotReadyException", ModelNotReady),
    ],
)
def test_capacity_and_readiness_errors_are_transient_with_their_own_type(
    rekognition: Any, code: str, error: type[Exception]
) -> None:
    client, stubber = rekognition
    stubber.add_client_error("detect_custom_labels", code, "no")
    detector = CustomLabelsDetector(VERSION_ARN, frozenset({"person"}), 50.0, client)
    with pytest.raises(error) as raised:
        detector.detect(DetectionInput(jpeg=b"\xff\xd8"))
    assert isinstance(raised.value, TransientError)  # the live pass's handling is unchanged


def test_the_queue_sends_in_batches_and_reports_its_depth(stack: Stack) -> None:
    # Given 23 messages to send
    sqs = boto3.client("sqs", region_name=REGION)
    url = create_refine_queue(sqs)
    queue = RefineQueue(url, sqs)

    # When they are sent
    queue.send([f"body-{index}" for index in range(23)])

    # Then all 23 are waiting, none in flight
    depth = queue.depth()
    assert (depth.visible, depth.in_flight, depth.delayed, depth.total) == (23, 0, 0, 23)
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=5)
    assert queue.depth().in_flight == 5


def test_entries_sqs_refuses_are_sent_again_and_a_persistent_refusal_raises() -> None:
    class FlakySqs:
        def __init__(self, refusals: int) -> None:
            self.refusals = refusals
            self.sent: list[str] = []

        def send_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:  # noqa: N803
            if self.refusals:
                self.refusals -= 1
                first, *rest = Entries
                self.sent.extend(entry["MessageBody"] for entry in rest)
                return {"Failed": [{"Id": first["Id"], "Code": "Throttled", "SenderFault": False}]}
            self.sent.extend(entry["MessageBody"] for entry in Entries)
            return {"Successful": []}

    flaky = FlakySqs(refusals=1)
    RefineQueue("https://sqs/q", flaky, parallelism=1).send(["a", "b", "c"])
    assert sorted(flaky.sent) == ["a", "b", "c"]

    with pytest.raises(TransientError, match="not sent"):
        RefineQueue("https://sqs/q", FlakySqs(refusals=99), parallelism=1).send(["a"])


def test_the_mapping_is_switched_on_and_off(stack: Stack) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    lambda_client = boto3.client("lambda", region_name=REGION)
    uuid = create_refine_mapping(
        lambda_client, boto3.client("iam", region_name=REGION), sqs, create_refine_queue(sqs)
    )
    mapping = EventSourceMapping(uuid, lambda_client)

    assert mapping.state() == "Disabled"
    assert mapping.enable() is True
    assert mapping.state() == "Enabled"
    assert mapping.enable() is True  # already on: nothing to do
    assert mapping.disable() is True
    assert mapping.state() == "Disabled"


def test_a_mapping_that_is_changing_state_is_left_for_the_next_pass() -> None:
    class Updating:
        def get_event_source_mapping(self, UUID: str) -> dict:  # noqa: N803
            return {"UUID": UUID, "State": "Updating"}

        def update_event_source_mapping(self, **_: Any) -> dict:
            raise AssertionError("must not update a mapping that is changing state")

    assert EventSourceMapping("u", Updating()).enable() is False


def test_only_one_invocation_holds_the_queueing_lease(stack: Stack) -> None:
    runs = RunTable(stack.state_table, stack.dynamodb)
    clock = Clock()
    run = runs.create_run(DAY, "run-1", clock(), 0, VERSION_ARN)
    # A second creation returns the existing run rather than replacing it
    assert runs.create_run(DAY, "run-2", clock(), 0, VERSION_ARN).run_id == "run-1"

    first = runs.claim_enqueue(DAY, run.run_id, "a", clock(), clock() + timedelta(minutes=5))
    second = runs.claim_enqueue(DAY, run.run_id, "b", clock(), clock() + timedelta(minutes=5))
    assert first is not None and second is None
    # A lease that lapsed (its holder crashed) can be taken over
    clock.advance(6 * 60)
    assert runs.claim_enqueue(DAY, run.run_id, "b", clock(), clock() + timedelta(minutes=5))
    with pytest.raises(StateConflict):
        runs.save_progress(DAY, "a", None, 1, 0)  # the old holder may no longer write
    runs.finish_enqueue(DAY, "b", clock(), 3, 1, RunStatus.QUEUED)
    assert runs.get_run(DAY).status is RunStatus.QUEUED


def test_a_run_cannot_join_a_stopping_session_and_a_drain_waits_for_queueing(
    stack: Stack,
) -> None:
    runs = RunTable(stack.state_table, stack.dynamodb)
    clock = Clock()
    session = runs.join_session(DAY, "s-1", clock(), 1, 1)
    # While a day is still queueing, an empty queue is not a drained one
    assert not runs.request_stop("s-1", clock(), "DRAINED", "", only_if_idle=True)
    runs.finish_enqueuing(DAY)
    assert runs.request_stop("s-1", clock(), "DRAINED", "", only_if_idle=True)
    with pytest.raises(SessionStopping):
        runs.join_session("2026-11-25", "s-2", clock(), 1, 1)
    assert session.days == frozenset({DAY})


def test_refined_state_never_drops_a_stored_box_and_detects_a_concurrent_change(
    stack: Stack,
) -> None:
    person = Box(0.1, 0.1, 0.2, 0.4, source="live")
    put_live_picture(stack, f"cam/{DAY}/x.jpg", boxes=(person,))
    pictures = BlurStateTable(stack.state_table, stack.dynamodb)
    previous = pictures.get(f"cam/{DAY}/x.jpg")
    assert previous is not None

    with pytest.raises(ValueError, match="refusing to drop"):
        pictures.record_refined(previous, [], {"updated_at": "2026-11-25T03:00:00+00:00"})

    # Someone else wrote in between: the write is refused
    stack.dynamodb.Table(stack.state_table).update_item(
        Key={"pk": picture_pk(f"cam/{DAY}/x.jpg"), "sk": "STATE"},
        UpdateExpression="SET updated_at = :now",
        ExpressionAttributeValues={":now": "2026-11-25T02:59:00+00:00"},
    )
    with pytest.raises(StateConflict):
        pictures.record_refined(previous, [person], {"updated_at": "2026-11-25T03:00:00+00:00"})
