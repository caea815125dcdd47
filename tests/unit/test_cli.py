"""The operator's command (camblur) against moto: pictures made by the real live handler.

Given pictures the live pass published (and one it rejected), the commands are run as an
operator runs them, with the stack's names from a saved `terraform output -json`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from camblur.adapters.state import picture_pk
from camblur.core.errors import TransientError
from camblur.corrections import reblur_message
from camblur.events import sequence_order
from camblur.handlers import live, status_counts
from camblur.refine.messages import RefineMessage
from camblur_cli.main import app
from camblur_cli.redrive import Unreplayable, live_payload, live_settled, refine_settled
from camblur_cli.reprocess import Candidate, Checkpoint, Pass, Selection, plan
from tests.support.aws import Stack, s3_put_event
from tests.support.lambda_context import LambdaContext
from tests.support.live import PERSON, Live, labels_response, live_env_fixture
from tests.support.pictures import jpeg_bytes, photo_like
from tests.support.streams import StateStream, enable_stream, stream_event

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
    # Given two pictures of cam-1 published and one of cam-2 rejected (not a picture), and
    # status_counts handed the table's stream as Lambda's poller does
    enable_stream(live_env.stack.dynamodb.meta.client, live_env.stack.state_table)
    stream = StateStream(live_env.stack.state_table)
    publish(live_env, f"cam-1/{DAY}/a.jpg", 8)
    publish(live_env, f"cam-1/{DAY}/b.jpg", 9)
    live_env.invoke(live_env.upload(f"cam-2/{DAY}/c.jpg", b"not a picture"))
    status_counts.counter.cache_clear()
    status_counts.handler(stream_event(stream.records()), LambdaContext())
    # When the operator asks for the day's status as JSON, from the counts and recounted
    for extra in ((), ("--recount",)):
        result = camblur(outputs, "status", "--day", DAY, "--json", *extra)
        # Then the counts per camera are what happened, and the DLQ depth is shown
        status = json.loads(result.output)
        counts = {row["camera"]: row["counts"] for row in status["pictures"]}
        assert counts["cam-1"] == {"LIVE_BLURRED": 2}
        assert counts["cam-2"] == {"REJECTED": 1, "REJECTED:NOT_AN_IMAGE": 1}
        assert status["source"] == ("index" if extra else "counts")
        assert status["queues"]["live_dlq"] == {
            "visible": 0,
            "in_flight": 0,
            "delayed": 0,
            "oldest_age_seconds": None,  # moto publishes no SQS metrics
        }
    # And one camera's day, and the table form, name them too
    one = json.loads(camblur(outputs, "status", "--camera", "cam-1", "--day", DAY, "--json").output)
    assert [(row["camera"], row["counts"]) for row in one["pictures"]] == [
        ("cam-1", {"LIVE_BLURRED": 2})
    ]
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
    # And what happened, in time order: the upload, the pass, its publication
    happened = [event["what"] for event in found["passes"]]
    assert happened[0] == "uploaded"
    assert "published" in happened and "last pass began" in happened
    text = camblur(outputs, "explain", key).output
    assert "person" in text and "what happened" in text


def test_explain_of_a_key_nothing_knows_fails_and_names_the_prefix(
    live_env: Live, outputs: Path
) -> None:
    # Given a stack whose cameras upload under cameras/, and one picture uploaded and blurred
    names = json.loads(outputs.read_text())
    names["raw_notification"] = {"value": {"prefix": "cameras/"}}
    outputs.write_text(json.dumps(names))
    publish(live_env, f"cameras/cam-1/{DAY}/a.jpg", 8)
    # When the operator asks about it without the prefix (as a camera's path is often quoted)
    result = runner.invoke(
        app, ["explain", f"cam-1/{DAY}/a.jpg", "--env", "dev", "--outputs", str(outputs)]
    )
    # Then it fails, says nothing is known, and names the key it probably meant
    assert result.exit_code == 1
    assert "nothing known about" in result.output
    assert f"cameras/cam-1/{DAY}/a.jpg" in result.output.replace("\n", "")
    # And the full key explains
    assert "LIVE_BLURRED" in camblur(outputs, "explain", f"cameras/cam-1/{DAY}/a.jpg").output


def test_explain_of_an_uploaded_picture_without_a_state_item_says_why(
    live_env: Live, outputs: Path
) -> None:
    # Given a raw picture the live pass never recorded (it failed before writing)
    key = f"cam-1/{DAY}/failed.jpg"
    live_env.stack.s3.put_object(Bucket=live_env.stack.raw_bucket, Key=key, Body=b"x")
    # When the operator explains it
    output = " ".join(camblur(outputs, "explain", key).output.split())
    # Then the raw version is listed and the missing item is explained, pointing at the DLQ
    assert "no state item" in output and "DLQ" in output
    assert "version" in output


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


def test_a_local_stack_taken_down_says_make_up(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given environments/local after make down: `terraform output -json` prints {}
    import subprocess

    def terraform_output(*args: Any, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(args, 0, stdout="{}\n", stderr="")

    monkeypatch.setattr(subprocess, "run", terraform_output)
    # When the operator asks for its status
    result = runner.invoke(app, ["status"])
    # Then the command says how to bring it up, not how to deploy to AWS
    assert result.exit_code == 2
    assert "make up" in result.output and "make deploy" not in result.output


# ------------------------------------------------------------------ reprocess and redrive


def test_a_selection_names_one_scope() -> None:
    assert Selection(camera="cam-1", day=DAY).describe() == f"camera cam-1 on {DAY}"
    assert Selection(day=DAY).describe() == f"every camera on {DAY}"
    for wrong in ({"key": "a.jpg", "day": DAY}, {}):
        with pytest.raises(ValueError):
            Selection(**wrong)
    assert Selection(day=DAY).slug() != Selection(camera="cam-1", day=DAY).slug()


def test_each_pass_skips_what_it_cannot_redo_and_resumes_after_the_checkpoint(
    tmp_path: Path,
) -> None:
    candidates = [
        Candidate("a.jpg", "LIVE_BLURRED"),
        Candidate("b.jpg", "REFINED"),
        Candidate("c.jpg", "DELETED"),
        Candidate("d.jpg", None),
        Candidate("e.jpg", "FAILED"),
    ]
    fresh = Checkpoint(tmp_path / "c.json")
    live = plan(Pass.LIVE, candidates, fresh)
    assert [c.raw_key for c in live.todo] == ["a.jpg", "c.jpg", "d.jpg", "e.jpg"]
    assert live.skipped == {"REFINED (redo it with --pass refine)": 1}
    refine = plan(Pass.REFINE, candidates, fresh)
    assert [c.raw_key for c in refine.todo] == ["a.jpg", "b.jpg", "e.jpg"]
    assert refine.skipped == {
        "DELETED (nothing to refine)": 1,
        "no state item (reprocess --pass live first)": 1,
    }
    # A saved checkpoint survives a reload, and the next run starts after its key
    fresh.after, fresh.queued = "c.jpg", 2
    fresh.save()
    resumed = plan(Pass.LIVE, candidates, Checkpoint.load(tmp_path / "c.json"))
    assert [c.raw_key for c in resumed.todo] == ["d.jpg", "e.jpg"] and resumed.already == 3


S3_EVENT = s3_put_event("camblur-test-raw", "cam-1/x.jpg", "v2", 10, sequencer="0B")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # Lambda's on-failure record (s3_async): the request payload is the event
        (
            json.dumps(
                {"requestContext": {"condition": "RetriesExhausted"}, "requestPayload": S3_EVENT}
            ),
            S3_EVENT,
        ),
        # the live queue's redrive (sqs) or a Lambda DLQ: the body is the event
        (json.dumps(S3_EVENT), S3_EVENT),
        (
            json.dumps({"Event": "camblur:Reprocess", "Key": "cam-1/x.jpg"}),
            {"Event": "camblur:Reprocess", "Key": "cam-1/x.jpg"},
        ),
        # a manual box's reblur request (camblur blur, the review page) is replayed too
        (
            json.dumps(reblur_message("cam-1/x.jpg", "dpo", "2026-11-25T11:00:00+00:00")),
            reblur_message("cam-1/x.jpg", "dpo", "2026-11-25T11:00:00+00:00"),
        ),
    ],
)
def test_the_live_payload_is_found_in_each_dead_letter_shape(
    body: str, expected: dict[str, Any]
) -> None:
    assert live_payload(body) == expected


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "unparseable body (not JSON)"),
        (json.dumps({"requestContext": {}, "requestPayload": "x"}), "without a request payload"),
        (
            json.dumps({"Records": [{"eventName": "ObjectCreated:Put", "s3": {}}]}),
            "not an S3 object event",
        ),
        (json.dumps({"Event": "camblur:Reprocess"}), "needs a Key"),
    ],
)
def test_a_dead_letter_that_is_no_event_is_named_unreplayable(body: str, reason: str) -> None:
    with pytest.raises(Unreplayable, match=reason.replace("(", r"\(").replace(")", r"\)")):
        live_payload(body)


def test_a_dead_letter_whose_work_was_done_is_not_replayed() -> None:
    def state(items: dict[str, Any]) -> Any:
        return lambda key: items.get(key)

    done = {
        "cam-1/x.jpg": {
            "raw_version_id": "v2",
            "status": "LIVE_BLURRED",
            "event_order": sequence_order("0B"),
        }
    }
    later = {
        "cam-1/x.jpg": {
            "raw_version_id": "v3",
            "status": "LIVE_BLURRED",
            "event_order": sequence_order("0C"),
        }
    }
    failed = {
        "cam-1/x.jpg": {
            "raw_version_id": "v2",
            "status": "FAILED",
            "event_order": sequence_order("0B"),
        }
    }
    assert live_settled(S3_EVENT, state(done)) == "done already (LIVE_BLURRED)"
    assert live_settled(S3_EVENT, state(later)) == "a later upload of the key was processed"
    assert live_settled(S3_EVENT, state(failed)) is None
    assert live_settled(S3_EVENT, state({})) is None
    message = RefineMessage("cam-1/x.jpg", DAY, "run-1")
    assert refine_settled(message, None) == "no state item (erased or expired)"
    assert refine_settled(message, {"status": "RAW_MISSING"}) == "RAW_MISSING (nothing to refine)"
    assert refine_settled(message, {"status": "REFINED", "refine_run_id": "run-1"}) is not None
    assert refine_settled(message, {"status": "REFINED", "refine_run_id": "run-0"}) is None


@dataclass
class Pipeline:
    """Outputs of a stack with the live queue (live_trigger = sqs), and its queues in moto."""

    outputs: Path
    sqs: Any
    urls: dict[str, str]

    def bodies(self, role: str) -> list[str]:
        messages = []
        while batch := self.sqs.receive_message(
            QueueUrl=self.urls[role], MaxNumberOfMessages=10, VisibilityTimeout=60
        ).get("Messages", []):
            messages.extend(batch)
        return [message["Body"] for message in messages]

    def feed_live(self, live_env: Live) -> list[str]:
        """Deliver the live queue's messages to the real live handler, as the mapping does."""
        statuses = []
        for body in self.bodies("live"):
            record = {
                "messageId": "m",
                "receiptHandle": "r",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:eu-west-1:123456789012:{QUEUES['live']}",
                "awsRegion": "eu-west-1",
            }
            response = live.handler({"Records": [record]}, LambdaContext())
            statuses.append("failed" if response["batchItemFailures"] else "done")
        return statuses


