"""Heating degree-days (DJU, « degrés-jours unifiés ») and weather-corrected comparison.

The operator imports daily temperatures of a weather station (Météo-France open data:
``AAAAMMJJ``, ``TN``, ``TX``) or ready-made degree-days. A day's degree-days use the
**min/max method** (« méthode Météo », also called the climatological method) with a
base of 18 °C::

    DJU = max(0, 18 − (Tmin + Tmax) / 2)

(the COSTIC method, which weights the part of the day below the base, is not used:
it needs hourly data and gives close totals over a month.)

Weather correction: a period's consumption is split into a part that does not depend
on the weather (``base``: days × the median daily consumption of days with no heating,
DJU = 0, in the data) and a heating part proportional to the degree-days::

    corrected = base + (consumption − base) × DJU_reference / DJU_period

so "this winter, at last winter's temperatures, you would have used *corrected*".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from selfdata.errors import FieldError, ValidationFailed

from .localtime import day_number

__all__ = [
    "BASE_TEMPERATURE",
    "DegreeDays",
    "corrected",
    "dju_min_max",
    "from_json",
    "parse_degree_days",
]

BASE_TEMPERATURE = 18.0
_DATE = ("date", "aaaammjj", "day", "jour")
_TMIN = ("tmin", "tn")
_TMAX = ("tmax", "tx")
_DJU = ("dju", "hdd", "degree_days")
_STATION_ID = ("num_poste", "station_id")
_STATION_NAME = ("nom_usuel", "station")


def dju_min_max(tmin: float, tmax: float, base: float = BASE_TEMPERATURE) -> float:
    return max(0.0, base - (tmin + tmax) / 2)


class DegreeDays:
    """Degree-days by local date."""

    def __init__(self, by_day: Mapping[date, float], station: str | None = None) -> None:
        items = sorted(by_day.items())
        self.station = station
        self.by_day = dict(items)
        self.days = np.array([day_number(d) for d, _ in items], dtype=np.int64)
        self.values = np.array([v for _, v in items], dtype=np.float64)

    def __len__(self) -> int:
        return int(self.days.shape[0])

    def total(self, first: date, end: date) -> tuple[float, int]:
        """(sum of DJU, days known) for ``first`` ≤ day < ``end``."""
        lo, hi = np.searchsorted(self.days, [day_number(first), day_number(end)])
        return round(float(self.values[lo:hi].sum()), 2), int(hi - lo)

    def of_days(self, days: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """DJU of each day number (NaN when unknown)."""
        if not len(self):
            return np.full(days.shape[0], np.nan)
        idx = np.clip(np.searchsorted(self.days, days), 0, len(self) - 1)
        return np.where(self.days[idx] == days, self.values[idx], np.nan)

    def as_dict(self) -> dict[str, Any]:
        return {
            "station": self.station,
            "base_temperature": BASE_TEMPERATURE,
            "method": "min-max",
            "days": {d.isoformat(): round(v, 2) for d, v in self.by_day.items()},
        }


def corrected(consumption: float, base: float, dju_period: float, dju_reference: float) -> float:
    """The consumption the period would have had with the reference period's weather."""
    if dju_period <= 0:
        return consumption
    return base + (consumption - base) * dju_reference / dju_period


def _parse_date(text: str) -> date:
    text = text.strip()
    if len(text) == 8 and text.isdigit():
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    return date.fromisoformat(text[:10])


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return None


