"""`camblur zones`, `camblur blur` and `camblur dataset`: corrections by people (sub-apps of
camblur_cli.main, kept apart so that other commands merge without conflicts).

    camblur zones set CAMERA (--rect L,T,W,H | --polygon X1,Y1,X2,Y2,...) [--id Z] [--since T]
    camblur zones list CAMERA [--all] [--json]
    camblur zones remove CAMERA ZONE_ID [--yes]
    camblur blur KEY --box L,T,W,H [--label person|plate]
    camblur dataset export (--camera C | --day D | --reviewed) [--to s3://bucket/prefix | PATH]
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from camblur_cli import corrections
from camblur_cli.dataset import Selection, export
from camblur_cli.deployment import Deployment, DeploymentError, resolve

console = Console()
zones_app = typer.Typer(help="Privacy zones: areas of a camera's view always anonymised.")
dataset_app = typer.Typer(help="Training data for the Custom Labels model from reviewed pictures.")

EnvOption = Annotated[str, typer.Option("--env", help="environments/<ENV> to talk to")]
OutputsOption = Annotated[
    Path | None, typer.Option("--outputs", help="a saved `terraform output -json` of the stack")
]


def _deployment(env: str, outputs: Path | None) -> Deployment:
    try:
        return resolve(env, outputs)
    except DeploymentError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error


def _numbers(text: str, name: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise typer.BadParameter(f"{name} takes numbers separated by commas") from None


def _refused(error: Exception) -> typer.Exit:
    console.print(f"[red]{error}[/red]")
    return typer.Exit(1)


def _zone_row(zone: Any) -> dict[str, Any]:
    return {
        "zone_id": zone.zone_id,
        "version": zone.version,
        "shape": "rectangle" if zone.rectangle else "polygon",
        "coordinates": list(zone.rectangle or [list(point) for point in zone.polygon or ()]),
        "anonymised": list(zone.bounds),
        "since": zone.since,
        "until": zone.until,
        "created_by": zone.created_by,
    }


@zones_app.command("set")
def zones_set(
    camera: Annotated[str, typer.Argument(help="camera id (the key's first segment)")],
    rect: Annotated[str | None, typer.Option(help="left,top,width,height in 0..1")] = None,
    polygon: Annotated[
        str | None, typer.Option(help="x1,y1,x2,y2,x3,y3,... in 0..1 (its bounding area)")
    ] = None,
    zone_id: Annotated[
        str | None, typer.Option("--id", help="change this zone (a new version)")
    ] = None,
    since: Annotated[
        datetime | None, typer.Option(help="applies to pictures captured from (UTC; default now)")
    ] = None,
    env: EnvOption = "local",
    outputs: OutputsOption = None,
) -> None:
    """Always anonymise an area of CAMERA's pictures, from a given time on; audited."""
    if (rect is None) == (polygon is None):
        raise typer.BadParameter("give --rect or --polygon")
    rectangle = _numbers(rect, "--rect") if rect else None
    if rectangle is not None and len(rectangle) != 4:
        raise typer.BadParameter("--rect takes left,top,width,height")
    points = None
    if polygon:
        values = _numbers(polygon, "--polygon")
        if len(values) % 2:
            raise typer.BadParameter("--polygon takes pairs of x,y")
        points = list(zip(values[::2], values[1::2], strict=True))
    deployment = _deployment(env, outputs)
    start = since.replace(tzinfo=UTC) if since and since.tzinfo is None else since
    try:
        zone = corrections.set_zone(
            deployment,
            camera,
            corrections.caller(deployment),
            rectangle=rectangle,
            polygon=points,
            zone_id=zone_id,
            since=start,
        )
    except corrections.CorrectionError as error:
        raise _refused(error) from error
    console.print(
        f"zone {zone.zone_id} version {zone.version} of {camera}: pictures captured from "
        f"{zone.since} on are anonymised in {', '.join(f'{v:.3f}' for v in zone.bounds)}"
    )