QUEUES = {
    "live": "camblur-test-live",
    "live_dlq": "camblur-test-live-dlq",
    "refine": "camblur-test-refine",
    "refine_dlq": "camblur-test-refine-dlq",
}
SCHEDULE_SETTINGS = {
    "MODEL_VERSION_ARN": "arn:aws:rekognition:eu-west-1:123456789012:project/p/version/v/1",
    "MODEL_MIN_INFERENCE_UNITS": "1",
    "MODEL_MAX_INFERENCE_UNITS": "2",
    "STATE_TTL_DAYS": "30",
}


@pytest.fixture
def pipeline(stack: Stack, tmp_path: Path) -> Pipeline:
    sqs = boto3.client("sqs", region_name="eu-west-1")
    urls = {role: sqs.create_queue(QueueName=name)["QueueUrl"] for role, name in QUEUES.items()}
    role = boto3.client("iam", region_name="eu-west-1").create_role(
        RoleName="schedule", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    boto3.client("lambda", region_name="eu-west-1").create_function(
        FunctionName="camblur-test-refine-schedule",
        Runtime="python3.13",
        Role=role,
        Handler="camblur.handlers.schedule.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        Environment={"Variables": SCHEDULE_SETTINGS},
    )
    names = {
        "raw_bucket": stack.raw_bucket,
        "blurred_bucket": stack.blurred_bucket,
        "state_table": stack.state_table,
        "refine_queue_url": urls["refine"],
        "raw_notification": {"prefix": None},
        "queue_names": QUEUES,
        "function_names": {"refine_schedule": "camblur-test-refine-schedule"},
    }
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({name: {"value": value} for name, value in names.items()}))
    return Pipeline(path, sqs, urls)


