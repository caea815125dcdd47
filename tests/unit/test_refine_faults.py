"""The refinement off its happy path, through the real handlers (moto + the Custom Labels fake):
a hanging picture, a poison message, a model that fails, expires or never runs, a model
replaced mid-session. Each asserts what an operator cares about: pictures refined or marked,
work kept for the next session, the alarm's metric emitted, no model left billing."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from camblur import config
from camblur.adapters import rekognition as rekognition_adapter
from camblur.adapters.lambda_mapping import EventSourceMapping
from camblur.adapters.queue import RefineQueue
from camblur.adapters.rekognition import ModelControl
from camblur.adapters.state import BlurStateTable, RunStatus
from camblur.handlers import reconcile as reconcile_handler
from camblur.handlers import refine as refine_handler
from camblur.handlers import schedule as schedule_handler
from camblur.refine.reconciler import ModelReconciler
from camblur.refine.schedule import RefineScheduler
from localaws.custom_labels import FakeCustomLabels, FakeError, project_client
from tests.support.aws import REGION
from tests.support.refine import DAY, PROJECT_ARN, VERSION_ARN, Refinement, put_live_picture
from tests.unit.test_refine_handlers import LambdaContext
from tests.unit.test_refine_handlers import refinement as refinement

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

NEXT_DAY = "2026-11-25"
VERSION_2 = VERSION_ARN.replace("camblur-test.v1/1700000000001", "camblur-test.v2/1700000000002")


class ShortContext(LambdaContext):
    """11.5 s left: 1.5 s beyond the worker's margin, shared by the batch's pictures."""

    def get_remaining_time_in_millis(self) -> int:
        return 11_500


@pytest.fixture(autouse=True)
def on_the_test_clock(refinement: Refinement, monkeypatch: pytest.MonkeyPatch) -> None:
    """The schedule and reconciler handlers as deployed (configuration from the environment,
    each read at every invocation as a new sandbox would), but on the test's clock: four
    hours of watchdog pass in a loop. The handlers themselves run unchanged."""

    def reconciler() -> ModelReconciler:
        settings = config.load(config.ReconcileConfig)
        return ModelReconciler(
            settings,
            refinement.runs(),
            ModelControl(settings.model_project_arn, settings.model_version_arn),
            RefineQueue(settings.refine_queue_url, refinement.sqs),
            EventSourceMapping(settings.refine_mapping_uuid, refinement.lambda_client),
            clock=refinement.clock,
            drain_confirm_seconds=settings.drain_confirm_seconds,
        )

    def scheduler() -> RefineScheduler:
        settings = config.load(config.ScheduleConfig)
        return RefineScheduler(
            settings,
            BlurStateTable(settings.state_table),
            refinement.runs(),
            RefineQueue(settings.refine_queue_url, refinement.sqs, parallelism=1),
            ModelControl(settings.model_project_arn, settings.model_version_arn),
            clock=refinement.clock,
        )

    for factory in (reconciler, scheduler):  # the fixture's teardown clears the handlers' caches
        factory.cache_clear = lambda: None  # type: ignore[attr-defined]
    monkeypatch.setattr(reconcile_handler, "reconciler", reconciler)
    monkeypatch.setattr(schedule_handler, "scheduler", scheduler)


def emitted(capsys: pytest.CaptureFixture[str]) -> set[tuple[str, str]]:
    """(metric, service dimension) of every EMF document the handlers printed."""
    found = set()
    for line in capsys.readouterr().out.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "_aws" in document:
            for directive in document["_aws"]["CloudWatchMetrics"]:
                for metric in directive["Metrics"]:
                    found.add((metric["Name"], str(document.get("service"))))
    return found


def queue_day(refinement: Refinement, keys: list[str], day: str = DAY) -> None:
    for key in keys:
        put_live_picture(refinement.stack, key, day=day)
    assert schedule_handler.handler({"capture_day": day}, LambdaContext())["status"] == "QUEUED"


def add_dlq(refinement: Refinement, max_receive_count: int = 3) -> str:
    sqs = refinement.sqs
    dlq = sqs.create_queue(QueueName="camblur-test-refine-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]
    sqs.set_queue_attributes(
        QueueUrl=refinement.queue_url,
        Attributes={
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": arn["QueueArn"], "maxReceiveCount": max_receive_count}
            )
        },
    )
    return dlq


def work_one_minute(refinement: Refinement, context: Any = None) -> dict[str, Any]:
    """One reconciler tick, then the mapping's deliveries; the hand-back delays elapse."""
    refinement.clock.advance(60)
    result = reconcile_handler.handler({}, LambdaContext())
    if refinement.mapping_state() == "Enabled":
        while records := refinement.receive(5):
            response = refine_handler.handler({"Records": records}, context or LambdaContext())
            failed = [item["itemIdentifier"] for item in response["batchItemFailures"]]
            refinement.settle(records, failed)
            for message_id in failed:  # a minute passed: longer than the 30 s / 60 s delays
                refinement.sqs.change_message_visibility(
                    QueueUrl=refinement.queue_url,
                    ReceiptHandle=refinement._handles[message_id],
                    VisibilityTimeout=0,
                )
    return result


