"""Sharing Rekognition's rate: the token bucket and the backoff, on a fake clock; and a real
botocore client against a local endpoint that throttles, to show the retry quota never bites."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from camblur.adapters import aws
from camblur.adapters.pacing import (
    BACKOFF_MAX_SECONDS,
    PacedRekognition,
    Pacer,
    TokenBucket,
    full_jitter,
    half_jitter,
    instance_rate,
)
from camblur.adapters.rekognition import DetectionInput, PeopleDetector, Throttled


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


def throttling() -> ClientError:
    return ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "DetectLabels"
    )


class Flaky:
    """An operation that is throttled `throttles` times, then answers; records call times."""

    def __init__(self, clock: FakeClock, throttles: int) -> None:
        self.clock, self.throttles, self.calls = clock, throttles, []

    def __call__(self, **request: Any) -> dict[str, Any]:
        self.calls.append(self.clock.now)
        if len(self.calls) <= self.throttles:
            raise throttling()
        return {"Labels": [], "request": request}


def test_a_bucket_keeps_an_instance_to_its_share_of_the_account_rate() -> None:
    # Given an account quota of 50 TPS shared by 25 instances: 2 calls a second each
    clock = FakeClock()
    bucket = TokenBucket(instance_rate(50, 25), clock=clock, sleep=clock.sleep)
    # When the instance makes 21 calls as fast as it can
    for _ in range(21):
        bucket.acquire()
    # Then the first went at once and the other 20 took 10 seconds: 2 per second
    assert clock.now == pytest.approx(10.0)


def test_a_bucket_does_not_save_up_more_than_its_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(1.0, burst=2, clock=clock, sleep=clock.sleep)
    clock.now = 100.0  # a long idle time
    for _ in range(4):
        bucket.acquire()
    assert clock.now == pytest.approx(102.0)  # two at once, then one a second


def test_full_jitter_spreads_delays_between_zero_and_the_capped_ceiling() -> None:
    assert full_jitter(0, rand=lambda: 0.0) == 0.0
    assert full_jitter(3, base=0.1, cap=2.0, rand=lambda: 0.999) == pytest.approx(0.7992)
    assert full_jitter(30, rand=lambda: 0.999) < BACKOFF_MAX_SECONDS
    assert half_jitter(4, base=2, cap=300, rand=lambda: 0.0) == 16.0  # never below half


def test_a_throttled_call_waits_with_jitter_and_then_succeeds() -> None:
    # Given Rekognition throttles a call three times
    clock = FakeClock()
    operation = Flaky(clock, throttles=3)
    pacer = Pacer(
        TokenBucket(100, clock=clock, sleep=clock.sleep), 5.0, clock, clock.sleep, lambda: 0.5
    )
    # When the call goes through the pacer
    response = pacer.call(operation, Image={"Bytes": b"x"})
    # Then it succeeds on the fourth attempt, after growing waits, and is not a failure
    assert response["request"] == {"Image": {"Bytes": b"x"}}
    assert len(operation.calls) == 4 and pacer.throttled == 3
    waits = [later - earlier for earlier, later in pairwise(operation.calls)]
    assert waits[0] < waits[1] < waits[2]


def test_throttling_past_the_wait_budget_goes_to_the_caller() -> None:
    # Given Rekognition throttles for ever
    clock = FakeClock()
    operation = Flaky(clock, throttles=10**6)
    pacer = Pacer(TokenBucket(100, clock=clock, sleep=clock.sleep), 5.0, clock, clock.sleep)
    # When the pacer gives up, it is within the budget and says throttling (hand back)
    with pytest.raises(ClientError, match="ThrottlingException"):
        pacer.call(operation)
    assert clock.now <= 5.0 + 0.01 * len(operation.calls)  # the bucket's spacing on top
    assert len(operation.calls) > 1


def test_a_deadline_shortens_the_wait_budget() -> None:
    clock = FakeClock()
    operation = Flaky(clock, throttles=10**6)
    pacer = Pacer(TokenBucket(100, clock=clock, sleep=clock.sleep), 60.0, clock, clock.sleep)
    with pytest.raises(ClientError):
        pacer.call(operation, deadline=lambda: 1.0)
    assert clock.now < 1.1


def test_other_errors_are_not_retried() -> None:
    clock = FakeClock()
    calls = []

    def refused(**_: Any) -> None:
        calls.append(1)
        raise ClientError({"Error": {"Code": "InvalidImageFormatException"}}, "DetectLabels")

    pacer = Pacer(TokenBucket(100, clock=clock, sleep=clock.sleep), 5.0, clock, clock.sleep)
    with pytest.raises(ClientError):
        pacer.call(refused)
    assert calls == [1] and clock.sleeps == []


class ThrottlingEndpoint(BaseHTTPRequestHandler):
    """Rekognition's JSON protocol: ThrottlingException for the first `throttles` requests."""

    throttles = 0
    requests = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        cls = type(self)
        cls.requests += 1
        if cls.requests <= cls.throttles:
            status, body = 400, {"__type": "ThrottlingException", "message": "Rate exceeded"}
        else:
            status, body = 200, {"Labels": [], "LabelModelVersion": "3.0"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ThrottlingEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_throttling_storm_never_empties_a_retry_quota(endpoint: str) -> None:
    # Given the account throttles the next 60 DetectLabels requests (botocore's retry quota
    # would be empty after about 20 throttled retries, leaving single attempts)
    ThrottlingEndpoint.throttles, ThrottlingEndpoint.requests = 60, 0
    rekognition = boto3.client(
        "rekognition", endpoint_url=endpoint, config=aws.CONFIG_BY_SERVICE["rekognition"]
    )
    clock = FakeClock()
    pacer = Pacer(TokenBucket(100, clock=clock, sleep=clock.sleep), 600.0, clock, clock.sleep)
    detector = PeopleDetector(50.0, PacedRekognition(rekognition, pacer))
    # When a picture is detected through the paced client
    detection = detector.detect(DetectionInput(jpeg=b"\xff\xd8 not really"))
    # Then each throttled request was one attempt of ours, and the 61st answered
    assert detection.boxes == ()
    assert ThrottlingEndpoint.requests == 61 and pacer.throttled == 60


def test_with_no_wait_budget_a_throttled_detection_says_throttled(endpoint: str) -> None:
    ThrottlingEndpoint.throttles, ThrottlingEndpoint.requests = 1, 0
    rekognition = boto3.client(
        "rekognition", endpoint_url=endpoint, config=aws.CONFIG_BY_SERVICE["rekognition"]
    )
    clock = FakeClock()
    pacer = Pacer(TokenBucket(100, clock=clock, sleep=clock.sleep), 0.0, clock, clock.sleep)
    with pytest.raises(Throttled):
        PeopleDetector(50.0, PacedRekognition(rekognition, pacer)).detect(DetectionInput(jpeg=b"x"))
    assert ThrottlingEndpoint.requests == 1  # one request: botocore did not retry it
