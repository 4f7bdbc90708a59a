"""Eco-gestures and what each would save *this* household in a year.

A gesture saves either a share of one of the household's yearly figures
(``percent`` of ``electricity``, ``base_load``, ``gas``, ``heating`` or ``water``) or a
fixed amount (kWh or litres a year). Each estimate is given in Wh (or litres), euros
(cents, at the household's average price paid per kWh or m³) and kg CO₂e with the
emission factors below.

Emission factors (kg CO₂e per kWh, life cycle, France):

* electricity — **0.052**: ADEME Base Empreinte®, « Électricité — mix moyen —
  consommation » (France continentale), the order of magnitude of recent years;
* natural gas — **0.227** per kWh PCI (ADEME Base Empreinte®, « Gaz naturel »,
  combustion and upstream). GRDF bills in kWh PCS; PCI = 0.901 × PCS, so **0.2045**
  per kWh PCS is applied to gas amounts;
* water — not counted (its own footprint is small next to the energy to heat it).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "EMISSION_FACTORS",
    "Gesture",
    "HouseholdFigures",
    "catalogue",
    "estimate",
    "top_gestures",
]

EMISSION_FACTORS: dict[str, float] = {
    "electricity": 0.052,
    "gas": round(0.227 * 0.901, 4),  # per kWh PCS
    "water": 0.0,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Saving(_Strict):
    percent: Annotated[float, Field(gt=0, le=100)] | None = None
    of: Literal["electricity", "base_load", "gas", "heating", "water"] | None = None
    fixed: Annotated[float, Field(gt=0)] | None = None
    unit: Literal["kWh", "L"] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Saving:
        if (self.percent is None) == (self.fixed is None):
            raise ValueError("a saving is either a percent (with of) or fixed (with unit)")
        if self.percent is not None and self.of is None:
            raise ValueError("a percent saving says what it is a percent of")
        if self.fixed is not None and self.unit is None:
            raise ValueError("a fixed saving has a unit (kWh or L)")
        return self


class Gesture(_Strict):
    id: str
    category: Literal["heating", "appliances", "lighting", "cooking", "water", "hot_water"]
    energy: Literal["electricity", "gas", "water"]
    saving: Saving
    title: dict[Literal["fr", "en"], str]
    advice: dict[Literal["fr", "en"], str]


class _Catalogue(_Strict):
    version: Literal[1]
    gestures: list[Gesture]


_loaded: list[Gesture] = []


def catalogue() -> list[Gesture]:
    """The gestures shipped in ``selfdata/energy/data/gestures.yaml``."""
    if not _loaded:
        text = resources.files("selfdata.energy").joinpath("data", "gestures.yaml").read_text()
        _loaded.extend(_Catalogue.model_validate(yaml.safe_load(text)).gestures)
    return list(_loaded)


@dataclass(frozen=True)
class HouseholdFigures:
    """A household's yearly figures (None: not measured) and its prices."""

    electricity_wh: float | None = None
    base_load_wh: float | None = None
    gas_wh: float | None = None
    heating_wh: float | None = None
    water_l: float | None = None
    euros_per_kwh: dict[str, float] | None = None  # electricity, gas
    euros_per_m3: float | None = None


def estimate(g: Gesture, h: HouseholdFigures) -> dict[str, Any] | None:
    """What ``g`` would save ``h`` in a year; None when the household lacks the figure."""
    s = g.saving
    if s.fixed is not None:
        if (g.energy == "water" and h.water_l is None) or (
            g.energy != "water" and getattr(h, f"{g.energy}_wh") is None
        ):
            return None
        amount = s.fixed * (1000.0 if s.unit == "kWh" else 1.0)
    else:
        assert s.of is not None
        assert s.percent is not None
        basis = getattr(h, f"{s.of}_l" if s.of == "water" else f"{s.of}_wh")
        if basis is None or basis <= 0:
            return None
        amount = basis * s.percent / 100
    if g.energy == "water":
        euros = (amount / 1000) * (h.euros_per_m3 or 0.0)
        co2 = 0.0
    else:
        euros = amount / 1000 * (h.euros_per_kwh or {}).get(g.energy, 0.0)
        co2 = amount / 1000 * EMISSION_FACTORS[g.energy]
    return {
        "id": g.id,
        "category": g.category,
        "energy": g.energy,
        "title": dict(g.title),
        "advice": dict(g.advice),
        "saving": {
            "wh": round(amount, 1) if g.energy != "water" else None,
            "litres": round(amount, 1) if g.energy == "water" else None,
            "cents": round(euros * 100),
            "kg_co2e": round(co2, 2),
        },
    }


def top_gestures(h: HouseholdFigures, limit: int | None = None) -> list[dict[str, Any]]:
    """The gestures that apply to this household, the biggest euro saving first."""
    found = [e for g in catalogue() if (e := estimate(g, h)) is not None]
    found.sort(key=lambda e: (-e["saving"]["cents"], -e["saving"]["kg_co2e"], e["id"]))
    return found[:limit] if limit else found
