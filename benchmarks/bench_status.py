"""make bench-status: how long `camblur status` takes for a 57,600-picture day.

Starts a private embedded AWS endpoint (moto server, as `make up` runs it), creates the state
table with the key schema and indexes of terraform/modules/storage/table.tf, seeds one capture
day of 200 cameras x 288 pictures (one every 5 minutes) with batch writes (--neighbour-days N
adds N days on each side: a table holds many days, the indexes must not read them), and
times the real command as an operator runs it, in a fresh process each round:

    camblur status --day D                  every camera of one day
    camblur status --camera C --day D       one camera of one day

Rounds run in random order; the median of each is printed, as `status --day: <s> s`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # localaws, when run as a script
sys.path.insert(0, str(ROOT / "lambdas"))
sys.path.insert(0, str(ROOT / "cli"))

import boto3  # noqa: E402

from camblur.adapters.state import picture_pk  # noqa: E402
from localaws.embedded import embedded_aws  # noqa: E402

REGION = "eu-west-1"
TABLE = "camblur-bench-state"
DAY = date(2026, 11, 25)
CAMBLUR = Path(sys.executable).with_name("camblur")
# What the indexes project (terraform/modules/storage/table.tf).
CAPTURE_DAY_PROJECTION = [
    "status",
    "reason",
    "refine_outcome",
    "raw_key",
    "raw_version_id",
    "camera_id",
]
CAMERA_PROJECTION = [
    "status",
    "reason",
    "refine_outcome",
    "raw_key",
    "raw_version_id",
    "capture_day",
]


def create_table(dynamodb: Any) -> None:
    def index(name: str, hash_key: str, range_key: str, projected: list[str]) -> dict[str, Any]:
        return {
            "IndexName": name,
            "KeySchema": [
                {"AttributeName": hash_key, "KeyType": "HASH"},
                {"AttributeName": range_key, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": projected},
        }

    dynamodb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"}
            for name in ("pk", "sk", "capture_day", "camera_id", "captured_at")
        ],
        GlobalSecondaryIndexes=[
            index("by_capture_day", "capture_day", "pk", CAPTURE_DAY_PROJECTION),
            index("by_camera", "camera_id", "captured_at", CAMERA_PROJECTION),
        ],
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


def seed(endpoint: str, cameras: int, pictures_per_camera: int, days: list[date]) -> int:
    rand = random.Random(7)
    items = [
        picture_item(camera, day, slot, rand)
        for day in days
        for camera in range(cameras)
        for slot in range(pictures_per_camera)
    ]
    chunks = [items[start : start + 2000] for start in range(0, len(items), 2000)]

    def write(chunk: list[dict[str, Any]]) -> None:
        table = _resource(endpoint).Table(TABLE)
        with table.batch_writer() as batch:  # BatchWriteItem, 25 at a time, retries unprocessed
            for item in chunk:
                batch.put_item(Item=item)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, chunks))
    return len(items)


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
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--neighbour-days", type=int, default=0, help="days seeded on each side")
    args = parser.parse_args(argv)
    days = [
        DAY + timedelta(days=offset)
        for offset in range(-args.neighbour_days, args.neighbour_days + 1)
    ]
    day = DAY.isoformat()
    with embedded_aws() as endpoint, tempfile.TemporaryDirectory() as folder:
        create_table(boto3.client("dynamodb", **_client_args(endpoint)))
        started = time.perf_counter()
        count = seed(endpoint, args.cameras, args.pictures_per_camera, days)
        per_day = args.cameras * args.pictures_per_camera
        print(
            f"seeded {count:,} state items ({per_day:,} a day for {args.cameras} cameras, "
            f"{len(days)} days) in {time.perf_counter() - started:.0f} s"
        )
        outputs = outputs_file(Path(folder))
        commands = {
            "status --day": ("--day", day),
            "status --camera --day": ("--camera", "cam-007", "--day", day, "--json"),
        }
        timings: dict[str, list[float]] = {name: [] for name in commands}
        order = [name for name in commands for _ in range(args.rounds)]
        random.Random(11).shuffle(order)
        for name in order:
            seconds, output = time_command(endpoint, outputs, *commands[name])
            timings[name].append(seconds)
            if name == "status --camera --day":
                [row] = json.loads(output)["pictures"]
                assert sum(v for k, v in row["counts"].items() if ":" not in k) == (
                    args.pictures_per_camera
                ), row
        for name, values in timings.items():
            print(
                f"{name}: {statistics.median(values):.2f} s "
                f"(median of {len(values)}; {', '.join(f'{v:.2f}' for v in values)})"
            )
        segments_ratio(endpoint, outputs, day, args.rounds)
    return 0


def segments_ratio(endpoint: str, outputs: Path, day: str, rounds: int) -> None:
    """The day's index read in SEGMENTS parallel queries against one query, in this process:
    the median of the per-round ratios (each round times both, in random order)."""
    from camblur_cli.deployment import Deployment
    from camblur_cli.inspect import SEGMENTS, Inspector

    names = {key: value["value"] for key, value in json.loads(outputs.read_text()).items()}
    deployment = Deployment.from_outputs(
        {key: {"value": value} for key, value in names.items()},
        endpoint_url=endpoint,
        region=REGION,
    )
    rand = random.Random(5)
    ratios = []
    for _ in range(rounds):
        seconds = {}
        for segments in rand.sample([1, SEGMENTS], 2):
            inspector = Inspector(deployment, segments=segments)
            started = time.perf_counter()
            inspector.status(day, None)
            seconds[segments] = time.perf_counter() - started
        ratios.append(seconds[SEGMENTS] / seconds[1])
    print(
        f"{SEGMENTS} parallel queries / 1 query (in process): {statistics.median(ratios):.2f} "
        f"(median of {rounds} per-round ratios)"
    )


def _client_args(endpoint: str) -> dict[str, Any]:
    return {
        "endpoint_url": endpoint,
        "region_name": REGION,
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
    }


if __name__ == "__main__":
    sys.exit(main())
