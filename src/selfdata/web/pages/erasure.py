"""Partial erasure from the rights page: one kind of data, or what came from one import.

Each goes through a confirmation page (what will be erased, how much, that it cannot be
undone, a box to tick), then ``SpaceView.erase_doctype`` / ``erase_source`` and a page
showing the operator's signed certificate, which can be downloaded as a file. The
download posts the certificate back; it is served only if the operator's key signed it
for this very space, so the route never echoes arbitrary text.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from selfdata.access import SpaceView
from selfdata.access.rights import SourceHolding
from selfdata.errors import CryptoError, NotFound
from selfdata.rights import verify_certificate
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
    require_citizen,
)
from selfdata.web.pages.i18n import Formatter, Lang, choose_language

__all__ = ["describe_source", "held_doctypes", "router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def held_doctypes(view: SpaceView, lang: Lang) -> list[dict[str, Any]]:
    """The kinds of data the space holds: name, title, kind and count, by title."""
    out = []
    for item in view.summary():
        if item.count:
            title = view.doctype(item.doctype).title[lang]
            out.append(
                {"name": item.doctype, "title": title, "kind": item.kind, "count": item.count}
            )
    return sorted(out, key=lambda d: str(d["title"]))


def _amounts(view: SpaceView, holding: SourceHolding, lang: Lang) -> list[dict[str, Any]]:
    """Per kind of data: how many items ("records"), measurements ("points") or files."""
    out: list[dict[str, Any]] = [
        {"unit": "records", "n": n, "what": view.doctype(d).title[lang]}
        for d, n in sorted(holding.records.items())
    ]
    out += [
        {"unit": "points", "n": n, "what": view.doctype(d).title[lang]}
        for d, n in sorted(holding.points.items())
    ]
    if holding.files:
        out.append({"unit": "files", "n": holding.files, "what": ""})
    return out


def describe_source(
    view: SpaceView, holding: SourceHolding, lang: Lang, fmt: Formatter
) -> dict[str, Any]:
    """An import in the citizen's words: its file, its importer, when, what it holds."""
    detail = holding.detail
    return {
        "id": holding.source_id,
        "filename": str(detail.get("filename") or ""),
        "origin": str(detail.get("importer") or detail.get("connector") or holding.kind or ""),
        "when": fmt.moment(holding.created_at) if holding.created_at else "",
        "amounts": _amounts(view, holding, lang),
    }


def _find_source(citizen: Citizen, source_id: str) -> SourceHolding:
    for holding in citizen.view.source_holdings():
        if holding.source_id == source_id:
            return holding
    raise NotFound(f"nothing in your space comes from source {source_id!r}")


def _doctype_scope(citizen: Citizen, name: str, lang: Lang) -> dict[str, Any]:
    """What erasing doctype ``name`` removes: its items, and the series of its records."""
    kind = citizen.view.doctype(name)  # an unknown doctype is a 404
    held = {d["name"]: d for d in held_doctypes(citizen.view, lang)}
    if name not in held:
        raise NotFound(f"your space holds no {name}")
    unit = "points" if kind.kind == "series" else "records"
    amounts = [{"unit": unit, "n": held[name]["count"], "what": kind.title[lang]}]
    # A meter's readings go with the meter: the series that belong to its records.
    points: dict[str, int] = {}
    for stream in citizen.view.streams() if kind.kind == "record" else []:
        if stream.record_id and citizen.view.doctype(stream.doctype).parent == name:
            points[stream.doctype] = points.get(stream.doctype, 0) + stream.points
    for child, n in sorted(points.items()):
        amounts.append({"unit": "points", "n": n, "what": citizen.view.doctype(child).title[lang]})
    return {"target": name, "what": kind.title[lang], "amounts": amounts}


def _source_scope(citizen: Citizen, source_id: str, lang: Lang, fmt: Formatter) -> dict[str, Any]:
    described = describe_source(citizen.view, _find_source(citizen, source_id), lang, fmt)
    what = described["filename"] or described["origin"]
    return {"target": source_id, "what": what, "source": described, "amounts": described["amounts"]}


def _confirm(request: Request, scope: str, target: str, error: str | None = None) -> Response:
    citizen = require_citizen(request)
    lang = choose_language(request)
    fmt = Formatter(lang, platform_of(request).settings.timezone)
    if scope == "doctype":
        context = _doctype_scope(citizen, target, lang)
    else:
        context = _source_scope(citizen, target, lang, fmt)
    return page(
        request,
        "erase_part.html",
        {**context, "scope": scope, "error": error},
        status=400 if error else 200,
        citizen=citizen,
    )


@router.get("/rights/erase/doctype")
def confirm_doctype(request: Request) -> Response:
    return _confirm(request, "doctype", request.query_params.get("doctype", ""))


@router.get("/rights/erase/source")
def confirm_source(request: Request) -> Response:
    return _confirm(request, "source", request.query_params.get("source", ""))


@router.post("/rights/erase/doctype")
async def erase_doctype(request: Request) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_erase, request, form, "doctype")


@router.post("/rights/erase/source")
async def erase_source(request: Request) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_erase, request, form, "source")


def _erase(request: Request, form: Form, scope: str) -> Response:
    citizen = require_citizen(request)
    check_csrf(citizen, form)
    target = one(form, scope).strip()
    if one(form, "understood") != "yes":
        _ = gettext(choose_language(request))
        error = _("Tick the box to confirm; nothing was erased.")
        return _confirm(request, scope, target, error)
    lang = choose_language(request)
    if scope == "doctype":
        what = citizen.view.doctype(target).title[lang]
        done = citizen.view.erase_doctype(target)
    else:
        detail = _find_source(citizen, target).detail  # another space's source: 404
        what = str(
            detail.get("filename") or detail.get("importer") or detail.get("connector") or target
        )
        done = citizen.view.erase_source(target)
    return page(
        request,
        "erased_part.html",
        {"done": done.as_dict(), "what": what, "scope": scope},
        citizen=citizen,
    )


@router.post("/rights/certificate")
async def download_certificate(request: Request) -> Response:
    form = await read_form(request)
    citizen = require_citizen(request)
    check_csrf(citizen, form)
    token = one(form, "certificate").strip()
    try:
        statement = verify_certificate(token, platform_of(request).signer.jwks())
    except CryptoError:
        raise NotFound("this is not an erasure certificate of this instance") from None
    if statement.space_id != citizen.view.space_id:
        raise NotFound("this certificate is about another space")
    name = f"erasure-certificate-{statement.erased_at:%Y%m%dT%H%M%S}.jws"
    return Response(
        token + "\n",
        media_type="application/jose",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
