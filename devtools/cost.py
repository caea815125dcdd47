"""Estimated monthly cost of a camblur deployment, beside the seed article's design.

    python -m devtools.cost --env dev --cameras 200 --interval-minutes 5
    python -m devtools.cost --runs-table camblur-dev-state --runs-days 7   # what runs cost

The deployment's settings (inference units, memory, retention, reconciler rate) are read with
python-hcl2 and resolved in Terraform's order (devtools/tfconfig.py): the stack's defaults in
terraform/variables.tf, overridden by what environments/<env>/main.tf passes to the stack,
whose `var.<name>` arguments come from environments/<env>/terraform.tfvars or the root's
defaults. The output names every file it read and where each setting came from.

Prices are inputs, not truths: every one is an option whose default is AWS's public list
price in us-east-1 when this was written (Rekognition Image group-2 tiers, Custom Labels
$4 per inference-unit hour, Lambda arm64, S3 Standard, DynamoDB on-demand after the
November 2024 cut, SQS standard, CloudWatch Logs ingestion). Check your region's prices and
pass them.

Model time per day follows the sizing refine_schedule does (lambdas/camblur/refine/sizing.py,
the same function): the units that serve the day in refine_window_minutes at T pictures a
second per unit, within the quotas; billed: units x (S (start) + N / (T x units) (serving) +
what the reconciler adds: about 1.5 passes to see the drained queue, half a pass to see
RUNNING, the mapping's enabling and the model's stopping). make bench-refine simulates the
same. T is not published by AWS: the schedule measures it on each run; pass yours.

Two further sections:

- Refinement only: a mode this stack does not deploy, priced beside the others. No live
  DetectLabels: pictures would be published only after the day's refinement, with persons and
  plates from the Custom Labels model alone. It saves the DetectLabels line and most of
  live_blur, at the price of a delay of hours (printed) and of having no second detector.
- Per size (200, 2,000, 20,000 cameras): the quotas to request, the concurrency settings and
  the monthly cost, each from the same sizing.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from camblur.refine.sizing import Sizing, SizingInputs, size_session
from devtools import tfconfig

ENVIRONMENTS = tfconfig.ENVIRONMENTS  # a test points it elsewhere

# Settings the estimate reads, with the stack variable that holds each.
SETTINGS = (
    "model_min_inference_units",
    "model_max_inference_units",
    "model_max_run_minutes",
    "live_memory_mb",
    "worker_memory_mb",
    "refine_batch_size",
    "raw_retention_days",
    "state_ttl_days",
    "reconciler_schedule_expression",
    "plate_detector",
    "refine_window_minutes",
    "refine_pictures_per_second_per_unit",
    "refine_worker_seconds_per_picture",
    "refine_rekognition_tps",
    "refine_maximum_concurrency",
    "live_rekognition_tps",
    "refine_schedule_expression",
)
SIZES = (200, 2_000, 20_000)  # cameras, the per-size table
AWS_DEFAULTS = {"detect_labels_tps": 50, "custom_labels_tps": 50, "units": 5, "lambda": 1000}
# Rekognition Image group-2 APIs (DetectLabels), per image, by monthly volume.
DETECT_LABELS_TIERS = "1000000:0.001,4000000:0.0008,30000000:0.0006,inf:0.00025"


# Options of the estimate: (flag, default, help); the type is the default's.
WORKLOAD: tuple[tuple[str, Any, str | None], ...] = (
    ("--picture-mb", 0.5, "raw and blurred picture size"),
    ("--live-seconds", 0.8, "live_blur duration per picture"),
    ("--vehicle-share", 0.5, "share of pictures with a vehicle"),
    ("--plate-seconds", 0.5, "packaged_ocr's extra live_blur time on a picture with vehicles"),
    ("--worker-seconds", 0.45, "refine_worker duration per picture, backoff included"),
    (
        "--pictures-per-second-per-unit",
        0.0,
        "T: Custom Labels throughput per inference unit (0: the deployment's "
        "refine_pictures_per_second_per_unit; not published by AWS: measure)",
    ),
    (
        "--live-burst-seconds",
        0.0,
        "cameras upload on the same tick: the DetectLabels TPS to request drains one tick's "
        "burst in this (0: 95 %% of the interval, the rate that keeps up)",
    ),
    ("--model-start-minutes", 10.0, "S: StartProjectVersion to RUNNING"),
    ("--model-stop-minutes", 1.0, "StopProjectVersion to STOPPED"),
    ("--mapping-enabling-minutes", 0.5, None),
    ("--blurred-retention-days", 30.0, "how long blurred pictures are kept"),
    ("--log-kb-per-picture", 2.0, None),
    ("--seed-model-hours", 1.0, "the seed article's Custom Labels hours a day"),
    ("--seed-inference-units", 1, None),
)
PRICES: tuple[tuple[str, Any, str | None], ...] = (
    ("--detect-labels-tiers", DETECT_LABELS_TIERS, "monthly images:price per image, ..."),
    ("--custom-labels-hour-price", 4.0, "per inference-unit hour"),
    ("--lambda-gb-second-price", 0.0000133334, "arm64"),
    ("--lambda-request-price", 0.20, "per million"),
    ("--s3-put-price", 0.005, "per 1,000 PUT"),
    ("--s3-get-price", 0.0004, "per 1,000 GET"),
    ("--s3-gb-month-price", 0.023, None),
    ("--dynamodb-write-price", 0.625, "per million write units"),
    ("--dynamodb-read-price", 0.125, "per million read units"),
    ("--dynamodb-gb-month-price", 0.25, None),
    ("--sqs-request-price", 0.40, "per million"),
    ("--logs-gb-price", 0.50, "ingestion per GB"),
)


class CostError(Exception):
    """A wrong argument or an unreadable configuration: printed, exit code 2."""


@dataclass(frozen=True)
class Deployment:
    settings: dict[str, Any]
    sources: dict[str, str]
    files: list[str]
    notes: tuple[str, ...] = ()


def read_deployment(env: str) -> Deployment:
    """Each setting as Terraform resolves it for environments/<env> (devtools/tfconfig.py)."""
    try:
        environment = tfconfig.Environment.read(env, "cost", ENVIRONMENTS)
    except tfconfig.ConfigError as error:
        raise CostError(str(error)) from error
    settings: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in SETTINGS:
        setting = environment.stack_setting(name)
        if setting is None:
            raise CostError(f"the stack variable {name} has no value in environments/{env}")
        if isinstance(setting, tfconfig.Unresolved):
            raise CostError(
                f"{setting.source} passes {name} = {setting.expression}: an expression "
                "this estimate does not evaluate (a literal or var.<name> is read)"
            )
        settings[name], sources[name] = setting.value, setting.source
    notes = tuple(
        f"environments/{env}/terraform.tfvars sets {name}, but main.tf does not pass it to "
        "the stack: Terraform does not use it"
        for name in SETTINGS
        if name in environment.tfvars and not environment.passed_to_stack(name)
    )
    return Deployment(settings, sources, environment.files, notes)


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
    interval = reconciler_minutes(str(s["reconciler_schedule_expression"]))
    sizing = sizing_for(args, s, per_day)
    units, max_units = sizing.min_units, sizing.max_units

    serving_minutes = min(sizing.serve_minutes, float(s["model_max_run_minutes"]))
    overhead_minutes = 2 * interval + args.mapping_enabling_minutes + args.model_stop_minutes
    model_minutes = min(
        args.model_start_minutes + serving_minutes + overhead_minutes,
        float(sizing.watchdog_minutes) + args.model_stop_minutes,
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
            float(s["raw_retention_days"])
            + args.blurred_retention_days
            + 1  # the live output, overwritten by the refinement, kept one day noncurrent
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

    # status_counts (camblur status): about 2.5 counted changes a picture (live, refined, an
    # outcome), each one conditional UpdateItem of a counts item of about 1.3 KB (2 units);
    # Lambda reads the stream for free; 5 ms of a 256 MB function a change, batches of ~50.
    counted_changes = per_month * 2.5
    status_counts = (
        counted_changes * 2 * args.dynamodb_write_price / 1e6
        + counted_changes / 50 * request
        + counted_changes * 0.25 * 0.005 * gb_second
    )

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
        Line(
            "Status counts",
            status_counts,
            0.0,
            f"{counted_changes:,.0f} changes counted from the stream, 2 write units each",
        ),
        Line("SQS", sqs, sqs, f"{sqs_requests:,.0f} requests"),
        Line("CloudWatch Logs", logs, logs, f"{args.log_kb_per_picture:g} KB a picture"),
    ]
    facts = {
        "sizing": sizing,
        "pictures_per_day": per_day,
        "model_minutes": model_minutes,
        "serving_minutes": serving_minutes,
        "units": units,
        "max_units": max_units,
        "interval": interval,
        "max_units_model": ours_model * max_units / units,
    }
    return lines, facts


def burst_seconds(args: argparse.Namespace) -> float:
    return args.live_burst_seconds or 0.95 * args.interval_minutes * 60


def per_unit(args: argparse.Namespace, settings: dict[str, Any]) -> float:
    return args.pictures_per_second_per_unit or float(
        settings["refine_pictures_per_second_per_unit"]
    )


def sizing_for(args: argparse.Namespace, settings: dict[str, Any], pictures: float) -> Sizing:
    """refine_schedule's sizing of a day (steady state: T measured, no autoscaling headroom)."""
    return size_session(
        SizingInputs(
            pictures=round(pictures),
            per_unit=per_unit(args, settings),
            measured=True,
            window_minutes=float(settings["refine_window_minutes"]),
            start_minutes=args.model_start_minutes,
            seconds_per_picture=float(settings["refine_worker_seconds_per_picture"]),
            units_quota=int(settings["model_max_inference_units"]),
            tps_quota=float(settings["refine_rekognition_tps"]),
            concurrency_cap=int(settings["refine_maximum_concurrency"]),
            max_run_minutes=int(settings["model_max_run_minutes"]),
        )
    )


