"""Lambda's DynamoDB-stream poller as devtools/deliver.py plays it, on a private endpoint.

Given a moto server as `make up` runs it, a table with a NEW_AND_OLD_IMAGES stream, an event
source mapping on it (set up here as Terraform would deploy one) and a function whose answer
each item chooses (its `mode` attribute: crash, report, report-once),
when items are written and the mapping is polled through StreamMappings,
then the function gets Lambda's record shape, in order, each record once unless its batch
failed; FilterCriteria, ReportBatchItemFailures, BisectBatchOnFunctionError,
MaximumRetryAttempts and the OnFailure destination behave as AWS documents; a disabled mapping
delivers nothing.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    DynamoDBStreamLambdaOnFailureDestinationModel,
    DynamoDBStreamModel,
)

from devtools.deliver import (
    ArtifactCode,
    Clients,
    Delivery,
    LambdaService,
    StreamMappings,
    WiringError,
    _filter,
)
from devtools.pump import Pump
from localaws.embedded import embedded_aws
from tests.integration.deployment import REGION, aws_client

HANDLER = """
import json, os
from pathlib import Path

def handler(event, context):
    records = event["Records"]
    with open(os.environ["CALLS"], "a") as calls:
        calls.write(json.dumps(records) + "\\n")
    failures = []
    for record in records:
        image = record["dynamodb"].get("NewImage", {})
        mode = image.get("mode", {}).get("S", "")
        sequence = record["dynamodb"]["SequenceNumber"]
        if mode == "crash":
            raise RuntimeError("cannot count " + record["dynamodb"]["Keys"]["pk"]["S"])
        once = Path(os.environ["CALLS"] + "." + sequence)
        if mode == "report" or (mode == "report-once" and not once.exists()):
            once.touch()
            failures.append({"itemIdentifier": sequence})
    return {"batchItemFailures": failures}
"""


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with embedded_aws() as url:
        yield url


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("artifact") / "counter.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", HANDLER)
    path.write_bytes(buffer.getvalue())
    return path


@dataclass
class Wiring:
    """One table + stream, one function, one mapping, one failure queue, and the poller."""

    name: str
    stream_arn: str
    mapping: str  # UUID
    queue_url: str
    queue_arn: str
    calls: Path
    streams: StreamMappings
    url: str

    def put(self, pk: str, sk: str = "STATE", mode: str = "", **more: str) -> None:
        item = {"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"S": v} for k, v in more.items()}}
        if mode:
            item["mode"] = {"S": mode}
        aws_client(self.url, "dynamodb").put_item(TableName=self.name, Item=item)

    def delete(self, pk: str, sk: str = "STATE") -> None:
        aws_client(self.url, "dynamodb").delete_item(
            TableName=self.name, Key={"pk": {"S": pk}, "sk": {"S": sk}}
        )

    def invocations(self) -> list[list[dict[str, Any]]]:
        """The records of each invocation, in order."""
        if not self.calls.exists():
            return []
        return [json.loads(line) for line in self.calls.read_text().splitlines()]

    def delivered(self) -> list[list[str]]:
        """Each invocation's pk values (REMOVE records name their key too)."""
        return [
            [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] for records in self.invocations()
        ]

    def dead_letters(self) -> list[dict[str, Any]]:
        sqs = aws_client(self.url, "sqs")
        found = []
        while messages := sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in messages:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return found

    def set_enabled(self, enabled: bool) -> None:
        aws_client(self.url, "lambda").update_event_source_mapping(
            UUID=self.mapping, Enabled=enabled
        )


