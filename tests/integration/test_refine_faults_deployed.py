"""The refinement's faults through the deployed stack: a hanging picture and a model rotation.

environments/local as Terraform applied it (the session's deployment, tests/integration/
conftest.py); the functions run from the built artifact (devtools/deliver.py plays the
scheduler and the queues' mappings); the local Rekognition plays the Custom Labels models.

The deployment is shared with the other integration tests, so each test refines a capture
day of its own (its pictures' S3 events carry a time on that day, and their keys lie outside
the notification prefix so that no notification of the endpoint's own interleaves): the day's
queue holds only its pictures and its run item is its own. Each test closes its session
(reconciler ticks and the refine queue's mapping until the model is stopped) and puts back
what it changed, whatever happens, so that no run is left QUEUED and no model RUNNING.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from PIL import Image, ImageDraw

from devtools.demo import LocalEnvironment
from tests.integration.deployment import aws_client, deliver_s3_event
from tests.support.aws import s3_put_event

pytestmark = pytest.mark.integration

PREFIX = "refine-faults/cam-f/"
HANGING_DAY = "2026-11-17"  # capture days no other test uses
ROTATION_DAY = "2026-11-18"
WORKER_TIMEOUT = 30  # seconds: a picture's share of it is at most 20 s
HANG_SECONDS = 60.0  # longer than any share
REFINE_FUNCTIONS = ("refine_schedule", "refine_worker", "model_reconciler")


@pytest.fixture(scope="module")
def env(local_environment: LocalEnvironment) -> Iterator[LocalEnvironment]:
    yield local_environment
    local_environment.remove_prefix(PREFIX)


def picture(shade: int) -> bytes:
    image = Image.new("RGB", (320, 240), (shade, 200, 180))
    ImageDraw.Draw(image).rectangle((40, 40, 200, 160), fill=(30, 30, shade))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def upload(env: LocalEnvironment, day: str, names: list[str]) -> list[str]:
    """Camera uploads captured on `day`, live-blurred through the deployed function."""
    keys = []
    for index, name in enumerate(names):
        key = f"{PREFIX}{name}.jpg"
        data = picture(40 + 30 * index)
        response = env.clients.s3.put_object(
            Bucket=env.deployment.raw_bucket, Key=key, Body=data, ContentType="image/jpeg"
        )
        time.sleep(0.001)  # a later sequencer for a later operation, as S3 stamps them
        event = s3_put_event(
            env.deployment.raw_bucket,
            key,
            response["VersionId"],
            len(data),
            event_time=f"{day}T10:15:00.000Z",
            sequencer=f"{time.time_ns():020X}",
        )
        deliver_s3_event(env, event)
        state = env.picture_states()[key]
        assert (state["status"], state["capture_day"]) == ("LIVE_BLURRED", day), state
        keys.append(key)
    return keys


def schedule(env: LocalEnvironment, day: str) -> None:
    """An operator's run of one capture day (refine_schedule's documented event)."""
    outcome = env.delivery.lambdas.invoke_async(
        env.deployment.functions["refine_schedule"], {"capture_day": day}
    )
    assert outcome.ok and outcome.last.payload["status"] == "QUEUED", outcome.last.payload


def tick(env: LocalEnvironment) -> dict[str, Any]:
    schedules = env.delivery.schedules
    reconciler = schedules.for_function(env.deployment.functions["model_reconciler"])
    outcome = schedules.fire(reconciler, datetime.now(UTC))
    assert outcome.ok, outcome.last.error
    return dict(outcome.last.payload)


def tick_until_open(env: LocalEnvironment) -> None:
    for _ in range(60):
        if tick(env)["result"] == "PROCESSING":
            return
        time.sleep(0.5)
    pytest.fail("the mapping never opened")


def finish_session(env: LocalEnvironment, timeout_seconds: float = 180.0) -> str:
    """Reconciler ticks and the refine queue's mapping until the session is closed."""
    deadline = time.monotonic() + timeout_seconds
    result, ticks = "", 0
    while time.monotonic() < deadline:
        result = tick(env)["result"]
        ticks += 1
        env.delivery.mappings.drain(env.deployment.refine_mapping_uuid)
        if result in ("CLOSED", "IDLE") and ticks > 1:
            return result
        time.sleep(1.0)
    return result


def models(env: LocalEnvironment) -> dict[str, str]:
    return {arn: m["status"] for arn, m in env.rekognition.calls()["models"].items()}


def stop_every_model(env: LocalEnvironment) -> None:
    """Cleanup only: whatever a failed test left billing is stopped."""
    rekognition = aws_client(env.rekognition.url, "rekognition")
    for arn, status in models(env).items():
        if status in ("RUNNING", "STARTING"):
            rekognition.stop_project_version(ProjectVersionArn=arn)


def run_item(env: LocalEnvironment, day: str) -> dict[str, Any]:
    table = env.clients.dynamodb.Table(env.deployment.state_table)
    return dict(table.get_item(Key={"pk": f"RUN#{day}", "sk": "RUN"})["Item"])


@pytest.fixture
def closes_its_session(env: LocalEnvironment) -> Iterator[None]:
    """Whatever the test left (a session open, messages queued, a model running) is finished."""
    yield
    env.rekognition.slow_keys.clear()
    try:
        finish_session(env)
    finally:
        stop_every_model(env)