def schedule_minutes_after_midnight(expression: str) -> float:
    """`cron(M H * * ? *)` -> H x 60 + M; the refinement-only delay starts there."""
    match = re.fullmatch(r"cron\((\d+) (\d+) .*\)", expression.strip())
    if not match:
        raise CostError(f"cannot read refine_schedule_expression {expression!r}: cron(M H ...)")
    return int(match.group(2)) * 60 + int(match.group(1))


def refinement_only(
    args: argparse.Namespace, deployment: Deployment, lines: list[Line], facts: dict[str, Any]
) -> tuple[float, float, float]:
    """Monthly cost and the delay (shortest, longest hours) of the refinement-only mode:
    this deployment without DetectLabels or DetectText, and with live_blur only recording
    the picture (a tenth of its time)."""
    ours = {line.service: line.ours for line in lines}
    dropped = ours["Rekognition DetectLabels (live)"] + ours["Rekognition DetectText (plates)"]
    per_month = facts["pictures_per_day"] * args.days_per_month
    live = per_month * (
        deployment.settings["live_memory_mb"]
        / 1024
        * (args.live_seconds + args.vehicle_share * args.plate_seconds)
        * 0.9
        * args.lambda_gb_second_price
    )
    total = sum(ours.values()) - dropped - live
    # Published when the day's refinement reaches it: the schedule's hour after midnight,
    # the model's start, then the day's serving (first picture at once, last at the end).
    after = schedule_minutes_after_midnight(str(deployment.settings["refine_schedule_expression"]))
    first = (after + args.model_start_minutes + 2 * facts["interval"]) / 60
    last = first + facts["serving_minutes"] / 60
    return total, first, 24 + last