def test_reprocess_live_queues_a_forced_redo_that_the_live_function_carries_out(
    live_env: Live, pipeline: Pipeline, tmp_path: Path
) -> None:
    # Given three pictures of cam-1 blurred live with no person found, one of them refined
    for name, hour in (("a", 8), ("b", 9), ("c", 10)):
        data = jpeg_bytes(photo_like(200, 150, seed=hour))
        put = live_env.stack.s3.put_object(
            Bucket=live_env.stack.raw_bucket, Key=f"cam-1/{DAY}/{name}.jpg", Body=data
        )
        live_env.expect_detection(labels_response())
        live_env.invoke(
            s3_put_event(
                live_env.stack.raw_bucket,
                f"cam-1/{DAY}/{name}.jpg",
                put["VersionId"],
                len(data),
                f"{DAY}T{hour:02d}:00:00.000Z",
            )
        )
    live_env.stack.dynamodb.Table(live_env.stack.state_table).update_item(
        Key={"pk": picture_pk(f"cam-1/{DAY}/c.jpg"), "sk": "STATE"},
        UpdateExpression="SET #s = :r",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":r": "REFINED"},
    )
    # When the operator reprocesses the camera's day (live pass, the stack's live queue)
    progress = tmp_path / "progress.json"
    result = camblur(
        pipeline.outputs,
        "reprocess",
        "--camera",
        "cam-1",
        "--day",
        DAY,
        "--rate",
        "40",
        "--checkpoint",
        str(progress),
    )
    # Then the summary says what was queued and what was skipped, and why
    assert "3 picture(s) found, 2 to hand to the live queue" in result.output
    assert re.search(r"queued\s*│\s*2", result.output), result.output
    assert re.search(r"skipped: REFINED \(redo it with --pass refine\)\s*│\s*1", result.output)
    # And once the live function has the messages, both pictures are detected again
    live_env.expect_detection(labels_response(PERSON))
    live_env.expect_detection(labels_response(PERSON))
    assert pipeline.feed_live(live_env) == ["done", "done"]
    for name in ("a", "b"):
        assert [b["label"] for b in live_env.state(f"cam-1/{DAY}/{name}.jpg")["boxes"]] == [
            "person"
        ]
    # And a finished run leaves no checkpoint: the next one starts afresh
    assert not progress.exists()


