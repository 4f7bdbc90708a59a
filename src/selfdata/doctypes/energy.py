"""Energy and water: meters and their readings.

Modelled on what French network operators give citizens: Enedis (electricity, the PRM /
PDL point of delivery, 14 digits; load curve in W every 30 minutes, daily consumption in
Wh, daily index) and GRDF (gas, the PCE, daily consumption in kWh or m³), and water
utilities (m³ or litres). A meter is a record; its readings are a series attached to it.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, ValidationInfo, field_validator

from .fields import DoctypeModel, Identifier, Label, Name, PostalAddress
from .registry import Doctype

__all__ = ["DOCTYPES", "METER", "READING", "Meter", "Reading"]

# Operators whose meter ids have a known shape, checked so that a truncated id (a
# spreadsheet dropping leading zeros) is caught at import rather than at the next sync.
_ID_SHAPES: dict[str, tuple[re.Pattern[str], str]] = {
    "enedis": (re.compile(r"^\d{14}$"), "a 14-digit PRM (point de livraison)"),
    "grdf": (re.compile(r"^(GI\d{6}|\d{14})$"), "a PCE: 14 digits, or GI and 6 digits"),
}


class Meter(DoctypeModel):
    """A meter and the kind of readings collected from it (one record per stream).

    The same physical meter may appear once per ``reading_type``: an Enedis meter gives a
    load curve, a daily consumption and a daily index, each its own series.
    """

    kind: Literal["electricity", "gas", "water"]
    """What the meter measures."""
    provider: Name
    """The network operator or utility, such as ``Enedis``, ``GRDF``, ``Eau du Grand Lyon``."""
    meter_id: Identifier
    """The operator's id of the point: PRM/PDL (14 digits) at Enedis, PCE at GRDF."""
    unit: Literal["kWh", "Wh", "m3", "L", "W"]
    """Unit of the readings' ``value``: energy (kWh, Wh), volume (m3, L) or power (W)."""
    reading_type: Literal["load_curve", "daily_consumption", "daily_index"]
    """``load_curve``: one value per interval, in the meter's ``unit`` (average power in W,
    as Enedis exports it, or energy per interval in Wh); ``daily_consumption``: per day;
    ``daily_index``: the meter's cumulative index read each day."""
    label: Label | None = None
    """A name chosen by the citizen, such as ``Maison`` or ``Appartement Lyon 3``."""
    interval_s: Annotated[int, Field(gt=0, le=86_400)] | None = None
    """Time between two readings in seconds (1800 for an Enedis load curve)."""
    address: PostalAddress | None = None
    """Where the meter is."""
    tariff: Name | None = None
    """The tariff option, such as ``BASE``, ``HP/HC`` or ``Tempo``."""
    subscribed_power_kva: Annotated[int, Field(ge=1, le=1000)] | None = None
    """Subscribed power in kVA (electricity only; 3 to 36 for homes)."""

    @field_validator("meter_id")
    @classmethod
    def _known_shape(cls, value: str, info: ValidationInfo) -> str:
        provider = str(info.data.get("provider", "")).strip().lower()
        shape = _ID_SHAPES.get(provider)
        if shape and not shape[0].match(value):
            raise ValueError(f"expected {shape[1]} for {info.data['provider']}")
        return value


class Reading(DoctypeModel):
    """One point of a meter's series: when, and how much (in the meter's ``unit``).

    For a load curve ``time`` is the start of the interval; for daily values it is
    local midnight of the day, with its offset (``2024-03-31T00:00:00+01:00``).
    """

    time: AwareDatetime
    """Start of the interval (or the day) the value covers."""
    value: float
    """The value, in the unit of the meter."""