@zones_app.command("list")
def zones_list(
    camera: Annotated[str, typer.Argument(help="camera id")],
    every_version: Annotated[
        bool, typer.Option("--all", help="also versions that ended (changed or removed)")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    env: EnvOption = "local",
    outputs: OutputsOption = None,
) -> None:
    """CAMERA's zones in force (or every version)."""
    rows = [
        _zone_row(zone)
        for zone in corrections.list_zones(_deployment(env, outputs), camera, every_version)
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"privacy zones of {camera}")
    for column in ("zone", "version", "shape", "anonymised (l, t, w, h)", "since", "until", "by"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["zone_id"],
            str(row["version"]),
            row["shape"],
            ", ".join(f"{value:.3f}" for value in row["anonymised"]),
            row["since"],
            row["until"] or "",
            row["created_by"],
        )
    console.print(table)


@zones_app.command("remove")
def zones_remove(
    camera: Annotated[str, typer.Argument(help="camera id")],
    zone_id: Annotated[str, typer.Argument(help="the zone (see zones list)")],
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
    env: EnvOption = "local",
    outputs: OutputsOption = None,
) -> None:
    """End a zone now: pictures captured from now on no longer get it (those captured while it
    applied keep it); audited."""
    deployment = _deployment(env, outputs)
    if not yes:
        typer.confirm(
            f"Pictures of {camera} captured from now on will show the area of {zone_id}. End it?",
            abort=True,
        )
    try:
        zone = corrections.remove_zone(deployment, camera, zone_id, corrections.caller(deployment))
    except corrections.CorrectionError as error:
        raise _refused(error) from error
    console.print(f"zone {zone.zone_id} of {camera} ends at {zone.until}")


def blur(
    key: Annotated[str, typer.Argument(help="the raw picture's key")],
    box: Annotated[str, typer.Option(help="left,top,width,height in 0..1 of the picture")],
    label: Annotated[str, typer.Option(help="person or plate")] = "person",
    env: EnvOption = "local",
    outputs: OutputsOption = None,
) -> None:
    """Add a box a detector missed: recorded, audited, and the picture re-blurred at once by
    the pipeline; it stays until an erasure."""
    values = _numbers(box, "--box")
    if len(values) != 4:
        raise typer.BadParameter("--box takes left,top,width,height")
    if label not in ("person", "plate"):
        raise typer.BadParameter("--label is person or plate")
    deployment = _deployment(env, outputs)
    try:
        result = corrections.add_manual_box(
            deployment, key, *values, label=label, actor=corrections.caller(deployment)
        )  # type: ignore[misc]
    except corrections.CorrectionError as error:
        raise _refused(error) from error
    console.print(
        f"box added to {key} by {result.box.added_by} (revision {result.revision}); "
        f"re-blur requested via the {result.requested_via.replace('_', ' ')} ({result.request_id})"
    )


@dataset_app.command("export")
def dataset_export(
    camera: Annotated[str | None, typer.Option(help="reviewed pictures of one camera")] = None,
    day: Annotated[str | None, typer.Option(help="reviewed pictures of one capture day")] = None,
    reviewed: Annotated[
        bool, typer.Option("--reviewed", help="every reviewed picture (scans the state table)")
    ] = False,
    to: Annotated[
        str | None, typer.Option(help="s3://bucket/prefix or a local path (default: here)")
    ] = None,
    env: EnvOption = "local",
    outputs: OutputsOption = None,
) -> None:
    """Write a Custom Labels training manifest (Ground Truth object detection) of reviewed
    pictures: persons and licence plates of every source; images referenced in the raw bucket."""
    if day is not None:
        try:
            day = date.fromisoformat(day).isoformat()
        except ValueError:
            raise typer.BadParameter(f"{day!r} is not a day: use YYYY-MM-DD") from None
    try:
        selection = Selection(camera=camera, day=day, every_reviewed=reviewed)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    try:
        result = export(_deployment(env, outputs), selection, to)
    except ValueError as error:
        raise _refused(error) from error
    skipped = ", ".join(f"{count} {why}" for why, count in sorted(result.skipped.items()))
    console.print(
        f"{len(result.lines)} picture(s), {result.boxes} box(es) written to {result.destination}"
        + (f"; left out: {skipped}" if skipped else "")
    )
    console.print(
        "CreateDataset reads the images from the raw bucket with your permissions: create the "
        "dataset within raw_retention_days of capture, as a principal allowed to read raw."
    )