def _station_rows(
    header: list[str], rows: list[list[str]], source: str, station: str | None
) -> list[tuple[int, list[str]]]:
    """The (line, row) pairs of one station. Météo-France's departmental files hold
    every station of the département (``NUM_POSTE``, ``NOM_USUEL``): one must be chosen."""
    numbered = list(enumerate(rows[1:], start=2))
    i_id, i_name = _column(header, _STATION_ID), _column(header, _STATION_NAME)
    if i_id is None and i_name is None:
        return numbered

    def ident(row: list[str]) -> tuple[str, str]:
        num = row[i_id].strip() if i_id is not None and i_id < len(row) else ""
        name = row[i_name].strip() if i_name is not None and i_name < len(row) else ""
        return num, name

    if station is None:
        found = sorted({ident(row) for _, row in numbered if any(c.strip() for c in row)})
        if len(found) <= 1:
            return numbered
        shown = ", ".join(f"{num} ({name})" for num, name in found[:5])
        raise ValidationFailed(
            f"{source} holds {len(found)} stations ({shown}…); choose one with --station",
            [FieldError(("NUM_POSTE",), "several stations", None, source, "format")],
        )
    wanted = station.strip().casefold()
    kept = [(n, r) for n, r in numbered if wanted in (x.casefold() for x in ident(r))]
    if not kept:
        raise ValidationFailed(
            f"{source} has no station {station!r} (NUM_POSTE or NOM_USUEL)",
            [FieldError(("NUM_POSTE",), f"no station {station!r}", None, source, "format")],
        )
    return kept


def parse_degree_days(
    text: str, source: str, station: str | None = None
) -> tuple[dict[date, float], int]:
    """Daily DJU from a CSV (``;`` or ``,``): columns ``date`` and ``dju``, or
    ``date``, ``tmin``, ``tmax`` (Météo-France: ``AAAAMMJJ``, ``TN``, ``TX``, °C), and how
    many days were skipped because a temperature was missing (an empty cell)."""
    sample = text[:2048]
    delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        raise ValidationFailed(
            f"{source} is empty", [FieldError(("file",), "no header", 1, source)]
        )
    header = rows[0]
    i_date, i_dju = _column(header, _DATE), _column(header, _DJU)
    i_min, i_max = _column(header, _TMIN), _column(header, _TMAX)
    if i_date is None or (i_dju is None and (i_min is None or i_max is None)):
        raise ValidationFailed(
            f"{source}, line 1: expected columns date and dju, or date, tmin and tmax "
            "(Météo-France: AAAAMMJJ, TN, TX)",
            [FieldError(("header",), "missing columns", 1, source, "format")],
        )
    out: dict[date, float] = {}
    errors: list[FieldError] = []
    skipped = 0
    for line, row in _station_rows(header, rows, source, station):
        if not any(cell.strip() for cell in row):
            continue
        values = [i_dju] if i_dju is not None else [i_min, i_max]
        if any(i is not None and i < len(row) and not row[i].strip() for i in values):
            skipped += 1  # Météo-France leaves a cell empty when a value is missing
            continue
        try:
            day = _parse_date(row[i_date])
        except (ValueError, IndexError):
            errors.append(FieldError(("date",), "expected YYYY-MM-DD or YYYYMMDD", line, source))
            continue
        try:
            if i_dju is not None:
                value = float(row[i_dju].replace(",", "."))
                if not 0 <= value <= 60:
                    raise ValueError
            else:
                assert i_min is not None
                assert i_max is not None
                tmin = float(row[i_min].replace(",", "."))
                tmax = float(row[i_max].replace(",", "."))
                if not (-60 <= tmin <= tmax <= 60):
                    raise ValueError
                value = dju_min_max(tmin, tmax)
        except (ValueError, IndexError):
            field = "dju" if i_dju is not None else "tmin/tmax"
            expected = (
                "a number of degree-days between 0 and 60"
                if i_dju is not None
                else "temperatures in °C with tmin ≤ tmax, between -60 and 60"
            )
            errors.append(FieldError((field,), f"expected {expected}", line, source))
            continue
        out[day] = round(value, 2)
    if errors:
        raise ValidationFailed(f"{source}: {len(errors)} invalid line(s); nothing imported", errors)
    if not out:
        raise ValidationFailed(
            f"{source}: no data lines", [FieldError(("file",), "no data", None, source)]
        )
    return out, skipped


def from_json(data: Mapping[str, Any]) -> DegreeDays:
    days = {date.fromisoformat(k): float(v) for k, v in data.get("days", {}).items()}
    return DegreeDays(days, data.get("station"))
