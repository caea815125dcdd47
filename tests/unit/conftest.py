"""Fixtures of the unit tests (no network at all: moto in-process, Stubber for Rekognition)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.aws import Stack
from tests.support.live import Live, live_env_fixture


@pytest.fixture
def live_env(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    """The live function wired to moto, with its Rekognition client stubbed."""
    yield from live_env_fixture(stack, monkeypatch)
