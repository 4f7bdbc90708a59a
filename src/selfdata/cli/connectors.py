"""``selfdata connectors …``: the connectors offered, a space's accounts, syncing them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from selfdata.access.connectors import AccountState
from selfdata.cli.context import CliState, console, fail, reporting_errors

app = typer.Typer(
    help="Connectors: sync a citizen's data from a provider's API (docs/connectors.md).",
    no_args_is_help=True,
)

_SPACE = typer.Option("--space", help="A space (its name): act on its accounts as its citizen.")
_ACCOUNT = typer.Option("--account", help="One account of that space (its id).")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "—"


def _accounts_table(states: list[AccountState]) -> Table:
    table = Table()
    table.add_column("account", no_wrap=True)  # ids are copied from here: never cut
    table.add_column("connector", overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("last sync / next (UTC)", overflow="fold")
    table.add_column("reason", overflow="fold")
    for s in states:
        table.add_row(
            s.id,
            s.connector,
            s.status,
            f"{_when(s.last_sync_at)} / {_when(s.next_sync_at)}",
            (s.message or {}).get("en") or s.reason or "",
        )
    return table


@app.command("list")
def list_connectors(ctx: typer.Context, space: Annotated[str | None, _SPACE] = None) -> None:
    """The connectors this instance offers; with --space, that space's accounts."""
    state: CliState = ctx.obj
    with reporting_errors(), state.platform() as platform:
        if space is None:
            table = Table("connector", "configured", "doctypes", "description")
            for c in platform.connectors.available():
                table.add_row(
                    c.name,
                    "yes" if c.configured else "no",
                    ", ".join(c.doctypes),
                    c.description.get("en", ""),
                )
            console.print(table)
            return
        view = platform.citizen_view(space)
        console.print(_accounts_table(platform.connectors.accounts(view)))


@app.command("sync")
def sync(
    ctx: typer.Context,
    space: Annotated[str | None, _SPACE] = None,
    account: Annotated[str | None, _ACCOUNT] = None,
) -> None:
    """Sync now. Without --space: every account whose sync is due (what `selfdata
    serve` does every `connector_sync_minutes`; for a cron job). With --space: every
    account of that space, or only --account."""
    state: CliState = ctx.obj
    if account is not None and space is None:
        fail("--account needs --space (the space the account belongs to)")
    with reporting_errors(), state.platform() as platform:
        if space is None:
            ran = platform.connectors.sync_due()
            console.print(f"[green]✓[/] {ran} due account(s) synced")
            return
        view = platform.citizen_view(space)
        ids = [account] if account else [a.id for a in platform.connectors.accounts(view)]
        states = [platform.connectors.sync_for(view, account_id) for account_id in ids]
    console.print(_accounts_table(states))
    if any(s.status != "ok" for s in states):
        raise typer.Exit(1)
