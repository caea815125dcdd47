"""Sharing Rekognition's account-wide rate: a token bucket per process, and backoff with jitter.

Each Rekognition operation has one account-wide quota (DetectLabels and DetectCustomLabels:
50 TPS by default) shared by every instance of a function. An instance's fair share is
`tps / max_concurrency`: when all instances run flat out, the sum stays under the quota, so
throttling is the exception. When it happens anyway (a quota shared with other callers, a
quota lowered), a throttled call waits with full jitter ("Exponential Backoff And Jitter",
AWS Architecture Blog) and, past its wait budget, the error goes to the caller, which hands
the picture back to its queue with a delay: throttling never fails a picture.

botocore's own retries are off for these clients (adapters/aws.py): its retry quota empties
after about 20 throttled calls and then every call makes a single attempt; here no quota
exists, only time.

Written here rather than taken from a library (tenacity, pyrate-limiter) because the clock and
the sleep must be injectable, for the tests and for benchmarks/bench_scale.py that runs this
code on a simulated clock, and because the Lambda zip should not grow for twenty lines.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from camblur.adapters.rekognition import THROTTLING_CODES

Clock = Callable[[], float]
Sleep = Callable[[float], None]

BACKOFF_BASE_SECONDS = 0.1
BACKOFF_MAX_SECONDS = 2.0


def full_jitter(
    attempt: int,
    base: float = BACKOFF_BASE_SECONDS,
    cap: float = BACKOFF_MAX_SECONDS,
    rand: Callable[[], float] = random.random,
) -> float:
    """A delay drawn uniformly from [0, min(cap, base * 2**attempt)): callers that were
    throttled together come back spread out instead of together."""
    return rand() * min(cap, base * 2**attempt)


def half_jitter(
    attempt: int, base: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """Like full_jitter but never below half the ceiling: n hand-backs of one message take at
    least a known time, which is what sizes the queue's maxReceiveCount."""
    ceiling = min(cap, base * 2**attempt)
    return ceiling / 2 + rand() * ceiling / 2


def is_throttling(error: BaseException) -> bool:
    return (
        isinstance(error, ClientError)
        and error.response.get("Error", {}).get("Code") in THROTTLING_CODES
    )


class TokenBucket:
    """`rate` calls a second on average, at most `burst` at once. One per process: a Lambda
    instance runs one invocation at a time, so no lock."""

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = burst
        self._updated = clock()

    @property
    def rate(self) -> float:
        return self._rate

    def acquire(self) -> float:
        """Take one token, sleeping until there is one; returns the seconds waited."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        self._tokens -= 1
        if self._tokens >= 0:
            return 0.0
        wait = -self._tokens / self._rate  # the debt is paid by the refill while we sleep
        self._sleep(wait)
        return wait


class Pacer:
    """Calls one operation through the bucket, retrying throttling with full jitter for at
    most `max_wait` seconds (and never past `deadline()`, a clock reading)."""

    def __init__(
        self,
        bucket: TokenBucket,
        max_wait: float,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._bucket = bucket
        self._max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._rand = rand
        self.throttled = 0  # calls refused for capacity, for logs and the benchmark

    def call(
        self, operation: Callable[..., Any], deadline: Clock | None = None, **request: Any
    ) -> Any:
        give_up = self._clock() + self._max_wait
        if deadline is not None:
            give_up = min(give_up, deadline())
        attempt = 0
        while True:
            self._bucket.acquire()
            try:
                return operation(**request)
            except ClientError as error:
                if not is_throttling(error):
                    raise
                self.throttled += 1
                delay = full_jitter(attempt, rand=self._rand)
                if self._clock() + delay > give_up:
                    raise  # the caller hands the picture back to its queue
                self._sleep(delay)
                attempt += 1


class PacedRekognition:
    """A Rekognition client whose detect calls go through a Pacer; all else passes through."""

    PACED = frozenset({"detect_labels", "detect_custom_labels"})

    def __init__(self, rekognition: Any, pacer: Pacer) -> None:
        self._rekognition = rekognition
        self._pacer = pacer

    @property
    def pacer(self) -> Pacer:
        return self._pacer

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._rekognition, name)
        if name not in self.PACED:
            return attribute
        return lambda **request: self._pacer.call(attribute, **request)


def instance_rate(account_tps: float, max_concurrency: int) -> float:
    """One instance's share of the account's rate when `max_concurrency` instances run."""
    return account_tps / max(1, max_concurrency)