def test_an_interrupted_reprocess_resumes_after_the_last_picture_handed_over(
    live_env: Live, pipeline: Pipeline, tmp_path: Path
) -> None:
    # Given three pictures of a day, and a run that stopped after the first
    for name, hour in (("a", 8), ("b", 9), ("c", 10)):
        publish(live_env, f"cam-1/{DAY}/{name}.jpg", hour)
    progress = tmp_path / "progress.json"
    progress.write_text(json.dumps({"after": f"cam-1/{DAY}/a.jpg", "queued": 1}))
    # When it is run again
    result = camblur(
        pipeline.outputs, "reprocess", "--day", DAY, "--rate", "40", "--checkpoint", str(progress)
    )
    # Then it continues with the other two, and counts the first in its summary
    assert "resuming: 1 picture(s) handed over before" in result.output
    bodies = [json.loads(body) for body in pipeline.bodies("live")]
    assert sorted(body["Key"] for body in bodies) == [f"cam-1/{DAY}/b.jpg", f"cam-1/{DAY}/c.jpg"]
    assert re.search(r"queued\s*│\s*3", result.output)


def test_reprocess_refine_queues_a_run_of_its_own_in_a_model_session(
    live_env: Live, pipeline: Pipeline, tmp_path: Path
) -> None:
    # Given two published pictures and a rejected one
    publish(live_env, f"cam-1/{DAY}/a.jpg", 8)
    publish(live_env, f"cam-1/{DAY}/b.jpg", 9)
    live_env.invoke(live_env.upload(f"cam-1/{DAY}/c.jpg", b"not a picture"))
    # When the operator reprocesses the camera with the model
    result = camblur(
        pipeline.outputs,
        "reprocess",
        "--camera",
        "cam-1",
        "--pass",
        "refine",
        "--checkpoint",
        str(tmp_path / "p.json"),
    )
    # Then two refine messages of one new run are queued; the rejected picture is skipped
    messages = [RefineMessage.from_body(body) for body in pipeline.bodies("refine")]
    assert sorted(m.raw_key for m in messages) == [f"cam-1/{DAY}/a.jpg", f"cam-1/{DAY}/b.jpg"]
    [run_id] = {m.run_id for m in messages}
    [run_day] = {m.capture_day for m in messages}
    assert run_id in result.output
    assert re.search(r"skipped: REJECTED \(nothing to refine\)\s*│\s*1", result.output)
    # And the run item and the session are there for the reconciler to start the model,
    # the session no longer waiting for the run to finish queueing
    table = live_env.stack.dynamodb.Table(live_env.stack.state_table)
    run = table.get_item(Key={"pk": f"RUN#{run_day}", "sk": "RUN"})["Item"]
    assert (run["status"], run["queued"], run["skipped"]) == ("QUEUED", 2, 1)
    session = table.get_item(Key={"pk": "RUN#ACTIVE", "sk": "SESSION"})["Item"]
    assert run_day in session["days"] and "enqueuing" not in session
    assert (session["min_units"], session["max_units"]) == (1, 2)
    assert "start_requested_at" not in session  # the reconciler starts the model, not camblur