@pytest.fixture
def short_worker_timeout(env: LocalEnvironment) -> Iterator[None]:
    """refine_worker deployed with a 30 s timeout (worker_timeout_seconds = 30 sets both the
    function's timeout and FUNCTION_TIMEOUT_SECONDS), so a hang costs seconds, not minutes."""
    function = env.deployment.functions["refine_worker"]
    config = env.delivery.lambdas.configuration(function)
    variables = config["Environment"]["Variables"]

    def deploy(timeout: int, variables: dict[str, str]) -> None:
        env.clients.lambda_.update_function_configuration(
            FunctionName=function, Timeout=timeout, Environment={"Variables": variables}
        )

    deploy(WORKER_TIMEOUT, {**variables, "FUNCTION_TIMEOUT_SECONDS": str(WORKER_TIMEOUT)})
    yield
    deploy(int(config["Timeout"]), variables)


def test_a_hanging_picture_is_handed_back_alone_and_refined_later(
    env: LocalEnvironment, closes_its_session: None, short_worker_timeout: None
) -> None:
    # Given three pictures of a day, one of which the model hangs on, and the day's refinement
    keys = upload(env, HANGING_DAY, ["first", "hanging", "third"])
    env.rekognition.slow_keys[keys[1]] = HANG_SECONDS
    schedule(env, HANGING_DAY)
    tick_until_open(env)

    # When the mapping delivers the queue to the deployed worker
    try:
        batches = env.delivery.mappings.drain(env.deployment.refine_mapping_uuid)
    finally:
        env.rekognition.slow_keys.clear()

    # Then one batch handed back one message, the function never timed out, the others
    # were refined, and the hanging picture says why and keeps its live result
    assert [len(batch.failed) for batch in batches if batch.failed] == [1], batches
    assert all(batch.invocation is not None and batch.invocation.ok for batch in batches)
    states = env.picture_states()
    assert states[keys[0]]["status"] == states[keys[2]]["status"] == "REFINED"
    hanging = states[keys[1]]
    assert (hanging["status"], hanging["refine_status"]) == ("LIVE_BLURRED", "FAILED")
    # The hang, said on the item: the SDK's read timeout or the worker's own wall clock
    # (CallTimedOut), whichever the load on this machine lets fire first.
    assert re.search(r"time\s?d?\s?out", hanging["refine_error"].lower()), hanging["refine_error"]

    # When the session goes on (the picture answers now)
    assert finish_session(env) == "CLOSED"

    # Then it is refined too, the run is DONE, nothing dead-lettered, the model stopped
    assert env.picture_states()[keys[1]]["status"] == "REFINED"
    assert run_item(env, HANGING_DAY)["status"] == "DONE"
    assert env.queues()["refine DLQ"] == (0, 0)
    assert set(models(env).values()) == {"STOPPED"}


def deploy_model(env: LocalEnvironment, version_arn: str) -> None:
    """What `terraform apply` with a new model_version_arn changes: the functions' variable."""
    for key in REFINE_FUNCTIONS:
        function = env.deployment.functions[key]
        config = env.delivery.lambdas.configuration(function)
        variables = {**config["Environment"]["Variables"], "MODEL_VERSION_ARN": version_arn}
        env.clients.lambda_.update_function_configuration(
            FunctionName=function, Environment={"Variables": variables}
        )


@pytest.fixture
def new_version(env: LocalEnvironment) -> Iterator[str]:
    """A second trained version of the project; the deployed one is put back afterwards."""
    old = env.model_arn()
    new = old.replace(".v1/1700000000001", ".v2/1700000000002")
    assert new != old
    env.rekognition.register_model(new)
    yield new
    deploy_model(env, old)


def test_a_model_rotated_mid_session_leaves_no_model_running(
    env: LocalEnvironment, closes_its_session: None, new_version: str
) -> None:
    # Given a day's refinement running on the deployed model (v1), its picture still queued
    old = env.model_arn()
    [key] = upload(env, ROTATION_DAY, ["rotation"])
    schedule(env, ROTATION_DAY)
    tick_until_open(env)
    assert models(env)[old] == "RUNNING"

    # When v2 is deployed mid-session, and the reconciler and the workers go on
    deploy_model(env, new_version)
    both_billed, result = [], ""
    for _ in range(60):
        result = tick(env)["result"]
        states = models(env)
        both_billed.append(
            states[old] in ("RUNNING", "STARTING")
            and states[new_version] in ("RUNNING", "STARTING")
        )
        env.delivery.mappings.drain(env.deployment.refine_mapping_uuid)
        if result == "CLOSED":
            break
        time.sleep(1.0)

    # Then the old model was stopped before the new one started, the new one refined the day,
    # and both are stopped
    assert result == "CLOSED"
    assert not any(both_billed)
    assert models(env)[old] == models(env)[new_version] == "STOPPED"
    calls = env.rekognition.calls()["models"]
    assert calls[old]["stops"] >= 1 and calls[new_version]["starts"] == 1
    run = run_item(env, ROTATION_DAY)
    assert (run["status"], run["model_version_arn"]) == ("DONE", new_version)
    state = env.picture_states()[key]
    assert (state["status"], state["refine_run_id"]) == ("REFINED", run["run_id"])
    assert state["refine_model_version"] == new_version
