"""The three refinement handlers with real event shapes, and a whole day from schedule to stop."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from camblur import config
from camblur.adapters import rekognition as rekognition_adapter
from camblur.adapters.state import RunStatus
from camblur.core.boxes import Box
from camblur.handlers import reconcile as reconcile_handler
from camblur.handlers import refine as refine_handler
from camblur.handlers import schedule as schedule_handler
from camblur.refine.reconciler import Pass
from camblur.refine.schedule import ScheduleRequest
from tests.support.aws import Stack
from tests.support.refine import (
    DAY,
    PROJECT_ARN,
    VERSION_ARN,
    Refinement,
    make_refinement,
    put_live_picture,
    sqs_record,
)

# A pass that changes nothing emits no metric; Powertools says so, which is expected here.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@dataclass
class LambdaContext:
    function_name: str = "camblur-test"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:camblur-test"
    aws_request_id: str = "request-1"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def refinement(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Refinement]:
    refinement = make_refinement(stack, start_seconds=0)
    environment = {
        "RAW_BUCKET": stack.raw_bucket,
        "BLURRED_BUCKET": stack.blurred_bucket,
        "STATE_TABLE": stack.state_table,
        "REFINE_QUEUE_URL": refinement.queue_url,
        "MODEL_PROJECT_ARN": PROJECT_ARN,
        "MODEL_VERSION_ARN": VERSION_ARN,
        "REFINE_MAPPING_UUID": refinement.mapping_uuid,
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    # Every other client is moto's; Rekognition is the fake model.
    real_client = rekognition_adapter.client
    monkeypatch.setattr(
        rekognition_adapter,
        "client",
        lambda service: (
            refinement.model.client() if service == "rekognition" else real_client(service)
        ),
    )
    # The worker makes its own clients (timeouts sized to its own): its Rekognition is the fake.
    real_bounded = refine_handler.bounded_client
    monkeypatch.setattr(
        refine_handler,
        "bounded_client",
        lambda service, *budget: (
            refinement.model.client()
            if service == "rekognition"
            else real_bounded(service, *budget)
        ),
    )
    for factory in (
        schedule_handler.scheduler,
        refine_handler.worker,
        reconcile_handler.reconciler,
    ):
        factory.cache_clear()
    yield refinement
    for factory in (
        schedule_handler.scheduler,
        refine_handler.worker,
        reconcile_handler.reconciler,
    ):
        factory.cache_clear()


def test_handlers_take_real_events_and_answer_in_lambdas_shapes(refinement: Refinement) -> None:
    # Given two pictures of the day
    for index in range(2):
        put_live_picture(refinement.stack, f"cam-1/{DAY}/{index}.jpg")

    # When the schedule is invoked for that day
    scheduled = schedule_handler.handler({"capture_day": DAY}, LambdaContext())

    # Then it reports what it queued
    assert (scheduled["capture_day"], scheduled["status"], scheduled["queued"]) == (
        DAY,
        "QUEUED",
        2,
    )

    # When the reconciler runs (the fake model starts at once)
    reconciled = reconcile_handler.handler({}, LambdaContext())
    assert reconciled["result"] == "PROCESSING"
    assert refinement.mapping_state() == "Enabled"

    # When the worker gets an SQS event with one good and one malformed message
    records = refinement.receive()
    assert len(records) == 2
    records[1] = sqs_record(records[1]["messageId"], "not json")
    response = refine_handler.handler({"Records": records}, LambdaContext())

    # Then it answers a partial batch response naming the malformed message only
    assert response == {"batchItemFailures": [{"itemIdentifier": records[1]["messageId"]}]}


def test_a_handler_with_a_bad_variable_fails_at_start_naming_it(
    refinement: Refinement, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODEL_MAX_RUN_MINUTES", "0")
    with pytest.raises(config.ConfigError, match="MODEL_MAX_RUN_MINUTES"):
        reconcile_handler.handler({}, LambdaContext())


def test_every_refinement_handler_declares_exactly_what_it_reads() -> None:
    assert config.ENVIRONMENT_BY_HANDLER["camblur.handlers.refine.handler"] == frozenset(
        {
            "RAW_BUCKET",
            "BLURRED_BUCKET",
            "STATE_TABLE",
            "BLUR_STYLE",
            "BLUR_MARGIN",
            "JPEG_QUALITY",
            "MAX_IMAGE_PIXELS",
            "MAX_OBJECT_BYTES",
            "MODEL_VERSION_ARN",
            "CUSTOM_LABEL_NAMES",
            "CUSTOM_MIN_CONFIDENCE",
            "REKOGNITION_TPS",
            "MAX_CONCURRENCY",
            "FUNCTION_TIMEOUT_SECONDS",
            "MAX_RECEIVE_COUNT",
        }
    )
    assert (
        "REFINE_MAPPING_UUID" in config.ENVIRONMENT_BY_HANDLER["camblur.handlers.reconcile.handler"]
    )
    assert "CAPTURE_TIME_ZONE" in config.ENVIRONMENT_BY_HANDLER["camblur.handlers.schedule.handler"]


def test_a_whole_day_is_refined_and_the_model_stopped_with_nothing_dead_lettered(
    stack: Stack,
) -> None:
    # Given 12 live-blurred pictures of yesterday, a model that takes 5 minutes to start
    refinement = make_refinement(stack, start_seconds=300, stop_seconds=30)
    person = Box(0.1, 0.1, 0.2, 0.4, source="live")
    for index in range(12):
        put_live_picture(refinement.stack, f"cam-{index % 3}/{DAY}/{index}.jpg", boxes=(person,))
    refinement.model.labels = lambda _params: [
        {
            "Name": "license_plate",
            "Confidence": 80.0,
            "Geometry": {"BoundingBox": {"Left": 0.6, "Top": 0.6, "Width": 0.2, "Height": 0.1}},
        }
    ]
    reconciler, worker = refinement.reconciler(), refinement.worker()

    # When the schedule runs, then the reconciler every minute, and workers whenever the
    # mapping is open
    refinement.scheduler().run(ScheduleRequest())
    passes: list[Pass] = []
    for _minute in range(20):
        refinement.clock.advance(60)
        passes.append(reconciler.reconcile().result)
        if refinement.mapping_state() == "Enabled":
            while records := refinement.receive(5):
                result = worker.process_batch(records, lambda: 60.0)
                refinement.settle(records, result.failed_message_ids)
        if passes[-1] is Pass.CLOSED:
            break

    # Then every picture is REFINED with its plate, the model is stopped, the run is DONE
    assert passes[:4] == [Pass.STARTING] * 4
    assert passes[-1] is Pass.CLOSED
    for index in range(12):
        item = refinement.picture_item(f"cam-{index % 3}/{DAY}/{index}.jpg")
        assert item["status"] == "REFINED"
        assert {box["label"] for box in item["boxes"]} == {"person", "license_plate"}
    run = refinement.run_item()
    assert run["status"] == RunStatus.DONE.value
    assert run["pictures_refined"] == 12
    assert refinement.model.status() == "STOPPED"
    assert refinement.mapping_state() == "Disabled"
    assert refinement.depth().total == 0
    # And the billed time is the start plus a few minutes of passes, not hours
    assert refinement.model.billed_seconds() <= 10 * 60
    assert run["stop_reason"] == "DRAINED"
