"""The refinement's faults through the deployed stack: a hanging picture and a model rotation.

environments/local as Terraform applied it (the session's deployment, tests/integration/
conftest.py); the functions run from the built artifact (devtools/deliver.py plays the
scheduler and the queue's mapping); the local Rekognition plays the Custom Labels models.
Both tests re-run today's refinement (`rerun`), which the pipeline test closed already.
Their uploads go under cameras/faults/.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageDraw

from devtools.demo import LocalEnvironment, run_refinement

pytestmark = pytest.mark.integration

WORKER_TIMEOUT = 30  # seconds: a picture's share of it is at most 20 s
HANG_SECONDS = 60.0  # longer than any share


@pytest.fixture(scope="module")
def env(local_environment: LocalEnvironment) -> LocalEnvironment:
    return local_environment


def picture(shade: int) -> bytes:
    image = Image.new("RGB", (320, 240), (shade, 200, 180))
    ImageDraw.Draw(image).rectangle((40, 40, 200, 160), fill=(30, 30, shade))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def upload(env: LocalEnvironment, names: list[str]) -> list[str]:
    keys = []
    for index, name in enumerate(names):
        key = f"cameras/faults/{name}.jpg"
        [outcome] = env.delivery.s3.put_object(
            env.deployment.raw_bucket, key, picture(40 + 30 * index), "image/jpeg"
        )
        assert outcome.ok, outcome.last.error
        keys.append(key)
    return keys


def today(env: LocalEnvironment) -> str:
    config = env.delivery.lambdas.configuration(env.deployment.functions["live_blur"])
    zone = ZoneInfo(config["Environment"]["Variables"].get("CAPTURE_TIME_ZONE", "UTC"))
    return datetime.now(UTC).astimezone(zone).date().isoformat()


def rerun_today(env: LocalEnvironment) -> None:
    outcome = env.delivery.lambdas.invoke_async(
        env.deployment.functions["refine_schedule"], {"capture_day": today(env), "rerun": True}
    )
    assert outcome.ok and outcome.last.payload["status"] == "QUEUED", outcome.last.payload


def tick(env: LocalEnvironment) -> dict[str, Any]:
    schedules = env.delivery.schedules
    reconciler = schedules.for_function(env.deployment.functions["model_reconciler"])
    outcome = schedules.fire(reconciler)
    assert outcome.ok, outcome.last.error
    return dict(outcome.last.payload)


def tick_until_open(env: LocalEnvironment) -> None:
    for _ in range(30):
        if tick(env)["result"] == "PROCESSING":
            return
        time.sleep(0.5)
    pytest.fail("the mapping never opened")


def models(env: LocalEnvironment) -> dict[str, str]:
    return {arn: m["status"] for arn, m in env.rekognition.calls()["models"].items()}


def run_item(env: LocalEnvironment) -> dict[str, Any]:
    table = env.clients.dynamodb.Table(env.deployment.state_table)
    return table.get_item(Key={"pk": f"RUN#{today(env)}", "sk": "RUN"})["Item"]


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
    env: LocalEnvironment, short_worker_timeout: None
) -> None:
    # Given three uploads, one of which the model hangs on, and today's refinement re-run
    keys = upload(env, ["first", "hanging", "third"])
    env.rekognition.slow_keys[keys[1]] = HANG_SECONDS
    rerun_today(env)
    tick_until_open(env)

    # When the mapping delivers the queue to the deployed worker
    try:
        batches = env.delivery.mappings.drain(env.deployment.refine_mapping_uuid)
    finally:
        env.rekognition.slow_keys.clear()

    # Then one batch handed back one message, the function never timed out, the others
    # were refined, and the hanging picture says why and keeps its live result
    assert [len(batch.failed) for batch in batches if batch.failed] == [1]
    assert all(batch.invocation is not None and batch.invocation.ok for batch in batches)
    states = env.picture_states()
    assert states[keys[0]]["status"] == states[keys[2]]["status"] == "REFINED"
    hanging = states[keys[1]]
    assert (hanging["status"], hanging["refine_status"]) == ("LIVE_BLURRED", "FAILED")
    assert "DetectCustomLabels" in hanging["refine_error"]
    assert env.queues()["refine queue"] == (0, 1)  # back in the queue, hidden for 30 s

    # When the refinement goes on (the picture answers now)
    run_refinement(env, timeout_seconds=180.0, tick_seconds=2.0)

    # Then it is refined too, the run is DONE, nothing dead-lettered, the model stopped
    assert env.picture_states()[keys[1]]["status"] == "REFINED"
    assert run_item(env)["status"] == "DONE"
    assert env.queues()["refine DLQ"] == (0, 0)
    assert set(models(env).values()) == {"STOPPED"}


REFINE_FUNCTIONS = ("refine_schedule", "refine_worker", "model_reconciler")


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
    env: LocalEnvironment, new_version: str
) -> None:
    # Given today's refinement running on the deployed model (v1), pictures still queued
    old = env.model_arn()
    upload(env, ["rotation"])
    rerun_today(env)
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
    run = run_item(env)
    assert (run["status"], run["model_version_arn"]) == ("DONE", new_version)
    refined = [s for s in env.picture_states().values() if s.get("refine_run_id") == run["run_id"]]
    assert refined and {s["refine_model_version"] for s in refined} == {new_version}
