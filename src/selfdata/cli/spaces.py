"""``selfdata space …``: the operator manages citizens' spaces."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from selfdata.access import Actor
from selfdata.cli.context import CliState, console, fail, read_password, reporting_errors

app = typer.Typer(
    help="Create, list, suspend, resume and erase citizens' spaces.", no_args_is_help=True
)

OPERATOR = Actor.cli_operator()


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The citizen's username (3–64 of a-z 0-9 . _ -).")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a space and its citizen account, with its own encryption key."""
    state: CliState = ctx.obj
    password = read_password(password_stdin)
    with reporting_errors(), state.platform() as platform:
        space = platform.directory.create_space(name, password, OPERATOR)
    console.print(f"[green]✓[/] space [bold]{space.name}[/] created ({space.id})")


@app.command("list")
def list_spaces(
    ctx: typer.Context,
    all_: Annotated[
        bool, typer.Option("--all", help="Include erased spaces (tombstones).")
    ] = False,
) -> None:
    """List spaces with their status."""
    state: CliState = ctx.obj
    with reporting_errors(), state.platform() as platform:
        found = platform.directory.list_spaces(include_erased=all_)
    table = Table("name", "status", "created", "id", title=f"{len(found)} space(s)")
    for space in found:
        style = {"active": "green", "suspended": "yellow", "erased": "red"}.get(space.status, "")
        table.add_row(
            space.name,
            f"[{style}]{space.status}[/]",
            space.created_at.strftime("%Y-%m-%d %H:%M"),
            space.id,
        )
    console.print(table)


@app.command("suspend")
def suspend(ctx: typer.Context, name: str) -> None:
    """Suspend a space: its citizen is signed out and nobody can access its data until resumed."""
    state: CliState = ctx.obj
    with reporting_errors(), state.platform() as platform:
        space = platform.directory.suspend(name, OPERATOR)
    console.print(f"[yellow]■[/] space [bold]{space.name}[/] suspended")


@app.command("resume")
def resume(ctx: typer.Context, name: str) -> None:
    """Lift a suspension."""
    state: CliState = ctx.obj
    with reporting_errors(), state.platform() as platform:
        space = platform.directory.resume(name, OPERATOR)
    console.print(f"[green]▶[/] space [bold]{space.name}[/] active again")


@app.command("erase")
def erase(
    ctx: typer.Context,
    name: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    certificate: Annotated[
        Path | None,
        typer.Option(help="Write the signed erasure certificate to this file (else print it)."),
    ] = None,
) -> None:
    """Erase a space for good: its key is destroyed first, then all its data is purged.
    Gives the signed erasure certificate to hand to the citizen."""
    state: CliState = ctx.obj
    if not yes:
        typed = typer.prompt(
            f"This destroys every piece of data of {name!r} forever. Type the name to confirm"
        )
        if typed.strip().lower() != name.strip().lower():
            fail("confirmation did not match; nothing was erased")
    with reporting_errors(), state.platform() as platform:
        done = platform.directory.erase_certified(name, OPERATOR)
    counts = done.counts
    console.print(
        f"[red]✗[/] space [bold]{name}[/] erased: key destroyed, "
        f"{counts.get('records', 0)} records, {counts.get('series_chunks', 0)} series chunks, "
        f"{counts.get('files', 0)} files and {counts.get('audit_events', 0)} log events purged"
    )
    if certificate is not None:
        certificate.write_text(done.certificate + "\n", encoding="utf-8")
        console.print(f"signed erasure certificate written to {certificate}")
    else:
        console.print(
            "signed erasure certificate (verify with `selfdata rights verify-certificate`):"
        )
        console.print(done.certificate, markup=False, soft_wrap=True)