@pytest.fixture
def wire(
    endpoint: str, artifact: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """wire(**mapping settings) -> Wiring; the mapping has the contract's settings by default."""
    clients = Clients(endpoint, REGION)
    lambdas = LambdaService(clients, ArtifactCode(artifact, tmp_path), {}, tmp_path / "logs")
    made = 0

    def make(**settings: Any) -> Wiring:
        nonlocal made
        made += 1
        name = f"{request.node.name[:40]}-{made}".replace("[", "-").replace("]", "")
        dynamodb, sqs, lambda_, iam = (
            aws_client(endpoint, s) for s in ("dynamodb", "sqs", "lambda", "iam")
        )
        table = dynamodb.create_table(
            TableName=name,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        stream_arn = table["TableDescription"]["LatestStreamArn"]
        queue_url = sqs.create_queue(QueueName=f"{name}-failures")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        calls = tmp_path / f"{name}.calls"
        lambda_.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": artifact.read_bytes()},
            Environment={"Variables": {"CALLS": str(calls)}},
        )
        contract: dict[str, Any] = {
            "StartingPosition": "TRIM_HORIZON",
            "BatchSize": 500,
            "MaximumBatchingWindowInSeconds": 5,
            "ParallelizationFactor": 1,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "BisectBatchOnFunctionError": True,
            "MaximumRetryAttempts": 10,
            "DestinationConfig": {"OnFailure": {"Destination": queue_arn}},
            "FilterCriteria": {
                "Filters": [
                    {"Pattern": json.dumps({"dynamodb": {"Keys": {"sk": {"S": ["STATE"]}}}})}
                ]
            },
        }
        contract.update(settings)
        contract = {k: v for k, v in contract.items() if v is not None}
        mapping = lambda_.create_event_source_mapping(
            EventSourceArn=stream_arn, FunctionName=name, **contract
        )["UUID"]
        return Wiring(
            name,
            stream_arn,
            mapping,
            queue_url,
            queue_arn,
            calls,
            StreamMappings(clients, lambdas),
            endpoint,
        )

    yield make
    lambdas.close()


def test_records_reach_the_function_in_order_in_lambdas_shape_each_once(wire: Any) -> None:
    w = wire(BatchSize=3)
    for pk in "abcde":
        w.put(pk)
    w.put("a", note="changed")  # MODIFY
    w.delete("b")  # REMOVE

    batches = w.streams.drain(w.mapping)

    assert w.delivered() == [["a", "b", "c"], ["d", "e", "a"], ["b"]]
    records = [record for invocation in w.invocations() for record in invocation]
    assert [r["eventName"] for r in records] == ["INSERT"] * 5 + ["MODIFY", "REMOVE"]
    sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequences == sorted(sequences) and len(set(sequences)) == 7
    for record in records:  # what Lambda sends, not what moto's GetRecords says
        assert record["awsRegion"] == REGION
        assert record["eventSourceARN"] == w.stream_arn
        assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], float)
    assert records[5]["dynamodb"]["OldImage"] == {"pk": {"S": "a"}, "sk": {"S": "STATE"}}
    assert records[5]["dynamodb"]["NewImage"]["note"] == {"S": "changed"}
    assert "NewImage" not in records[6]["dynamodb"]
    for invocation in w.invocations():  # Powertools' model of Lambda's DynamoDB event
        DynamoDBStreamModel.model_validate({"Records": invocation})
    assert all(batch.done for batch in batches)

    # The checkpoint: polling again delivers nothing; only new records come next.
    assert w.streams.drain(w.mapping) == []
    w.put("f")
    w.streams.drain(w.mapping)
    assert w.delivered()[-1] == ["f"] and len(w.delivered()) == 4


def test_records_the_filter_leaves_out_are_skipped_and_count_as_processed(wire: Any) -> None:
    w = wire()
    w.put("a")
    w.put("a", sk="COUNTER#cam-1")  # not a picture's state: the pattern wants sk STATE
    w.put("b")
    w.put("c", sk="RUN#1")

    batches = w.streams.drain(w.mapping)

    assert w.delivered() == [["a", "b"]]
    assert [(len(b.records), b.skipped) for b in batches] == [(2, 2)]
    # Only filtered records since: they pass the checkpoint without an invocation.
    w.put("d", sk="RUN#2")
    [batch] = w.streams.drain(w.mapping)
    assert batch.invocation is None and batch.skipped == 1
    assert w.streams.drain(w.mapping) == [] and len(w.delivered()) == 1


def test_a_reported_failure_is_delivered_again_from_its_sequence_number(wire: Any) -> None:
    w = wire()
    w.put("a")
    w.put("b", mode="report-once")
    w.put("c")

    first, second = w.streams.drain(w.mapping)

    assert w.delivered() == [["a", "b", "c"], ["b", "c"]]  # "a" is never delivered again
    b_sequence = w.invocations()[0][1]["dynamodb"]["SequenceNumber"]
    assert first.retry_from == b_sequence and not first.done
    assert second.done and second.attempt == 2
    assert w.dead_letters() == []


