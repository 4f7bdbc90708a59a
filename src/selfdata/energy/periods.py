"""Consumption by calendar period (local time): totals, details, navigation.

A period is a local day, month or year. Its total is the sum of the amounts of the
intervals that *start* inside it (a half-hour starting at 23:30 belongs to its day).
Its detail is one level finer: a day by half-hour (by the meter's interval), a month by
day, a year by month. ``previous``/``next`` name the neighbouring periods when data
exists there, and ``last_year`` compares with the same period a year earlier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from selfdata.errors import InvalidInput

from .localtime import midnight, zone
from .readings import Consumption

__all__ = ["Period", "PeriodUnit", "period_summary", "total_between"]

PeriodUnit = Literal["day", "month", "year"]
_KEY = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True, order=True)
class Period:
    """A local calendar day, month or year, named by its key: 2025-03-14, 2025-03, 2025."""

    unit: PeriodUnit
    start: date

    @classmethod
    def parse(cls, key: str) -> Period:
        match = _KEY.match(key.strip())
        if not match:
            raise InvalidInput(f"period {key!r}: expected YYYY, YYYY-MM or YYYY-MM-DD")
        year, month, day = match.groups()
        if not 1900 <= int(year) <= 2200:
            raise InvalidInput(f"period {key!r}: expected a year between 1900 and 2200")
        try:
            if day:
                return cls("day", date(int(year), int(month), int(day)))
            if month:
                return cls("month", date(int(year), int(month), 1))
        except ValueError as exc:
            raise InvalidInput(f"period {key!r}: {exc}") from None
        return cls("year", date(int(year), 1, 1))

    @classmethod
    def containing(cls, unit: PeriodUnit, day: date) -> Period:
        if unit == "day":
            return cls("day", day)
        if unit == "month":
            return cls("month", day.replace(day=1))
        return cls("year", date(day.year, 1, 1))

    @property
    def key(self) -> str:
        if self.unit == "day":
            return self.start.isoformat()
        if self.unit == "month":
            return self.start.strftime("%Y-%m")
        return f"{self.start.year:04d}"

    @property
    def end(self) -> date:
        """The first day after the period."""
        return self.shift(1).start

    def shift(self, n: int) -> Period:
        if self.unit == "day":
            return Period("day", self.start + timedelta(days=n))
        if self.unit == "month":
            months = self.start.year * 12 + self.start.month - 1 + n
            return Period("month", date(months // 12, months % 12 + 1, 1))
        return Period("year", date(self.start.year + n, 1, 1))

    def previous(self) -> Period:
        return self.shift(-1)

    def next(self) -> Period:
        return self.shift(1)

    def last_year(self) -> Period:
        if self.unit == "day":
            try:
                return Period("day", self.start.replace(year=self.start.year - 1))
            except ValueError:  # 29 February: compare with 28 February
                return Period("day", self.start.replace(year=self.start.year - 1, day=28))
        return Period(self.unit, self.start.replace(year=self.start.year - 1))

    def bounds(self, tz_name: str) -> tuple[int, int]:
        """[start, end) in epoch seconds: local midnight to local midnight."""
        return midnight(self.start, tz_name), midnight(self.end, tz_name)

    def parts(self) -> list[Period]:
        """The periods one level finer (days of a month, months of a year)."""
        if self.unit == "year":
            return [Period("month", date(self.start.year, m, 1)) for m in range(1, 13)]
        if self.unit == "month":
            n = (self.end - self.start).days
            return [Period("day", self.start + timedelta(days=i)) for i in range(n)]
        raise InvalidInput("a day is detailed by interval, not by sub-period")


def _slice(c: Consumption, lo: int, hi: int) -> slice:
    return slice(int(np.searchsorted(c.ts, lo)), int(np.searchsorted(c.ts, hi)))


def total_between(c: Consumption, lo: int, hi: int) -> tuple[float, int]:
    """(sum of amounts, number of values present) of intervals starting in [lo, hi)."""
    part = c.amount[_slice(c, lo, hi)]
    present = ~np.isnan(part)
    return float(part[present].sum()), int(present.sum())


def _sums(c: Consumption, edges: npt.NDArray[np.int64]) -> tuple[list[float], list[int]]:
    """Sum and count of present values between consecutive ``edges``."""
    part = _slice(c, int(edges[0]), int(edges[-1]))
    amount = c.amount[part]
    bounds = np.searchsorted(c.ts[part], edges)
    cum = np.concatenate(([0.0], np.cumsum(np.where(np.isnan(amount), 0.0, amount))))
    cnt = np.concatenate(([0], np.cumsum(~np.isnan(amount))))
    # Differences of running sums: exact for whole Wh, and O(parts) instead of O(points).
    sums = cum[bounds[1:]] - cum[bounds[:-1]]
    counts = cnt[bounds[1:]] - cnt[bounds[:-1]]
    return [float(s) for s in sums], [int(n) for n in counts]


def _expected(c: Consumption, lo: int, hi: int) -> int:
    """Intervals in [lo, hi): rounded, so a daily meter's March (743 h) has 31 days."""
    return max(round((hi - lo) / c.interval_s), 1)


