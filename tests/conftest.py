"""Shared fixtures: fake credentials everywhere, moto for AWS, no network but 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from camblur.adapters import aws
from tests.support.aws import REGION, Stack, create_bucket, create_state_table


@pytest.fixture(autouse=True)
def fake_aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test can reach real AWS: fake keys, a fixed region, no metadata service."""
    for name in list(__import__("os").environ):
        if name.startswith("AWS_ENDPOINT_URL") or name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    aws.client.cache_clear()
    aws.resource.cache_clear()
    yield
    aws.client.cache_clear()
    aws.resource.cache_clear()


@pytest.fixture
def stack() -> Iterator[Stack]:
    """Raw and blurred buckets (versioned) and the state table, in moto."""
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        dynamodb = boto3.resource("dynamodb", region_name=REGION)
        create_bucket(s3, "camblur-test-raw")
        create_bucket(s3, "camblur-test-blurred")
        create_state_table(dynamodb.meta.client, "camblur-test-state")
        yield Stack(
            raw_bucket="camblur-test-raw",
            blurred_bucket="camblur-test-blurred",
            state_table="camblur-test-state",
            s3=s3,
            dynamodb=dynamodb,
            rekognition=boto3.client("rekognition", region_name=REGION),
        )