def quotas_for_size(args: argparse.Namespace, deployment: Deployment, cameras: int) -> dict:
    """What a size needs: quotas to request, concurrency settings and its monthly cost."""
    settings = deployment.settings
    per_day = cameras * 24 * 60 / args.interval_minutes
    t = per_unit(args, settings)
    need = sizing_for(
        args,
        {
            **settings,
            "model_max_inference_units": 10**6,
            "refine_rekognition_tps": 10.0**9,
            "refine_maximum_concurrency": 10**6,
            "model_max_run_minutes": 1440,
        },
        per_day,
    )
    units = max(need.min_units, 1)
    custom_tps = units * t
    detect_tps = math.ceil(cameras / burst_seconds(args))
    # live_blur's instances at its quota (the live trigger's own table is in the README's Scale)
    live_tps = max(detect_tps, AWS_DEFAULTS["detect_labels_tps"])
    live_concurrency = max(2, math.ceil(live_tps * args.live_seconds * 1.25))
    refine_concurrency = need.max_concurrency
    lambda_total = live_concurrency + refine_concurrency + 2  # + schedule and reconciler
    sized = {
        **settings,
        "model_max_inference_units": max(units, int(settings["model_max_inference_units"])),
        "refine_rekognition_tps": max(custom_tps, float(settings["refine_rekognition_tps"])),
        "refine_maximum_concurrency": max(
            refine_concurrency, int(settings["refine_maximum_concurrency"])
        ),
        "live_rekognition_tps": max(detect_tps, float(settings["live_rekognition_tps"])),
    }
    at_size = argparse.Namespace(**{**vars(args), "cameras": cameras})
    lines, facts = estimate(at_size, Deployment(sized, deployment.sources, deployment.files))
    return {
        "cameras": cameras,
        "pictures": per_day,
        "detect_labels_tps": max(detect_tps, AWS_DEFAULTS["detect_labels_tps"]),
        "custom_labels_tps": max(custom_tps, AWS_DEFAULTS["custom_labels_tps"]),
        "units": units,
        "lambda": max(lambda_total, AWS_DEFAULTS["lambda"]),
        "live_concurrency": live_concurrency,
        "refine_concurrency": refine_concurrency,
        "model_hours": facts["model_minutes"] / 60,
        "monthly": sum(line.ours for line in lines),
        "refinement_only": refinement_only(at_size, deployment, lines, facts)[0],
    }


