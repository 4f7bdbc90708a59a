"""``selfdata move``: move a space directly between two instances (docs/move.md)."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from selfdata.access import Actor
from selfdata.cli.context import CliState, console, fail, read_password, reporting_errors
from selfdata.cli.portability import _progress, describe_counts

app = typer.Typer(
    help="Move a space directly to or from another instance, with a one-time code.",
    no_args_is_help=True,
)

OPERATOR = Actor.cli_operator()


@app.command()
def offer(
    ctx: typer.Context,
    space: Annotated[str, typer.Option(help="The space to move away (its name).")],
) -> None:
    """On the source: create the one-time code that lets another instance take the
    space (as its citizen; logged as `move.offer`). The code is shown once."""
    state: CliState = ctx.obj
    with reporting_errors(), state.platform() as platform:
        view = platform.citizen_view(space)
        made = platform.moves.offer(view.actor, view.space_id)
    console.print(f"[green]✓[/] move of [bold]{space}[/] authorised from {made.source_url}")
    console.print(f"code: {made.code}", soft_wrap=True)
    console.print(
        f"valid once, until {made.expires_at.isoformat()}; the space stays here until the "
        "destination confirms, then it is erased"
    )


def _read_code(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().strip()
        if not line:
            fail("--code-stdin was given but standard input is empty")
        return line
    return getpass.getpass("Move code: ").strip()


@app.command()
def pull(
    ctx: typer.Context,
    source_url: Annotated[str, typer.Argument(help="The source instance (https://…).")],
    name: Annotated[str, typer.Option(help="Name of the new space here.")],
    code_stdin: Annotated[
        bool,
        typer.Option("--code-stdin", help="The move code on the first line of standard input."),
    ] = False,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="The new account's password on the next line of standard input.",
        ),
    ] = False,
) -> None:
    """On the destination: take the space from the source with the citizen's code —
    fetch, import all or nothing, confirm (the source then erases its copy)."""
    state: CliState = ctx.obj
    code = _read_code(code_stdin)
    password = read_password(password_stdin, prompt="Password of the new account")
    with (
        reporting_errors(),
        state.platform() as platform,
        _progress(f"moving from {source_url}") as advance,
    ):
        report = platform.moves.pull(
            OPERATOR, source_url, code, name=name, password=password, progress=advance
        )
    console.print(
        f"[green]✓[/] space [bold]{report.name}[/] moved in from {report.source_url} "
        f"({report.space_id}, was {report.source_space_id}): {describe_counts(report.counts)}"
    )
    console.print("the source erased its copy; its certificate is in the new space's log")
