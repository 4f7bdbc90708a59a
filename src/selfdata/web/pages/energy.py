"""« Mon énergie »: the built-in energy service's pages (docs/energy.md, "Pages").

Every figure shown here is the answer of one of the service's built-in questions,
asked through the questions runtime as the service, under the citizen's consent to
``selfdata-energy``: each page view is an audited access by the energy service in the
citizen's log, exactly as if the service had asked over HTTP. Without that consent the
pages show what the service does and lead to the app's consent screen.

Only the alert thresholds are written by the citizen themself (records of
``energy.alert_rule`` in their own space), as docs/energy.md says.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Literal

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from selfdata.access import Actor, SpaceView
from selfdata.consent import ConsentRecord, build_notice
from selfdata.energy import reference
from selfdata.energy.periods import Period
from selfdata.errors import InvalidInput, NotFound, ValidationFailed
from selfdata.platform import Platform
from selfdata.web.pages.charts import BarChart, bar_chart
from selfdata.web.pages.common import (
    Citizen,
    Form,
    PageRoute,
    check_csrf,
    gettext,
    one,
    page,
    platform_of,
    read_form,
    redirect,
    require_citizen,
)
from selfdata.web.pages.i18n import Formatter, Lang, choose_language

__all__ = ["SERVICE_ID", "router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

SERVICE_ID = "selfdata-energy"
KINDS = ("electricity", "gas", "water")
_QUESTIONS_NEEDED = ("energy.overview", "energy.period", "energy.monthly_report")
State = Literal["unregistered", "unavailable", "offer", "consented"]


@dataclass(frozen=True, slots=True)
class EnergyAccess:
    """Where the citizen stands with the energy service; ``view`` is the service's view
    of their space through their active consent (None without one)."""

    state: State
    consent: ConsentRecord | None = None
    view: SpaceView | None = None

    @property
    def alerts_granted(self) -> bool:
        return self.consent is not None and any(
            g.request_id == "alerts" for g in self.consent.grants
        )


def energy_access(platform: Platform, citizen: Citizen) -> EnergyAccess:
    """The citizen's standing, read at every request (a withdrawal shows at once)."""
    try:
        info = platform.services.get(SERVICE_ID)
    except NotFound:
        return EnergyAccess("unregistered")
    if info.status != "approved" or not all(
        q in platform.questions.builtins for q in _QUESTIONS_NEEDED
    ):
        return EnergyAccess("unavailable")
    active = [c for c in citizen.view.consents(SERVICE_ID) if c.status == "active"]
    if not active:
        return EnergyAccess("offer")
    consent = active[0]  # newest first
    space_id = citizen.view.space_id
    # The same view the HTTP questions route builds from a consent-bound OAuth token.
    actor = Actor(
        "service",
        SERVICE_ID,
        space_id,
        label=platform.services.label(SERVICE_ID),
        consent_id=consent.id,
    )
    return EnergyAccess("consented", consent, platform.view(actor, space_id))


def _ask(platform: Platform, access: EnergyAccess, name: str, params: Mapping[str, Any]) -> Any:
    assert access.view is not None
    return platform.questions.run(access.view, name, params).value


# -- formatting ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Units:
    """Wh are shown in kWh, litres as litres."""

    scale: float
    label: str
    digits: int

    @classmethod
    def of(cls, unit: str) -> Units:
        return cls(1000.0, "kWh", 1) if unit == "Wh" else cls(1.0, "L", 0)

    def value(self, raw: float | None) -> float | None:
        return None if raw is None else raw / self.scale


def amount_text(fmt: Formatter, raw: float | None, unit: str) -> str:
    """An amount in Wh or L as the pages show it (``1 234,5 kWh``, ``3 456 L``)."""
    units = Units.of(unit)
    if raw is None:
        return "—"
    return f"{fmt.number(raw / units.scale, units.digits)} {units.label}"


def euros_text(fmt: Formatter, cents: int | None) -> str:
    return "—" if cents is None else f"{fmt.number(cents / 100, 2)} €"


def pct_text(fmt: Formatter, pct: float | None) -> str:
    if pct is None:
        return "—"
    sign = "+" if pct > 0 else ""
    return f"{sign}{fmt.number(pct, 1)} %"