# Words for people, per field: (French, English). A unit test wants every field here.
METER_LABELS = {
    "kind": ("Type de compteur", "Meter type"),
    "provider": ("Fournisseur ou gestionnaire", "Provider"),
    "meter_id": ("Numéro du compteur", "Meter number"),
    "unit": ("Unité", "Unit"),
    "reading_type": ("Type de relevé", "Reading type"),
    "label": ("Nom", "Name"),
    "interval_s": ("Intervalle entre relevés (s)", "Interval between readings (s)"),
    "address": ("Adresse", "Address"),
    "tariff": ("Option tarifaire", "Tariff option"),
    "subscribed_power_kva": ("Puissance souscrite (kVA)", "Subscribed power (kVA)"),
}
READING_LABELS = {
    "time": ("Date et heure", "Date and time"),
    "value": ("Valeur", "Value"),
}
ALERT_RULE_LABELS = {
    "kind": ("Consommation surveillée", "Consumption watched"),
    "period": ("Période", "Period"),
    "threshold": ("Seuil", "Threshold"),
    "unit": ("Unité", "Unit"),
    "meter_id": ("Numéro du compteur", "Meter number"),
    "label": ("Nom", "Name"),
    "active": ("Active", "Active"),
}


# Words for the coded values of some fields: (French, English).
_KIND_WORDS = {
    "electricity": ("Électricité", "Electricity"),
    "gas": ("Gaz", "Gas"),
    "water": ("Eau", "Water"),
}
METER_CHOICES = {
    "kind": _KIND_WORDS,
    "reading_type": {
        "load_curve": ("Courbe de charge", "Load curve"),
        "daily_consumption": ("Consommation quotidienne", "Daily consumption"),
        "daily_index": ("Index quotidien", "Daily index"),
    },
}
ALERT_RULE_CHOICES = {
    "kind": _KIND_WORDS,
    "period": {"day": ("Par jour", "Per day"), "month": ("Par mois", "Per month")},
}


METER = Doctype(
    name="energy.meter",
    summary=("label", "kind", "provider", "meter_id", "reading_type"),
    choices=METER_CHOICES,
    labels=METER_LABELS,
    version=1,
    kind="record",
    model=Meter,
    category="energy",
    title={"fr": "Compteur", "en": "Meter"},
    description={
        "fr": "Un compteur d'électricité, de gaz ou d'eau et le type de relevés collectés.",
        "en": "An electricity, gas or water meter and the kind of readings collected.",
    },
    natural_key=("provider", "meter_id", "reading_type"),
)

READING = Doctype(
    name="energy.reading",
    labels=READING_LABELS,
    version=1,
    kind="series",
    model=Reading,
    category="energy",
    title={"fr": "Relevé de compteur", "en": "Meter reading"},
    description={
        "fr": "Une série de relevés d'un compteur (courbe de charge, consommation, index).",
        "en": "A series of meter readings (load curve, daily consumption or index).",
    },
    time_field="time",
    columns=("value",),
    parent="energy.meter",
)

DOCTYPES: tuple[Doctype, ...] = (METER, READING)


class AlertRule(DoctypeModel):
    """A threshold the citizen sets on their own consumption (the energy service warns
    when a day or a month goes over it)."""

    kind: Literal["electricity", "gas", "water"]
    """Which consumption the rule watches."""
    period: Literal["day", "month"]
    """Whether the threshold applies to each local day or to each calendar month."""
    threshold: Annotated[float, Field(gt=0, le=1e9)]
    """The limit, in ``unit``."""
    unit: Literal["kWh", "L"]
    """``kWh`` for electricity and gas, ``L`` (litres) for water."""
    meter_id: Identifier | None = None
    """Only this meter (by the operator's id); every meter of the kind when absent."""
    label: Label | None = None
    """A name chosen by the citizen, such as ``Hiver raisonnable``."""
    active: bool = True
    """An inactive rule is kept but not evaluated."""

    @field_validator("unit")
    @classmethod
    def _unit_fits_kind(cls, value: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        if kind is not None and (kind == "water") != (value == "L"):
            raise ValueError("use L (litres) for water and kWh for electricity and gas")
        return value


ALERT_RULE = Doctype(
    name="energy.alert_rule",
    summary=("label", "kind", "period", "threshold", "active"),
    choices=ALERT_RULE_CHOICES,
    labels=ALERT_RULE_LABELS,
    version=1,
    kind="record",
    model=AlertRule,
    category="energy",
    title={"fr": "Seuil d'alerte de consommation", "en": "Consumption alert threshold"},
    description={
        "fr": "Un seuil de consommation quotidienne ou mensuelle au-delà duquel être alerté.",
        "en": "A daily or monthly consumption threshold above which to be alerted.",
    },
)

DOCTYPES = (*DOCTYPES, ALERT_RULE)
__all__ += ["ALERT_RULE", "AlertRule"]
