"""Tariffs and what a consumption costs under them.

A tariff is an option (``base``, ``hphc`` or ``tempo``) with prices per kWh (or per m³
of water) for each of its price periods and a monthly subscription per subscribed
power (kVA). Costs are computed from the energy of each price period, summed exactly in
:class:`~decimal.Decimal` and rounded to the cent once, half up, at the end.

Price periods of a half-hour are decided by its *start*, in local time:

* ``hphc``: ``hc`` (off-peak) when the start falls in one of ``off_peak`` ranges
  (``22:00``–``06:00`` by default), ``hp`` otherwise;
* ``tempo``: the colour of the *Tempo day* — which runs from 06:00 to 06:00 the next
  morning, as at EDF — then ``hp``/``hc`` as above: ``blue_hc``, ``red_hp``…
  A day missing from the operator's colour calendar counts as blue and is reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .localtime import DAY_S, day_number, local_seconds
from .readings import Consumption

__all__ = [
    "COLOURS",
    "Cost",
    "HourRange",
    "Tariff",
    "TariffBook",
    "TempoCalendar",
    "constant_power_cost",
    "cost",
    "to_cents",
]

COLOURS = ("blue", "white", "red")
_CENT = Decimal("0.01")
_PERIODS = {
    "base": ("base",),
    "hphc": ("hp", "hc"),
    "tempo": tuple(f"{c}_{p}" for c in COLOURS for p in ("hp", "hc")),
}
TEMPO_DAY_STARTS_S = 6 * 3600
# Days of each colour in a Tempo year (RTE: 300 blue, 43 white, 22 red), for yearly
# estimates that cannot know the future calendar.
TEMPO_YEAR_DAYS = {"blue": 300, "white": 43, "red": 22}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HourRange(_Strict):
    """``start``–``end`` in local time; ``end`` before ``start`` wraps past midnight."""

    start: time
    end: time

    def seconds(self) -> tuple[int, int]:
        return (
            self.start.hour * 3600 + self.start.minute * 60,
            self.end.hour * 3600 + self.end.minute * 60,
        )

    def length_s(self) -> int:
        lo, hi = self.seconds()
        return (hi - lo) % DAY_S or DAY_S


Price = Annotated[Decimal, Field(ge=0, le=100, decimal_places=6)]


class Tariff(_Strict):
    """One tariff, valid from a date (the newest one valid on a day applies)."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,62}$")]
    energy: Literal["electricity", "gas", "water"]
    option: Literal["base", "hphc", "tempo"] = "base"
    name: dict[Literal["fr", "en"], Annotated[str, Field(min_length=1, max_length=200)]]
    valid_from: date
    unit: Literal["kWh", "m3"] = "kWh"
    """What ``prices`` are per: kWh (electricity, gas) or m³ (water)."""
    prices: dict[str, Price]
    """Euros TTC per ``unit`` for each price period of the option."""
    prices_by_kva: dict[str, dict[str, Price]] = Field(default_factory=dict)
    """Prices that differ for some subscribed powers (``{"9": {"base": "0.1927"}}``:
    since 1 February 2026 the Base kWh is cheaper from 9 kVA); the others use ``prices``."""
    off_peak: list[HourRange] = Field(
        default_factory=lambda: [HourRange(start=time(22), end=time(6))]
    )
    subscription_monthly: dict[str, Price] = Field(default_factory=dict)
    """Euros TTC per month, by subscribed power in kVA (``"6"``) or ``"any"``."""
    source: Annotated[str, Field(max_length=1000)] | None = None
    """Where the figures come from (document or URL and its date)."""
    indicative: bool = False
    """True when some figure could not be checked against a published grid (``source``
    says which): costs under this tariff are estimates to confirm."""

    @model_validator(mode="after")
    def _complete(self) -> Tariff:
        expected = set(_PERIODS[self.option])
        if set(self.prices) != expected:
            raise ValueError(
                f"tariff {self.id}: option {self.option} needs prices for exactly "
                f"{', '.join(sorted(expected))}; got {', '.join(sorted(self.prices)) or 'none'}"
            )
        if (self.energy == "water") != (self.unit == "m3"):
            raise ValueError(f"tariff {self.id}: water is priced per m3, energy per kWh")
        for kva, prices in self.prices_by_kva.items():
            if not (kva.isdigit() and 1 <= int(kva) <= 1000):
                raise ValueError(f"tariff {self.id}: prices_by_kva key {kva!r} is not a kVA")
            if not prices or not set(prices) <= expected:
                raise ValueError(
                    f"tariff {self.id}: prices_by_kva {kva} may only set "
                    f"{', '.join(sorted(expected))}"
                )
        return self

    @field_validator("subscription_monthly")
    @classmethod
    def _kva(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for key in value:
            if key != "any" and not (key.isdigit() and 1 <= int(key) <= 1000):
                raise ValueError(f"subscription key {key!r}: expected a power in kVA or 'any'")
        return value

    @property
    def periods(self) -> tuple[str, ...]:
        return _PERIODS[self.option]

    def prices_for(self, kva: int | None) -> dict[str, Decimal]:
        """The price of each period for a subscribed power (``prices`` when unknown)."""
        return {**self.prices, **self.prices_by_kva.get(str(kva), {})}

    def subscription(self, kva: int | None) -> Decimal | None:
        if kva is not None and str(kva) in self.subscription_monthly:
            return self.subscription_monthly[str(kva)]
        return self.subscription_monthly.get("any")

    def off_peak_share(self) -> Decimal:
        """Share of the hours of a day that are off-peak (8 h of 24 → 1/3)."""
        return Decimal(sum(r.length_s() for r in self.off_peak)) / Decimal(DAY_S)


class TariffBook(_Strict):
    """The tariff file: shipped defaults or the operator's own (``tariffs.yaml``)."""

    version: Literal[1] = 1
    currency: Literal["EUR"] = "EUR"
    tariffs: Annotated[list[Tariff], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique(self) -> TariffBook:
        seen = set()
        for t in self.tariffs:
            if (t.id, t.valid_from) in seen:
                raise ValueError(f"tariff {t.id} appears twice from {t.valid_from}")
            seen.add((t.id, t.valid_from))
        return self

    def get(self, tariff_id: str, on: date) -> Tariff | None:
        """The version of ``tariff_id`` in force on ``on`` (else its oldest one)."""
        versions = sorted(
            (t for t in self.tariffs if t.id == tariff_id), key=lambda t: t.valid_from
        )
        valid = [t for t in versions if t.valid_from <= on]
        return valid[-1] if valid else (versions[0] if versions else None)

    def for_meter(self, meter: Mapping[str, Any], on: date) -> Tariff | None:
        """The default tariff of a meter's kind and option (the meter's ``tariff`` field:
        ``BASE``, ``HP/HC`` or ``Tempo``)."""
        kind = meter.get("kind")
        named = str(meter.get("tariff") or "").lower().replace("/", "").replace(" ", "")
        option = "tempo" if "tempo" in named else "hphc" if "hphc" in named else "base"
        candidates = [t for t in self.tariffs if t.energy == kind]
        preferred = [t for t in candidates if t.option == option] or [
            t for t in candidates if t.option == "base"
        ]
        ids = sorted({t.id for t in preferred or candidates})
        return self.get(ids[0], on) if ids else None


class TempoCalendar:
    """Tempo day colours by date (RTE's calendar, imported by the operator)."""

    def __init__(self, colours: Mapping[date, str] | None = None) -> None:
        items = sorted((colours or {}).items())
        self.days = np.array([day_number(d) for d, _ in items], dtype=np.int64)
        self.codes = np.array([COLOURS.index(c) for _, c in items], dtype=np.int64)

    def __len__(self) -> int:
        return int(self.days.shape[0])

    def codes_for(self, days: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], int]:
        """Colour code (0 blue, 1 white, 2 red) of each day, and how many were unknown."""
        if not len(self):
            return np.zeros(days.shape[0], dtype=np.int64), int(np.unique(days).shape[0])
        idx = np.clip(np.searchsorted(self.days, days), 0, len(self) - 1)
        known = self.days[idx] == days
        codes = np.where(known, self.codes[idx], 0)
        missing = int(np.unique(days[~known]).shape[0])
        return codes, missing


def _off_peak_mask(seconds_of_day: npt.NDArray[np.int64], tariff: Tariff) -> npt.NDArray[np.bool_]:
    mask = np.zeros(seconds_of_day.shape[0], dtype=np.bool_)
    for r in tariff.off_peak:
        lo, hi = r.seconds()
        if lo < hi:
            mask |= (seconds_of_day >= lo) & (seconds_of_day < hi)
        else:
            mask |= (seconds_of_day >= lo) | (seconds_of_day < hi)
    return mask


def price_periods(
    c: Consumption, tariff: Tariff, tz_name: str, tempo: TempoCalendar | None = None
) -> tuple[npt.NDArray[np.int64], int]:
    """Index into ``tariff.periods`` of each interval, and Tempo days assumed blue."""
    n = c.ts.shape[0]
    if tariff.option == "base":
        return np.zeros(n, dtype=np.int64), 0
    local = local_seconds(c.ts, tz_name)
    off_peak = _off_peak_mask(local % DAY_S, tariff).astype(np.int64)
    if tariff.option == "hphc":
        return off_peak, 0  # 0 = hp, 1 = hc
    tempo_days = (local - TEMPO_DAY_STARTS_S) // DAY_S
    colours, missing = (tempo or TempoCalendar()).codes_for(tempo_days)
    return colours * 2 + off_peak, missing


def to_cents(euros: Decimal) -> int:
    return int((euros / _CENT).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _decimal(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


class Cost(BaseModel):
    """What an amount of energy (or water) costs: per price period and in total."""

    model_config = ConfigDict(frozen=True)

    tariff: str
    valid_from: date
    energy_cents: int
    subscription_cents: int
    total_cents: int
    by_period: dict[str, dict[str, float | int]]
    """``{"hp": {"amount": Wh or L, "cents": …}, …}`` (cents of each period rounded)."""
    assumed_blue_days: int = 0
    estimated_split: bool = False
    """True when the meter is daily, so off-peak shares are assumed, not measured."""


def _energy_price(amount: float, price: Decimal) -> Decimal:
    """Euros for ``amount`` Wh priced per kWh, or litres priced per m³ (both ÷ 1000)."""
    return _decimal(amount) / Decimal(1000) * price


def cost(
    c: Consumption,
    tariff: Tariff,
    tz_name: str,
    lo: int,
    hi: int,
    *,
    days: int | None = None,
    kva: int | None = None,
    tempo: TempoCalendar | None = None,
) -> Cost:
    """The cost of what ``c`` consumed in [lo, hi) plus ``days`` of subscription
    (prorated: monthly price × 12 × days / 365)."""
    part = slice(int(np.searchsorted(c.ts, lo)), int(np.searchsorted(c.ts, hi)))
    amount = np.nan_to_num(c.amount[part], nan=0.0)
    sub = Consumption(
        c.kind, c.meter_id, c.label, c.reading_type, c.interval_s, c.ts[part], amount, c.meter
    )
    by_period: dict[str, float] = dict.fromkeys(tariff.periods, 0.0)
    estimated, missing = False, 0
    if c.half_hourly or tariff.option == "base":
        idx, missing = price_periods(sub, tariff, tz_name, tempo)
        sums = np.bincount(idx, weights=amount, minlength=len(tariff.periods))
        by_period = {p: float(sums[i]) for i, p in enumerate(tariff.periods)}
    else:
        by_period = _estimated_split(float(amount.sum()), tariff)
        estimated = True
    prices = tariff.prices_for(kva)
    exact = {p: _energy_price(v, prices[p]) for p, v in by_period.items()}
    energy = sum(exact.values(), Decimal(0))
    monthly = tariff.subscription(kva)
    subscription = (
        monthly * 12 * Decimal(days) / Decimal(365) if monthly is not None and days else Decimal(0)
    )
    return Cost(
        tariff=tariff.id,
        valid_from=tariff.valid_from,
        energy_cents=to_cents(energy),
        subscription_cents=to_cents(subscription),
        total_cents=to_cents(energy + subscription),
        by_period={
            p: {"amount": round(by_period[p], 3), "cents": to_cents(exact[p])}
            for p in tariff.periods
        },
        assumed_blue_days=missing,
        estimated_split=estimated,
    )


def _estimated_split(total: float, tariff: Tariff) -> dict[str, float]:
    """A daily meter cannot tell off-peak from peak: split by the share of hours (and
    Tempo colours by their yearly number of days)."""
    hc = float(tariff.off_peak_share())
    if tariff.option == "hphc":
        return {"hp": total * (1 - hc), "hc": total * hc}
    out: dict[str, float] = {}
    for colour, n in TEMPO_YEAR_DAYS.items():
        share = n / 365
        out[f"{colour}_hp"] = total * share * (1 - hc)
        out[f"{colour}_hc"] = total * share * hc
    return out


def constant_power_cost(watts: float, tariff: Tariff, kva: int | None = None) -> tuple[float, int]:
    """(kWh, cents) of a constant ``watts`` over a 365-day year under ``tariff`` (at the
    prices of subscribed power ``kva``): weighted by off-peak hours and, for Tempo, by
    300 blue, 43 white and 22 red days."""
    w = _decimal(watts)
    year_kwh = w * Decimal(24 * 365) / Decimal(1000)
    prices = tariff.prices_for(kva)
    if tariff.option == "base":
        euros = year_kwh * prices["base"]
    else:
        hc = tariff.off_peak_share()
        if tariff.option == "hphc":
            euros = year_kwh * ((1 - hc) * prices["hp"] + hc * prices["hc"])
        else:
            day_kwh = w * Decimal(24) / Decimal(1000)
            euros = sum(
                (
                    day_kwh * n * ((1 - hc) * prices[f"{col}_hp"] + hc * prices[f"{col}_hc"])
                    for col, n in TEMPO_YEAR_DAYS.items()
                ),
                Decimal(0),
            )
    return float(year_kwh), to_cents(euros)