# ------------------------------------------------------------------------- time budget


def test_a_hanging_picture_fails_alone_and_its_batchmates_are_refined(
    refinement: Refinement,
) -> None:
    # Given three pictures queued, the model running, and one picture the model hangs on
    keys = [f"cam-1/{DAY}/{name}.jpg" for name in ("a", "hang", "c")]
    queue_day(refinement, keys)
    reconcile_handler.handler({}, LambdaContext())
    release = threading.Event()
    refinement.model.labels = lambda params: (
        release.wait(10) and [] if params["Image"]["S3Object"]["Name"] == keys[1] else []
    )
    records = refinement.receive()
    hanging = next(r["messageId"] for r in records if keys[1] in r["body"])

    try:
        # When the worker gets the batch with little time left (the hang is one share of it)
        response = refine_handler.handler({"Records": records}, ShortContext())
        refinement.settle(
            records, [item["itemIdentifier"] for item in response["batchItemFailures"]]
        )
    finally:
        release.set()

    # Then only the hanging picture's message is handed back; its batchmates are refined
    assert response == {"batchItemFailures": [{"itemIdentifier": hanging}]}
    assert refinement.picture_item(keys[0])["status"] == "REFINED"
    assert refinement.picture_item(keys[2])["status"] == "REFINED"
    # And the hanging one says why, and its message is back in the queue (not deleted)
    item = refinement.picture_item(keys[1])
    assert (item["status"], item["refine_status"]) == ("LIVE_BLURRED", "FAILED")
    assert "DetectCustomLabels" in item["refine_error"]
    assert refinement.depth().total == 1


# ---------------------------------------------------------------------- poison message


