"""``selfdata rights …``: what a citizen can check about their rights, offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from selfdata.cli.context import console, err_console, fail
from selfdata.errors import CryptoError
from selfdata.rights import verify_certificate

app = typer.Typer(
    help="Check signed erasure certificates (the citizen's rights).", no_args_is_help=True
)


@app.command("verify-certificate")
def verify(
    file: Annotated[
        Path, typer.Argument(help="An erasure certificate (the compact JWS, as given).")
    ],
    jwks: Annotated[
        Path,
        typer.Option(help="The operator's published JWK Set (/.well-known/jwks.json)."),
    ],
) -> None:
    """Check an erasure certificate offline against the operator's keys and print what it
    states. Exits 1 if the signature or the statement does not hold."""
    try:
        keys = json.loads(jwks.read_text(encoding="utf-8"))
        token = file.read_text(encoding="utf-8").strip()
    except FileNotFoundError as exc:
        fail(f"{exc.filename}: no such file")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        fail(f"cannot read the certificate or the key set: {exc}")
    try:
        statement = verify_certificate(token, keys)
    except CryptoError as exc:
        err_console.print(f"[bold red]✗[/] {exc.detail}")
        raise typer.Exit(1) from None
    console.print(f"[green]✓[/] signed by the operator: {statement.describe()}")
    for table, count in sorted(statement.counts.items()):
        console.print(f"  {table}: {count}")
    if statement.log_seq is not None:
        console.print(f"  access log head: event {statement.log_seq}, {statement.log_head}")