def _figure(value: float, count: int) -> float | None:
    """A total rounded to the Wh (or litre); None when nothing was measured."""
    return round(value, 3) if count else None


def _iso(ts: int, tz_name: str) -> str:
    return datetime.fromtimestamp(ts, UTC).astimezone(zone(tz_name)).isoformat()


def period_summary(
    c: Consumption, period: Period, tz_name: str, *, detail: bool = True
) -> dict[str, Any]:
    """The period's total, its detail, its neighbours and last year's figure.

    Amounts are in ``unit`` (Wh or L); ``coverage`` is the share of the period's
    intervals that have a value (1.0 = complete)."""
    lo, hi = period.bounds(tz_name)
    total, count = total_between(c, lo, hi)
    out: dict[str, Any] = {
        "period": period.key,
        "granularity": period.unit,
        "start": date.isoformat(period.start),
        "end": date.isoformat(period.end),
        "unit": c.unit,
        "total": _figure(total, count),
        "coverage": round(count / _expected(c, lo, hi), 4),
    }
    first, last = (int(c.ts[0]), int(c.ts[-1])) if c.ts.shape[0] else (None, None)
    prev, nxt = period.previous(), period.next()
    out["previous"] = prev.key if first is not None and first < lo else None
    out["next"] = nxt.key if last is not None and last >= hi else None
    ly = period.last_year()
    ly_lo, ly_hi = ly.bounds(tz_name)
    ly_total, ly_count = total_between(c, ly_lo, ly_hi)
    change = None
    if count and ly_count and ly_total > 0:
        change = round((total - ly_total) / ly_total * 100, 1)
    out["last_year"] = {
        "period": ly.key,
        "total": _figure(ly_total, ly_count),
        "coverage": round(ly_count / _expected(c, ly_lo, ly_hi), 4),
        "change_pct": change,
    }
    if detail:
        out["detail"] = _detail(c, period, tz_name, lo, hi)
    return out


def _detail(c: Consumption, period: Period, tz_name: str, lo: int, hi: int) -> list[dict[str, Any]]:
    if period.unit == "day":
        part = _slice(c, lo, hi)
        return [
            {"start": _iso(int(t), tz_name), "value": None if np.isnan(v) else round(float(v), 3)}
            for t, v in zip(c.ts[part], c.amount[part], strict=True)
        ]
    parts = period.parts()
    edges = np.array([p.bounds(tz_name)[0] for p in parts] + [hi], dtype=np.int64)
    sums, counts = _sums(c, edges)
    return [
        {"period": p.key, "total": _figure(s, n)}
        for p, s, n in zip(parts, sums, counts, strict=True)
    ]
