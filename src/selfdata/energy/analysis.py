"""The energy service's answers, as plain dicts ready to render.

Dates are ISO strings, amounts are in Wh (electricity, gas) or litres (water), money in
euro cents. Every function takes the meters' consumptions, the reference data, the
citizen's time zone and "now"; none reads anything else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from .degreedays import DegreeDays, corrected
from .gestures import HouseholdFigures, top_gestures
from .habits import base_load, peak_hours, window
from .localtime import DAY_S, local_days, zone
from .periods import Period, period_summary, total_between
from .readings import Consumption
from .reference import Reference
from .tariffs import Cost, Tariff, cost

__all__ = [
    "household",
    "meter_info",
    "monthly_report",
    "overview",
    "period_view",
    "tariff_for",
    "weather",
]


def _iso(ts: int, tz: Any) -> str:
    return datetime.fromtimestamp(ts, UTC).astimezone(tz).isoformat()


def _today(now: datetime, tz_name: str) -> date:
    return now.astimezone(zone(tz_name)).date()


def meter_info(c: Consumption, tz_name: str) -> dict[str, Any]:
    tz = zone(tz_name)
    has = c.ts.shape[0] > 0
    return {
        "kind": c.kind,
        "meter_id": c.meter_id,
        "label": c.label,
        "reading_type": c.reading_type,
        "interval_s": c.interval_s,
        "unit": c.unit,
        "first": _iso(int(c.ts[0]), tz) if has else None,
        "last": _iso(int(c.ts[-1]), tz) if has else None,
    }


def tariff_for(
    c: Consumption, ref: Reference, on: date, chosen: Mapping[str, str] | None = None
) -> Tariff | None:
    """The tariff the citizen chose for this kind, else the one the meter names."""
    wanted = (chosen or {}).get(c.kind)
    if wanted:
        found = ref.tariffs.get(wanted, on)
        if found is not None and found.energy == c.kind:
            return found
    return ref.tariffs.for_meter(c.meter, on)


def _cost(
    c: Consumption, tariff: Tariff | None, ref: Reference, tz_name: str, first: date, end: date
) -> dict[str, Any] | None:
    if tariff is None:
        return None
    p_lo, p_hi = Period("day", first).bounds(tz_name)[0], Period("day", end).bounds(tz_name)[0]
    kva = c.meter.get("subscribed_power_kva")
    found: Cost = cost(
        c, tariff, tz_name, p_lo, p_hi, days=(end - first).days, kva=kva, tempo=ref.tempo
    )
    return found.model_dump(mode="json")


def _yearly(c: Consumption, end: date, tz_name: str) -> tuple[float | None, float]:
    """Consumption over the 365 days before ``end``, extrapolated over the gaps
    (None under 30 days of data), and the share of the year measured."""
    lo, hi = (
        Period("day", end - timedelta(days=365)).bounds(tz_name)[0],
        Period("day", end).bounds(tz_name)[0],
    )
    total, count = total_between(c, lo, hi)
    expected = (hi - lo) / c.interval_s
    if count * c.interval_s < 30 * DAY_S:
        return None, count / expected
    return total * expected / count, count / expected


def _non_heating_per_day(c: Consumption, dju: DegreeDays, tz_name: str) -> float:
    """Median daily consumption of the days without heating: DJU = 0 when the
    degree-days are known, else June to August."""
    part = window(c)
    present = ~np.isnan(part.amount)
    if not present.any():
        return 0.0
    days = local_days(part.ts[present], tz_name)
    cuts = np.concatenate(([0], np.flatnonzero(np.diff(days)) + 1))
    sums = np.add.reduceat(part.amount[present], cuts)
    day_n = days[cuts]
    full = np.diff(np.append(cuts, days.shape[0])) * part.interval_s >= 23 * 3600
    if len(dju):
        warm = dju.of_days(day_n) == 0
    else:
        months = day_n.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1
        warm = (months >= 6) & (months <= 8)
    chosen = sums[warm & full]
    return float(np.median(chosen)) if chosen.shape[0] else 0.0


def weather(c: Consumption, period: Period, ref: Reference, tz_name: str) -> dict[str, Any] | None:
    """This period against the same period last year, corrected for the weather."""
    if c.kind == "water" or not len(ref.degree_days):
        return None
    ly = period.last_year()
    dju, dju_days = ref.degree_days.total(period.start, period.end)
    dju_ly, dju_ly_days = ref.degree_days.total(ly.start, ly.end)
    if dju_days < (period.end - period.start).days or dju_ly_days < (ly.end - ly.start).days:
        return None  # an incomplete degree-day series would bias the correction
    now_total, n_now = total_between(c, *period.bounds(tz_name))
    ly_total, n_ly = total_between(c, *ly.bounds(tz_name))
    if not n_now or not n_ly:
        return None
    per_day = _non_heating_per_day(c, ref.degree_days, tz_name)
    base = min(per_day * (period.end - period.start).days, now_total)
    at_ly_weather = corrected(now_total, base, dju, dju_ly)
    return {
        "dju": dju,
        "dju_last_year": dju_ly,
        "non_heating_per_day": round(per_day, 3),
        "total": round(now_total, 3),
        "total_at_last_year_weather": round(at_ly_weather, 3),
        "last_year_total": round(ly_total, 3),
        "change_pct_corrected": round((at_ly_weather - ly_total) / ly_total * 100, 1)
        if ly_total > 0
        else None,
    }


def household(
    consumptions: Sequence[Consumption],
    ref: Reference,
    tz_name: str,
    today: date,
    chosen: Mapping[str, str] | None = None,
) -> HouseholdFigures:
    """Yearly figures and average prices for the gestures' estimates."""
    figures: dict[str, Any] = {}
    prices: dict[str, float] = {}
    for c in consumptions:
        yearly, _ = _yearly(c, today, tz_name)
        if yearly is None:
            continue
        key = "water_l" if c.kind == "water" else f"{c.kind}_wh"
        if key in figures:
            continue
        figures[key] = yearly
        tariff = tariff_for(c, ref, today, chosen)
        if c.kind == "electricity":
            bl = base_load(window(c), tz_name, tariff)
            if bl is not None:
                figures["base_load_wh"] = bl["year_wh"]
        if c.kind == "gas":
            heating = yearly - 365 * _non_heating_per_day(c, ref.degree_days, tz_name)
            figures["heating_wh"] = max(heating, 0.0)
        if tariff is not None:
            spent = _cost(c, tariff, ref, tz_name, today - timedelta(days=365), today)
            measured = sum(v["amount"] for v in spent["by_period"].values()) if spent else 0
            if spent and measured > 0:
                per_unit = spent["energy_cents"] / 100 / (measured / 1000)
                if c.kind == "water":
                    figures["euros_per_m3"] = per_unit
                else:
                    prices[c.kind] = per_unit
    return HouseholdFigures(**figures, euros_per_kwh=prices or None)


