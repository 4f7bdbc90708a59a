"""``selfdata energy …``: the operator's reference data for the energy service.

Tariffs, heating degree-days and the Tempo calendar are public data kept as validated
files in ``<home>/reference/`` (docs/energy.md); nothing here touches a citizen's space.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from selfdata.cli.context import CliState, console, reporting_errors
from selfdata.energy import reference

app = typer.Typer(help="Reference data of the built-in energy service.", no_args_is_help=True)
degree_days_app = typer.Typer(help="Heating degree-days (DJU) of your weather station.")
tariffs_app = typer.Typer(help="Electricity, gas and water tariffs used for costs.")
tempo_app = typer.Typer(help="Tempo day colours (RTE calendar).")
app.add_typer(degree_days_app, name="degree-days")
app.add_typer(tariffs_app, name="tariffs")
app.add_typer(tempo_app, name="tempo")

_FILE = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]


def _home(ctx: typer.Context) -> Path:
    state: CliState = ctx.obj
    return state.settings().home


@degree_days_app.command("import")
def import_degree_days(
    ctx: typer.Context,
    file: _FILE,
    station: Annotated[
        str | None,
        typer.Option(help="Station: its NUM_POSTE or NOM_USUEL in a Météo-France file."),
    ] = None,
) -> None:
    """Merge daily degree-days from a CSV (date;dju or Météo-France AAAAMMJJ;TN;TX)."""
    with reporting_errors():
        found, imported, skipped = reference.import_degree_days(_home(ctx), file, station)
    first, last = min(found.by_day), max(found.by_day)
    console.print(
        f"[green]✓[/] {imported} days imported"
        + (f", {skipped} skipped (temperature missing)" if skipped else "")
        + f"; {len(found)} days of degree-days known ({first} → {last}), "
        f"station {found.station or 'unnamed'}"
    )


@degree_days_app.command("show")
def show_degree_days(ctx: typer.Context) -> None:
    """Degree-days known, month by month."""
    with reporting_errors():
        found = reference.current(_home(ctx)).degree_days
    if not len(found):
        console.print("no degree-days imported yet (`selfdata energy degree-days import FILE`)")
        return
    months: dict[str, tuple[float, int]] = {}
    for day, value in found.by_day.items():
        total, n = months.get(day.strftime("%Y-%m"), (0.0, 0))
        months[day.strftime("%Y-%m")] = (total + value, n + 1)
    table = Table("month", "DJU (base 18 °C)", "days", title=f"station {found.station or '—'}")
    for month, (total, n) in sorted(months.items()):
        table.add_row(month, f"{total:.1f}", str(n))
    console.print(table)


@tariffs_app.command("show")
def show_tariffs(ctx: typer.Context) -> None:
    """The tariffs in force: the operator's file, else the defaults shipped."""
    with reporting_errors():
        ref = reference.current(_home(ctx))
    table = Table(
        "id",
        "energy",
        "option",
        "valid from",
        "prices (€ TTC)",
        "subscription / month",
        title=f"tariffs from {ref.tariffs_origin}",
    )
    for t in ref.tariffs.tariffs:
        prices = ", ".join(f"{k} {v}" for k, v in t.prices.items())
        by_prices: dict[str, list[str]] = {}  # the same override for several powers, once
        for kva, override in t.prices_by_kva.items():
            by_prices.setdefault(", ".join(f"{k} {v}" for k, v in override.items()), []).append(kva)
        for override_text, powers in by_prices.items():
            prices += f"; {'/'.join(powers)} kVA: {override_text}"
        subs = ", ".join(
            f"{k} kVA {v}" if k != "any" else str(v) for k, v in t.subscription_monthly.items()
        )
        table.add_row(t.id, t.energy, t.option, t.valid_from.isoformat(), prices, subs or "—")
    console.print(table)
    unsure = [f"{t.id} ({t.valid_from.isoformat()})" for t in ref.tariffs.tariffs if t.indicative]
    if unsure:  # figures not checked against a published grid: say so, with where to look
        console.print(f"indicative, see their source in the file: {', '.join(unsure)}")


@tariffs_app.command("import")
def import_tariffs(ctx: typer.Context, file: _FILE) -> None:
    """Validate a tariff file (the format of the shipped one) and use it from now on."""
    with reporting_errors():
        book = reference.import_tariffs(_home(ctx), file)
    console.print(f"[green]✓[/] {len(book.tariffs)} tariff(s) imported from {file}")


@tempo_app.command("import")
def import_tempo(ctx: typer.Context, file: _FILE) -> None:
    """Merge Tempo day colours from a CSV (date;colour: blue/white/red or bleu/blanc/rouge)."""
    with reporting_errors():
        days = reference.import_tempo(_home(ctx), file)
    console.print(f"[green]✓[/] {days} Tempo days known")


@app.command("manifest")
def manifest() -> None:
    """Print the energy service's manifest, to adapt and `selfdata services register`."""
    text = resources.files("selfdata.energy").joinpath("manifest.yaml").read_text("utf-8")
    typer.echo(text, nl=False)
