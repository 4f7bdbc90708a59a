"""Base load and peak hours, from a half-hourly (or hourly) load curve.

**Base load** (« consommation de veille », the always-on part: fridge, box, standby):
the 10th percentile (numpy's linear interpolation) of the *average power* of the
intervals starting between 01:00 and 05:00 local time, over the window (the last 365
days of data by default). Night hours leave out the evening and morning activity; a
low percentile rather than the minimum ignores a rare dip (a power cut, a meter gap)
while staying under the nights when the water heater runs. Its yearly consumption is
``W × 8760 h`` and its yearly cost that energy under the household's tariff.

**Peak hours**: the average consumption of each local hour of the day (Wh in that hour,
averaged over the days that have it), and the hours with the highest averages.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .localtime import DAY_S, local_seconds
from .readings import Consumption
from .tariffs import Tariff, constant_power_cost

__all__ = ["BASE_LOAD_PERCENTILE", "NIGHT_HOURS", "base_load", "peak_hours", "window"]

BASE_LOAD_PERCENTILE = 10.0
NIGHT_HOURS = (1, 5)


def window(c: Consumption, days: int = 365) -> Consumption:
    """The last ``days`` days of ``c`` (ending at its last value)."""
    if c.ts.shape[0] == 0:
        return c
    lo = int(np.searchsorted(c.ts, int(c.ts[-1]) + c.interval_s - days * DAY_S))
    return Consumption(
        c.kind, c.meter_id, c.label, c.reading_type, c.interval_s, c.ts[lo:], c.amount[lo:], c.meter
    )


def base_load(c: Consumption, tz_name: str, tariff: Tariff | None = None) -> dict[str, Any] | None:
    """The base load in W, its yearly kWh and cost (cents); None without a load curve."""
    if not c.half_hourly or c.kind != "electricity" or c.ts.shape[0] == 0:
        return None
    sod = local_seconds(c.ts, tz_name) % DAY_S
    lo, hi = NIGHT_HOURS
    night = (sod >= lo * 3600) & (sod < hi * 3600) & ~np.isnan(c.amount)
    if not night.any():
        return None
    power = c.amount[night] * 3600.0 / c.interval_s
    watts = round(float(np.percentile(power, BASE_LOAD_PERCENTILE)), 1)
    year_kwh = round(watts * 8760 / 1000, 3)
    out: dict[str, Any] = {
        "watts": watts,
        "year_wh": round(watts * 8760, 1),
        "year_cents": None,
        "tariff": None,
        "night_values": int(night.sum()),
    }
    if tariff is not None:
        kva = c.meter.get("subscribed_power_kva")
        year_kwh, cents = constant_power_cost(watts, tariff, kva if isinstance(kva, int) else None)
        out |= {"year_wh": round(year_kwh * 1000, 1), "year_cents": cents, "tariff": tariff.id}
    return out


def peak_hours(c: Consumption, tz_name: str, top: int = 3) -> dict[str, Any] | None:
    """Average Wh of each local hour of the day and the ``top`` busiest hours."""
    if not c.half_hourly or c.ts.shape[0] == 0:
        return None
    hour = (local_seconds(c.ts, tz_name) % DAY_S) // 3600
    present = ~np.isnan(c.amount)
    sums = np.bincount(hour[present], weights=c.amount[present], minlength=24)
    counts = np.bincount(hour[present], minlength=24)
    hours_seen = counts * c.interval_s / 3600.0  # how many hours of data each hour has
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(hours_seen > 0, sums / hours_seen, np.nan)
    order = [int(h) for h in np.argsort(-np.nan_to_num(mean, nan=-1.0), kind="stable")[:top]]
    return {
        "by_hour": [None if np.isnan(v) else round(float(v), 1) for v in mean],
        "top": [{"hour": h, "wh": round(float(mean[h]), 1)} for h in order if hours_seen[h] > 0],
    }