def overview(
    consumptions: Sequence[Consumption],
    ref: Reference,
    tz_name: str,
    now: datetime,
    chosen: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The energy home page: for each meter, the recent figures and comparisons."""
    today = _today(now, tz_name)
    this_month = Period.containing("month", today)
    meters = []
    for c in consumptions:
        tariff = tariff_for(c, ref, today, chosen)
        recent = window(c)
        last_day = Period("day", _iso_date(int(c.ts[-1]), tz_name)) if c.ts.shape[0] else None
        yearly, measured = _yearly(c, today, tz_name)
        first_year = _iso_date(int(c.ts[0]), tz_name).year if c.ts.shape[0] else today.year
        meters.append(
            {
                "meter": meter_info(c, tz_name),
                "last_day": period_summary(c, last_day, tz_name, detail=False)
                if last_day
                else None,
                "this_month": period_summary(c, this_month, tz_name, detail=False),
                "last_month": period_summary(c, this_month.previous(), tz_name, detail=False),
                "months": [
                    _brief(period_summary(c, this_month.shift(-i), tz_name, detail=False))
                    for i in range(12, -1, -1)
                ],
                "years": [
                    _brief(period_summary(c, Period("year", date(y, 1, 1)), tz_name, detail=False))
                    for y in range(first_year, today.year + 1)
                ],
                "last_365_days": {
                    "total_extrapolated": None if yearly is None else round(yearly, 1),
                    "measured_share": round(measured, 4),
                    "cost": _cost(c, tariff, ref, tz_name, today - timedelta(days=365), today),
                },
                "base_load": base_load(recent, tz_name, tariff),
                "peak_hours": peak_hours(recent, tz_name),
            }
        )
    return {
        "generated_at": now.isoformat(),
        "timezone": tz_name,
        "tariffs": ref.tariffs_origin,
        "meters": meters,
    }


def _brief(summary: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "period": summary["period"],
        "total": summary["total"],
        "coverage": summary["coverage"],
        "last_year_total": summary["last_year"]["total"],
    }


def _iso_date(ts: int, tz_name: str) -> date:
    n = int(local_days(np.array([ts], dtype=np.int64), tz_name)[0])
    return date.fromordinal(date(1970, 1, 1).toordinal() + n)


def period_view(
    consumptions: Sequence[Consumption],
    ref: Reference,
    tz_name: str,
    period: Period,
    chosen: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One period of each meter, in detail, with navigation, last year and its cost."""
    out = []
    for c in consumptions:
        tariff = tariff_for(c, ref, period.start, chosen)
        summary = period_summary(c, period, tz_name)
        summary["cost"] = _cost(c, tariff, ref, tz_name, period.start, period.end)
        summary["weather"] = weather(c, period, ref, tz_name)
        out.append({"meter": meter_info(c, tz_name), **summary})
    return {"period": period.key, "timezone": tz_name, "meters": out}


def monthly_report(
    consumptions: Sequence[Consumption],
    ref: Reference,
    tz_name: str,
    month: Period,
    now: datetime,
    chosen: Mapping[str, str] | None = None,
    gestures: int = 3,
) -> dict[str, Any]:
    """The month's figures, its comparisons (previous month, last year, weather) and
    the gestures that would save this household the most."""
    meters = []
    for c in consumptions:
        tariff = tariff_for(c, ref, month.start, chosen)
        summary = period_summary(c, month, tz_name, detail=False)
        previous = period_summary(c, month.previous(), tz_name, detail=False)
        change = None
        if summary["total"] and previous["total"]:
            change = round((summary["total"] - previous["total"]) / previous["total"] * 100, 1)
        in_month = _between(c, *month.bounds(tz_name))
        meters.append(
            {
                "meter": meter_info(c, tz_name),
                "total": summary["total"],
                "coverage": summary["coverage"],
                "previous_month": {
                    "period": previous["period"],
                    "total": previous["total"],
                    "change_pct": change,
                },
                "last_year": summary["last_year"],
                "weather": weather(c, month, ref, tz_name),
                "cost": _cost(c, tariff, ref, tz_name, month.start, month.end),
                "base_load": base_load(in_month, tz_name, tariff),
                "peak_hours": peak_hours(in_month, tz_name),
            }
        )
    today = min(_today(now, tz_name), month.end)
    figures = household(consumptions, ref, tz_name, today, chosen)
    return {
        "month": month.key,
        "timezone": tz_name,
        "generated_at": now.isoformat(),
        "meters": meters,
        "gestures": top_gestures(figures, gestures),
    }


def _between(c: Consumption, lo: int, hi: int) -> Consumption:
    part = slice(int(np.searchsorted(c.ts, lo)), int(np.searchsorted(c.ts, hi)))
    return Consumption(
        c.kind,
        c.meter_id,
        c.label,
        c.reading_type,
        c.interval_s,
        c.ts[part],
        c.amount[part],
        c.meter,
    )
