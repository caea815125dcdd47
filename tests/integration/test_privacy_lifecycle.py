"""The newest version wins and deletes are honoured, through the deployed stack.

Given environments/local applied to the embedded endpoint (the session's one deployment),
when S3's events reach live_blur out of order, as AWS may deliver them (a newer version's
event before an older one's, a delete before the creation it follows, a delete that is still
on its way when the daily refinement runs),
then the published picture and the state item follow the newest raw version, and nothing S3
no longer serves is published again.

Each event record is made when its S3 operation happens (its sequencer then, as S3 assigns
it) and delivered later, in the order the test picks, the way the raw bucket's deployed
notification delivers it (to the function, or to the live queue and through its mapping).
The keys lie outside the notification prefix so that no notification of the endpoint's own
interleaves with the ones the test delivers; the live function handles them all the same. At
the end every version and delete marker under them is removed one by one: moto's batch delete
(terraform destroy empties the buckets with it) fails on a delete marker.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from devtools.demo import LocalEnvironment
from tests.integration.deployment import deliver_s3_event
from tests.support.aws import s3_put_event, s3_removed_event
from tests.support.pictures import jpeg_bytes, photo_like

pytestmark = pytest.mark.integration

PREFIX = "privacy-lifecycle/cam-p/"
DAY = "2026-11-20"  # a capture day of its own: its refinement is these pictures' only
EVENT_TIME = f"{DAY}T10:15:00.000Z"


@pytest.fixture(scope="module")
def env(local_environment: LocalEnvironment) -> Iterator[LocalEnvironment]:
    yield local_environment
    local_environment.remove_prefix(PREFIX)


def _sequencer() -> str:
    """What S3 stamps on an operation's event: later operations on a key compare greater."""
    time.sleep(0.001)
    return f"{time.time_ns():020X}"


def put(env: LocalEnvironment, key: str, seed: int) -> dict[str, Any]:
    """A camera's PUT; its event as S3 makes it, not delivered yet."""
    data = jpeg_bytes(photo_like(320, 240, seed=seed))
    response = env.clients.s3.put_object(Bucket=env.deployment.raw_bucket, Key=key, Body=data)
    return s3_put_event(
        env.deployment.raw_bucket,
        key,
        response["VersionId"],
        len(data),
        event_time=EVENT_TIME,
        sequencer=_sequencer(),
    )


def delete(env: LocalEnvironment, key: str) -> dict[str, Any]:
    """A DELETE (a delete marker); its event as S3 makes it, not delivered yet."""
    response = env.clients.s3.delete_object(Bucket=env.deployment.raw_bucket, Key=key)
    return s3_removed_event(env.deployment.raw_bucket, key, response["VersionId"], _sequencer())


def version_of(event: dict[str, Any]) -> str:
    return str(event["Records"][0]["s3"]["object"]["versionId"])


def state(env: LocalEnvironment, key: str) -> dict[str, Any] | None:
    return env.picture_states().get(key)


def blurred_versions(env: LocalEnvironment, key: str) -> int:
    """Every version and delete marker of the blurred copy: what is retrievable by version id."""
    listing = env.clients.s3.list_object_versions(Bucket=env.deployment.blurred_bucket, Prefix=key)
    entries = (*listing.get("Versions", []), *listing.get("DeleteMarkers", []))
    return sum(1 for entry in entries if entry["Key"] == key)


def test_an_older_versions_late_event_never_replaces_the_newer_picture(
    env: LocalEnvironment,
) -> None:
    # Given v1 and then v2 uploaded, and v2's event delivered first
    key = PREFIX + "overwritten.jpg"
    first, second = put(env, key, seed=1), put(env, key, seed=2)
    deliver_s3_event(env, second)
    published = env.blurred(key)
    assert published is not None
    # When v1's event arrives late
    deliver_s3_event(env, first)
    # Then the published picture and the item are still v2's, and no other copy was written
    item = state(env, key)
    assert item is not None
    assert (item["raw_version_id"], item["status"]) == (version_of(second), "LIVE_BLURRED")
    assert env.blurred(key) == published
    assert blurred_versions(env, key) == 1


def test_a_delete_delivered_before_its_creation_publishes_nothing(env: LocalEnvironment) -> None:
    # Given a picture uploaded and deleted, whose removal event arrives first
    key = PREFIX + "deleted-early.jpg"
    created, removed = put(env, key, seed=3), delete(env, key)
    deliver_s3_event(env, removed)
    # When its creation event arrives after it
    deliver_s3_event(env, created)
    # Then no blurred copy exists, under any version id, and the item says DELETED
    assert blurred_versions(env, key) == 0
    item = state(env, key)
    assert item is not None and item["status"] == "DELETED", item


def test_a_picture_deleted_after_its_live_pass_is_not_republished_by_the_refinement(
    env: LocalEnvironment,
) -> None:
    # Given a picture published by the live pass, then deleted, its removal still on its way
    key = PREFIX + "deleted-before-refinement.jpg"
    deliver_s3_event(env, put(env, key, seed=4))
    assert blurred_versions(env, key) == 1
    removed = delete(env, key)
    # When the day's refinement runs as deployed (schedule, reconciler, queue, worker)
    refine_day(env, DAY)
    # Then it wrote no new copy and did not mark the deleted picture REFINED
    assert blurred_versions(env, key) == 1
    item = state(env, key)
    assert item is not None and item["status"] != "REFINED", item
    # And once the removal arrives, no version of the copy is left and nothing returns it
    deliver_s3_event(env, removed)
    assert blurred_versions(env, key) == 0
    item = state(env, key)
    assert item is not None and item["status"] == "DELETED", item


def refine_day(env: LocalEnvironment, day: str, timeout_seconds: float = 120.0) -> None:
    """The refinement of one capture day, as an operator re-runs a day (refine_schedule's
    documented event), then the deployed reconciler and mapping until the model is stopped."""
    functions = env.deployment.functions
    queued = env.delivery.lambdas.invoke_async(functions["refine_schedule"], {"capture_day": day})
    assert queued.ok and queued.last.payload["status"] == "QUEUED", queued.last.payload
    reconcile = env.delivery.schedules.for_function(functions["model_reconciler"])
    deadline = time.monotonic() + timeout_seconds
    ticks = 0
    while time.monotonic() < deadline:
        tick = env.delivery.schedules.fire(reconcile, datetime.now(UTC))
        assert tick.ok, tick.last.error
        ticks += 1
        env.delivery.mappings.drain(env.deployment.refine_mapping_uuid)
        if tick.last.payload.get("result") in ("CLOSED", "IDLE") and ticks > 1:
            return
        time.sleep(1.0)
    pytest.fail(f"the refinement of {day} did not finish within {timeout_seconds:.0f} s")
