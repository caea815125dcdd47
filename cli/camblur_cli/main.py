"""`camblur`: see and fix a deployed camblur stack.

camblur status [--day D] [--camera C] [--recount] [--json]
camblur explain KEY
camblur erase (--key K | --camera C [--since T] [--until T]) [--yes]
camblur reprocess (--key K | --camera C [--day D] | --day D) [--pass P]
camblur redrive (--live | --refine)
camblur zones set|list|remove CAMERA ...
camblur blur KEY --box L,T,W,H [--label person|plate]
camblur dataset export (--camera C | --day D | --reviewed) [--to DEST]
camblur review [--port P]   (a local page on 127.0.0.1: review a day)

Each command takes --env E: environments/<E> (default local: the embedded
endpoint of `make up`), its names from its Terraform outputs, or from
--outputs FILE (a saved `terraform output -json`).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from camblur_cli.correction_commands import blur, dataset_app, zones_app
from camblur_cli.deployment import ROOT, Deployment, DeploymentError, resolve
from camblur_cli.erasure import Eraser, Scope
from camblur_cli.handover import SessionStopping
from camblur_cli.inspect import Inspector
from camblur_cli.redrive import Redriver, Which
from camblur_cli.reprocess import (
    DEFAULT_RATE,
    Checkpoint,
    Finder,
    HandoverRefused,
    Pass,
    Reprocessor,
    Selection,
    checkpoint_path,
    plan,
)

CHECKPOINTS = ROOT / ".camblur" / "reprocess"

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
app.add_typer(zones_app, name="zones")
app.add_typer(dataset_app, name="dataset")
app.command("blur")(blur)
console = Console()

EnvOption = Annotated[str, typer.Option("--env", help="environments/<ENV> to talk to")]
OutputsOption = Annotated[
    Path | None, typer.Option("--outputs", help="a saved `terraform output -json` of the stack")
]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of tables")]


def _deployment(env: str, outputs: Path | None) -> Deployment:
    try:
        return resolve(env, outputs)
    except DeploymentError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error


def _capture_day(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a day: use YYYY-MM-DD") from None


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str, sort_keys=True))


@app.command()
def status(
    env: EnvOption = "local",
    outputs: OutputsOption = None,
    day: Annotated[
        str | None,
        typer.Option(
            help="capture day YYYY-MM-DD (default: today in the cameras' time zone)",
            callback=_capture_day,
        ),
    ] = None,
    camera: Annotated[
        str | None, typer.Option(help="one camera (the last 7 days unless --day)")
    ] = None,
    recount: Annotated[
        bool,
        typer.Option(
            "--recount",
            help="count the pictures' index entries instead of the kept counts (exact, slow)",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Pictures per camera and day by status, queue depths, recent refinement runs, the model."""
    deployment = _deployment(env, outputs)
    result = Inspector(deployment, deployment.queue_names).status(day, camera, recount=recount)
    if as_json:
        _print_json(result.as_json())
        return
    source = "counted from the index" if recount else "kept counts"
    pictures = Table(title=f"pictures by camera and capture day ({source})")
    for column in ("camera", "day", "total", "counts"):
        pictures.add_column(column)
    for (camera_id, capture_day), counts in sorted(result.counts.items()):
        total = sum(value for name, value in counts.items() if ":" not in name)
        described = ", ".join(f"{name} {value}" for name, value in sorted(counts.items()))
        pictures.add_row(camera_id, capture_day, str(total), described)
    console.print(pictures)
    queues = Table(title="queues")
    for column in ("queue", "visible", "in flight", "delayed", "oldest"):
        queues.add_column(column)
    for role, depth in result.queues.items():
        age = depth.get("oldest_age_seconds")
        queues.add_row(
            role,
            str(depth["visible"]),
            str(depth["in_flight"]),
            str(depth["delayed"]),
            "-" if age is None else f"{age} s",
        )
    console.print(queues)
    runs = Table(title="refinement runs")
    columns = ("day", "status", "queued", "refined", "failed", "model minutes", "est. cost", "end")
    for column in columns:
        runs.add_column(column)
    for run in result.runs:
        failed = int(run.get("pictures_failed") or 0) + int(run.get("pictures_dead_lettered") or 0)
        cost = run.get("estimated_cost_usd")
        runs.add_row(
            str(run.get("run_day")),
            str(run.get("status")),
            str(run.get("queued", "")),
            str(run.get("pictures_refined", "")),
            str(failed),
            str(run.get("model_minutes", "")),
            "" if cost is None else f">= ${cost:.2f}",
            str(run.get("end_reason", "")),
        )
    console.print(runs)
    session = result.session
    console.print(
        f"model session: {session.get('phase') if session else 'none (model not wanted)'}"
    )
    if result.model:
        model = result.model
        units = f", {model['inference_units']} units" if model.get("inference_units") else ""
        console.print(f"model: {model.get('status')}{units} ({model.get('version_arn')})")


