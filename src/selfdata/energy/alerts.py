"""Alerts: the days or months whose consumption went over a citizen's threshold.

A rule (doctype ``energy.alert_rule``) watches one kind (electricity, gas, water),
optionally one meter, per local day or calendar month, with a threshold in kWh or
litres. A period *exceeds* the rule when its measured total is strictly above the
threshold; the current, unfinished period is reported apart (``ongoing``) so the
citizen can be warned before the month is over.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import numpy as np

from .localtime import local_days, midnight, zone
from .periods import Period
from .readings import Consumption

__all__ = ["evaluate", "evaluate_rule"]


def _day(n: int) -> date:
    return date.fromordinal(date(1970, 1, 1).toordinal() + n)


def _daily(c: Consumption, tz_name: str, lo: int) -> tuple[list[date], list[float]]:
    part = slice(int(np.searchsorted(c.ts, lo)), c.ts.shape[0])
    ts, amount = c.ts[part], c.amount[part]
    present = ~np.isnan(amount)
    ts, amount = ts[present], amount[present]
    if ts.shape[0] == 0:
        return [], []
    days = local_days(ts, tz_name)
    cuts = np.concatenate(([0], np.flatnonzero(np.diff(days)) + 1))
    sums = np.add.reduceat(amount, cuts)
    return [_day(int(d)) for d in days[cuts]], [float(s) for s in sums]


def evaluate_rule(
    rule: Mapping[str, Any],
    c: Consumption,
    tz_name: str,
    now: datetime,
    *,
    since: date,
) -> dict[str, Any]:
    """Every period from ``since`` whose total exceeds the rule, and the ongoing one."""
    factor = 1000.0 if rule["unit"] == "kWh" else 1.0  # thresholds in kWh, amounts in Wh
    limit = float(rule["threshold"]) * factor
    if rule["period"] == "month":
        since = since.replace(day=1)  # a month is judged whole, not from mid-month
    days, sums = _daily(c, tz_name, midnight(since, tz_name))
    totals: dict[str, float] = {}
    for day, value in zip(days, sums, strict=True):
        key = Period.containing(rule["period"], day).key
        totals[key] = totals.get(key, 0.0) + value
    today = now.astimezone(zone(tz_name)).date()
    current = Period.containing(rule["period"], today).key
    exceeded = [
        {
            "period": key,
            "value": round(value / factor, 3),
            "threshold": rule["threshold"],
            "excess_pct": round((value - limit) / limit * 100, 1),
        }
        for key, value in sorted(totals.items())
        if value > limit and key != current
    ]
    ongoing_value = totals.get(current)
    return {
        "rule_id": rule.get("id"),
        "label": rule.get("label"),
        "kind": rule["kind"],
        "meter_id": c.meter_id,
        "period": rule["period"],
        "threshold": rule["threshold"],
        "unit": rule["unit"],
        "exceeded": exceeded,
        "ongoing": None
        if ongoing_value is None
        else {
            "period": current,
            "value": round(ongoing_value / factor, 3),
            "over": ongoing_value > limit,
        },
    }


def evaluate(
    rules: Iterable[Mapping[str, Any]],
    consumptions: Iterable[Consumption],
    tz_name: str,
    now: datetime,
    *,
    since: date,
) -> list[dict[str, Any]]:
    """Each active rule against each meter it watches."""
    found = list(consumptions)
    out = []
    for rule in rules:
        if not rule.get("active", True):
            continue
        for c in found:
            if c.kind != rule["kind"]:
                continue
            if rule.get("meter_id") and rule["meter_id"] != c.meter_id:
                continue
            out.append(evaluate_rule(rule, c, tz_name, now, since=since))
    return out
