"""``selfdata operator …``: operator accounts for the HTTP admin API."""

from __future__ import annotations

from typing import Annotated

import typer

from selfdata.cli.context import CliState, console, read_password, reporting_errors

operator_app = typer.Typer(help="Manage operator accounts.", no_args_is_help=True)


@operator_app.command("create")
def create_operator(
    ctx: typer.Context,
    username: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create an operator account (administers spaces; cannot read citizens' data)."""
    state: CliState = ctx.obj
    password = read_password(password_stdin)
    with reporting_errors(), state.platform() as platform:
        account = platform.directory.create_operator(username, password)
    console.print(f"[green]✓[/] operator [bold]{account.username}[/] created")