def test_a_crashing_batch_is_bisected_down_to_the_poison_record(wire: Any) -> None:
    w = wire(MaximumRetryAttempts=1)
    for pk, mode in (("a", ""), ("b", ""), ("c", "crash"), ("d", "")):
        w.put(pk, mode=mode)

    w.streams.drain(w.mapping)

    # Halves, and halves of the failing half: splitting spends no retry; the single record
    # is retried once (MaximumRetryAttempts 1) and then given up on; "d" still gets through.
    assert w.delivered() == [["a", "b", "c", "d"], ["a", "b"], ["c", "d"], ["c"], ["c"], ["d"]]
    c = w.invocations()[3][0]["dynamodb"]
    [letter] = w.dead_letters()
    info = letter["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == (c["SequenceNumber"],) * 2
    assert info["batchSize"] == 1
    assert letter["requestContext"]["approximateInvokeCount"] == 2
    assert letter["responseContext"]["functionError"] == "Unhandled"


def test_retries_exhausted_send_lambdas_invocation_record_then_it_moves_on(wire: Any) -> None:
    w = wire(MaximumRetryAttempts=2)
    w.put("a")
    w.put("b", mode="report")  # reported as failed every time
    w.put("c")

    batches = w.streams.drain(w.mapping)

    assert w.delivered() == [["a", "b", "c"], ["b", "c"], ["b", "c"]]
    assert [b.attempt for b in batches] == [1, 2, 3]
    assert batches[-1].failure_destination == w.queue_arn and batches[-1].done
    [letter] = w.dead_letters()
    DynamoDBStreamLambdaOnFailureDestinationModel.model_validate(letter)
    b, c = w.invocations()[-1]
    function_arn = aws_client(w.url, "lambda").get_function(FunctionName=w.name)["Configuration"][
        "FunctionArn"
    ]
    assert letter["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert letter["requestContext"]["approximateInvokeCount"] == 3
    assert letter["requestContext"]["functionArn"] == function_arn
    assert letter["requestContext"]["requestId"]
    assert letter["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert letter["version"] == "1.0" and letter["timestamp"].endswith("Z")
    info = letter["DDBStreamBatchInfo"]
    assert info["shardId"].startswith("shardId-")
    assert info["streamArn"] == w.stream_arn
    assert info["startSequenceNumber"] == b["dynamodb"]["SequenceNumber"]
    assert info["endSequenceNumber"] == c["dynamodb"]["SequenceNumber"]
    assert info["batchSize"] == 2
    assert info["approximateArrivalOfFirstRecord"].endswith("Z")

    # Given up on: the next record is delivered alone, the failed ones not again.
    w.put("d")
    w.streams.drain(w.mapping)
    assert w.delivered()[-1] == ["d"]


def test_a_disabled_mapping_delivers_nothing_until_enabled(wire: Any) -> None:
    w = wire()
    w.set_enabled(False)
    w.put("a")

    assert w.streams.poll(w.mapping) is None
    assert w.streams.drain(w.mapping) == []
    assert w.delivered() == []

    w.set_enabled(True)  # TRIM_HORIZON: what was written meanwhile still comes
    w.streams.drain(w.mapping)
    assert w.delivered() == [["a"]]


def test_a_latest_mapping_starts_at_the_end_of_the_stream(wire: Any) -> None:
    w = wire(StartingPosition="LATEST")
    w.put("before")
    assert w.streams.drain(w.mapping) == []  # the first poll finds the stream's end

    w.put("after")
    w.streams.drain(w.mapping)
    assert w.delivered() == [["after"]]


def test_pollers_of_one_endpoint_share_the_checkpoint_as_lambdas_one_poller(
    wire: Any, endpoint: str, artifact: Path, tmp_path: Path
) -> None:
    # make up's pump and a test's (or the demo's) delivery beside it, on one endpoint.
    w = wire()
    clients = Clients(endpoint, REGION)
    lambdas = LambdaService(clients, ArtifactCode(artifact, tmp_path), {}, tmp_path / "logs")
    shared = tmp_path / "checkpoints"
    pump, test = (StreamMappings(clients, lambdas, shared) for _ in range(2))
    try:
        w.put("a")
        w.put("b")
        pump.drain(w.mapping)
        assert test.drain(w.mapping) == []  # nothing again

        w.put("c")
        test.drain(w.mapping)
        assert pump.drain(w.mapping) == []
    finally:
        lambdas.close()
    assert w.delivered() == [["a", "b"], ["c"]]


def test_the_pump_waits_for_the_batching_window_and_drain_does_not(wire: Any) -> None:
    w = wire(MaximumBatchingWindowInSeconds=300)
    w.put("a")

    assert w.streams.poll(w.mapping, wait_for_window=True) == []  # still gathering
    assert w.delivered() == []
    w.streams.drain(w.mapping)
    assert w.delivered() == [["a"]]


RECORD = {
    "eventName": "MODIFY",
    "dynamodb": {
        "Keys": {"pk": {"S": "PICTURE#cam-1/a.jpg"}, "sk": {"S": "STATE"}},
        "NewImage": {"status": {"S": "LIVE_BLURRED"}, "camera": {"S": "cam-1"}},
    },
}


@pytest.mark.parametrize(
    ("pattern", "passes"),
    [
        ({"dynamodb": {"Keys": {"sk": {"S": ["STATE"]}}}}, True),
        ({"dynamodb": {"Keys": {"sk": {"S": ["RUN"]}}}}, False),
        ({"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "PICTURE#"}]}}}}, True),
        ({"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "RUN#"}]}}}}, False),
        ({"dynamodb": {"NewImage": {"status": {"S": [{"exists": True}]}}}}, True),
        ({"dynamodb": {"NewImage": {"error": {"S": [{"exists": True}]}}}}, False),
        ({"dynamodb": {"NewImage": {"error": {"S": [{"exists": False}]}}}}, True),
        ({"dynamodb": {"NewImage": {"status": {"S": [{"anything-but": ["DELETED"]}]}}}}, True),
        (
            {"dynamodb": {"NewImage": {"status": {"S": [{"anything-but": ["LIVE_BLURRED"]}]}}}},
            False,
        ),
        ({"dynamodb": {"NewImage": {"missing": {"S": [{"anything-but": ["x"]}]}}}}, False),
        ({"eventName": ["INSERT", "MODIFY"]}, True),
        ({"eventName": ["REMOVE"]}, False),
    ],
)
def test_filter_patterns_are_lambdas_event_filtering(pattern: dict, passes: bool) -> None:
    mapping = {"UUID": "m", "FilterCriteria": {"Filters": [{"Pattern": json.dumps(pattern)}]}}
    assert _filter(mapping)(RECORD) is passes


def test_any_of_several_filters_passes_a_record_and_a_bad_pattern_is_refused() -> None:
    either = {
        "UUID": "m",
        "FilterCriteria": {
            "Filters": [
                {"Pattern": json.dumps({"eventName": ["REMOVE"]})},
                {"Pattern": json.dumps({"dynamodb": {"Keys": {"sk": {"S": ["STATE"]}}}})},
            ]
        },
    }
    assert _filter(either)(RECORD)
    assert _filter({"UUID": "m"})(RECORD)  # no criteria: everything passes
    with pytest.raises(WiringError, match="bad filter pattern"):
        _filter({"UUID": "m", "FilterCriteria": {"Filters": [{"Pattern": "{not json"}]}})


def test_the_pump_polls_every_stream_mapping_and_logs_each_batch(
    wire: Any, endpoint: str, artifact: Path, tmp_path: Path
) -> None:
    w = wire(MaximumBatchingWindowInSeconds=0, MaximumRetryAttempts=0)
    lines: list[str] = []
    delivery = Delivery(endpoint, "http://127.0.0.1:9", artifact, tmp_path / "pump")
    pump = Pump(delivery, report=lines.append).start()
    try:
        w.put("a")
        w.put("b", mode="crash")
        w.put("c", sk="RUN#1")  # left out by the filter
        deadline = time.monotonic() + 60  # not a timing assertion: when to call it lost
        while not w.dead_letters() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        pump.stop()
        delivery.close()

    delivered = [pk for invocation in w.delivered() for pk in invocation]
    assert delivered[0] == "a" and set(delivered) == {"a", "b"}  # "b" failed: once, given up
    mine = [line for line in lines if line.startswith(f"{w.name} stream")]
    assert len([line for line in mine if " -> " in line]) == len(w.delivered())
    assert any(f"-> {w.name}: 1 record (INSERT 1): done" in line for line in mine)
    assert any(
        "FAILED (RuntimeError: cannot count b); given up after 1 attempts; sent to "
        f"{w.queue_arn}" in line
        for line in mine
    )
