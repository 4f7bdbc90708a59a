"""Meter readings turned into one shape: amounts consumed per interval.

Whatever the meter gives — an Enedis load curve in W (average power) or Wh per
interval, a daily consumption in Wh, kWh or m³, a daily index — the energy service
works on a :class:`Consumption`: the start of each interval and what was consumed in
it, in **Wh** for electricity and gas and in **litres** for water. A missing value is
NaN (a gap, never a zero).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__all__ = ["GAS_KWH_PER_M3", "Consumption", "Kind", "best_per_meter", "consumption"]

Kind = Literal["electricity", "gas", "water"]
GAS_KWH_PER_M3 = 11.2
"""Default gas conversion coefficient (kWh PCS per m³), the order of magnitude GRDF
applies in France (it publishes the exact one per area and month on the bill)."""

_DEFAULT_INTERVAL = {"load_curve": 1800, "daily_consumption": 86_400, "daily_index": 86_400}
_PREFERENCE = {"load_curve": 0, "daily_consumption": 1, "daily_index": 2}


@dataclass(frozen=True, eq=False)  # arrays: compare by identity
class Consumption:
    """What one meter consumed, interval by interval (sorted by ``ts``)."""

    kind: Kind
    meter_id: str
    label: str | None
    reading_type: str
    interval_s: int
    ts: npt.NDArray[np.int64]
    """Start of each interval, epoch seconds UTC."""
    amount: npt.NDArray[np.float64]
    """Consumed in the interval: Wh (electricity, gas) or litres (water); NaN = missing."""
    meter: Mapping[str, Any]

    @property
    def unit(self) -> Literal["Wh", "L"]:
        return "L" if self.kind == "water" else "Wh"

    @property
    def half_hourly(self) -> bool:
        """Fine enough for base load, peak hours and off-peak splits."""
        return self.interval_s <= 3600


def _factor(kind: str, unit: str, interval_s: int, gas_kwh_per_m3: float) -> float:
    """Multiplier from the meter's unit to Wh (energy) or litres (water)."""
    if unit == "W":  # average power over the interval
        return interval_s / 3600
    if unit == "Wh":
        return 1.0
    if unit == "kWh":
        return 1000.0
    if unit == "m3":
        return 1000.0 if kind == "water" else gas_kwh_per_m3 * 1000.0
    if unit == "L":
        return 1.0
    raise ValueError(f"unknown meter unit {unit!r}")


def consumption(
    meter: Mapping[str, Any],
    ts: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    *,
    gas_kwh_per_m3: float = GAS_KWH_PER_M3,
) -> Consumption:
    """A meter's readings (``values``: the ``value`` column) as amounts per interval."""
    kind: Kind = meter["kind"]
    reading_type = str(meter.get("reading_type", "load_curve"))
    interval_s = int(meter.get("interval_s") or _DEFAULT_INTERVAL.get(reading_type, 1800))
    raw = np.asarray(values, dtype=np.float64).reshape(-1)
    t = np.asarray(ts, dtype=np.int64)
    if reading_type == "daily_index":
        # The day's consumption is the next reading minus this one; a fall (meter
        # replaced, index reset) is a gap rather than a negative consumption.
        used = np.diff(raw)
        used[used < 0] = np.nan
        # Two readings more than a day apart (25 h on a clock change) leave a gap
        # rather than charging several days to one.
        step_ok = np.diff(t) <= interval_s + 3600
        used[~step_ok] = np.nan
        t, raw = t[:-1], used
    amount = raw * _factor(kind, str(meter["unit"]), interval_s, gas_kwh_per_m3)
    return Consumption(
        kind=kind,
        meter_id=str(meter.get("meter_id", "")),
        label=meter.get("label"),
        reading_type=reading_type,
        interval_s=interval_s,
        ts=t,
        amount=amount,
        meter=meter,
    )


def best_per_meter(found: Iterable[Consumption]) -> list[Consumption]:
    """One consumption per (kind, meter): the finest reading type available, the load
    curve before the daily consumption before the daily index."""
    best: dict[tuple[str, str], Consumption] = {}
    for item in found:
        key = (item.kind, item.meter_id)
        current = best.get(key)
        rank = _PREFERENCE.get(item.reading_type, 9)
        if current is None or rank < _PREFERENCE.get(current.reading_type, 9):
            best[key] = item
    order = {"electricity": 0, "gas": 1, "water": 2}
    return sorted(best.values(), key=lambda c: (order[c.kind], c.meter_id))