def _noon(day: date, fmt: Formatter) -> datetime:
    return datetime.combine(day, time(12), tzinfo=fmt.zone)


def period_label(fmt: Formatter, period: Period) -> str:
    pattern = {"day": "EEEE d MMMM y", "month": "MMMM y", "year": "y"}[period.unit]
    return fmt.pattern(_noon(period.start, fmt), pattern)


def tariff_name(cost: Mapping[str, Any], lang: Lang) -> str:
    """The name of the tariff a cost was computed with (public reference data)."""
    found = reference.current().tariffs.get(cost["tariff"], date.fromisoformat(cost["valid_from"]))
    return found.name.get(lang, cost["tariff"]) if found else str(cost["tariff"])


def _filters(fmt: Formatter) -> dict[str, Callable[..., str]]:
    return {
        "tariff_name": lambda cost: tariff_name(cost, fmt.lang),
        "amount": lambda raw, unit: amount_text(fmt, raw, unit),
        "euros": lambda cents: euros_text(fmt, cents),
        "pct": lambda pct: pct_text(fmt, pct),
        "period_name": lambda key: period_label(fmt, Period.parse(key)),
    }


def _chart(
    fmt: Formatter, labels: list[str], full: list[str], raws: list[float | None], unit: str
) -> dict[str, Any]:
    units = Units.of(unit)
    values = [units.value(r) for r in raws]
    texts = [amount_text(fmt, r, unit) for r in raws]
    chart: BarChart = bar_chart(
        labels,
        values,
        [f"{name}: {text}" for name, text in zip(full, texts, strict=True)],
        lambda v: fmt.number(v, 0 if v >= 10 else 1),
    )
    return {"svg": chart, "rows": list(zip(full, texts, strict=True)), "unit": units.label}


def detail_chart(fmt: Formatter, summary: Mapping[str, Any]) -> dict[str, Any]:
    """The period's detail one level finer: half-hours of a day, days of a month,
    months of a year."""
    unit = summary["unit"]
    labels, full, raws = [], [], []
    for item in summary.get("detail", []):
        if "start" in item:  # an interval of a day
            start = datetime.fromisoformat(item["start"])
            labels.append(fmt.pattern(start, "HH:mm"))
            full.append(fmt.pattern(start, "HH:mm"))
            raws.append(item["value"])
            continue
        part = Period.parse(item["period"])
        short = "d" if part.unit == "day" else "MMM"
        labels.append(fmt.pattern(_noon(part.start, fmt), short))
        full.append(period_label(fmt, part))
        raws.append(item["total"])
    return _chart(fmt, labels, full, raws, unit)


def years_chart(fmt: Formatter, years: list[Mapping[str, Any]], unit: str) -> dict[str, Any]:
    keys = [y["period"] for y in years]
    return _chart(fmt, keys, keys, [y["total"] for y in years], unit)


# -- choosing what to show -------------------------------------------------------------


def _meters_by_kind(overview: Mapping[str, Any]) -> dict[str, list[Mapping[str, Any]]]:
    """The meters of each kind, in the overview's order (it lists the finest stream per
    meter, sorted by meter id)."""
    found: dict[str, list[Mapping[str, Any]]] = {}
    for m in overview["meters"]:
        found.setdefault(m["meter"]["kind"], []).append(m)
    return {k: found[k] for k in KINDS if k in found}


def meter_name(meter: Mapping[str, Any]) -> str:
    """What a meter tab says: the citizen's label for it, else its id masked but for the
    last four characters (a PRM or PCE number is enough to act on a contract)."""
    label = str(meter.get("label") or "").strip()
    if label:
        return label
    meter_id = str(meter.get("meter_id") or "")
    return f"•••• {meter_id[-4:]}" if len(meter_id) > 4 else meter_id or "—"


def _chosen_meter(meters: list[Mapping[str, Any]], raw: str | None) -> int:
    """The position (from 1) of the meter asked for (``?meter=2``), else 1. A position,
    not the meter's id: URLs end up in histories and access logs, a PRM should not."""
    if not raw:
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= len(meters):
        raise InvalidInput(f"meter {raw!r}: expected a number from 1 to {len(meters)}")
    return int(raw)


