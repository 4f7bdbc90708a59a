"""The energy service's built-in questions (entry points ``selfdata.questions``).

Each question reads the citizen's meters (``energy.meter`` records, ``energy.reading``
series) through the consent-scoped :class:`~selfdata.questions.QuestionData`, the
operator's reference data (tariffs, degree-days, Tempo calendar: public data) and
answers with a plain dict (ISO dates, Wh or litres, euro cents).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar

from selfdata.questions.plugin import BuiltinQuestion, QuestionData

from . import analysis, reference
from .alerts import evaluate
from .gestures import top_gestures
from .localtime import zone
from .periods import Period
from .readings import Consumption, best_per_meter, consumption

__all__ = [
    "AlertsQuestion",
    "GesturesQuestion",
    "MonthlyReportQuestion",
    "OverviewQuestion",
    "PeriodQuestion",
    "consumptions",
]

_METERS = ("energy.meter", "energy.reading")
_TARIFF_CHOICE: dict[str, Any] = {
    "type": "object",
    "description": "Tariff id chosen per kind (see `selfdata energy tariffs show`)",
    "properties": {k: {"type": "string"} for k in ("electricity", "gas", "water")},
    "additionalProperties": False,
}
_OBJECT: dict[str, Any] = {"type": "object"}


def _obj(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


def _list(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


# The answers' shapes (docs/energy.md): checked by the runner before anything leaves.
_METER_INFO = _obj(
    ["kind", "meter_id", "unit", "reading_type", "first", "last"],
    kind={"enum": ["electricity", "gas", "water"]},
    unit={"enum": ["Wh", "L"]},
)
_GESTURE = _obj(
    ["id", "category", "energy", "title", "advice", "saving"],
    saving=_obj(["wh", "litres", "cents", "kg_co2e"], cents={"type": "integer"}),
)
_OVERVIEW = _obj(
    ["generated_at", "timezone", "tariffs", "meters"],
    meters=_list(
        _obj(
            ["meter", "last_day", "this_month", "last_month", "months", "years",
             "last_365_days", "base_load", "peak_hours"],
            meter=_METER_INFO,
        )
    ),
)  # fmt: skip
_PERIOD = _obj(
    ["period", "timezone", "meters"],
    meters=_list(
        _obj(
            ["meter", "period", "total", "coverage", "previous", "next", "last_year",
             "detail", "cost", "weather"],
            meter=_METER_INFO,
        )
    ),
)  # fmt: skip
_REPORT = _obj(
    ["month", "timezone", "meters", "gestures"],
    meters=_list(_obj(["meter", "total", "previous_month", "last_year", "weather", "cost"])),
    gestures=_list(_GESTURE),
)
_GESTURES = _obj(["gestures"], gestures=_list(_GESTURE))
_ALERTS = _obj(
    ["since", "alerts"],
    alerts=_list(_obj(["kind", "meter_id", "period", "threshold", "unit", "exceeded", "ongoing"])),
)


def consumptions(data: QuestionData) -> list[Consumption]:
    """Every meter's consumption, the finest reading type of each meter."""
    found = []
    for series in data.series("energy.reading"):
        meter = series.record
        if not meter or "kind" not in meter or series.values.shape[0] == 0:
            continue
        column = series.columns.index("value") if "value" in series.columns else 0
        found.append(consumption(meter, series.ts, series.values[:, column]))
    return best_per_meter(found)


class _Energy(BuiltinQuestion):
    version: ClassVar[str] = "1.0"
    doctypes: ClassVar[tuple[str, ...]] = _METERS
    answer_schema: ClassVar[dict[str, Any]] = _OBJECT
    max_answer_bytes: ClassVar[int] = 512 * 1024


class OverviewQuestion(_Energy):
    name = "energy.overview"
    answer_schema: ClassVar[dict[str, Any]] = _OVERVIEW
    description: ClassVar[Mapping[str, str]] = {
        "fr": "Vue d'ensemble : consommations récentes, comparaisons, talon, pointes, coût.",
        "en": "Overview: recent consumption, comparisons, base load, peak hours, cost.",
    }
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"tariffs": _TARIFF_CHOICE},
        "additionalProperties": False,
    }

    def answer(self, data: QuestionData, params: Mapping[str, Any]) -> Any:
        return analysis.overview(
            consumptions(data),
            reference.current(),
            data.timezone,
            data.now(),
            params.get("tariffs"),
        )


