"""``selfdata audit …``: signed checkpoints and offline verification of access logs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from selfdata.access.portability import LOG_MEMBER, open_archive
from selfdata.audit import verify_lines
from selfdata.cli.context import CliState, console, err_console, fail, reporting_errors
from selfdata.errors import ConfigurationError
from selfdata.portability import is_age, is_zip

app = typer.Typer(
    help="Sign log checkpoints and verify exported access logs.", no_args_is_help=True
)


@app.command("verify")
def verify(
    file: Annotated[
        Path,
        typer.Argument(
            help="An access log exported by selfdata (JSON Lines), or a space archive "
            "(`selfdata export`, encrypted or not) holding one."
        ),
    ],
    jwks: Annotated[
        Path | None,
        typer.Option(help="The operator's published JWK Set to check signatures against."),
    ] = None,
    passphrase_stdin: Annotated[
        bool,
        typer.Option("--passphrase-stdin", help="The encrypted archive's passphrase (stdin)."),
    ] = False,
) -> None:
    """Check a log offline: every event chained, every checkpoint signed and matching.
    Exits 1 on any inconsistency."""
    try:
        keys = json.loads(jwks.read_text(encoding="utf-8")) if jwks else None
        with file.open("rb") as handle:
            if is_zip(handle.read(4)) or (handle.seek(0) == 0 and is_age(handle.read(64))):
                passphrase = sys.stdin.readline().rstrip("\r\n") if passphrase_stdin else None
                with reporting_errors(), open_archive(handle, passphrase).open(LOG_MEMBER) as log:
                    result = verify_lines(log, keys)
            else:
                handle.seek(0)
                result = verify_lines(handle, keys)
    except FileNotFoundError as exc:
        fail(f"{exc.filename}: no such file")
    except (OSError, json.JSONDecodeError) as exc:
        fail(f"cannot read the key set or log: {exc}")
    for warning in result.warnings:
        err_console.print(f"[yellow]warning:[/] {warning}")
    if not result.ok:
        for problem in result.problems:
            err_console.print(f"[bold red]✗[/] {problem}")
        raise typer.Exit(1)
    console.print(
        f"[green]✓[/] log of space {result.space_id} is intact: {result.events} events, "
        f"{result.checkpoints} signed checkpoint(s) verified"
    )


@app.command("checkpoint")
def checkpoint(
    ctx: typer.Context,
    space: Annotated[
        str | None, typer.Option(help="Only this space (default: every log that grew).")
    ] = None,
) -> None:
    """Sign the head of the access logs now (`selfdata serve` also does it every
    `checkpoint_minutes`)."""
    state: CliState = ctx.obj
    with reporting_errors(), state.platform() as platform:
        if space:
            found = platform.directory.get_space(space)
            made = platform.gate.checkpoint(found.id)
            if made is None:
                raise ConfigurationError(f"space {space} has no log yet")
            console.print(f"[green]✓[/] checkpoint of {space} at event {made.seq}")
        else:
            count = platform.gate.checkpoint_all()
            console.print(f"[green]✓[/] {count} log(s) checkpointed")


@app.command("jwks")
def jwks(ctx: typer.Context) -> None:
    """Print the operator's public JWK Set (to publish, and to verify receipts and logs)."""
    state: CliState = ctx.obj
    with reporting_errors(), state.platform() as platform:
        console.print(json.dumps(platform.signer.jwks(), indent=2), markup=False)