@app.command()
def explain(
    key: Annotated[str, typer.Argument(help="the raw picture's key")],
    env: EnvOption = "local",
    outputs: OutputsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Everything known about one picture: versions, boxes by source, passes, errors."""
    deployment = _deployment(env, outputs)
    found = Inspector(deployment).explain(key)
    if found["state"] is None and not found["raw_versions"] and not found["blurred_versions"]:
        # Nothing anywhere: most often the key lacks the raw bucket's notification prefix.
        prefix = deployment.raw_key_prefix
        hint = f"; did you mean {prefix}{key}?" if prefix and not key.startswith(prefix) else ""
        console.print(
            f"[red]nothing known about {key}: no state item, no raw or blurred version "
            f"(keys are the raw bucket's, as uploaded){hint}[/red]"
        )
        raise typer.Exit(1)
    if as_json:
        _print_json(found)
        return
    state = found["state"]
    if state is None:
        # Uploaded but never recorded: the live pass failed before writing (see the live DLQ
        # in `camblur status`), or has not run yet.
        console.print(
            f"[yellow]no state item for {key}: the live pass has not recorded it (not run yet, "
            "or failed before it could: see the live queue and DLQ in `camblur status`)[/yellow]"
        )
    else:
        console.print(
            f"[bold]{key}[/bold]: {state.get('status')} (camera {state.get('camera_id')}, day {state.get('capture_day')})"
        )
        for name in (
            "reason",
            "error",
            "detector",
            "updated_at",
            "refine_run_id",
            "refine_outcome",
            "refine_reason",
            "refine_error",
            "refined_at",
        ):
            if state.get(name):
                console.print(f"  {name}: {state[name]}")
    boxes = Table(title="boxes by source")
    for column in ("source", "label", "confidence", "left, top, width, height"):
        boxes.add_column(column)
    for source, entries in found["boxes_by_source"].items():
        for box in entries:
            place = ", ".join(f"{box[side]:.3f}" for side in ("left", "top", "width", "height"))
            boxes.add_row(source, str(box.get("label")), f"{box.get('confidence', 0):.1f}", place)
    console.print(boxes)
    passes = Table(title="what happened, in time order")
    for column in ("when", "what", "detail"):
        passes.add_column(column)
    for event in found["passes"]:
        passes.add_row(event["at"], event["what"], event["detail"])
    console.print(passes)
    for title, versions in (
        ("raw versions", found["raw_versions"]),
        (f"blurred versions ({found['blurred_key']})", found["blurred_versions"]),
    ):
        table = Table(title=title)
        for column in ("version", "kind", "latest", "last modified", "size"):
            table.add_column(column)
        for version in versions:
            table.add_row(
                version["version_id"],
                version["kind"],
                str(version["latest"]),
                version["last_modified"],
                str(version.get("size") or ""),
            )
        console.print(table)


@app.command()
def erase(
    key: Annotated[str | None, typer.Option(help="one picture's raw key")] = None,
    camera: Annotated[str | None, typer.Option(help="every picture of one camera")] = None,
    since: Annotated[
        datetime | None,
        typer.Option(help="with --camera: captured at or after (UTC unless a zone is given)"),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(help="with --camera: captured before (UTC unless a zone is given)"),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
    env: EnvOption = "local",
    outputs: OutputsOption = None,
) -> None:
    """Erase every raw and blurred version and the state of a picture or a camera; audited."""
    try:
        scope = Scope(key=key, camera=camera, since=_aware(since), until=_aware(until))
    except ValueError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    deployment = _deployment(env, outputs)
    eraser = Eraser(deployment)
    found = eraser.find(scope)
    console.print(f"{scope.describe()}: {found.counts['pictures']} picture(s) found")
    if found.counts["pictures"] and not yes:
        typer.confirm("Erase them, every version, for good?", abort=True)
    who = deployment.client("sts").get_caller_identity()["Arn"]
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("erasing", total=len(found.raw_keys))
        eraser.erase(found, who, advance=lambda: progress.advance(task))
    counts = found.counts
    console.print(
        f"erased {counts['pictures']} picture(s): {counts['raw_versions']} raw version(s), "
        f"{counts['blurred_versions']} blurred version(s), {counts['state_items']} state item(s); "
        f"audited as {who}"
    )


def _aware(moment: datetime | None) -> datetime | None:
    """In UTC, as the state items' captured_at are (compared as strings); no zone means UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@app.command()
def reprocess(
    key: Annotated[str | None, typer.Option(help="one picture's raw key")] = None,
    camera: Annotated[str | None, typer.Option(help="every picture of one camera")] = None,
    day: Annotated[
        str | None, typer.Option(help="capture day YYYY-MM-DD", callback=_capture_day)
    ] = None,
    chosen: Annotated[
        Pass, typer.Option("--pass", help="live: detect and blur again; refine: the model")
    ] = Pass.LIVE,
    rate: Annotated[
        float,
        typer.Option(
            min=0.1,
            max=40.0,
            help="live pass: pictures a second handed over (below the DetectLabels quota)",
        ),
    ] = DEFAULT_RATE,
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="progress file (default .camblur/reprocess/<env>-<pass>-<scope>.json)"),
    ] = None,
    restart: Annotated[bool, typer.Option("--restart", help="ignore a saved progress")] = False,
    env: EnvOption = "local",
    outputs: OutputsOption = None,
) -> None:
    """Hand pictures back to the deployed pipeline: resumable, paced, summarised."""
    try:
        selection = Selection(key=key, camera=camera, day=day)
    except ValueError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    deployment = _deployment(env, outputs)
    path = checkpoint or checkpoint_path(CHECKPOINTS, env, chosen, selection)
    progress_file = Checkpoint(path) if restart else Checkpoint.load(path)
    candidates = Finder(deployment).find(selection)
    work = plan(chosen, candidates, progress_file)
    try:
        reprocessor = Reprocessor(deployment, chosen, rate=rate)
    except DeploymentError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    if progress_file.resumed:
        console.print(
            f"resuming: {work.already} picture(s) handed over before, after {progress_file.after!r}"
        )
    console.print(
        f"{selection.describe()}: {len(candidates)} picture(s) found, {len(work.todo)} to hand "
        f"to {reprocessor.destination()} ({chosen.value} pass)"
    )
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"reprocess ({chosen.value})", total=len(work.todo))
            reprocessor.run(
                work,
                progress_file,
                selection.describe(),
                advance=lambda n: progress.advance(task, n),
            )
    except SessionStopping as error:
        console.print(
            f"[yellow]{error}: {progress_file.queued} message(s) wait in the refine queue; run "
            f"again in a few minutes to open a session for them ({path})[/yellow]"
        )
        raise typer.Exit(1) from error
    except HandoverRefused as error:
        console.print(f"[red]stopped: {error}[/red]; run again to continue from there ({path})")
        _print_reprocess_summary(progress_file)
        raise typer.Exit(1) from error
    except KeyboardInterrupt:
        console.print(f"[yellow]interrupted; run again to continue ({path})[/yellow]")
        raise typer.Exit(130) from None
    _print_reprocess_summary(progress_file)
    if chosen is Pass.REFINE and progress_file.run is not None:
        console.print(
            f"refine run {progress_file.run.run_id}: the model reconciler starts the model on "
            "its next pass, opens the queue once it runs and stops it when the queue is drained"
        )