class PeriodQuestion(_Energy):
    name = "energy.period"
    answer_schema: ClassVar[dict[str, Any]] = _PERIOD
    description: ClassVar[Mapping[str, str]] = {
        "fr": "Une journée, un mois ou une année en détail, avec l'an dernier et le coût.",
        "en": "A day, a month or a year in detail, with last year and the cost.",
    }
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "period": {
                "type": "string",
                "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$",
                "description": "YYYY, YYYY-MM or YYYY-MM-DD (local calendar)",
            },
            "tariffs": _TARIFF_CHOICE,
        },
        "required": ["period"],
        "additionalProperties": False,
    }

    def answer(self, data: QuestionData, params: Mapping[str, Any]) -> Any:
        period = Period.parse(str(params["period"]))
        return analysis.period_view(
            consumptions(data), reference.current(), data.timezone, period, params.get("tariffs")
        )


class MonthlyReportQuestion(_Energy):
    name = "energy.monthly_report"
    answer_schema: ClassVar[dict[str, Any]] = _REPORT
    description: ClassVar[Mapping[str, str]] = {
        "fr": "Le bilan du mois : chiffres, comparaisons, correction climatique, éco-gestes.",
        "en": "The monthly report: figures, comparisons, weather correction, eco-gestures.",
    }
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "month": {"type": "string", "pattern": r"^\d{4}-\d{2}$"},
            "tariffs": _TARIFF_CHOICE,
        },
        "additionalProperties": False,
    }

    def answer(self, data: QuestionData, params: Mapping[str, Any]) -> Any:
        now = data.now()
        if params.get("month"):
            month = Period.parse(str(params["month"]))
        else:  # the last complete month
            today = now.astimezone(zone(data.timezone)).date()
            month = Period.containing("month", today).previous()
        return analysis.monthly_report(
            consumptions(data),
            reference.current(),
            data.timezone,
            month,
            now,
            params.get("tariffs"),
        )


class GesturesQuestion(_Energy):
    name = "energy.gestures"
    answer_schema: ClassVar[dict[str, Any]] = _GESTURES
    description: ClassVar[Mapping[str, str]] = {
        "fr": "Les éco-gestes et ce que chacun ferait économiser à ce foyer par an.",
        "en": "Eco-gestures and what each would save this household in a year.",
    }
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "limit": {"type": "integer", "minimum": 1, "maximum": 50},
            "tariffs": _TARIFF_CHOICE,
        },
        "additionalProperties": False,
    }

    def answer(self, data: QuestionData, params: Mapping[str, Any]) -> Any:
        today = data.now().astimezone(zone(data.timezone)).date()
        figures = analysis.household(
            consumptions(data), reference.current(), data.timezone, today, params.get("tariffs")
        )
        return {"gestures": top_gestures(figures, params.get("limit"))}


class AlertsQuestion(_Energy):
    name = "energy.alerts"
    answer_schema: ClassVar[dict[str, Any]] = _ALERTS
    doctypes: ClassVar[tuple[str, ...]] = (*_METERS, "energy.alert_rule")
    description: ClassVar[Mapping[str, str]] = {
        "fr": "Les jours ou mois où la consommation a dépassé vos seuils d'alerte.",
        "en": "The days or months when consumption went over your alert thresholds.",
    }
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"days": {"type": "integer", "minimum": 1, "maximum": 3660}},
        "additionalProperties": False,
    }

    def answer(self, data: QuestionData, params: Mapping[str, Any]) -> Any:
        now = data.now().astimezone(zone(data.timezone))
        since = (now - timedelta(days=int(params.get("days", 31)))).date()
        rules = list(data.records("energy.alert_rule"))
        return {
            "since": since.isoformat(),
            "alerts": evaluate(rules, consumptions(data), data.timezone, now, since=since),
        }
