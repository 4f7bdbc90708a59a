"""``selfdata keys …``: the master key and its rotation."""

from __future__ import annotations

import typer
from rich.progress import Progress
from rich.table import Table

from selfdata.cli.context import CliState, console, reporting_errors

app = typer.Typer(help="Inspect and rotate the master key.", no_args_is_help=True)


@app.command("status")
def status(ctx: typer.Context) -> None:
    """Which master keys exist and how many space keys each one wraps."""
    state: CliState = ctx.obj
    with reporting_errors(), state.platform() as platform:
        keyring = platform.gate.keyring()
        usage = platform.gate.key_usage()
        source = platform.gate.key_provider.description
    table = Table("master key", "active", "space keys wrapped", title=f"from {source}")
    for key_id in keyring.key_ids:
        table.add_row(
            key_id, "yes" if key_id == keyring.active_id else "", str(usage.get(key_id, 0))
        )
    console.print(table)


@app.command("rotate")
def rotate(ctx: typer.Context) -> None:
    """Create a new master key and re-wrap every space key with it (data is not
    re-encrypted). The old key stays until `selfdata keys retire`."""
    state: CliState = ctx.obj
    with reporting_errors(), state.platform() as platform:
        total = sum(platform.gate.key_usage().values())
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("re-wrapping space keys", total=total)
            result = platform.gate.rotate_master_key(progress=lambda n: progress.advance(task, n))
    console.print(
        f"[green]✓[/] new master key [bold]{result['active']}[/]; "
        f"{result['rewrapped']} space keys re-wrapped"
    )
    if result["kept"]:
        console.print(
            f"  previous key(s) {', '.join(result['kept'])} kept until "
            "[bold]selfdata keys retire[/] (running workers reload the key file by themselves)"
        )


@app.command("retire")
def retire(ctx: typer.Context) -> None:
    """Remove old master keys that no longer wrap any space key."""
    state: CliState = ctx.obj
    with reporting_errors(), state.platform() as platform:
        retired = platform.gate.retire_master_keys()
        usage = platform.gate.key_usage()
        active = platform.gate.keyring().active_id
    if retired:
        console.print(f"[green]✓[/] retired {', '.join(retired)}")
    else:
        console.print("nothing to retire")
    left = {k: n for k, n in usage.items() if k != active}
    if left:
        console.print(f"[yellow]still in use:[/] {left} — run `selfdata keys rotate` again")