def test_redrive_live_replays_what_it_can_and_keeps_what_it_cannot(
    live_env: Live, pipeline: Pipeline
) -> None:
    # Given a picture that failed (Rekognition down) and whose event rests in the live DLQ as
    # Lambda's failure record, a picture done meanwhile, and an unreadable message
    data = jpeg_bytes(photo_like(200, 150))
    put = live_env.stack.s3.put_object(
        Bucket=live_env.stack.raw_bucket, Key=f"cam-1/{DAY}/f.jpg", Body=data
    )
    failed = s3_put_event(
        live_env.stack.raw_bucket, f"cam-1/{DAY}/f.jpg", put["VersionId"], len(data)
    )
    live_env.expect_error("InternalServerError")
    with pytest.raises(TransientError):
        live_env.invoke(failed)
    publish(live_env, f"cam-1/{DAY}/ok.jpg", 9)
    done = live_env.state(f"cam-1/{DAY}/ok.jpg")
    done_event = s3_put_event(
        live_env.stack.raw_bucket,
        f"cam-1/{DAY}/ok.jpg",
        done["raw_version_id"],
        1,
        sequencer=done["sequencer"],
    )
    dlq = pipeline.urls["live_dlq"]
    for body in (
        json.dumps({"requestContext": {"condition": "RetriesExhausted"}, "requestPayload": failed}),
        json.dumps(done_event),
        "garbage",
    ):
        pipeline.sqs.send_message(QueueUrl=dlq, MessageBody=body)
    time.sleep(0.01)  # sent before the redrive starts
    # When the operator redrives the live DLQ
    result = camblur(pipeline.outputs, "redrive", "--live")
    # Then the summary says what happened to each
    assert re.search(r"replayed\s*│\s*1", result.output), result.output
    assert re.search(
        r"removed, nothing to do: done already \(LIVE_BLURRED\)\s*│\s*1", result.output
    )
    assert re.search(r"left in the DLQ: unparseable body \(not JSON\)\s*│\s*1", result.output)
    # And only the unreadable message is left in the DLQ, visible at once
    assert pipeline.bodies("live_dlq") == ["garbage"]
    # And the failed picture's event is on the live queue; delivered, it is blurred
    live_env.expect_detection(labels_response(PERSON))
    assert pipeline.feed_live(live_env) == ["done"]
    assert live_env.state(f"cam-1/{DAY}/f.jpg")["status"] == "LIVE_BLURRED"


