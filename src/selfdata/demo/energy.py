"""Energy and water: a Linky load curve, GRDF daily gas and a water meter, plus the bills.

The flat (a 75 m² apartment in Lyon 7e) has a gas boiler for central heating, electric
heaters in the bathroom and Léa's room, induction cooking and a 200 L electric water
heater on an off-peak contact (heures creuses 22:00–06:00). The load curve is built
from the physics of those appliances, driven by the synthetic weather and the family's
days (work, school, weekends, trips away), so charts of it tell a true story.

Load-curve timestamps are regular in UTC (every 1800 s from local midnight of the first
day): a local day has 48 points, 46 on the day clocks go forward and 50 on the day they
go back, as in Enedis exports. Values are Wh consumed in each half-hour (the meter's
``unit`` is ``Wh``), so a daily ``sum`` is the day's consumption.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from selfdata.access import SpaceView

from .life import PARIS, Life

__all__ = [
    "BASE_LOAD_W",
    "GAS_PCE",
    "OFF_PEAK_HOURS",
    "PRM",
    "SLOT_S",
    "WATER_METER",
    "Bill",
    "EnergyData",
    "MonthUse",
    "bills",
    "generate",
    "write",
]

BASE_LOAD_W = (150.0, 250.0)
"""Always-on consumption (fridge, freezer, box, standby), W: the night minimum is in here."""
SLOT_S = 1800
OFF_PEAK_HOURS = (22, 6)
PRM = "16218047329576"
GAS_PCE = "21453892017534"
WATER_METER = "A19LY0837251"

_CENT = Decimal("0.01")
_HC_START, _HC_END = OFF_PEAK_HOURS
_HEATER_W = 2400.0  # 200 L water heater element
_MAX_W = 8800.0  # 9 kVA subscription
_ADDRESS = {
    "street": "14 rue Béchevelin",
    "locality": "Lyon",
    "postal_code": "69007",
    "country": "FR",
}

# Regulated prices, roughly 2025 (TTC): the bills are in the right range, not exact.
_ELEC_MONTHLY = Decimal("21.46")  # subscription 9 kVA HP/HC
_ELEC_HP, _ELEC_HC = Decimal("0.2146"), Decimal("0.1696")
_GAS_MONTHLY, _GAS_KWH = Decimal("24.58"), Decimal("0.1218")
_WATER_QUARTERLY, _WATER_M3 = Decimal("14.85"), Decimal("3.31")


@dataclass(frozen=True, slots=True)
class MonthUse:
    first: date
    days: int  # days of the month generated
    hp_kwh: float
    hc_kwh: float
    gas_kwh: float
    water_l: float

    @property
    def complete(self) -> bool:
        nxt = date(self.first.year + self.first.month // 12, self.first.month % 12 + 1, 1)
        return self.days == (nxt - self.first).days


@dataclass(frozen=True, slots=True)
class Bill:
    """An energy or water bill, paid by direct debit (bank) and kept as a PDF (papers)."""

    kind: Literal["electricity", "gas", "water"]
    supplier: str
    period_start: date
    period_end: date  # inclusive
    issued_on: date
    debit_on: date
    amount: Decimal
    reference: str
    lines: tuple[tuple[str, str], ...]  # (what, how much) as printed on the bill


@dataclass(frozen=True, slots=True)
class EnergyData:
    first: date
    last: date
    ts: npt.NDArray[np.int64]  # half-hour starts, epoch seconds
    wh: npt.NDArray[np.float64]  # Wh per half-hour
    hour: npt.NDArray[np.float64]  # local wall-clock hour of each slot (0, 0.5, … 23.5)
    day_ts: npt.NDArray[np.int64]  # local midnight of each day
    gas_kwh: npt.NDArray[np.float64]
    water_l: npt.NDArray[np.float64]
    base_w: float
    months: dict[date, MonthUse]

    def window(self, first: date, last: date) -> tuple[slice, slice]:
        """Slices of the half-hour arrays and of the day arrays for ``first``..``last``."""
        lo, hi = Life.midnight(first), Life.midnight(last + timedelta(days=1))
        slots = slice(int(np.searchsorted(self.ts, lo)), int(np.searchsorted(self.ts, hi)))
        days = slice(int(np.searchsorted(self.day_ts, lo)), int(np.searchsorted(self.day_ts, hi)))
        return slots, days


def _bump(hour: npt.NDArray[np.float64], centre: float, width: float) -> npt.NDArray[np.float64]:
    out: npt.NDArray[np.float64] = np.exp(-0.5 * ((hour - centre) / width) ** 2)
    return out


def _wall_hours(
    ts: npt.NDArray[np.int64], starts: npt.NDArray[np.int64], day_idx: npt.NDArray[np.intp]
) -> npt.NDArray[np.float64]:
    hour = (ts - starts[day_idx]) / 3600.0
    lengths = np.diff(starts)
    for i in np.flatnonzero(lengths != 86_400):  # DST change days: ask the tz database
        sel = np.flatnonzero(day_idx == i)
        for j in sel:
            local = datetime.fromtimestamp(int(ts[j]), PARIS)
            hour[j] = local.hour + local.minute / 60
    return hour


def generate(life: Life, first: date, last: date) -> EnergyData:
    """Electricity, gas and water of every local day from ``first`` to ``last``."""
    # One day more at the start: the water heater of the evening before runs past midnight.
    days = life.days(first - timedelta(days=1), last)
    n_days = len(days)
    starts = np.array([Life.midnight(d) for d in [*days, last + timedelta(days=1)]], np.int64)
    ts = np.arange(starts[0], starts[-1], SLOT_S, dtype=np.int64)
    day_idx = np.searchsorted(starts, ts, side="right") - 1
    pos = ((ts - starts[day_idx]) // SLOT_S).astype(np.intp)
    hour = _wall_hours(ts, starts, day_idx)

    temp = life.temperatures(days)
    winter = np.array([Life.winterness(d) for d in days])
    works = np.array([life.works(d) for d in days])
    home_rng = life.rng("household", "base")
    base_w = home_rng.uniform(BASE_LOAD_W[0] + 25, BASE_LOAD_W[1] - 35)

    # Date-keyed noise: per slot (50 a day, the most a local day has) two uniform and two
    # normal draws; per day three normal draws (activity, water, gas).
    blocks = [life.np_rng("electricity", d) for d in days]
    uniform = np.stack([r.random((2, 50)) for r in blocks])
    normal = np.stack([r.standard_normal((2, 50)) for r in blocks])
    daily = np.stack([r.standard_normal(3) for r in blocks])
    u, g = uniform[day_idx, :, pos], normal[day_idx, :, pos]  # (slots, 2) each

    away = np.zeros(ts.shape[0], dtype=bool)
    for trip in life.trips_between(days[0], days[-1]):
        away |= (ts >= trip.depart.timestamp()) & (ts < trip.back.timestamp())
    home = ~away

    # Always on: base + fridge/freezer compressor cycles + a little jitter.
    fridge = np.where(u[:, 0] < 0.4, 45.0, 0.0)
    base = base_w + fridge + np.abs(4.0 * g[:, 0])

    # People at home: lights, cooking, screens. Two day shapes: Camille at work, or not.
    light = 1 + 0.45 * winter[day_idx]
    work_day = works[day_idx]
    busy = (
        450 * _bump(hour, 7.2, 0.55)
        + light * 700 * _bump(hour, 19.6, 1.3)
        + 200 * _bump(hour, 21.9, 0.7)
    )
    free = (
        400 * _bump(hour, 8.9, 1.0)
        + 650 * _bump(hour, 12.6, 0.8)
        + 200 * _bump(hour, 15.5, 1.8)
        + light * 650 * _bump(hour, 19.7, 1.3)
        + 200 * _bump(hour, 22.0, 0.7)
    )
    day_factor = np.exp(0.15 * daily[:, 0])[day_idx]
    spikes = np.exp(0.4 * g[:, 1] - 0.08)
    activity = np.where(work_day, busy, free) * day_factor * spikes * home

    # Supplementary electric heating, driven by the hour's outdoor temperature.
    outdoor = temp[day_idx] + 4.0 * np.sin(2 * np.pi * (hour - 9) / 24)
    comfort = np.where(
        work_day,
        ((hour >= 6) & (hour < 8.5)) | ((hour >= 17.5) & (hour < 23)),
        (hour >= 7.5) & (hour < 23),
    )
    setpoint = np.where(away, 8.0, np.where(comfort, 19.5, 16.5))
    heating = 25.0 * np.clip(setpoint - 3.0 - outdoor, 0, None) * (0.9 + 0.2 * u[:, 1])
    towel = np.where(home & (hour >= 6.5) & (hour < 8) & (temp[day_idx] < 12), 500.0, 0.0)

    watts = base + activity + heating + towel
    laundry = np.zeros(n_days, dtype=bool)
    dishes = np.zeros(n_days, dtype=bool)
    t0 = int(ts[0])

    def run(at: datetime, profile: tuple[float, ...]) -> bool:
        i = (int(at.timestamp()) - t0) // SLOT_S
        if i < 0 or i + len(profile) > ts.shape[0] or away[i]:
            return False
        watts[i : i + len(profile)] += profile
        return True

    for k, d in enumerate(days):
        r = life.rng("appliances", d)
        at_work = bool(works[k])
        if r.random() < 0.45:
            when = life.at(d, 20, 30) if at_work else life.at(d, 9 + r.randrange(0, 3), 30)
            laundry[k] = run(when, (1900.0, 400.0, 250.0))
        if r.random() < 0.7:
            dishes[k] = run(life.at(d, 22), (1800.0, 150.0, 900.0))  # delayed to off-peak
        if not at_work and r.random() < 0.45:
            run(life.at(d, 12), (1800.0, 900.0))
        elif at_work and r.random() < 0.25:
            run(life.at(d, 19), (1800.0, 600.0))

    # Water: about 95 L a person a day, more at weekends, in summer and on laundry days.
    awake = (hour >= 6) & (hour < 23)
    day_home = np.bincount(day_idx, weights=home & awake, minlength=n_days) / np.bincount(
        day_idx, weights=awake, minlength=n_days
    )
    weekend = np.array([d.weekday() >= 5 for d in days])
    water = (
        285.0 * np.where(weekend, 1.1, 1.0) * (1 + 0.12 * (1 - winter))
        + 55.0 * laundry
        + 12.0 * dishes
    ) * (1 + 0.08 * daily[:, 1])
    water = np.round(np.clip(water, 0, None) * day_home)

    # The water heater refills at 22:00 what the day used (plus standing losses).
    inlet = 10.0 + 7.0 * (1 - winter)
    need_kwh = 0.30 * water * 4.186 * (55.0 - inlet) / 3600 + 0.8
    for k, d in enumerate(days):
        i = (int(life.at(d, OFF_PEAK_HOURS[0]).timestamp()) - t0) // SLOT_S
        left = float(need_kwh[k])
        while left > 0 and 0 <= i < ts.shape[0] and (hour[i] >= _HC_START or hour[i] < _HC_END):
            share = min(left, _HEATER_W * SLOT_S / 3_600_000)  # kWh in this half-hour
            watts[i] += share * 3_600_000 / SLOT_S
            left -= share
            i += 1

    wh = np.round(np.clip(watts, 0, _MAX_W) * SLOT_S / 3600)

    # Gas boiler: heating degree-days above 16.5 °C (frost protection at 10 °C away).
    away_day = np.array([life.away(d) for d in days])
    gas = (
        0.110
        * 24
        * np.clip(np.where(away_day, 10.0, 16.5) - temp, 0, None)
        / 0.92
        * np.exp(0.06 * daily[:, 2])
    )
    gas = np.round(gas, 1)

    # Drop the extra day in front.
    keep = ts >= starts[1]
    ts, wh, hour, day_idx = ts[keep], wh[keep], hour[keep], day_idx[keep] - 1
    days, gas, water = days[1:], gas[1:], water[1:]
    months = _months(days, day_idx, wh, hour, gas, water)
    return EnergyData(first, last, ts, wh, hour, starts[1:-1], gas, water, base_w, months)


def _months(
    days: list[date],
    day_idx: npt.NDArray[np.intp],
    wh: npt.NDArray[np.float64],
    hour: npt.NDArray[np.float64],
    gas: npt.NDArray[np.float64],
    water: npt.NDArray[np.float64],
) -> dict[date, MonthUse]:
    month_of_day = np.array([d.year * 12 + d.month - 1 for d in days])
    first_month = int(month_of_day[0])
    day_m = month_of_day - first_month
    slot_m = day_m[day_idx]
    n = int(day_m[-1]) + 1
    off_peak = (hour >= _HC_START) | (hour < _HC_END)
    hp = np.bincount(slot_m, weights=np.where(off_peak, 0.0, wh), minlength=n) / 1000
    hc = np.bincount(slot_m, weights=np.where(off_peak, wh, 0.0), minlength=n) / 1000
    gas_m = np.bincount(day_m, weights=gas, minlength=n)
    water_m = np.bincount(day_m, weights=water, minlength=n)
    count = np.bincount(day_m, minlength=n)
    out = {}
    for k in range(n):
        m = first_month + k
        first = date(m // 12, m % 12 + 1, 1)
        out[first] = MonthUse(
            first, int(count[k]), float(hp[k]), float(hc[k]), float(gas_m[k]), float(water_m[k])
        )
    return out


def _money(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _month_end(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1) - timedelta(days=1)


def bills(life: Life, data: EnergyData) -> list[Bill]:
    """Monthly EDF and ENGIE bills and quarterly water bills for every complete period."""
    out: list[Bill] = []
    for first, use in sorted(data.months.items()):
        if not use.complete:
            continue
        end = _month_end(first)
        nxt = end + timedelta(days=1)
        hp, hc = round(use.hp_kwh), round(use.hc_kwh)
        amount = _money(_ELEC_MONTHLY + hp * _ELEC_HP + hc * _ELEC_HC)
        out.append(
            Bill(
                "electricity",
                "EDF",
                first,
                end,
                nxt + timedelta(days=2),
                life.next_business_day(nxt.replace(day=12)),
                amount,
                f"{PRM[-6:]}{first:%y%m}1",
                (
                    ("Abonnement 9 kVA HP/HC", f"{_ELEC_MONTHLY}"),
                    (f"Heures pleines {hp} kWh × {_ELEC_HP}", f"{_money(hp * _ELEC_HP)}"),
                    (f"Heures creuses {hc} kWh × {_ELEC_HC}", f"{_money(hc * _ELEC_HC)}"),
                ),
            )
        )
        kwh = round(use.gas_kwh)
        out.append(
            Bill(
                "gas",
                "ENGIE",
                first,
                end,
                nxt + timedelta(days=4),
                life.next_business_day(nxt.replace(day=15)),
                _money(_GAS_MONTHLY + kwh * _GAS_KWH),
                f"GN{GAS_PCE[-5:]}{first:%y%m}",
                (
                    ("Abonnement gaz", f"{_GAS_MONTHLY}"),
                    (f"Consommation {kwh} kWh × {_GAS_KWH}", f"{_money(kwh * _GAS_KWH)}"),
                ),
            )
        )
    quarters: dict[date, list[MonthUse]] = {}
    for first, use in data.months.items():
        quarters.setdefault(date(first.year, (first.month - 1) // 3 * 3 + 1, 1), []).append(use)
    for q, uses in sorted(quarters.items()):
        if len(uses) != 3 or not all(u.complete for u in uses):
            continue
        end = _month_end(max(u.first for u in uses))
        nxt = end + timedelta(days=1)
        m3 = Decimal(round(sum(u.water_l for u in uses))) / 1000
        out.append(
            Bill(
                "water",
                "Eau du Grand Lyon",
                q,
                end,
                nxt + timedelta(days=6),
                life.next_business_day(nxt.replace(day=20)),
                _money(_WATER_QUARTERLY + m3 * _WATER_M3),
                f"EGL-{q:%Y}-T{(q.month + 2) // 3}-{WATER_METER[-4:]}",
                (
                    ("Abonnement trimestriel", f"{_WATER_QUARTERLY}"),
                    (f"Consommation {m3:.3f} m³ × {_WATER_M3}", f"{_money(m3 * _WATER_M3)}"),
                ),
            )
        )
    return sorted(out, key=lambda b: (b.debit_on, b.kind))


_METERS: tuple[dict[str, Any], ...] = (
    {
        "kind": "electricity",
        "provider": "Enedis",
        "meter_id": PRM,
        "unit": "Wh",
        "reading_type": "load_curve",
        "label": "Appartement Lyon 7e",
        "interval_s": SLOT_S,
        "address": _ADDRESS,
        "tariff": "HP/HC",
        "subscribed_power_kva": 9,
    },
    {
        "kind": "gas",
        "provider": "GRDF",
        "meter_id": GAS_PCE,
        "unit": "kWh",
        "reading_type": "daily_consumption",
        "label": "Appartement Lyon 7e",
        "interval_s": 86_400,
        "address": _ADDRESS,
    },
    {
        "kind": "water",
        "provider": "Eau du Grand Lyon",
        "meter_id": WATER_METER,
        "unit": "L",
        "reading_type": "daily_consumption",
        "label": "Appartement Lyon 7e",
        "interval_s": 86_400,
        "address": _ADDRESS,
    },
)


def write(
    view: SpaceView, life: Life, data: EnergyData, tick: Callable[[], None]
) -> tuple[dict[str, int], dict[str, int]]:
    """Store the three meters and their readings within the window; (counts, new)."""
    report = view.put_records("energy.meter", list(_METERS))
    meter_ids = report.ids
    existing = {s.record_id: s.id for s in view.streams("energy.reading")}
    tick()
    slots, day_slice = data.window(life.start, life.end)
    series = (
        (data.ts[slots], data.wh[slots]),
        (data.day_ts[day_slice], data.gas_kwh[day_slice]),
        (data.day_ts[day_slice], data.water_l[day_slice]),
    )
    points = gained = 0
    for meter, record_id, (ts, values) in zip(_METERS, meter_ids, series, strict=True):
        stream_id = existing.get(record_id)
        if stream_id is None:
            meta = {
                "unit": meter["unit"],
                "reading_type": meter["reading_type"],
                "interval_s": meter["interval_s"],
                "meter_id": meter["meter_id"],
            }
            stream_id = view.create_stream("energy.reading", record_id=record_id, meta=meta).id
        gained += view.append_points(stream_id, ts, values)
        points += int(ts.shape[0])
        tick()
    counts = {"energy.meter": report.total, "energy.reading": points}
    new = {"energy.meter": report.created + report.updated, "energy.reading": gained}
    return counts, new
