"""The operator's command (camblur) against moto: pictures made by the real live handler.

Given pictures the live pass published (and one it rejected), the commands are run as an
operator runs them, with the stack's names from a saved `terraform output -json`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from camblur.adapters.state import picture_pk
from camblur_cli.main import app
from tests.support.aws import Stack, s3_put_event
from tests.support.live import PERSON, Live, labels_response, live_env_fixture
from tests.support.pictures import jpeg_bytes, photo_like

DAY = "2026-11-25"
runner = CliRunner()


@pytest.fixture
def live_env(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    yield from live_env_fixture(stack, monkeypatch)


@pytest.fixture
def outputs(stack: Stack, tmp_path: Path) -> Path:
    path = tmp_path / "outputs.json"
    names = {
        "raw_bucket": stack.raw_bucket,
        "blurred_bucket": stack.blurred_bucket,
        "state_table": stack.state_table,
        "raw_notification": {"prefix": None},
        "queue_names": {"live": None, "live_dlq": "camblur-test-live-dlq"},
    }
    path.write_text(json.dumps({name: {"value": value} for name, value in names.items()}))
    boto3.client("sqs", region_name="eu-west-1").create_queue(QueueName="camblur-test-live-dlq")
    return path


def publish(live_env: Live, key: str, hour: int, seed: int = 0) -> None:
    data = jpeg_bytes(photo_like(200, 150, seed=seed))
    put = live_env.stack.s3.put_object(Bucket=live_env.stack.raw_bucket, Key=key, Body=data)
    event = s3_put_event(
        live_env.stack.raw_bucket, key, put["VersionId"], len(data), f"{DAY}T{hour:02d}:00:00.000Z"
    )
    live_env.expect_detection(labels_response(PERSON))
    live_env.invoke(event)


def camblur(outputs: Path, *args: str) -> Any:
    result = runner.invoke(app, [*args, "--env", "dev", "--outputs", str(outputs)])
    assert result.exit_code == 0, result.output
    return result


def objects(stack: Stack, bucket: str) -> set[str]:
    listing = stack.s3.list_object_versions(Bucket=bucket)
    return {
        entry["Key"] for entry in (*listing.get("Versions", []), *listing.get("DeleteMarkers", []))
    }


def test_status_counts_pictures_by_camera_day_and_status(live_env: Live, outputs: Path) -> None:
    # Given two pictures of cam-1 published and one of cam-2 rejected (not a picture)
    publish(live_env, f"cam-1/{DAY}/a.jpg", 8)
    publish(live_env, f"cam-1/{DAY}/b.jpg", 9)
    live_env.invoke(live_env.upload(f"cam-2/{DAY}/c.jpg", b"not a picture"))
    # When the operator asks for the day's status as JSON
    result = camblur(outputs, "status", "--day", DAY, "--json")
    # Then the counts per camera are what happened, and the DLQ depth is shown
    status = json.loads(result.output)
    counts = {row["camera"]: row["counts"] for row in status["pictures"]}
    assert counts["cam-1"] == {"LIVE_BLURRED": 2}
    assert counts["cam-2"] == {"REJECTED": 1, "REJECTED:NOT_AN_IMAGE": 1}
    assert status["queues"]["live_dlq"] == {"visible": 0, "in_flight": 0, "delayed": 0}
    # And the table form names them too
    table = camblur(outputs, "status", "--day", DAY).output
    assert "cam-1" in table and "LIVE_BLURRED 2" in table and "live_dlq" in table


def test_explain_shows_versions_boxes_and_the_pass(live_env: Live, outputs: Path) -> None:
    key = f"cam-1/{DAY}/a.jpg"
    publish(live_env, key, 8)
    found = json.loads(camblur(outputs, "explain", key, "--json").output)
    assert found["state"]["status"] == "LIVE_BLURRED"
    assert [box["label"] for box in found["boxes_by_source"]["live"]] == ["person"]
    assert len(found["raw_versions"]) == 1 and found["raw_versions"][0]["latest"] is True
    assert len(found["blurred_versions"]) == 1
    assert "person" in camblur(outputs, "explain", key).output


def test_erasing_a_camera_in_a_time_range_removes_every_trace_and_is_audited(
    live_env: Live, outputs: Path
) -> None:
    # Given cam-1 pictures at 08:00 and 10:00 (the first uploaded twice) and one of cam-2
    publish(live_env, f"cam-1/{DAY}/a.jpg", 8)
    publish(live_env, f"cam-1/{DAY}/a.jpg", 8, seed=1)
    publish(live_env, f"cam-1/{DAY}/b.jpg", 10)
    publish(live_env, f"cam-2/{DAY}/c.jpg", 8)
    stack = live_env.stack
    # When cam-1's pictures captured from 07:00 to 09:00 are erased
    erase_morning = (
        "erase",
        "--camera",
        "cam-1",
        "--since",
        f"{DAY}T07:00:00",
        "--until",
        f"{DAY}T09:00:00",
        "--yes",
    )
    result = camblur(outputs, *erase_morning)
    # Then every version of a.jpg is gone, raw and blurred, and its item; b.jpg and cam-2 stay
    assert (
        "erased 1 picture(s): 2 raw version(s), 2 blurred version(s), 1 state item(s)"
        in result.output
    )
    assert objects(stack, stack.raw_bucket) == {f"cam-1/{DAY}/b.jpg", f"cam-2/{DAY}/c.jpg"}
    assert objects(stack, stack.blurred_bucket) == {f"cam-1/{DAY}/b.jpg", f"cam-2/{DAY}/c.jpg"}
    assert live_env.state(f"cam-1/{DAY}/a.jpg") is None
    assert live_env.state(f"cam-1/{DAY}/b.jpg")["status"] == "LIVE_BLURRED"
    # And an audit item says who erased what, and how much
    table = stack.dynamodb.Table(stack.state_table)
    (audit,) = table.query(
        KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": "AUDIT#ERASURE"}
    )["Items"]
    assert audit["scope"].startswith("camera cam-1 captured from 2026-11-25T07:00:00+00:00")
    assert (audit["pictures"], audit["raw_versions"], audit["blurred_versions"]) == (1, 2, 2)
    assert audit["who"].startswith("arn:aws:")
    # And erasing again finds nothing and is audited as such
    again = camblur(outputs, *erase_morning)
    assert "erased 0 picture(s)" in again.output
    audits = table.query(
        KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": "AUDIT#ERASURE"}
    )["Items"]
    assert sorted(int(item["pictures"]) for item in audits) == [0, 1]


def test_erasing_one_picture_leaves_the_rest(live_env: Live, outputs: Path) -> None:
    publish(live_env, f"cam-1/{DAY}/a.jpg", 8)
    publish(live_env, f"cam-1/{DAY}/b.jpg", 9)
    camblur(outputs, "erase", "--key", f"cam-1/{DAY}/a.jpg", "--yes")
    stack = live_env.stack
    assert objects(stack, stack.raw_bucket) == {f"cam-1/{DAY}/b.jpg"}
    assert objects(stack, stack.blurred_bucket) == {f"cam-1/{DAY}/b.jpg"}


def test_erasing_a_camera_finds_its_odd_paths_after_their_items_expired(
    live_env: Live, outputs: Path
) -> None:
    # Given cam-1 pictures under odd paths (the camera-id rule makes them all cam-1's), one of
    # cam-10 and one whose camera is unknown, published, and their items expired (TTL)
    mine = ["cam-1/a.jpg", "//cam-1/b.jpg", "/cam-1/c.jpg", "./cam-1/d.jpg", "cam-1//e.jpg"]
    others = ["cam-10/f.jpg", "../cam-1/g.jpg"]
    for hour, key in enumerate(mine + others):
        publish(live_env, key, hour)
    stack = live_env.stack
    table = stack.dynamodb.Table(stack.state_table)
    for key in mine + others:
        table.delete_item(Key={"pk": picture_pk(key), "sk": "STATE"})
    # When cam-1 is erased
    result = camblur(outputs, "erase", "--camera", "cam-1", "--yes")
    # Then every cam-1 key is gone from both buckets, every version, and the others stay
    assert "erased 5 picture(s): 5 raw version(s), 5 blurred version(s)" in result.output
    assert objects(stack, stack.raw_bucket) == set(others)
    assert objects(stack, stack.blurred_bucket) == set(others)


def test_erase_refuses_an_ambiguous_scope(outputs: Path) -> None:
    result = runner.invoke(
        app, ["erase", "--key", "a.jpg", "--camera", "cam-1", "--outputs", str(outputs)]
    )
    assert result.exit_code == 2
    assert "not both" in result.output


def test_erase_times_with_a_zone_are_compared_in_utc(live_env: Live, outputs: Path) -> None:
    # Given a picture captured at 08:00 UTC, i.e. 10:00 in UTC+2
    publish(live_env, f"cam-1/{DAY}/a.jpg", 8)
    # When the operator erases 09:30-10:30 in UTC+2
    result = camblur(
        outputs,
        "erase",
        "--camera",
        "cam-1",
        "--yes",
        "--since",
        f"{DAY}T09:30:00+02:00",
        "--until",
        f"{DAY}T10:30:00+02:00",
    )
    # Then that picture is the one erased
    assert "erased 1 picture(s)" in result.output
    assert live_env.state(f"cam-1/{DAY}/a.jpg") is None


def test_a_malformed_day_or_a_missing_outputs_file_is_named_not_a_traceback(
    outputs: Path, tmp_path: Path
) -> None:
    bad_day = runner.invoke(
        app, ["status", "--day", "25-11-2026", "--env", "dev", "--outputs", str(outputs)]
    )
    assert bad_day.exit_code == 2 and "YYYY-MM-DD" in bad_day.output
    missing = runner.invoke(
        app, ["status", "--env", "dev", "--outputs", str(tmp_path / "nope.json")]
    )
    assert missing.exit_code == 2 and "cannot read the outputs file" in missing.output