def _print_reprocess_summary(progress_file: Checkpoint) -> None:
    table = Table(title="reprocess summary")
    table.add_column("pictures")
    table.add_column("count", justify="right")
    table.add_row("queued", str(progress_file.queued))
    for reason, count in sorted(progress_file.skipped.items()):
        table.add_row(f"skipped: {reason}", str(count))
    console.print(table)


@app.command()
def redrive(
    live: Annotated[bool, typer.Option("--live", help="the live DLQ")] = False,
    refine: Annotated[bool, typer.Option("--refine", help="the refine DLQ")] = False,
    env: EnvOption = "local",
    outputs: OutputsOption = None,
) -> None:
    """Replay dead-lettered work: each message leaves the DLQ only once it was sent back."""
    if live == refine:
        console.print("[red]choose one dead-letter queue: --live or --refine[/red]")
        raise typer.Exit(2)
    deployment = _deployment(env, outputs)
    try:
        redriver = Redriver(deployment, Which.LIVE if live else Which.REFINE)
    except DeploymentError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    depth = redriver.depth()
    which = "live" if live else "refine"
    console.print(f"{which} DLQ: about {depth} message(s); replaying to {redriver.destination()}")
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"redrive ({which})", total=depth or None)
        summary = redriver.redrive(advance=lambda: progress.advance(task))
    table = Table(title="redrive summary")
    table.add_column("messages")
    table.add_column("count", justify="right")
    table.add_row("replayed", str(summary.replayed))
    for reason, count in sorted(summary.resolved.items()):
        table.add_row(f"removed, nothing to do: {reason}", str(count))
    for reason, count in sorted(summary.kept.items()):
        table.add_row(f"left in the DLQ: {reason}", str(count))
    if summary.arrived_meanwhile:
        table.add_row(
            "arrived during the redrive (left for the next one)", str(summary.arrived_meanwhile)
        )
    console.print(table)
    if which == "refine" and summary.replayed:
        console.print(
            "refine messages wait in the refine queue for the next model session (the nightly "
            "schedule, or camblur reprocess --pass refine)"
        )


@app.command()
def review(
    port: Annotated[int, typer.Option(help="port on 127.0.0.1 (0: any free port)")] = 8765,
    days: Annotated[int, typer.Option(help="capture days the camera list looks back")] = 14,
    env: EnvOption = "local",
    outputs: OutputsOption = None,
) -> None:
    """Review pictures in the browser: a local page on 127.0.0.1 only, blurred copies only."""
    from camblur_cli.review.app import ReviewServer  # Flask only when the page is wanted

    deployment = _deployment(env, outputs)
    who = deployment.client("sts").get_caller_identity()["Arn"]
    try:
        server = ReviewServer(deployment, who, port=port, days=days)
    except OSError as error:
        console.print(f"[red]cannot listen on 127.0.0.1:{port}: {error}[/red]")
        raise typer.Exit(2) from error
    console.print(f"review page on {server.url} (corrections recorded as {who}); Ctrl-C stops it")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
