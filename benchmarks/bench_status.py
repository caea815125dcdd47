"""make bench-status: how long `camblur status` takes for a 57,600-picture day.

Starts a private embedded AWS endpoint (moto server, as `make up` runs it), creates the state
table with the key schema, indexes and stream of terraform/modules/storage/table.tf, and seeds
one capture day of 200 cameras x 288 pictures (one every 5 minutes) with batch writes, as the
live pass leaves them; then the refinement's share is rewritten REFINED (--neighbour-days N
adds N days on each side: a table holds many days). The stream's records of that seeding (an
INSERT per picture, a MODIFY per refinement, in Lambda's record shape) go through the real
status_counts handler in the mapping's batches of 10,000, timed, writing the counts to the
endpoint. `--records stream` reads them from the endpoint's dynamodbstreams API instead, as
Lambda's poller does; moto's GetRecords then slows past 60 s a call beyond about 90,000
records, so it is not the default (tests/integration/test_state_stream.py and
test_status_counts_deployed.py deliver moto's own records through the deployed mapping). Then the real command is timed
as an operator runs it, in a fresh process each round, rounds in random order:

    camblur status --day D                  every camera of one day
    camblur status --camera C --day D       one camera of one day
    camblur status --day D --recount        (with --recount-rounds N) the index, not the counts

Every answer is checked against the seeded pictures. The medians are printed, the first as
`status --day: <s> s`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # localaws, when run as a script
sys.path.insert(0, str(ROOT / "lambdas"))
sys.path.insert(0, str(ROOT / "cli"))

import boto3  # noqa: E402

from camblur.adapters.state import picture_pk  # noqa: E402
from devtools.deliver import lambda_stream_record  # noqa: E402
from localaws.embedded import embedded_aws  # noqa: E402
from tests.support.aws import create_state_table  # noqa: E402
from tests.support.streams import enable_stream  # noqa: E402

REGION = "eu-west-1"
TABLE = "camblur-bench-state"
DAY = date(2026, 11, 25)
BATCH_SIZE = 10_000  # the mapping's (terraform/modules/pipeline/status_counts.tf)
CAMBLUR = Path(sys.executable).with_name("camblur")
LAMBDA_CONTEXT = SimpleNamespace(  # what the runtime passes (Powertools reads these)
    function_name="camblur-bench-status-counts",
    memory_limit_in_mb=256,
    invoked_function_arn="arn:aws:lambda:eu-west-1:123456789012:function:camblur-bench-status-counts",
    aws_request_id="00000000-0000-0000-0000-000000000000",
)


def picture_item(camera: int, day: date, slot: int, rand: random.Random) -> dict[str, Any]:
    """A state item as the live pass (and sometimes the refinement) leaves it."""
    captured = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(minutes=5 * slot)
    key = f"cameras/cam-{camera:03d}/{day.isoformat()}/{captured:%H-%M}.jpg"
    roll = rand.random()
    status = "LIVE_BLURRED"
    extra: dict[str, Any] = {}
    if roll < 0.02:
        status, extra = "REJECTED", {"reason": rand.choice(["TRUNCATED", "NOT_AN_IMAGE"])}
    elif roll < 0.025:
        status, extra = "FAILED", {"error": "Throttled: DetectLabels"}
    elif roll < 0.6:
        status, extra = "REFINED", {"refine_outcome": "REFINED", "refine_run_id": "run#1"}
    boxes = [
        {
            "left": Decimal("0.1"),
            "top": Decimal("0.2"),
            "width": Decimal("0.05"),
            "height": Decimal("0.2"),
            "label": "person",
            "confidence": Decimal("97.5"),
            "source": "live",
        }
        for _ in range(rand.choice((0, 0, 1, 1, 2, 3)))
    ]
    return {
        "pk": picture_pk(key),
        "sk": "STATE",
        "raw_key": key,
        "raw_bucket": "camblur-bench-raw",
        "raw_version_id": f"{rand.getrandbits(128):032x}",
        "raw_size": 480_000,
        "camera_id": f"cam-{camera:03d}",
        "capture_day": day.isoformat(),
        "captured_at": captured.isoformat(),
        "sequencer": f"{rand.getrandbits(64):016X}",
        "event_order": f"{rand.getrandbits(64):064X}",
        "updated_at": captured.isoformat(),
        "expires_at": int(captured.timestamp()) + 400 * 86400,
        "status": status,
        "blurred_key": key,
        "raw_sha256": f"{rand.getrandbits(256):064x}",
        "blurred_sha256": f"{rand.getrandbits(256):064x}",
        "boxes": boxes,
        "detector": "rekognition-detect-labels",
        "plate_detector": "packaged_ocr",
        "vehicles": 0,
        "width": 1920,
        "height": 1080,
        **extra,
    }


def seed(endpoint: str, cameras: int, pictures_per_camera: int, days: list[date]) -> list[dict]:
    """Write the pictures as the live pass leaves them, then rewrite the refined ones (the
    stream then holds an INSERT for each and a MODIFY for each refinement); the final items."""
    rand = random.Random(7)
    items = [
        picture_item(camera, day, slot, rand)
        for day in days
        for camera in range(cameras)
        for slot in range(pictures_per_camera)
    ]
    live = [
        {**item, "status": "LIVE_BLURRED"} if item["status"] == "REFINED" else item
        for item in items
    ]
    for wave in (live, [item for item in items if item["status"] == "REFINED"]):
        chunks = [wave[start : start + 2000] for start in range(0, len(wave), 2000)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda chunk: _write(endpoint, chunk), chunks))
    return items


def _write(endpoint: str, chunk: list[dict[str, Any]]) -> None:
    table = _resource(endpoint).Table(TABLE)
    with table.batch_writer() as batch:  # BatchWriteItem, 25 at a time, retries unprocessed
        for item in chunk:
            batch.put_item(Item=item)


def _resource(endpoint: str) -> Any:
    return boto3.resource("dynamodb", **_client_args(endpoint))


def outputs_file(folder: Path) -> Path:
    names = {
        "raw_bucket": "camblur-bench-raw",
        "blurred_bucket": "camblur-bench-blurred",
        "state_table": TABLE,
        "raw_notification": {"prefix": "cameras/"},
        "queue_names": {},
    }
    path = folder / "outputs.json"
    path.write_text(json.dumps({name: {"value": value} for name, value in names.items()}))
    return path


def time_command(endpoint: str, outputs: Path, *args: str) -> tuple[float, str]:
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "COLUMNS": "200"}
    started = time.perf_counter()
    result = subprocess.run(
        [str(CAMBLUR), "status", "--env", "local", "--outputs", str(outputs), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"camblur status {' '.join(args)} failed:\n{result.stderr}{result.stdout}")
    return seconds, result.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=200)
    parser.add_argument("--pictures-per-camera", type=int, default=288)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--recount-rounds", type=int, default=0, help="also time --recount")
    parser.add_argument("--neighbour-days", type=int, default=0, help="days seeded on each side")
    parser.add_argument(
        "--records",
        choices=("stream", "built"),
        default="built",
        help="status_counts' input: the endpoint's stream (moto's GetRecords slows past 60 s a "
        "call beyond ~90,000 records), or the same INSERT/MODIFY records built from the pictures",
    )
    args = parser.parse_args(argv)
    days = [
        DAY + timedelta(days=offset)
        for offset in range(-args.neighbour_days, args.neighbour_days + 1)
    ]
    day = DAY.isoformat()
    with embedded_aws() as endpoint, tempfile.TemporaryDirectory() as folder:
        dynamodb = boto3.client("dynamodb", **_client_args(endpoint))
        create_state_table(dynamodb, TABLE)  # keys and indexes of table.tf, and its stream
        enable_stream(dynamodb, TABLE)
        started = time.perf_counter()
        items = seed(endpoint, args.cameras, args.pictures_per_camera, days)
        per_day = args.cameras * args.pictures_per_camera
        print(
            f"seeded {len(items):,} state items ({per_day:,} a day for {args.cameras} cameras, "
            f"{len(days)} days), {sum(1 for i in items if i['status'] == 'REFINED'):,} "
            f"of them then refined, in {time.perf_counter() - started:.0f} s"
        )
        if args.records == "stream":
            records, seconds = count_stream(endpoint)
        else:
            _handler_environment(endpoint)
            records, seconds = count_records(items)
        print(
            f"status_counts: {records:,} stream records in {seconds:.0f} s "
            f"({records / seconds:,.0f} records/s through the real handler)"
        )
        truth = expected_counts(items, day)
        camera = f"cam-{min(7, args.cameras - 1):03d}"
        outputs = outputs_file(Path(folder))
        commands: dict[str, tuple[tuple[str, ...], int]] = {
            "status --day": (("--day", day, "--json"), args.rounds),
            "status --camera --day": (("--camera", camera, "--day", day, "--json"), args.rounds),
            "status --day --recount": (("--day", day, "--json", "--recount"), args.recount_rounds),
        }
        timings: dict[str, list[float]] = {name: [] for name, (_, n) in commands.items() if n}
        order = [name for name, (_, rounds) in commands.items() for _ in range(rounds)]
        random.Random(11).shuffle(order)
        for name in order:
            seconds, output = time_command(endpoint, outputs, *commands[name][0])
            timings[name].append(seconds)
            answer = {row["camera"]: row["counts"] for row in json.loads(output)["pictures"]}
            wanted = {camera: truth[camera]} if "--camera" in name else truth
            if answer != wanted:
                raise SystemExit(f"{name}: counts differ from the seeded pictures")
        for name, values in timings.items():
            print(
                f"{name}: {statistics.median(values):.2f} s "
                f"(median of {len(values)}; {', '.join(f'{v:.2f}' for v in values)}; "
                "counts equal the seeded pictures)"
            )
    return 0


def count_stream(endpoint: str) -> tuple[int, float]:
    """Every record of the table's stream through status_counts, a mapping's batch at a time."""
    _handler_environment(endpoint)
    from camblur.handlers import status_counts

    streams = boto3.client("dynamodbstreams", **_client_args(endpoint))
    arn = boto3.client("dynamodb", **_client_args(endpoint)).describe_table(TableName=TABLE)[
        "Table"
    ]["LatestStreamArn"]
    total, started = 0, time.perf_counter()
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        batch: list[dict[str, Any]] = []
        while True:
            # GetRecords returns at most 1,000 records; Lambda's poller makes a batch of several.
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            # The mapping's filter (terraform/modules/pipeline/status_counts.tf): picture
            # items only, so status_counts never sees its own writes.
            batch += [
                lambda_stream_record(record, arn)
                for record in page["Records"]
                if record["dynamodb"]["Keys"]["sk"]["S"] == "STATE"
            ]
            iterator = page.get("NextShardIterator")
            if batch and (len(batch) >= BATCH_SIZE or not page["Records"] or not iterator):
                with contextlib.redirect_stdout(io.StringIO()):  # its EMF metrics
                    answer = status_counts.handler({"Records": batch}, LAMBDA_CONTEXT)
                if answer["batchItemFailures"]:
                    raise SystemExit(f"status_counts failed a batch: {answer}")
                total += len(batch)
                batch = []
            if not page["Records"] or not iterator:
                break
    return total, time.perf_counter() - started


def count_records(items: list[dict[str, Any]]) -> tuple[int, float]:
    """The records the stream holds for the seeding (an INSERT per picture as the live pass
    left it, a MODIFY per refinement, images in DynamoDB JSON, sequence numbers rising),
    through status_counts in the mapping's batches; (records, seconds)."""
    from boto3.dynamodb.types import TypeSerializer

    from camblur.handlers import status_counts

    serializer = TypeSerializer()

    def image(item: dict[str, Any]) -> dict[str, Any]:
        return {name: serializer.serialize(value) for name, value in item.items()}

    # The live wave as seed() wrote it, then the refinement's rewrites.
    changes: list[tuple[dict[str, Any] | None, dict[str, Any]]] = [
        (None, {**item, "status": "LIVE_BLURRED"} if item["status"] == "REFINED" else item)
        for item in items
    ]
    changes += [
        ({**item, "status": "LIVE_BLURRED"}, item) for item in items if item["status"] == "REFINED"
    ]
    records = [
        {
            "eventID": f"{number:032x}",
            "eventName": "INSERT" if old is None else "MODIFY",
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": REGION,
            "eventSourceARN": f"arn:aws:dynamodb:{REGION}:123456789012:table/{TABLE}/stream/x",
            "dynamodb": {
                "Keys": {"pk": {"S": new["pk"]}, "sk": {"S": "STATE"}},
                "NewImage": image(new),
                **({"OldImage": image(old)} if old else {}),
                "SequenceNumber": str(1100000000017454423009 + number),
                "StreamViewType": "NEW_AND_OLD_IMAGES",
            },
        }
        for number, (old, new) in enumerate(changes)
    ]
    started = time.perf_counter()
    for start in range(0, len(records), BATCH_SIZE):
        with contextlib.redirect_stdout(io.StringIO()):  # its EMF metrics
            answer = status_counts.handler(
                {"Records": records[start : start + BATCH_SIZE]}, LAMBDA_CONTEXT
            )
        if answer["batchItemFailures"]:
            raise SystemExit(f"status_counts failed a batch: {answer}")
    return len(records), time.perf_counter() - started


def _handler_environment(endpoint: str | None = None) -> None:
    """What Terraform sets on status_counts, pointed at the private endpoint."""
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint or os.environ["AWS_ENDPOINT_URL"],
        AWS_DEFAULT_REGION=REGION,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",  # noqa: S106 - the embedded endpoint's fake key
        STATE_TABLE=TABLE,
        POWERTOOLS_LOG_LEVEL="WARNING",  # a figure per batch is not what this prints
    )


def expected_counts(items: list[dict[str, Any]], day: str) -> dict[str, dict[str, int]]:
    from camblur.adapters.state.counts import facets

    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for item in items:
        if item["capture_day"] == day:
            counts[item["camera_id"]].update(facets(item))
    return {camera: dict(found) for camera, found in counts.items()}


def _client_args(endpoint: str) -> dict[str, Any]:
    return {
        "endpoint_url": endpoint,
        "region_name": REGION,
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
    }


if __name__ == "__main__":
    sys.exit(main())
