"""My data: the dashboard per category, the explorer per doctype, a record with its
provenance, and series as charts (day, month, year)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from starlette.responses import Response

from selfdata.access import Query, SpaceView
from selfdata.doctypes import Doctype
from selfdata.errors import MalformedQuery, NotFound
from selfdata.web.pages.charts import bar_chart
from selfdata.web.pages.common import (
    Citizen,
    PageRoute,
    gettext,
    page,
    platform_of,
    require_citizen,
)
from selfdata.web.pages.i18n import Formatter, Lang, choose_language
from selfdata.web.pages.values import ValueFormatter

__all__ = ["CATEGORIES", "router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# The dashboard's order; each doctype says its category.
CATEGORIES = ("energy", "bank", "mobility", "health", "papers", "calendar", "contacts")
_PAGE_SIZE = 25
_EVERY = ("day", "month", "year")


def _category_titles(lang: Lang) -> dict[str, str]:
    _ = gettext(lang)
    return {
        "energy": _("Energy"),
        "bank": _("Bank"),
        "mobility": _("Mobility"),
        "health": _("Health"),
        "papers": _("Papers"),
        "calendar": _("Calendar"),
        "contacts": _("Contacts"),
    }


def _sources(view: SpaceView, summary: list[Any]) -> dict[str, dict[str, Any]]:
    """Per doctype: where its newest data came from, and when that source arrived.

    Read from the newest record of each record doctype and from each series (a few
    small audited reads), not from the access log, whose size must not slow the page."""
    source_ids: dict[str, set[str]] = {}
    for item in summary:
        if item.kind != "record":
            continue
        newest = view.query(Query.build(item.doctype, limit=1, descending=True)).items
        if newest and newest[0].source_id:
            source_ids.setdefault(item.doctype, set()).add(newest[0].source_id)
    if any(item.kind == "series" for item in summary):
        for stream in view.streams():
            if stream.source_id:
                source_ids.setdefault(stream.doctype, set()).add(stream.source_id)
    known: dict[str, Any] = {}
    out: dict[str, dict[str, Any]] = {}
    for doctype, ids in source_ids.items():
        entry = out.setdefault(doctype, {"kinds": set(), "last": None})
        for source_id in ids:
            if source_id.startswith("service:"):
                entry["kinds"].add(source_id.removeprefix("service:"))
                continue
            if source_id not in known:
                try:
                    known[source_id] = view.source(source_id)
                except NotFound:
                    known[source_id] = None
            info = known[source_id]
            if info is None:
                continue
            detail = info.detail
            entry["kinds"].add(str(detail.get("importer") or detail.get("connector") or info.kind))
            if entry["last"] is None or info.created_at > entry["last"]:
                entry["last"] = info.created_at
    return out


@router.get("/data")
def dashboard(request: Request) -> Response:
    citizen = require_citizen(request)
    lang = choose_language(request)
    platform_doctypes = platform_of(request).doctypes
    summary = citizen.view.summary()
    sources = _sources(citizen.view, summary)
    groups: dict[str, list[dict[str, Any]]] = {c: [] for c in CATEGORIES}
    for item in summary:
        doctype = platform_doctypes.get(item.doctype)
        if doctype.category not in groups:
            continue
        origin = sources.get(item.doctype, {"kinds": set(), "last": None})
        groups[doctype.category].append(
            {
                "doctype": item.doctype,
                "title": doctype.title[lang],
                "kind": item.kind,
                "count": item.count,
                "first": item.first,
                "last": item.last,
                "sources": sorted(origin["kinds"]),
                "synced": origin["last"],
            }
        )
    return page(
        request,
        "dashboard.html",
        {
            "groups": [(c, _category_titles(lang)[c], groups[c]) for c in CATEGORIES],
            "welcome": request.query_params.get("welcome") == "1",
            "empty": not summary,
        },
        citizen=citizen,
    )


def _shown(name: str, kind: Doctype) -> bool:
    """Whether a field deserves one of the explorer's few columns when the doctype (a
    plugin's) names no summary: the time field has its own "Date" column, a currency goes
    with its amount, ids and code systems mean little to a person (all of them stay on
    the record page and in the search)."""
    if name in (kind.time_field, "currency", "original_currency", "uid"):
        return False
    return not name.endswith(("_id", "code_system"))


def _code_for(kind: Doctype, name: str, text: str) -> str:
    """What to search for in a coded field: the code whose words (in either language)
    are, or else contain, the text typed ("prélèvement" finds ``direct_debit``)."""
    words = kind.choices.get(name)
    if not words:
        return text
    wanted = text.casefold()
    for exact in (True, False):
        for code, pair in words.items():
            said = [w.casefold() for w in pair]
            if any(w == wanted if exact else wanted in w for w in said):
                return code
    return text


def _date(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        raise MalformedQuery(f"{name}: expected a date such as 2025-01-31") from None


@router.get("/data/{doctype}")
def explorer(doctype: str, request: Request) -> Response:
    citizen = require_citizen(request)
    lang = choose_language(request)
    fmt = Formatter(lang, platform_of(request).settings.timezone)
    kind = citizen.view.doctype(doctype)
    if kind.kind == "series":
        return _streams(request, citizen, doctype, kind.title[lang])
    values = ValueFormatter(kind, fmt, gettext(lang))
    fields = list(kind.model.model_fields)
    # The doctype's summary fields; failing those, the first fields worth a column.
    columns = list(kind.summary) or [c for c in fields if _shown(c, kind)][:5]
    params = request.query_params
    search_field = params.get("field") or columns[0]
    if search_field not in fields:
        raise MalformedQuery(f"{doctype} has no field {search_field!r}")
    text = params.get("q", "").strip()
    filters = [f"{search_field}~{_code_for(kind, search_field, text)}"] if text else []
    start, end = _date(params.get("from"), "from"), _date(params.get("to"), "to")
    result = citizen.view.query(
        Query.build(
            doctype,
            start=start,
            end=end,
            filters=filters,
            limit=_PAGE_SIZE,
            cursor=params.get("cursor") or None,
            descending=True,
        )
    )
    rows = [
        {
            "id": r.id,
            "when": r.time_start,
            "cells": [values.value(c, r.data, short=True) for c in columns],
        }
        for r in result.items
    ]
    keep = {k: v for k, v in params.items() if k in ("q", "field", "from", "to") and v}
    return page(
        request,
        "explorer.html",
        {
            "doctype": doctype,
            "title": kind.title[lang],
            "description": kind.description.get(lang, ""),
            "columns": [(c, values.label(c)) for c in columns],
            "fields": [(f, values.label(f)) for f in fields],
            "rows": rows,
            "field": search_field,
            "q": text,
            "from": params.get("from", ""),
            "to": params.get("to", ""),
            "next_cursor": result.next_cursor,
            "keep": keep,
            "paged": bool(params.get("cursor")),
            "has_time": kind.time_field is not None,
        },
        citizen=citizen,
    )


def _streams(request: Request, citizen: Citizen, doctype: str, title: str) -> Response:
    streams = citizen.view.streams(doctype)
    return page(
        request,
        "streams.html",
        {"doctype": doctype, "title": title, "streams": streams},
        citizen=citizen,
    )


@router.get("/data/{doctype}/{record_id}")
def record(doctype: str, record_id: str, request: Request) -> Response:
    citizen = require_citizen(request)
    lang = choose_language(request)
    kind = citizen.view.doctype(doctype)
    if kind.kind == "series":
        return _series(request, citizen, doctype, record_id, kind.title[lang])
    found = citizen.view.get_record(record_id, doctype=doctype)
    values = ValueFormatter(
        kind, Formatter(lang, platform_of(request).settings.timezone), gettext(lang)
    )
    shown = [(name, values.value(name, found.data)) for name in kind.model.model_fields]
    source = None
    if found.source_id and not found.source_id.startswith("service:"):
        try:
            source = citizen.view.source(found.source_id)
        except NotFound:
            source = None
    streams = citizen.view.streams(record_id=found.id) if doctype == "energy.meter" else []
    return page(
        request,
        "record.html",
        {
            "doctype": doctype,
            "title": kind.title[lang],
            "record": found,
            "fields": [(values.label(name), text) for name, text in shown if text],
            "source": source,
            "streams": streams,
        },
        citizen=citizen,
    )


def _series(
    request: Request, citizen: Citizen, doctype: str, stream_id: str, title: str
) -> Response:
    lang = choose_language(request)
    _ = gettext(lang)
    fmt = Formatter(lang, platform_of(request).settings.timezone)
    stream = citizen.view.stream(stream_id)
    if stream.doctype != doctype:
        raise NotFound(f"no {doctype} series {stream_id}")
    every = request.query_params.get("every", "day")
    if every not in _EVERY:
        every = "day"
    column = "value" if "value" in stream.columns else stream.columns[0]
    meta = dict(stream.meta)
    if stream.record_id and "unit" not in meta:
        # The unit and the kind of reading are the meter's (energy.meter).
        meta = {**citizen.view.get_record(stream.record_id).data, **meta}
    # An index is a running total: its maximum per period, not its sum, means something.
    how: Literal["sum", "max"] = "max" if "index" in str(meta.get("reading_type", "")) else "sum"
    start = stream.first
    if every == "day" and stream.last is not None and stream.first is not None:
        start = max(stream.first, datetime.fromtimestamp(stream.last.timestamp() - 92 * 86400, UTC))
    frame = citizen.view.aggregate(stream_id, every, how, start=start)
    unit = str(meta.get("unit") or "")
    scale, shown_unit = (1000.0, "kWh") if unit == "Wh" else (1.0, unit)
    step = meta.get("interval_s")
    if unit == "W" and how == "sum" and isinstance(step, int) and step > 0:
        # A load curve holds the mean power of each interval: energy = power × time.
        scale, shown_unit = 3600 * 1000 / step, "kWh"
    pattern = {"day": "d MMM", "month": "MMM y", "year": "y"}[every]
    full = {"day": "EEEE d MMMM y", "month": "MMMM y", "year": "y"}[every]
    values: list[float | None] = []
    rows = []
    labels = []
    for ts, raw in zip(frame.ts.tolist(), frame.columns[column].tolist(), strict=True):
        moment = datetime.fromtimestamp(ts, tz=UTC)
        value = None if math.isnan(raw) else raw / scale  # NaN: an empty bucket
        values.append(value)
        labels.append(fmt.pattern(moment, pattern))
        rows.append((fmt.pattern(moment, full), fmt.number(value, 1) if value is not None else "—"))
    chart = bar_chart(
        labels,
        values,
        [f"{label}: {text} {shown_unit}" for label, (_day, text) in zip(labels, rows, strict=True)],
        lambda v: fmt.number(v, 0 if v >= 10 or v == 0 else 1),
    )
    total = sum(v for v in values if v is not None)
    tabs = [
        (e, {"day": _("By day"), "month": _("By month"), "year": _("By year")}[e]) for e in _EVERY
    ]
    return page(
        request,
        "series.html",
        {
            "doctype": doctype,
            "title": title,
            "stream": stream,
            "every": every,
            "tabs": tabs,
            "chart": chart,
            "rows": rows,
            "unit": shown_unit,
            "total": fmt.number(total, 1),
            "span": (labels[0], labels[-1]) if labels else None,
        },
        citizen=citizen,
    )
