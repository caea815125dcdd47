"""`camblur status` on the deployed stack: counts kept by the deployed status_counts from the
state table's stream, which devtools/deliver.py polls as Lambda's stream poller does.

Pictures go through the deployed trigger (S3 event -> live queue -> live_blur), then the
stream through its mapping (filter, batches, partial batch responses). Keys under
cameras/counts-check/; the counts are compared with a count of the index entries
(`--recount`), and with what happened.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from camblur_cli.deployment import resolve
from camblur_cli.main import app
from devtools import samples
from devtools.demo import LocalEnvironment

pytestmark = pytest.mark.integration
runner = CliRunner()
PREFIX = "cameras/counts-check/"


@pytest.fixture(scope="module")
def env(local_environment: LocalEnvironment) -> Iterator[LocalEnvironment]:
    local_environment.drain_state_stream()  # what earlier tests changed
    yield local_environment
    local_environment.remove_prefix(PREFIX)
    local_environment.drain_state_stream()


@pytest.fixture
def status(env: LocalEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps({name: {"value": value} for name, value in env.deployment.outputs.items()})
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL", env.aws_url)
    # The pictures' capture day is today in the cameras' zone (Europe/Paris locally), not UTC's.
    today = resolve("local", outputs).today().isoformat()

    def run(*args: str) -> dict[str, Any]:
        result = runner.invoke(
            app,
            [
                *("status", "--camera", "counts-check", "--day", today),
                *("--json", *args, "--env", "local", "--outputs", str(outputs)),
            ],
        )
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    return run


def counts(answer: dict[str, Any]) -> dict[str, int]:
    rows = [row["counts"] for row in answer["pictures"] if row["camera"] == "counts-check"]
    return rows[0] if rows else {}


def upload(env: LocalEnvironment, name: str, data: bytes | None = None) -> str:
    key = f"{PREFIX}{name}"
    picture = samples.generate()[0]
    env.delivery.s3.put_object(
        env.deployment.raw_bucket, key, data if data is not None else picture.data, "image/jpeg"
    )
    return key


def test_status_counts_match_the_pictures_and_a_redelivered_batch_counts_nothing_twice(
    env: LocalEnvironment, status: Any
) -> None:
    # Given three pictures and one file that is no picture, through the live pass
    for index in range(3):
        upload(env, f"{index}.jpg")
    upload(env, "broken.jpg", b"\xff\xd8\xff\xe0 not really a jpeg")
    env.drain_live_queue()
    # When the state table's stream is delivered to the deployed status_counts
    batches = env.drain_state_stream()
    assert batches and all(batch.done for batch in batches)
    # Then status shows what happened, as the pictures' index entries do
    kept = status()
    assert kept["source"] == "counts"
    assert counts(kept)["LIVE_BLURRED"] == 3
    assert counts(kept)["REJECTED"] == 1
    assert counts(kept) == counts(status("--recount"))

    # When Lambda delivers every batch again (a retry of a batch whose invocation timed out
    # after its writes), straight to the deployed function
    counter = env.deployment.functions["status_counts"]
    for batch in batches:
        again = env.delivery.lambdas.invoke(counter, {"Records": batch.records})
        assert again.ok and again.payload == {"batchItemFailures": []}
    # Then nothing is counted twice
    assert counts(status()) == counts(kept)
