"""``selfdata services …``: the operator vets and manages services."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from selfdata.cli.context import CliState, console, reporting_errors
from selfdata.consent import build_notice
from selfdata.services import PURPOSES, Manifest, load_manifest

app = typer.Typer(help="Register, approve, suspend and retire services.", no_args_is_help=True)


@app.command("register")
def register(
    ctx: typer.Context,
    manifest: Annotated[Path, typer.Argument(help="Manifest file (YAML or JSON).")],
) -> None:
    """Register a service, or a new version of it (pending until approved)."""
    state: CliState = ctx.obj
    with reporting_errors():
        parsed = load_manifest(manifest)
        with state.platform() as platform:
            info = platform.services.register(parsed)
    console.print(
        f"[green]✓[/] service [bold]{info.id}[/] {info.manifest.version} registered: {info.status}"
    )


def _set(ctx: typer.Context, service_id: str, action: str) -> None:
    state: CliState = ctx.obj
    with reporting_errors(), state.platform() as platform:
        info = getattr(platform.services, action)(service_id)
    console.print(f"[green]✓[/] service [bold]{info.id}[/] is now {info.status}")


@app.command("approve")
def approve(ctx: typer.Context, service_id: str) -> None:
    """Approve a vetted service: citizens can now consent to it."""
    _set(ctx, service_id, "approve")


@app.command("suspend")
def suspend(ctx: typer.Context, service_id: str) -> None:
    """Suspend a service: it loses access to every space at its next request."""
    _set(ctx, service_id, "suspend")


@app.command("retire")
def retire(ctx: typer.Context, service_id: str) -> None:
    """Retire a service for good."""
    _set(ctx, service_id, "retire")


@app.command("list")
def list_services(ctx: typer.Context) -> None:
    """Every registered service and its status."""
    state: CliState = ctx.obj
    with reporting_errors(), state.platform() as platform:
        found = platform.services.list()
    table = Table("id", "version", "status", "mode", "controller", title=f"{len(found)} service(s)")
    for info in found:
        table.add_row(
            info.id,
            info.manifest.version,
            info.status,
            info.manifest.mode,
            info.manifest.controller.name,
        )
    console.print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    service_id: str,
    lang: Annotated[str, typer.Option(help="Language of the notice: fr or en.")] = "fr",
) -> None:
    """The notice citizens read before consenting to a service."""
    state: CliState = ctx.obj
    with reporting_errors(), state.platform() as platform:
        info = platform.services.get(service_id)
        notice = build_notice(info.manifest, platform.doctypes)
    console.print(notice.text("en" if lang == "en" else "fr"), markup=False)
    console.print(f"\n[dim]notice {notice.id} · sha256 {notice.hash} · status {info.status}[/]")


@app.command("secret")
def secret(ctx: typer.Context, service_id: str) -> None:
    """Issue a client secret for a service that can keep one (shown once)."""
    state: CliState = ctx.obj
    with reporting_errors(), state.platform() as platform:
        value = platform.services.issue_client_secret(service_id)
    console.print(value, markup=False)


@app.command("schema")
def schema(
    output: Annotated[
        Path | None, typer.Option(help="Write to this file instead of the screen.")
    ] = None,
) -> None:
    """The JSON Schema of service manifests."""
    text = json.dumps(Manifest.json_schema_document(), indent=2, sort_keys=True)
    if output:
        output.write_text(text + "\n", encoding="utf-8")
        console.print(f"[green]✓[/] schema written to {output}")
    else:
        console.print(text, markup=False)


@app.command("purposes")
def purposes() -> None:
    """The DPV purposes a manifest may declare."""
    table = Table("term", "English", "français")
    for term, (en, fr) in PURPOSES.items():
        table.add_row(term, en, fr)
    console.print(table)
