"""The state table's stream, delivered to status_counts through the deployed mapping.

Given the session's deployment of environments/local (tests/integration/conftest.py): its
status_counts mapping on the state table's stream, read from the deployment as Lambda's stream
poller reads it (LocalEnvironment.drain_state_stream, devtools/deliver.py StreamMappings),
when a camera's picture is blurred and then deleted, and the stream is drained after each,
then status_counts gets the picture's records (its counts items and runs are left out by the
mapping's filter), each once, and `camblur status` shows the picture under LIVE_BLURRED, then
under DELETED and no longer LIVE_BLURRED. Keys under cameras/stream-check/.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from camblur_cli.main import app
from devtools import samples
from devtools.deliver import StreamBatch, function_name
from devtools.demo import LocalEnvironment

pytestmark = pytest.mark.integration
CAMERA = "stream-check"


def status(env: LocalEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """`camblur status --camera stream-check --json`, as an operator runs it on make up."""
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps({name: {"value": value} for name, value in env.deployment.outputs.items()})
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL", env.aws_url)
    result = CliRunner().invoke(
        app, ["status", "--camera", CAMERA, "--json", "--env", "local", "--outputs", str(outputs)]
    )
    assert result.exit_code == 0, result.output
    [pictures] = json.loads(result.output)["pictures"]
    return pictures["counts"]


def records_of(batches: list[StreamBatch], key: str) -> list[dict[str, Any]]:
    return [
        record
        for batch in batches
        for record in batch.records
        if record["dynamodb"].get("NewImage", {}).get("raw_key", {}).get("S") == key
    ]


def test_a_pictures_changes_reach_status_counts_once_and_camblur_status_shows_them(
    local_environment: LocalEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = local_environment
    key = f"cameras/{CAMERA}/{uuid.uuid4().hex}.jpg"
    picture = samples.generate()[0]
    try:
        env.delivery.s3.put_object(
            env.deployment.raw_bucket, key, picture.data, picture.content_type
        )
        assert env.picture_states()[key]["status"] == "LIVE_BLURRED"

        batches = env.drain_state_stream()

        counter = env.deployment.functions["status_counts"]
        assert batches and all(batch.done for batch in batches)
        assert {function_name(b.invocation.function) for b in batches if b.invocation} == {counter}
        assert all(b.invocation.ok for b in batches if b.invocation)
        assert [r["dynamodb"]["NewImage"]["status"]["S"] for r in records_of(batches, key)][
            -1
        ] == "LIVE_BLURRED"
        for batch in batches:  # the filter: picture items only, never the counts themselves
            assert all(r["dynamodb"]["Keys"]["sk"] == {"S": "STATE"} for r in batch.records)
        assert env.drain_state_stream() == []  # the checkpoint: nothing again
        assert status(env, tmp_path, monkeypatch).get("LIVE_BLURRED") == 1

        env.delivery.s3.delete_object(env.deployment.raw_bucket, key)  # a delete marker
        assert env.picture_states()[key]["status"] == "DELETED"
        after_delete = env.drain_state_stream()

        [deleted] = records_of(after_delete, key)
        assert deleted["eventName"] == "MODIFY"
        assert deleted["dynamodb"]["OldImage"]["status"] == {"S": "LIVE_BLURRED"}
        counts = status(env, tmp_path, monkeypatch)
        assert counts.get("DELETED") == 1 and not counts.get("LIVE_BLURRED")
    finally:
        env.remove_prefix(f"cameras/{CAMERA}/")