def print_sizes(args: argparse.Namespace, deployment: Deployment) -> None:
    print(
        f"Per size, one picture every {args.interval_minutes:g} min, a "
        f"{deployment.settings['refine_window_minutes']}-minute refinement window "
        f"(quotas: what to request, AWS defaults where they suffice):"
    )
    print(
        f"{'cameras':>7} {'pictures/day':>12} {'DetectLabels TPS':>16} {'CustomLabels TPS':>16} "
        f"{'IU':>4} {'Lambda conc.':>12} {'refine_max_conc':>15} "
        f"{'model h/day':>11} {'monthly $':>10} {'refine-only $':>13}"
    )
    for cameras in SIZES:
        q = quotas_for_size(args, deployment, cameras)
        print(
            f"{cameras:>7,} {q['pictures']:>12,.0f} {q['detect_labels_tps']:>16,} "
            f"{q['custom_labels_tps']:>16,g} {q['units']:>4} {q['lambda']:>12,} "
            f"{q['refine_concurrency']:>15,} "
            f"{q['model_hours']:>11.2f} {q['monthly']:>10,.0f} {q['refinement_only']:>13,.0f}"
        )
    print(
        "  IU: model_max_inference_units (the per-model quota, AWS default 5); CustomLabels "
        "TPS: refine_rekognition_tps; DetectLabels TPS drains one tick's burst in "
        f"{burst_seconds(args):g} s (live_rekognition_tps; make bench-scale); Lambda conc.: "
        "the account's, live_blur at its quota + refine_worker + 2; refine_max_conc: "
        "refine_maximum_concurrency."
    )


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
    for note in deployment.notes:
        print(f"  note: {note}")
    print()
    print(f"{'':34} {'this deployment':>16} {'seed design':>12}   notes")
    for line in lines:
        print(f"{line.service:34} {line.ours:>14,.2f} $ {line.seed:>10,.2f} $   {line.note}")
    ours, seed = sum(l.ours for l in lines), sum(l.seed for l in lines)  # noqa: E741
    print(f"{'total per month':34} {ours:>14,.2f} $ {seed:>10,.2f} $")
    print()
    print(
        f"Model time a day: start {args.model_start_minutes:g} min + serving "
        f"{facts['serving_minutes']:.0f} min at {per_unit(args, deployment.settings):g} pictures/s per unit "
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
        args.seed_model_hours
        * 3600
        * per_unit(args, deployment.settings)
        * args.seed_inference_units
    )
    print(
        f"The seed's {args.seed_model_hours:g} h a day serves {seed_capacity:,.0f} pictures at "
        f"{per_unit(args, deployment.settings):g}/s per unit; it covers "
        f"{min(1.0, seed_capacity / facts['pictures_per_day']):.0%} of this workload."
    )
    sizing: Sizing = facts["sizing"]
    print(
        f"Sizing (refine/sizing.py): {sizing.min_units} inference units, "
        f"{sizing.max_concurrency} workers, watchdog {sizing.watchdog_minutes} min; "
        + (
            "the day fits the quotas."
            if sizing.fits
            else f"the day does NOT fit: {sizing.units_needed} units and "
            f"{sizing.tps_needed:g} DetectCustomLabels TPS would (see the per-size table)."
        )
    )
    print()
    only, first, last = refinement_only(args, deployment, lines, facts)
    print(
        f"Refinement only (not deployed; a comparison): no live DetectLabels, each picture "
        f"published after the day's refinement, persons and plates from the model alone: "
        f"{only:,.2f} $ a month (this deployment: {ours:,.2f} $), pictures published "
        f"{first:.1f} to {last:.1f} h after they were taken."
    )
    print()
    print_sizes(args, deployment)
    print()
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
    for title, options in (("workload assumptions", WORKLOAD), ("prices (USD)", PRICES)):
        group = p.add_argument_group(title)
        for flag, default, help_text in options:
            group.add_argument(flag, type=type(default), default=default, help=help_text)
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
