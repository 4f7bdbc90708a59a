"""The root ``selfdata`` command and its groups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from selfdata import __version__
from selfdata.cli import (
    admin,
    audit,
    connectors,
    demo,
    doctypes,
    energy,
    importing,
    keys,
    move,
    portability,
    rights,
    services,
    spaces,
)
from selfdata.cli.context import CliState, console, fail, reporting_errors
from selfdata.platform import init_instance

app = typer.Typer(
    name="selfdata",
    help="selfdata — personal data spaces that citizens control.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
app.add_typer(spaces.app, name="space")
app.add_typer(admin.operator_app, name="operator")
app.add_typer(doctypes.app, name="doctypes")
app.add_typer(keys.app, name="keys")
app.add_typer(services.app, name="services")
app.add_typer(energy.app, name="energy")
app.add_typer(audit.app, name="audit")
app.add_typer(rights.app, name="rights")
app.add_typer(move.app, name="move")
app.add_typer(connectors.app, name="connectors")


def _version(value: bool) -> None:
    if value:
        console.print(f"selfdata {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            envvar="SELFDATA_HOME",
            help="Instance folder (default: per-user data folder).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    ctx.obj = CliState(home=home)


@app.command()
def init(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option(help="PostgreSQL URL for operators (default: SQLite in the instance folder)."),
    ] = None,
) -> None:
    """Create the instance: folder, settings, master key (mode 0600) and database schema."""
    state: CliState = ctx.obj
    home = state.resolved_home()
    with reporting_errors():
        settings, created_key = init_instance(home, database_url=database_url)
    console.print(f"[green]✓[/] instance ready at [bold]{settings.home}[/]")
    if created_key:
        console.print(
            f"[green]✓[/] master key created at {settings.key_file} (mode 0600). "
            "[yellow]Back it up apart from the database: without it no data can be read.[/]"
        )


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Bring the database schema up to date (safe to run at every deployment)."""
    state: CliState = ctx.obj
    home = state.resolved_home()
    if not home.exists():
        fail(f"no selfdata instance at {home}; run `selfdata init` first (or pass --home)")
    with reporting_errors():
        init_instance(home, create=False)
    console.print("[green]✓[/] schema up to date")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL deployments).")] = 1,
) -> None:
    """Serve the HTTP API (and the web app) with uvicorn."""
    from selfdata.cli.serving import serve_instance

    state: CliState = ctx.obj
    with reporting_errors():
        serve_instance(state.settings(), host, port, workers)


app.command(name="demo")(demo.demo)
app.command("export")(portability.export)
app.command("import-space")(portability.import_space)
app.command("import")(importing.import_files)


def main() -> None:
    app()
