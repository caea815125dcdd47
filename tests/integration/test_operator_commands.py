"""`camblur reprocess` and `camblur redrive` against the deployed stack on the embedded endpoint.

The session's one deployment of environments/local (tests/integration/conftest.py), after the
demo pipeline's tests (this file sorts after theirs: they count the model's starts). Its live
trigger is the default, `sqs`: the command sends its requests to the live queue, which the
test then delivers through the queue's mapping as AWS's poller would (devtools/deliver.py;
moto runs no function). With `s3_async` the command invokes live_blur asynchronously: that one
AWS call is delivered by devtools/deliver.py too. Keys under cameras/cli-check/.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from camblur_cli import deployment as cli_deployment
from camblur_cli.main import app
from devtools import samples
from devtools.demo import LocalEnvironment

pytestmark = pytest.mark.integration
runner = CliRunner()


@pytest.fixture(scope="module")
def env(local_environment: LocalEnvironment) -> LocalEnvironment:
    return local_environment


@pytest.fixture
def camblur(
    env: LocalEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """Run the command as an operator does (`--env local`, the stack's outputs), with
    Lambda's asynchronous Invoke delivered by devtools/deliver.py."""
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps({name: {"value": value} for name, value in env.deployment.outputs.items()})
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL", env.aws_url)
    original = cli_deployment.Deployment.client

    def client(self: cli_deployment.Deployment, service: str, **where: Any) -> Any:
        made = original(self, service, **where)
        if service == "lambda":
            made.meta.events.register("before-call.lambda.Invoke", deliver_invoke)
        return made

    def deliver_invoke(params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        assert params["headers"]["X-Amz-Invocation-Type"] == "Event"
        event = json.loads(params["body"])
        env.delivery.lambdas.invoke_async(params["url_path"].split("/")[3], event)
        return SimpleNamespace(status_code=202, headers={}), {"StatusCode": 202}

    monkeypatch.setattr(cli_deployment.Deployment, "client", client)

    def run(*args: str) -> str:
        result = runner.invoke(
            app, [*args, "--env", "local", "--outputs", str(outputs)], env={"COLUMNS": "200"}
        )
        assert result.exit_code == 0, result.output
        return result.output

    yield run


def upload(env: LocalEnvironment, name: str) -> str:
    picture = samples.generate()[0]
    key = f"cameras/cli-check/{name}.jpg"
    env.delivery.s3.put_object(env.deployment.raw_bucket, key, picture.data, picture.content_type)
    return key


def count(output: str, row: str) -> int:
    match = re.search(rf"{re.escape(row)}\s*│\s*(\d+)", output)
    assert match, f"no row {row!r} in:\n{output}"
    return int(match[1])


def test_reprocess_live_redoes_a_picture_through_the_deployed_function(
    env: LocalEnvironment, camblur: Any, tmp_path: Path
) -> None:
    # Given a picture the live pass blurred
    key = upload(env, "redo")
    before = env.picture_states()[key]
    assert before["status"] == "LIVE_BLURRED"
    detections = env.rekognition.calls()["calls"]["DetectLabels"]
    # When the operator reprocesses it
    output = camblur("reprocess", "--key", key, "--checkpoint", str(tmp_path / "p.json"))
    # Then the summary says it was handed to the live queue, whose mapping has live_blur
    # detect and publish it again
    assert count(output, "queued") == 1
    assert "to the live \nqueue" in output or "to the live queue" in output
    assert env.drain_live_queue()
    assert env.rekognition.calls()["calls"]["DetectLabels"] == detections + 1
    after = env.picture_states()[key]
    assert after["status"] == "LIVE_BLURRED" and after["updated_at"] > before["updated_at"]
    assert after["raw_version_id"] == before["raw_version_id"]
    assert env.blurred_versions(after["blurred_key"]) == 2


def test_a_forced_failure_then_redrive_live_publishes_the_picture(
    env: LocalEnvironment, camblur: Any
) -> None:
    # Given live_blur misconfigured (its table's variable renamed): an upload fails every receive
    # and its message lands in the live DLQ (a failure record with s3_async)
    lambda_ = env.clients.lambda_
    name = env.deployment.functions["live_blur"]
    original = lambda_.get_function_configuration(FunctionName=name)["Environment"]
    broken = dict(original["Variables"])
    broken["STATE_TABLE_NAME"] = broken.pop("STATE_TABLE")
    lambda_.update_function_configuration(FunctionName=name, Environment={"Variables": broken})
    try:
        key = upload(env, "failed")
    finally:
        lambda_.update_function_configuration(FunctionName=name, Environment=original)
    assert key not in env.picture_states()
    time.sleep(0.01)  # the dead letter is older than the redrive
    # When the operator redrives the live DLQ (the function fixed)
    output = camblur("redrive", "--live")
    # Then the message was replayed (back to the live queue, delivered to the fixed function),
    # the picture is published, the DLQ is empty
    assert count(output, "replayed") == 1, output
    env.drain_live_queue()
    assert env.picture_states()[key]["status"] == "LIVE_BLURRED"
    assert env.blurred(key) is not None
    assert env.queues()["live DLQ"] == (0, 0)
    # And a second redrive finds nothing
    assert count(camblur("redrive", "--live"), "replayed") == 0


def test_reprocess_refine_is_refined_by_a_session_the_reconciler_runs(
    env: LocalEnvironment, camblur: Any, tmp_path: Path
) -> None:
    # Given a picture blurred live, and the model stopped (the night's run is over)
    key = upload(env, "refine")
    starts = _model(env)["starts"]
    # When the operator reprocesses it with the model
    output = camblur(
        "reprocess", "--key", key, "--pass", "refine", "--checkpoint", str(tmp_path / "p.json")
    )
    assert count(output, "queued") == 1
    [run_id] = re.findall(r"refine run (\S+):", output)
    # Then the deployed reconciler, ticking as its schedule does, starts the model, the worker
    # refines the picture, and the model is stopped again
    reconcile = env.delivery.schedules.for_function(env.deployment.functions["model_reconciler"])
    for _ in range(60):
        tick = env.delivery.schedules.fire(reconcile)
        assert tick.ok, tick.last.error
        env.delivery.mappings.drain(env.deployment.refine_mapping_uuid)
        if tick.last.payload.get("result") == "CLOSED":
            break
        time.sleep(1.0)
    state = env.picture_states()[key]
    assert (state["status"], state["refine_run_id"]) == ("REFINED", run_id)
    model = _model(env)
    assert model["starts"] == starts + 1 and model["status"] in ("STOPPING", "STOPPED")
    assert not env.delivery.mappings.enabled(env.deployment.refine_mapping_uuid)
    # And the run is recorded as done, with its own model minutes and counts
    table = env.clients.dynamodb.Table(env.deployment.state_table)
    run = table.get_item(Key={"pk": f"RUN#{run_id.split('#')[0]}", "sk": "RUN"})["Item"]
    assert (run["status"], run["queued"], run["pictures_refined"]) == ("DONE", 1, 1)
    assert "model_minutes" in run
    env.drain_state_stream()  # the counts status reads, kept by status_counts from the stream
    status = json.loads(camblur("status", "--camera", "cli-check", "--json"))
    assert status["session"] is None
    assert status["pictures"][0]["counts"]["REFINED"] >= 1


def _model(env: LocalEnvironment) -> dict[str, Any]:
    [model] = env.rekognition.calls()["models"].values()
    return dict(model)
