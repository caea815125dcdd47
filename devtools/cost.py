"""Estimated monthly cost of a camblur deployment, beside the seed article's design.

    python -m devtools.cost --env dev --cameras 200 --interval-minutes 5
    python -m devtools.cost --runs-table camblur-dev-state --runs-days 7   # what runs cost

The deployment's settings (inference units, memory, retention, reconciler rate) come from
Terraform: the stack's defaults in terraform/variables.tf, overridden by what
environments/<env>/main.tf passes to the stack and by environments/<env>/terraform.tfvars.
The output names every file it read and where each setting came from.

Prices are inputs, not truths: every one is an option whose default is AWS's public list
price in us-east-1 when this was written (Rekognition Image group-2 tiers, Custom Labels
$4 per inference-unit hour, Lambda arm64, S3 Standard, DynamoDB on-demand after the
November 2024 cut, SQS standard, CloudWatch Logs ingestion). Check your region's prices and
pass them.

Model hours per day in this design: S (start) + N / (T x units) (serving) + what the
reconciler adds: about 1.5 passes to see the drained queue, half a pass to see RUNNING, the
mapping's enabling and the model's stopping (make bench-refine measures the same within 2 %).
T (pictures a second per inference unit) is not published by AWS: measure yours.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STACK_VARIABLES = ROOT / "terraform" / "variables.tf"
ENVIRONMENTS = ROOT / "environments"

# Settings the estimate reads, with the stack variable that holds each.
SETTINGS = (
    "model_min_inference_units",
    "model_max_inference_units",
    "model_max_run_minutes",
    "live_memory_mb",
    "worker_memory_mb",
    "refine_batch_size",
    "raw_expiration_days",
    "noncurrent_version_expiration_days",
    "state_ttl_days",
    "reconciler_schedule_expression",
    "plate_detector",
)
FALLBACKS: dict[str, Any] = {  # when terraform/variables.tf cannot be read
    "model_min_inference_units": 1,
    "model_max_inference_units": 1,
    "model_max_run_minutes": 240,
    "live_memory_mb": 1024,
    "worker_memory_mb": 1024,
    "refine_batch_size": 5,
    "raw_expiration_days": 3,
    "noncurrent_version_expiration_days": 7,
    "state_ttl_days": 400,
    "reconciler_schedule_expression": "rate(1 minute)",
    "plate_detector": "packaged_ocr",
}
# Rekognition Image group-2 APIs (DetectLabels), per image, by monthly volume.
DETECT_LABELS_TIERS = "1000000:0.001,4000000:0.0008,30000000:0.0006,inf:0.00025"


class CostError(Exception):
    """A wrong argument or an unreadable configuration: printed, exit code 2."""


@dataclass(frozen=True)
class Deployment:
    settings: dict[str, Any]
    sources: dict[str, str]
    files: list[str]


def load_hcl(path: Path) -> dict[str, Any]:
    import hcl2
    from hcl2 import SerializationOptions

    with path.open() as file:
        return hcl2.load(
            file,
            serialization_options=SerializationOptions(
                strip_string_quotes=True, explicit_blocks=False
            ),
        )


def _variables(path: Path) -> dict[str, Any]:
    """name -> default, for the variables of a .tf file that have one."""
    defaults: dict[str, Any] = {}
    for block in load_hcl(path).get("variable", []):
        for name, body in block.items():
            if "default" in body:
                defaults[name] = body["default"]
    return defaults


def read_deployment(env: str) -> Deployment:
    """The stack's defaults, then the environment's module arguments and tfvars."""
    known = (
        sorted(p.name for p in ENVIRONMENTS.iterdir() if p.is_dir())
        if ENVIRONMENTS.is_dir()
        else []
    )
    if not env:
        raise CostError(f"ENV is not set: use ENV=<{'|'.join(known)}>, e.g. make cost ENV=dev")
    env_dir = ENVIRONMENTS / env
    if not env_dir.is_dir():
        raise CostError(f"ENV={env}: environments/{env} does not exist. Valid: {' '.join(known)}")

    settings = dict(FALLBACKS)
    sources = dict.fromkeys(FALLBACKS, "camblur default (terraform/variables.tf unreadable)")
    files: list[str] = []
    if STACK_VARIABLES.is_file():
        files.append(_shown(STACK_VARIABLES))
        for name, value in _variables(STACK_VARIABLES).items():
            if name in settings:
                settings[name], sources[name] = value, "terraform/variables.tf default"

    tfvars_path = env_dir / "terraform.tfvars"
    tfvars = load_hcl(tfvars_path) if tfvars_path.is_file() else {}
    if tfvars_path.is_file():
        files.append(_shown(tfvars_path))
    env_variables = (
        _variables(env_dir / "variables.tf") if (env_dir / "variables.tf").is_file() else {}
    )
    main_path = env_dir / "main.tf"
    arguments: dict[str, Any] = {}
    if main_path.is_file():
        files.append(_shown(main_path))
        for block in load_hcl(main_path).get("module", []):
            for body in block.values():
                if str(body.get("source", "")).rstrip("/").endswith("terraform"):
                    arguments.update(body)
    for name in SETTINGS:
        value, source = arguments.get(name), f"environments/{env}/main.tf"
        if isinstance(value, str) and (match := re.fullmatch(r"\$\{var\.(\w+)\}", value)):
            variable = match.group(1)
            if variable in tfvars:
                value, source = tfvars[variable], f"environments/{env}/terraform.tfvars"
            elif variable in env_variables:
                value, source = env_variables[variable], f"environments/{env}/variables.tf default"
            else:
                value = None
        elif value is None and name in tfvars:
            # A tfvars value the root does not pass on still says what the user meant.
            value, source = (
                tfvars[name],
                f"environments/{env}/terraform.tfvars (not passed to the stack)",
            )
        if value is not None:
            settings[name], sources[name] = value, source
    return Deployment(settings, sources, files)


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def reconciler_minutes(expression: str) -> float:
    """Minutes between reconciler passes from `rate(N minute(s)|hour(s))`."""
    match = re.fullmatch(r"rate\((\d+)\s+(minute|minutes|hour|hours)\)", expression.strip())
    if not match:
        raise CostError(
            f"cannot read the reconciler schedule {expression!r}: expected rate(N minutes)"
        )
    value = int(match.group(1))
    return value * 60.0 if match.group(2).startswith("hour") else float(value)


def tiered(count: float, tiers: str) -> float:
    """Cost of `count` units under `size:price,...,inf:price` tiers."""
    total, remaining = 0.0, count
    for tier in tiers.split(","):
        size_text, price_text = tier.split(":")
        size = math.inf if size_text.strip() == "inf" else float(size_text)
        used = min(remaining, size)
        total += used * float(price_text)
        remaining -= used
        if remaining <= 0:
            break
    return total


@dataclass(frozen=True)
class Line:
    service: str
    ours: float
    seed: float
    note: str


def estimate(
    args: argparse.Namespace, deployment: Deployment
) -> tuple[list[Line], dict[str, float]]:
    s = deployment.settings
    days = args.days_per_month
    per_day = args.cameras * 24 * 60 / args.interval_minutes
    per_month = per_day * days
    units = int(s["model_min_inference_units"])
    max_units = int(s["model_max_inference_units"])
    interval = reconciler_minutes(str(s["reconciler_schedule_expression"]))

    serving_minutes = per_day / (args.pictures_per_second_per_unit * units) / 60
    overhead_minutes = 2 * interval + args.mapping_enabling_minutes + args.model_stop_minutes
    model_minutes = min(
        args.model_start_minutes + serving_minutes + overhead_minutes,
        float(s["model_max_run_minutes"]) + args.model_stop_minutes,
    )
    ours_model = model_minutes / 60 * units * args.custom_labels_hour_price * days
    seed_model = (
        args.seed_model_hours * args.seed_inference_units * args.custom_labels_hour_price * days
    )

    detect = tiered(per_month, args.detect_labels_tiers)
    # Plates: DetectText on every picture with a vehicle, or the packaged detector's run time.
    with_vehicles = per_month * args.vehicle_share
    detect_text = (
        tiered(with_vehicles, args.detect_labels_tiers)
        if s["plate_detector"] == "rekognition_text"
        else 0.0
    )
    plate_seconds = args.plate_seconds if s["plate_detector"] == "packaged_ocr" else 0.0

    gb_second, request = args.lambda_gb_second_price, args.lambda_request_price / 1e6
    live_lambda = per_month * (request + s["live_memory_mb"] / 1024 * args.live_seconds * gb_second)
    live_lambda += with_vehicles * s["live_memory_mb"] / 1024 * plate_seconds * gb_second
    worker_invocations = per_month / int(s["refine_batch_size"])
    worker_lambda = worker_invocations * request + per_month * (
        s["worker_memory_mb"] / 1024 * args.worker_seconds * gb_second
    )
    schedule_lambda = days * (request + 0.5 * 60 * gb_second)
    reconciler_passes = days * 24 * 60 / interval
    reconciler_lambda = reconciler_passes * (request + 0.25 * 0.1 * gb_second)

    size_gb = args.picture_mb / 1024
    s3_requests = per_month * (
        3 * args.s3_put_price / 1000  # camera upload, live output, refined output
        + 4 * args.s3_get_price / 1000  # live read, Rekognition's read, refine read, its read
    )
    stored_gb = (
        per_day
        * size_gb
        * (
            float(s["raw_expiration_days"])
            + args.blurred_retention_days
            + float(s["noncurrent_version_expiration_days"])  # the live output, overwritten
        )
    )
    s3 = s3_requests + stored_gb * args.s3_gb_month_price

    # Picture item ~1 KB: live GetItem + PutItem (+ its index), refine GetItem + UpdateItem
    # (+ index), schedule's index query, worker's per-batch run counter, reconciler passes.
    writes = per_month * (2 + 2 + 1 / int(s["refine_batch_size"]))
    reads = per_month * (1 + 1 + 0.05) + reconciler_passes
    items_gb = per_day * float(s["state_ttl_days"]) * 1.0 / 1024 / 1024
    dynamodb = (
        writes * args.dynamodb_write_price / 1e6
        + reads * args.dynamodb_read_price / 1e6
        + items_gb * args.dynamodb_gb_month_price
    )
    reconciler_dynamodb = reconciler_passes * args.dynamodb_read_price / 1e6

    sqs_requests = per_month * (0.1 + 2 / int(s["refine_batch_size"])) + reconciler_passes * 0.1
    sqs = sqs_requests * args.sqs_request_price / 1e6
    logs = per_month * args.log_kb_per_picture / 1024 / 1024 * args.logs_gb_price

    lines = [
        Line(
            "Rekognition DetectLabels (live)", detect, detect, f"{per_month:,.0f} pictures, tiered"
        ),
        Line(
            "Rekognition DetectText (plates)",
            detect_text,
            0.0,
            f"plate_detector = {s['plate_detector']}, {args.vehicle_share:.0%} with vehicles",
        ),
        Line(
            "Rekognition Custom Labels model",
            ours_model,
            seed_model,
            f"{model_minutes / 60:.2f} h/day x {units} IU (seed: {args.seed_model_hours:g} h x {args.seed_inference_units})",
        ),
        Line(
            "Lambda",
            live_lambda + worker_lambda + schedule_lambda + reconciler_lambda,
            live_lambda + worker_lambda + schedule_lambda,
            f"incl. reconciler {reconciler_lambda:.2f} $ ({reconciler_passes:,.0f} passes)",
        ),
        Line("S3", s3, s3, f"{stored_gb:,.0f} GB stored, 3 PUT + 4 GET per picture"),
        Line("DynamoDB", dynamodb, dynamodb - reconciler_dynamodb, "on-demand"),
        Line("SQS", sqs, sqs, f"{sqs_requests:,.0f} requests"),
        Line("CloudWatch Logs", logs, logs, f"{args.log_kb_per_picture:g} KB a picture"),
    ]
    facts = {
        "pictures_per_day": per_day,
        "model_minutes": model_minutes,
        "serving_minutes": serving_minutes,
        "units": units,
        "max_units": max_units,
        "interval": interval,
        "max_units_model": ours_model * max_units / units,
    }
    return lines, facts


def print_estimate(args: argparse.Namespace, deployment: Deployment) -> None:
    lines, facts = estimate(args, deployment)
    print(
        f"camblur monthly cost estimate, ENV={args.env}: {args.cameras} cameras, one picture every {args.interval_minutes:g} min"
    )
    print(
        f"  = {facts['pictures_per_day']:,.0f} pictures a day, {args.days_per_month:g} days a month"
    )
    print("Read: " + ", ".join(deployment.files))
    for name in SETTINGS:
        print(f"  {name} = {deployment.settings[name]}  ({deployment.sources[name]})")
    print()
    print(f"{'':34} {'this deployment':>16} {'seed design':>12}   notes")
    for line in lines:
        print(f"{line.service:34} {line.ours:>14,.2f} $ {line.seed:>10,.2f} $   {line.note}")
    ours, seed = sum(l.ours for l in lines), sum(l.seed for l in lines)  # noqa: E741
    print(f"{'total per month':34} {ours:>14,.2f} $ {seed:>10,.2f} $")
    print()
    print(
        f"Model time a day: start {args.model_start_minutes:g} min + serving "
        f"{facts['serving_minutes']:.0f} min at {args.pictures_per_second_per_unit:g} pictures/s per unit "
        f"+ reconciler/mapping/stop {facts['model_minutes'] - args.model_start_minutes - facts['serving_minutes']:.0f} min "
        f"= {facts['model_minutes'] / 60:.2f} h (capped by the {deployment.settings['model_max_run_minutes']} min watchdog)."
    )
    needed = args.model_start_minutes + facts["serving_minutes"]
    if needed > float(deployment.settings["model_max_run_minutes"]):
        print(
            f"WARNING: a day needs about {needed:.0f} model minutes but the watchdog stops the "
            f"model after {deployment.settings['model_max_run_minutes']}: part of each day would "
            "stay live-blurred only. Raise the inference units or model_max_run_minutes."
        )
    if facts["max_units"] > facts["units"]:
        print(
            f"Autoscaling up to {facts['max_units']} units: the model line could reach "
            f"{facts['max_units_model']:,.2f} $ if it ran at the maximum all the time."
        )
    seed_capacity = (
        args.seed_model_hours * 3600 * args.pictures_per_second_per_unit * args.seed_inference_units
    )
    print(
        f"The seed's {args.seed_model_hours:g} h a day serves {seed_capacity:,.0f} pictures at "
        f"{args.pictures_per_second_per_unit:g}/s per unit; it covers "
        f"{min(1.0, seed_capacity / facts['pictures_per_day']):.0%} of this workload."
    )
    print("Prices are inputs (python -m devtools.cost --help); defaults are us-east-1 list prices.")


def print_runs(args: argparse.Namespace) -> None:
    """What each recorded run cost: model minutes x inference units x price, from run items."""
    import boto3

    table = boto3.resource("dynamodb").Table(args.runs_table)
    today = datetime.now(UTC).date()
    print(f"{'day':10} {'status':20} {'pictures':>8} {'model min':>9} {'IU':>3} {'cost $':>8}")
    for back in range(args.runs_days):
        day = (today - timedelta(days=back)).isoformat()
        item = table.get_item(Key={"pk": f"RUN#{day}", "sk": "RUN"}).get("Item")
        if not item:
            continue
        minutes = float(item.get("model_minutes", 0) or 0)
        units = int(item.get("min_inference_units", 0) or 0)
        cost = minutes / 60 * units * args.custom_labels_hour_price
        print(
            f"{day:10} {item.get('status', '?'):20} {int(item.get('pictures_refined', 0)):>8} "
            f"{minutes:>9.1f} {units:>3} {cost:>8.2f}"
        )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m devtools.cost",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--env", default="", help="environments/<env> to read")
    p.add_argument("--cameras", type=int, default=200)
    p.add_argument(
        "--interval-minutes", type=float, default=5.0, help="one picture per camera every ..."
    )
    p.add_argument("--days-per-month", type=float, default=30.42)
    w = p.add_argument_group("workload assumptions")
    w.add_argument("--picture-mb", type=float, default=0.5, help="raw and blurred picture size")
    w.add_argument("--live-seconds", type=float, default=0.8, help="live_blur duration per picture")
    w.add_argument(
        "--vehicle-share", type=float, default=0.5, help="share of pictures with a vehicle"
    )
    w.add_argument(
        "--plate-seconds",
        type=float,
        default=0.5,
        help="packaged_ocr's extra live_blur time on a picture with vehicles",
    )
    w.add_argument(
        "--worker-seconds",
        type=float,
        default=0.45,
        help="refine_worker duration per picture, backoff included",
    )
    w.add_argument(
        "--pictures-per-second-per-unit",
        type=float,
        default=5.0,
        help="T: Custom Labels throughput per inference unit (not published: measure)",
    )
    w.add_argument(
        "--model-start-minutes", type=float, default=10.0, help="S: StartProjectVersion to RUNNING"
    )
    w.add_argument(
        "--model-stop-minutes", type=float, default=1.0, help="StopProjectVersion to STOPPED"
    )
    w.add_argument("--mapping-enabling-minutes", type=float, default=0.5)
    w.add_argument(
        "--blurred-retention-days",
        type=float,
        default=30.0,
        help="how long blurred pictures are kept",
    )
    w.add_argument("--log-kb-per-picture", type=float, default=2.0)
    w.add_argument(
        "--seed-model-hours",
        type=float,
        default=1.0,
        help="the seed article's Custom Labels hours a day",
    )
    w.add_argument("--seed-inference-units", type=int, default=1)
    pr = p.add_argument_group("prices (USD)")
    pr.add_argument(
        "--detect-labels-tiers",
        default=DETECT_LABELS_TIERS,
        help="monthly images:price per image, ...",
    )
    pr.add_argument(
        "--custom-labels-hour-price", type=float, default=4.0, help="per inference-unit hour"
    )
    pr.add_argument("--lambda-gb-second-price", type=float, default=0.0000133334, help="arm64")
    pr.add_argument("--lambda-request-price", type=float, default=0.20, help="per million")
    pr.add_argument("--s3-put-price", type=float, default=0.005, help="per 1,000 PUT")
    pr.add_argument("--s3-get-price", type=float, default=0.0004, help="per 1,000 GET")
    pr.add_argument("--s3-gb-month-price", type=float, default=0.023)
    pr.add_argument(
        "--dynamodb-write-price", type=float, default=0.625, help="per million write units"
    )
    pr.add_argument(
        "--dynamodb-read-price", type=float, default=0.125, help="per million read units"
    )
    pr.add_argument("--dynamodb-gb-month-price", type=float, default=0.25)
    pr.add_argument("--sqs-request-price", type=float, default=0.40, help="per million")
    pr.add_argument("--logs-gb-price", type=float, default=0.50, help="ingestion per GB")
    r = p.add_argument_group("recorded runs")
    r.add_argument(
        "--runs-table", help="print what each run of the last days cost, from this state table"
    )
    r.add_argument("--runs-days", type=int, default=7)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.runs_table:
            print_runs(args)
            return 0
        if args.cameras <= 0 or args.interval_minutes <= 0:
            raise CostError("--cameras and --interval-minutes must be positive")
        print_estimate(args, read_deployment(args.env))
    except CostError as error:
        print(f"cost: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