def test_a_poison_message_is_dead_lettered_in_minutes_marked_and_the_model_stops(
    refinement: Refinement,
) -> None:
    # Given a day of two pictures, one of which the model always fails on
    dlq = add_dlq(refinement)
    good, poison = f"cam-1/{DAY}/good.jpg", f"cam-1/{DAY}/poison.jpg"
    queue_day(refinement, [good, poison])

    def labels(params: dict[str, Any]) -> list[dict[str, Any]]:
        if params["Image"]["S3Object"]["Name"] == poison:
            raise FakeError("InternalServerError", "the model broke on this picture", 500)
        return []

    refinement.model.labels = labels

    # When the reconciler ticks each minute and the workers take what the mapping gives
    passes = [work_one_minute(refinement)["result"] for _ in range(12)]

    # Then the poison message went to the DLQ after three receives, its picture marked
    assert "CLOSED" in passes
    assert (
        refinement.sqs.get_queue_attributes(
            QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        == "1"
    )
    item = refinement.picture_item(poison)
    assert item["refine_status"] == "DEAD_LETTERED"
    assert "the model broke" in item["refine_error"]
    assert item["status"] == "LIVE_BLURRED"  # the live result stays published
    # And the run says so, with counts, never plain DONE
    run = refinement.run_item()
    assert run["status"] == RunStatus.DONE_WITH_FAILURES.value
    assert (run["refined"], run["failed"], run["dead_lettered"]) == (1, 1, 1)
    # And the model was stopped minutes later, not after 5 x 12 minutes of cycling
    assert refinement.model.status() == "STOPPED"
    assert refinement.model.billed_seconds() <= 10 * 60


# ----------------------------------------------------- models that fail or never run


@pytest.mark.parametrize("fault", ["FAILED", "EXPIRED", "NEVER_RUNNING"])
def test_a_model_that_cannot_serve_raises_its_alarm_and_leaves_the_work_for_next_session(
    refinement: Refinement,
    capsys: pytest.CaptureFixture[str],
    fault: str,
) -> None:
    reconciler_service = schedule_service = "camblur"  # POWERTOOLS_SERVICE_NAME unset here
    # Given a day queued, and a model that fails, expires, or never leaves STARTING
    keys = [f"cam-1/{DAY}/{index}.jpg" for index in range(3)]
    if fault == "NEVER_RUNNING":
        refinement.model.start_seconds = 10**7
    queue_day(refinement, keys)
    if fault != "NEVER_RUNNING":
        refinement.model.fail(fault, f"the model is {fault}")
    capsys.readouterr()

    # When the reconciler ticks (for 4 hours at most: the watchdog's limit)
    for _ in range(250):
        if work_one_minute(refinement)["result"] == "CLOSED":
            break

    # Then the alarm's metric is emitted, the model is not billing, the work is still queued
    expected = "RefineWatchdogStops" if fault == "NEVER_RUNNING" else "RefineModelFailed"
    assert (expected, reconciler_service) in emitted(capsys)
    assert refinement.model.status() != "RUNNING" and refinement.model.status() != "STARTING"
    assert refinement.depth().visible == 3
    assert refinement.runs().carried_days() == {DAY}

    # When the model can serve again (a new version trained, or the start that works) and
    # the next day's schedule runs with nothing of its own to refine
    refinement.model.status_now, refinement.model.start_seconds = "STOPPED", 0
    outcome = schedule_handler.handler({"capture_day": NEXT_DAY}, LambdaContext())

    # Then the late day is reported, and a session opens for the leftovers and refines them
    assert outcome["status"] == "NOTHING_TO_REFINE"
    assert ("RefineDaysLate", schedule_service) in emitted(capsys)
    for _ in range(10):
        if work_one_minute(refinement)["result"] == "CLOSED":
            break
    assert all(refinement.picture_item(key)["status"] == "REFINED" for key in keys)
    assert refinement.run_item()["status"] == RunStatus.DONE.value
    assert refinement.model.status() == "STOPPED"
    assert refinement.depth().total == 0


# --------------------------------------------------------------------------- rotation


@pytest.fixture
def two_versions(
    refinement: Refinement,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[FakeCustomLabels, FakeCustomLabels]]:
    """The project's v1 (the fixture's model) and a newly trained v2, behind one client."""
    old = refinement.model
    new = FakeCustomLabels(PROJECT_ARN, VERSION_2, refinement.clock.seconds, start_seconds=120)
    client = project_client(old, new, region=REGION)
    real_client, real_bounded = rekognition_adapter.client, refine_handler.bounded_client
    monkeypatch.setattr(
        rekognition_adapter,
        "client",
        lambda service: client if service == "rekognition" else real_client(service),
    )
    monkeypatch.setattr(
        refine_handler,
        "bounded_client",
        lambda service, *budget: (
            client if service == "rekognition" else real_bounded(service, *budget)
        ),
    )
    yield old, new


def deploy_version(monkeypatch: pytest.MonkeyPatch, version_arn: str) -> None:
    """What `terraform apply` with a new model_version_arn does: new environment, new sandboxes."""
    monkeypatch.setenv("MODEL_VERSION_ARN", version_arn)
    for factory in (
        schedule_handler.scheduler,
        refine_handler.worker,
        reconcile_handler.reconciler,
    ):
        factory.cache_clear()


def test_a_model_replaced_mid_session_is_stopped_before_the_new_one_starts(
    refinement: Refinement,
    two_versions: tuple[FakeCustomLabels, FakeCustomLabels],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old, new = two_versions
    # Given a session whose model (v1) is RUNNING with pictures still queued
    keys = [f"cam-1/{DAY}/{index}.jpg" for index in range(4)]
    queue_day(refinement, keys)
    assert reconcile_handler.handler({}, LambdaContext())["result"] == "PROCESSING"
    assert old.status() == "RUNNING"

    # When v2 is deployed mid-session and the reconciler and workers go on, minute by minute
    deploy_version(monkeypatch, VERSION_2)
    both_billed = []
    for _ in range(15):
        result = work_one_minute(refinement)
        both_billed.append(old.status() in ("RUNNING", "STARTING") and new.status() != "STOPPED")
        if result["result"] == "CLOSED":
            break

    # Then never were both models billed, v1 was stopped first, v2 refined the day
    assert not any(both_billed)
    assert old.stops == 1 and new.starts == 1 and new.stops == 1
    assert (old.status(), new.status()) == ("STOPPED", "STOPPED")
    for key in keys:
        item = refinement.picture_item(key)
        assert (item["status"], item["refine_model_version"]) == ("REFINED", VERSION_2)
    run = refinement.run_item()
    assert run["status"] == RunStatus.DONE.value
    assert run["model_version_arn"] == VERSION_2
    assert refinement.runs().get_session() is None