def _last_day(meter: Mapping[str, Any], today: date) -> date:
    last = meter["meter"].get("last")
    return datetime.fromisoformat(last).date() if last else today


def _chosen_period(raw: str | None, anchor: date) -> Period | None:
    """The period asked for (None: every year), else the month of the latest data."""
    if raw == "all":
        return None
    if raw:
        return Period.parse(raw)
    return Period.containing("month", anchor)


def _scale_tabs(period: Period | None, last: date) -> list[tuple[str, str]]:
    """The day / month / year / all-years links around the period shown."""
    # The latest day of data when it is in view (the day tab then shows it), else the
    # period's first day.
    anchor = last if period is None or period.start <= last < period.end else period.start
    return [
        ("day", Period.containing("day", anchor).key),
        ("month", Period.containing("month", anchor).key),
        ("year", Period.containing("year", anchor).key),
        ("all", "all"),
    ]


def _same_meter(answer: Mapping[str, Any], meter_id: str) -> Mapping[str, Any] | None:
    return next((m for m in answer["meters"] if m["meter"]["meter_id"] == meter_id), None)


# -- pages -----------------------------------------------------------------------------


def _offer(request: Request, citizen: Citizen, access: EnergyAccess) -> Response:
    platform = platform_of(request)
    lang = choose_language(request)
    notice = None
    if access.state == "offer":
        info = platform.services.get(SERVICE_ID)
        notice = build_notice(info.manifest, platform.doctypes).content[lang]
    return page(
        request,
        "energy_offer.html",
        {"state": access.state, "notice": notice, "service_id": SERVICE_ID},
        citizen=citizen,
    )


def _fmt(request: Request, lang: Lang) -> Formatter:
    return Formatter(lang, platform_of(request).settings.timezone)


@router.get("/energy")
def overview_page(request: Request) -> Response:
    citizen = require_citizen(request)
    platform = platform_of(request)
    access = energy_access(platform, citizen)
    if access.state != "consented":
        return _offer(request, citizen, access)
    lang = choose_language(request)
    fmt = _fmt(request, lang)
    raw_period = request.query_params.get("period")
    if raw_period and raw_period != "all":
        Period.parse(raw_period)  # a bad key: a 400 page, before any question is asked
    overview = _ask(platform, access, "overview", {})
    meters = _meters_by_kind(overview)
    context: dict[str, Any] = {"kinds": list(meters), "kind": None, **_filters(fmt)}
    if not meters:
        return page(request, "energy.html", context, citizen=citizen)
    kind = request.query_params.get("kind") or next(iter(meters))
    if kind not in meters:
        raise InvalidInput(f"kind {kind!r}: expected one of {', '.join(meters)}")
    position = _chosen_meter(meters[kind], request.query_params.get("meter"))
    meter = meters[kind][position - 1]
    today = datetime.fromisoformat(overview["generated_at"]).astimezone(fmt.zone).date()
    last = _last_day(meter, today)
    period = _chosen_period(raw_period, last)
    unit = meter["meter"]["unit"]
    summary = None
    chart: dict[str, Any] | None
    if period is None:
        chart = years_chart(fmt, meter["years"], unit)
    else:
        answer = _ask(platform, access, "period", {"period": period.key})
        summary = _same_meter(answer, meter["meter"]["meter_id"])
        chart = detail_chart(fmt, summary) if summary else None
    context.update(
        {
            "kind": kind,
            "meter": meter,
            "meter_label": meter_name(meter["meter"]),
            # Several meters of this kind: tabs to choose, and every link keeps the choice.
            "meter_tabs": [(i, meter_name(m["meter"])) for i, m in enumerate(meters[kind], 1)]
            if len(meters[kind]) > 1
            else [],
            "meter_position": position,
            "unit": unit,
            "period": period,
            "period_title": period_label(fmt, period) if period else None,
            "summary": summary,
            "chart": chart,
            "scales": _scale_tabs(period, last),
            "scale": period.unit if period else "all",
        }
    )
    return page(request, "energy.html", context, citizen=citizen)


