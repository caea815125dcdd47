"""The review page's server (camblur review) against moto: pictures made by the real live handler.

Given pictures the live pass published (and one it rejected), the page's requests are made as
the browser makes them (Flask's test client); the corrections are the real ones
(camblur_cli.corrections), the re-blur request lands on the live queue. The browser itself is
driven in tests/integration/test_review_page.py.
"""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from flask.testing import FlaskClient
from PIL import Image

from camblur.adapters.state import picture_pk
from camblur.corrections import CORRECTIONS_AUDIT_PK
from camblur.events import reblur_key
from camblur_cli.deployment import Deployment
from camblur_cli.review.app import TOKEN_HEADER, ReviewServer, create_app
from tests.support.aws import Stack, s3_put_event
from tests.support.live import PERSON, Live, labels_response, live_env_fixture
from tests.support.pictures import jpeg_bytes, photo_like

DAY = datetime.now(UTC).date().isoformat()  # the camera list looks back from today
HOST = "127.0.0.1:8765"
ACTOR = "arn:aws:iam::123456789012:user/reviewer"


@pytest.fixture
def live_env(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    yield from live_env_fixture(stack, monkeypatch)


@pytest.fixture
def deployment(stack: Stack) -> Deployment:
    boto3.client("sqs", region_name="eu-west-1").create_queue(QueueName="camblur-test-live")
    return Deployment(
        raw_bucket=stack.raw_bucket,
        blurred_bucket=stack.blurred_bucket,
        state_table=stack.state_table,
        queue_names={"live": "camblur-test-live"},
        region="eu-west-1",
    )


@pytest.fixture
def page(deployment: Deployment) -> FlaskClient:
    app = create_app(deployment, ACTOR, allowed_hosts=frozenset({HOST}))
    app.testing = True
    return app.test_client()


def publish(live_env: Live, key: str, hour: int, seed: int = 0) -> bytes:
    data = jpeg_bytes(photo_like(240, 180, seed=seed))
    put = live_env.stack.s3.put_object(Bucket=live_env.stack.raw_bucket, Key=key, Body=data)
    event = s3_put_event(
        live_env.stack.raw_bucket, key, put["VersionId"], len(data), f"{DAY}T{hour:02d}:00:00.000Z"
    )
    live_env.expect_detection(labels_response(PERSON))
    live_env.invoke(event)
    return data


def get(page: FlaskClient, path: str) -> Any:
    response = page.get(path, headers={"Host": HOST})
    assert response.status_code == 200, (path, response.status_code, response.data[:200])
    return response


def post(page: FlaskClient, path: str, body: dict[str, Any] | None = None, **headers: str) -> Any:
    token = page.application.config["REVIEW_TOKEN"]
    return page.post(path, json=body or {}, headers={"Host": HOST, TOKEN_HEADER: token, **headers})


def ident(key: str) -> str:
    return picture_pk(key).removeprefix("PICTURE#")


@pytest.fixture
def day(live_env: Live) -> dict[str, bytes]:
    """Two pictures of cam-1 published, one rejected (not a picture), one of cam-2."""
    raws = {
        f"cam-1/{DAY}/a.jpg": publish(live_env, f"cam-1/{DAY}/a.jpg", 8, seed=1),
        f"cam-1/{DAY}/b.jpg": publish(live_env, f"cam-1/{DAY}/b.jpg", 9, seed=2),
        f"cam-2/{DAY}/d.jpg": publish(live_env, f"cam-2/{DAY}/d.jpg", 9, seed=4),
    }
    key, junk = f"cam-1/{DAY}/c.jpg", b"not a picture"
    put = live_env.stack.s3.put_object(Bucket=live_env.stack.raw_bucket, Key=key, Body=junk)
    live_env.invoke(
        s3_put_event(live_env.stack.raw_bucket, key, put["VersionId"], 13, f"{DAY}T10:00:00.000Z")
    )
    return raws


def test_cameras_days_and_a_day_grid_come_from_the_indexes(
    page: FlaskClient, day: dict[str, bytes]
) -> None:
    cameras = get(page, "/api/cameras").json
    assert [(row["camera"], row["pictures"]) for row in cameras] == [("cam-1", 3), ("cam-2", 1)]
    days = get(page, "/api/cameras/cam-1/days").json
    assert days == [{"day": DAY, "pictures": 3, "counts": {"LIVE_BLURRED": 2, "REJECTED": 1}}]
    grid = get(page, f"/api/cameras/cam-1/days/{DAY}").json
    assert [(row["key"], row["status"], row["published"]) for row in grid] == [
        (f"cam-1/{DAY}/a.jpg", "LIVE_BLURRED", True),
        (f"cam-1/{DAY}/b.jpg", "LIVE_BLURRED", True),
        (f"cam-1/{DAY}/c.jpg", "REJECTED", False),
    ]
    assert all(row["id"] == ident(row["key"]) and not row["reviewed"] for row in grid)


def test_images_are_the_blurred_copies_only_never_a_raw_picture(
    page: FlaskClient, live_env: Live, day: dict[str, bytes]
) -> None:
    key = f"cam-1/{DAY}/a.jpg"
    # The large view is the blurred object, byte for byte; the thumbnail a small JPEG of it.
    large = get(page, f"/image/{ident(key)}").data
    assert large == live_env.blurred(key)
    assert large != day[key]
    thumb = Image.open(io.BytesIO(get(page, f"/image/{ident(key)}?size=thumb").data))
    assert thumb.format == "JPEG" and max(thumb.size) <= 320
    # A rejected picture's raw object is in the raw bucket: nothing is served for it.
    rejected = f"cam-1/{DAY}/c.jpg"
    assert page.get(f"/image/{ident(rejected)}", headers={"Host": HOST}).status_code == 404
    # A published picture whose blurred copy is gone (raw still there): nothing either.
    live_env.stack.s3.delete_object(Bucket=live_env.stack.blurred_bucket, Key=key)
    assert page.get(f"/image/{ident(key)}", headers={"Host": HOST}).status_code == 404
    # Not a picture id (a key, a path): refused, no bucket read by name.
    for name in (key, "..%2F..%2Fetc", "a" * 63):
        assert page.get(f"/image/{name}", headers={"Host": HOST}).status_code == 404
    # The page and its data name no bucket and no signed URL.
    served = b"".join(
        get(page, path).data
        for path in (
            "/",
            "/api/cameras",
            f"/api/cameras/cam-1/days/{DAY}",
            f"/api/pictures/{ident(f'cam-1/{DAY}/b.jpg')}",
        )
    )
    for name in (live_env.stack.raw_bucket, live_env.stack.blurred_bucket, "X-Amz-", "s3."):
        assert name.encode() not in served


def test_a_drawn_box_is_recorded_audited_and_its_reblur_requested(
    page: FlaskClient, live_env: Live, day: dict[str, bytes]
) -> None:
    key = f"cam-1/{DAY}/b.jpg"
    box = {"left": 0.05, "top": 0.6, "width": 0.2, "height": 0.3, "label": "plate"}
    response = post(page, f"/api/pictures/{ident(key)}/boxes", box)
    assert response.status_code == 200, response.data
    manual = [b for b in response.json["boxes"] if b["source"] == "manual"]
    assert len(manual) == 1 and manual[0]["added_by"] == ACTOR
    assert manual[0]["label"] == "license_plate" and manual[0]["applied"] is False
    assert (manual[0]["left"], manual[0]["top"]) == (0.05, 0.6)
    # The pipeline is asked to re-blur the picture: a message on the live queue names it.
    sqs = boto3.client("sqs", region_name="eu-west-1")
    url = sqs.get_queue_url(QueueName="camblur-test-live")["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [reblur_key(json.loads(m["Body"])) for m in messages] == [key]
    # Audited: who added which box to which picture.
    table = live_env.stack.dynamodb.Table(live_env.stack.state_table)
    audit = table.query(KeyConditionExpression=Key("pk").eq(CORRECTIONS_AUDIT_PK))["Items"]
    assert [(a["action"], a["raw_key"], a["who"]) for a in audit] == [("manual_box", key, ACTOR)]
    # A box outside the picture is refused with a reason, and nothing is recorded.
    outside = post(page, f"/api/pictures/{ident(key)}/boxes", {**box, "left": 0.9})
    assert outside.status_code == 409 and "inside the picture" in outside.json["error"]
    assert len(live_env.state(key)["manual_boxes"]) == 1  # type: ignore[index]


def test_marking_a_picture_and_a_day_reviewed(
    page: FlaskClient, live_env: Live, day: dict[str, bytes]
) -> None:
    first = f"cam-1/{DAY}/a.jpg"
    marked = post(page, f"/api/pictures/{ident(first)}/reviewed")
    assert marked.status_code == 200 and marked.json["reviewed_by"] == ACTOR
    grid = post(page, f"/api/cameras/cam-1/days/{DAY}/reviewed").json
    assert {row["key"]: row["reviewed"] for row in grid} == {
        first: True,
        f"cam-1/{DAY}/b.jpg": True,
        f"cam-1/{DAY}/c.jpg": False,  # rejected: nothing published to review
    }
    # cam-2's picture of the same day is not touched.
    assert "reviewed_at" not in live_env.state(f"cam-2/{DAY}/d.jpg")  # type: ignore[operator]
    # A rejected picture cannot be marked: refused with the reason.
    refused = post(page, f"/api/pictures/{ident(f'cam-1/{DAY}/c.jpg')}/reviewed")
    assert refused.status_code == 409 and "REJECTED" in refused.json["error"]


def test_changes_need_the_page_token_and_every_request_this_host(
    page: FlaskClient, live_env: Live, day: dict[str, bytes]
) -> None:
    key = f"cam-1/{DAY}/a.jpg"
    box = {"left": 0.1, "top": 0.1, "width": 0.1, "height": 0.1}
    # Another web page can post without the token (no CORS lets it add the header): refused.
    no_token = page.post(f"/api/pictures/{ident(key)}/boxes", json=box, headers={"Host": HOST})
    wrong = post(page, f"/api/pictures/{ident(key)}/reviewed", **{TOKEN_HEADER: "guess"})
    assert (no_token.status_code, wrong.status_code) == (403, 403)
    assert "manual_boxes" not in live_env.state(key) and "reviewed_at" not in live_env.state(key)  # type: ignore[operator]
    # A rebound DNS name reaching 127.0.0.1 still sends its own Host: refused, even for reads.
    assert page.get("/api/cameras", headers={"Host": "evil.example:8765"}).status_code == 403
    # Everything the page loads comes from this origin only.
    csp = get(page, "/").headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "img-src 'self'" in csp and "http" not in csp


def test_the_server_listens_on_127_0_0_1_only(deployment: Deployment) -> None:
    server = ReviewServer(deployment, ACTOR, port=0).start()
    try:
        assert server.address == ("127.0.0.1", server.port)
        with socket.create_connection(("127.0.0.1", server.port), timeout=5):
            pass
        # Any other address of this machine (another loopback address stands in for the
        # machine's network interfaces, which a test machine may not have) is refused.
        for address in ("127.0.0.2", *_other_addresses()):
            with pytest.raises(OSError), socket.create_connection((address, server.port), 2):
                pass
    finally:
        server.stop()


def _other_addresses() -> list[str]:
    try:
        found = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return []
    return sorted({entry[4][0] for entry in found} - {"127.0.0.1"})