def test_redrive_refine_puts_messages_back_on_the_refine_queue(
    live_env: Live, pipeline: Pipeline
) -> None:
    publish(live_env, f"cam-1/{DAY}/a.jpg", 8)
    message = RefineMessage(f"cam-1/{DAY}/a.jpg", DAY, "run-1").to_body()
    gone = RefineMessage(f"cam-1/{DAY}/erased.jpg", DAY, "run-1").to_body()
    for body in (message, gone):
        pipeline.sqs.send_message(QueueUrl=pipeline.urls["refine_dlq"], MessageBody=body)
    time.sleep(0.01)
    result = camblur(pipeline.outputs, "redrive", "--refine")
    assert re.search(r"replayed\s*│\s*1", result.output)
    assert "no state item (erased or expired)" in result.output
    assert pipeline.bodies("refine") == [message]
    assert pipeline.bodies("refine_dlq") == []
    # Run again, it finds nothing
    again = camblur(pipeline.outputs, "redrive", "--refine")
    assert re.search(r"replayed\s*│\s*0", again.output)


def test_a_refine_reprocess_never_opens_a_session_for_nothing_nor_into_a_stopping_one(
    live_env: Live, pipeline: Pipeline, tmp_path: Path
) -> None:
    table = live_env.stack.dynamodb.Table(live_env.stack.state_table)
    # Given only a rejected picture: nothing to refine, so no session (the model stays off)
    live_env.invoke(live_env.upload(f"cam-1/{DAY}/c.jpg", b"not a picture"))
    progress = str(tmp_path / "p.json")
    camblur(
        pipeline.outputs, "reprocess", "--day", DAY, "--pass", "refine", "--checkpoint", progress
    )
    assert "Item" not in table.get_item(Key={"pk": "RUN#ACTIVE", "sk": "SESSION"})
    # Given a picture to refine while the model is being stopped
    publish(live_env, f"cam-1/{DAY}/a.jpg", 8)
    table.put_item(
        Item={"pk": "RUN#ACTIVE", "sk": "SESSION", "session_id": "s-old", "phase": "STOPPING"}
    )
    result = runner.invoke(
        app,
        [
            "reprocess",
            "--day",
            DAY,
            "--pass",
            "refine",
            "--checkpoint",
            progress,
            "--env",
            "dev",
            "--outputs",
            str(pipeline.outputs),
        ],
    )
    # Then the message waits in the queue, the operator is told to come back
    assert result.exit_code == 1 and "run again in a few minutes" in result.output
    [body] = pipeline.bodies("refine")
    # When the old session has ended and the command is run again
    table.delete_item(Key={"pk": "RUN#ACTIVE", "sk": "SESSION"})
    camblur(
        pipeline.outputs, "reprocess", "--day", DAY, "--pass", "refine", "--checkpoint", progress
    )
    # Then it sends nothing twice and opens the session the waiting message needs
    assert pipeline.bodies("refine") == []
    session = table.get_item(Key={"pk": "RUN#ACTIVE", "sk": "SESSION"})["Item"]
    assert session["days"] == {RefineMessage.from_body(body).capture_day}