@router.get("/energy/report")
def report_page(request: Request) -> Response:
    citizen = require_citizen(request)
    platform = platform_of(request)
    access = energy_access(platform, citizen)
    if access.state != "consented":
        return _offer(request, citizen, access)
    fmt = _fmt(request, choose_language(request))
    month = request.query_params.get("month")
    params = {"month": Period.parse(month).key} if month else {}
    if month and Period.parse(month).unit != "month":
        raise InvalidInput(f"month {month!r}: expected YYYY-MM")
    report = _ask(platform, access, "monthly-report", params)
    gestures = _ask(platform, access, "gestures", {})["gestures"]
    shown = Period.parse(report["month"])
    today = datetime.fromisoformat(report["generated_at"]).astimezone(fmt.zone).date()
    return page(
        request,
        "energy_report.html",
        {
            "report": report,
            "month_title": period_label(fmt, shown),
            "previous": shown.previous().key,
            "next": shown.next().key if shown.end <= today else None,
            "gestures": gestures,
            **_filters(fmt),
        },
        citizen=citizen,
    )


def _rules(citizen: Citizen) -> list[dict[str, Any]]:
    return [{"id": r.id, **r.data} for r in citizen.view.iter_records("energy.alert_rule")]


def _alerts_page(
    request: Request,
    citizen: Citizen,
    access: EnergyAccess,
    *,
    errors: dict[str, str] | None = None,
    sent: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    platform = platform_of(request)
    fmt = _fmt(request, choose_language(request))
    alerts = None
    if access.alerts_granted:
        alerts = _ask(platform, access, "alerts", {"days": 92})
    return page(
        request,
        "energy_alerts.html",
        {
            "alerts": alerts,
            "alerts_granted": access.alerts_granted,
            "rules": _rules(citizen),
            "errors": errors or {},
            "sent": sent or {},
            "done": request.query_params.get("done"),
            "service_id": SERVICE_ID,
            **_filters(fmt),
        },
        status=status,
        citizen=citizen,
    )


@router.get("/energy/alerts")
def alerts_page(request: Request) -> Response:
    citizen = require_citizen(request)
    access = energy_access(platform_of(request), citizen)
    if access.state != "consented":
        return _offer(request, citizen, access)
    return _alerts_page(request, citizen, access)


def _rule_of(form: Form) -> dict[str, Any]:
    kind = one(form, "kind")
    rule: dict[str, Any] = {
        "kind": kind,
        "period": one(form, "period"),
        "threshold": one(form, "threshold").replace(",", ".").replace(" ", ""),
        "unit": "L" if kind == "water" else "kWh",
    }
    if label := one(form, "label").strip():
        rule["label"] = label
    return rule


@router.post("/energy/alerts")
async def set_alert(request: Request) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_set_alert, request, form)


def _set_alert(request: Request, form: Form) -> Response:
    citizen = require_citizen(request)
    check_csrf(citizen, form)
    access = energy_access(platform_of(request), citizen)
    if access.state != "consented":
        return _offer(request, citizen, access)
    _ = gettext(choose_language(request))
    rule = _rule_of(form)
    try:
        citizen.view.put_records("energy.alert_rule", [rule])
    except ValidationFailed as exc:
        errors = {}
        for err in exc.errors:
            field = str(err.loc[-1]) if err.loc else "threshold"
            errors[field if field in ("kind", "period", "label") else "threshold"] = _(
                "Check this value: %(why)s"
            ) % {"why": err.message}
        sent = {k: one(form, k) for k in ("kind", "period", "threshold", "label")}
        return _alerts_page(request, citizen, access, errors=errors, sent=sent, status=400)
    return redirect("/energy/alerts?done=saved")


@router.post("/energy/alerts/{rule_id}/delete")
async def delete_alert(rule_id: str, request: Request) -> Response:
    form = await read_form(request)
    citizen = require_citizen(request)
    check_csrf(citizen, form)
    await run_in_threadpool(citizen.view.delete_record, rule_id, doctype="energy.alert_rule")
    return redirect("/energy/alerts?done=deleted")
