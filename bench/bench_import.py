"""Importing Enedis exports end to end, through ``ImportRunner`` and the gate.

* ``import.enedis_1y_half_hourly`` — one year of a half-hourly load curve (17,520
  lines, the customer-area CSV layout: UTF-8 with a BOM, ISO stamps with offsets,
  decimal commas) into a new space: format detection, the validation pass, the keyed
  fingerprint of the file, the source row, the writing pass (meter record, series).
* ``import.enedis_10y_half_hourly`` — ten years (175,320 lines), the same way.
* ``import.enedis_readings_per_s`` — the ten-year figure as a rate: readings (175,344)
  over the best end-to-end time (DESIGN §7: ≥ 1,000,000 readings/s from a meter CSV).
* ``import.enedis_readings_per_cpu_s`` — the same readings over the CPU seconds of that
  best run: what the rate is when no other process competes for the cores.
* ``import.enedis_reimport_10y`` — the ten-year file again into the same space:
  nothing new to store (the idempotent path: parse twice, merge, nothing gained).

Each timed run starts from a fresh space (created outside the timing).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from _common import (
    Config,
    Figure,
    Target,
    best,
    expect,
    instance,
    time_alternating,
    time_runs,
    time_runs_with,
)
from selfdata.access import SpaceView
from selfdata.importers import ImporterRegistry, ImportRunner

__all__ = ["run"]

PARIS = ZoneInfo("Europe/Paris")
PRM = "09876543210987"
TEN_YEARS = 3653 * 48  # 2015-2024, three leap years


def enedis_curve(years: int) -> bytes:
    """``years`` of half-hourly readings from 2015-01-01, as Enedis exports them."""
    start = datetime(2015, 1, 1, tzinfo=PARIS).astimezone(UTC)
    end = datetime(2015 + years, 1, 1, tzinfo=PARIS).astimezone(UTC)
    lines = [
        "Identifiant PRM;Type de donnees;Date de debut;Date de fin;Grandeur physique;"
        "Grandeur metier;Etape metier;Unite;Pas en minutes",
        f"{PRM};Courbe de charge;01/01/2015;01/01/{2015 + years};Energie active;"
        "Consommation;Comptage Brut;W;",
        "Horodate;Valeur",
    ]
    step = timedelta(minutes=30)
    current, i = start + step, 0
    while current <= end:
        lines.append(f"{current.astimezone(PARIS).isoformat()};{200 + (i * 37) % 900},5")
        current += step
        i += 1
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def run(config: Config) -> list[Figure]:
    repeat = config.pick(5, 2)
    one_year, ten_years = enedis_curve(1), enedis_curve(10)
    registry = ImporterRegistry.discover()
    with instance(config) as bench:

        def space() -> SpaceView:
            return bench.new_space("import")

        def importer(data: bytes, points: int) -> Callable[[SpaceView], None]:
            def go(view: SpaceView) -> None:
                report = ImportRunner(view, registry).run(
                    io.BytesIO(data), "Enedis_Conso_Heure.csv"
                )
                expect(
                    report.points_gained == points,
                    f"expected {points} new points, got {report.points_gained}",
                )

            return go

        warm = space()
        importer(one_year, 17_520)(warm)  # warm-up
        year_s = best(time_runs_with(space, importer(one_year, 17_520), repeat))
        decade = time_alternating(
            {"decade": lambda: partial(importer(ten_years, TEN_YEARS), space())}, repeat
        )["decade"]
        fastest = min(decade, key=lambda timing: timing.wall)
        decade_s = fastest.wall
        again = space()
        importer(ten_years, TEN_YEARS)(again)
        reimport_s = best(time_runs(lambda: importer(ten_years, 0)(again), repeat))
    return [
        Figure(
            "import.enedis_1y_half_hourly",
            year_s,
            "s",
            f"best of {repeat}",
            Target("<", 0.2),
            f"17,520 lines, {len(one_year) / 1e6:.1f} MB, detect + validate + write",
        ),
        Figure(
            "import.enedis_10y_half_hourly",
            decade_s,
            "s",
            f"best of {repeat}",
            Target("<", 2.0),
            f"175,344 lines, {len(ten_years) / 1e6:.1f} MB",
        ),
        Figure(
            "import.enedis_readings_per_s",
            TEN_YEARS / decade_s,
            "readings/s",
            f"best of {repeat}",
            Target(">=", 1_000_000),
            "the ten-year file, end to end (detect + validate + fingerprint + write)",
        ),
        Figure(
            "import.enedis_readings_per_cpu_s",
            TEN_YEARS / fastest.cpu,
            "readings/s",
            f"CPU time of the best of {repeat}",
            note="the same, over the process's CPU seconds (less disturbed by other load)",
        ),
        Figure(
            "import.enedis_reimport_10y",
            reimport_s,
            "s",
            f"best of {repeat}",
            note="the same file again: 0 points gained",
        ),
    ]
