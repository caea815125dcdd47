"""Corrections by people through the deployed stack (the session's environments/local).

Given a privacy zone set with the operator's functions and a picture uploaded (S3's deployed
notification invokes live_blur), when a manual box is added (the command asks the pipeline:
the live queue, or an asynchronous invocation of live_blur with live_trigger = "s3_async"),
the same S3 event is delivered again, the key is uploaded again and the day is refined again,
then the published picture is anonymised inside the zone and the box after every pass, and
unchanged far from them.

Runs after test_demo_pipeline.py (file order): its re-run of today's refinement comes after
that module's own refinement. Its uploads go under its own camera.
"""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from PIL import Image

from camblur.adapters.state import picture_pk
from camblur.corrections import reblur_message
from camblur_cli import corrections
from camblur_cli.deployment import Deployment
from devtools.demo import REGION, LocalEnvironment, key_prefix
from tests.support.refine import textured_jpeg

pytestmark = pytest.mark.integration

CAMERA = "corrections-check"
ZONE = (0.0, 0.0, 0.25, 0.25)
ZONE_PIXELS = (4, 4, 76, 56)
BOX = (0.5, 0.5, 0.25, 0.25)
BOX_PIXELS = (170, 130, 230, 170)
FAR = (262, 196, 318, 238)  # far from both, and from the JPEG blocks they touch


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def difference(first: np.ndarray, second: np.ndarray, box: tuple[int, int, int, int]) -> float:
    left, top, right, bottom = box
    return float(np.abs(first[top:bottom, left:right] - second[top:bottom, left:right]).mean())


def refine_today_again(env: LocalEnvironment, day: str, timeout: float = 180.0) -> None:
    """An operator's re-run of a capture day (`rerun`), then the reconciler's ticks and the
    refine queue's mapping, as deployed, until the model is stopped."""
    functions = env.deployment.functions
    outcome = env.delivery.lambdas.invoke_async(
        functions["refine_schedule"], {"capture_day": day, "rerun": True}
    )
    assert outcome.ok, outcome.last.error
    assert outcome.last.payload["status"] == "QUEUED", outcome.last.payload
    reconcile = env.delivery.schedules.for_function(functions["model_reconciler"])
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        tick = env.delivery.schedules.fire(reconcile)
        assert tick.ok, tick.last.error
        for batch in env.delivery.mappings.drain(env.deployment.refine_mapping_uuid):
            assert not batch.failed, batch
        if (tick.last.payload or {}).get("result") in ("CLOSED", "IDLE"):
            return
        time.sleep(1.0)
    pytest.fail("the refinement did not finish")


def deliver_reblur(env: LocalEnvironment, result: corrections.ManualBoxResult, key: str) -> None:
    """What AWS does with the command's request: the live queue's mapping, or Lambda's
    asynchronous invocation (moto accepts the invocation but runs nothing: it is delivered
    here with the payload the command sends)."""
    if result.requested_via == "live_queue":
        outcomes = env.drain_live_queue()
        assert outcomes and not any(outcome.failed for outcome in outcomes), outcomes
        return
    payload = reblur_message(key, str(result.box.added_by), str(result.box.added_at))
    outcome = env.delivery.lambdas.invoke_async(env.deployment.functions["live_blur"], payload)
    assert outcome.ok, outcome.last.error
    assert outcome.last.payload["processed"][0]["status"] == "REBLURRED", outcome.last.payload


def test_a_zone_and_a_manual_box_survive_every_pass_of_the_deployed_stack(
    local_environment: LocalEnvironment,
) -> None:
    env = local_environment
    outputs = {name: {"value": value} for name, value in env.deployment.outputs.items()}
    operator = Deployment.from_outputs(outputs, endpoint_url=env.aws_url, region=REGION)
    raw = textured_jpeg(320, 240)
    original = pixels(raw)
    key = f"{key_prefix(env)}{CAMERA}/frame.jpg"
    table = env.clients.dynamodb.Table(env.deployment.state_table)

    def published() -> np.ndarray:
        data = env.blurred(key)
        assert data is not None
        return pixels(data)

    def state() -> dict[str, Any]:
        return table.get_item(Key={"pk": picture_pk(key), "sk": "STATE"})["Item"]

    # Given a zone over the camera's top-left corner, in force from a minute ago
    corrections.set_zone(
        operator,
        CAMERA,
        "dpo",
        rectangle=ZONE,
        since=datetime.now(UTC) - timedelta(minutes=1),
    )
    # When the camera uploads a picture
    [upload] = env.delivery.s3.put_object(env.deployment.raw_bucket, key, raw, "image/jpeg")
    assert upload.ok, upload.last.error
    # Then the zone is anonymised, the far corner not
    assert difference(original, published(), ZONE_PIXELS) > 30
    assert difference(original, published(), BOX_PIXELS) < 8
    assert difference(original, published(), FAR) < 8

    # When an operator adds a box, and the pipeline gets the request
    result = corrections.add_manual_box(operator, key, *BOX, label="person", actor="dpo")
    deliver_reblur(env, result, key)
    # Then the box is anonymised too, the rest unchanged
    after_box = published()
    assert difference(original, after_box, BOX_PIXELS) > 30
    assert difference(original, after_box, ZONE_PIXELS) > 30
    assert difference(original, after_box, FAR) < 8
    assert sorted(box["source"] for box in state()["boxes"]) == ["manual", "zone"]

    # When S3 delivers the same event again
    head = env.clients.s3.head_object(Bucket=env.deployment.raw_bucket, Key=key)
    before_duplicate = state()
    [again] = env.delivery.s3.object_created(
        env.deployment.raw_bucket, key, head["VersionId"], len(raw)
    )
    # Then it is a duplicate: nothing written again, the boxes stay
    assert again.ok, again.last.error
    assert state()["updated_at"] == before_duplicate["updated_at"]
    assert np.array_equal(published(), after_box)

    # When the camera uploads the key again (the live pass runs again on a new version)
    [second] = env.delivery.s3.put_object(env.deployment.raw_bucket, key, raw, "image/jpeg")
    assert second.ok, second.last.error
    assert difference(original, published(), BOX_PIXELS) > 30
    assert difference(original, published(), ZONE_PIXELS) > 30

    # When the day is refined (again: test_demo_pipeline refined it first)
    live = env.delivery.lambdas.configuration(env.deployment.functions["live_blur"])
    zone = ZoneInfo(live["Environment"]["Variables"].get("CAPTURE_TIME_ZONE", "UTC"))
    refine_today_again(env, state()["capture_day"] or datetime.now(zone).date().isoformat())
    # Then the refined picture keeps both, recorded with their sources
    item = state()
    assert item["status"] == "REFINED"
    assert {"manual", "zone"} <= {box["source"] for box in item["boxes"]}
    assert item["zones"][0]["version"] == 1
    assert difference(original, published(), BOX_PIXELS) > 30
    assert difference(original, published(), ZONE_PIXELS) > 30
    assert difference(original, published(), FAR) < 8
