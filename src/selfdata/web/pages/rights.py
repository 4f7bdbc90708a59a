"""My rights: export the whole space, restrict processing, erase the space (with a
confirmation step and the operator's signed certificate). Erasing one kind of data or
one import is in ``erasure``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from selfdata.web.auth import clear_session_cookie
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
from selfdata.web.pages.erasure import describe_source, held_doctypes
from selfdata.web.pages.i18n import Formatter, choose_language
from selfdata.web.routes.portability import stream_from

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _context(request: Request, citizen: Citizen) -> dict[str, Any]:
    """What the rights page shows: restrictions, and what can be restricted or erased."""
    lang = choose_language(request)
    platform = platform_of(request)
    fmt = Formatter(lang, platform.settings.timezone)
    view = citizen.view
    return {
        "held": held_doctypes(view, lang),
        "sources": [describe_source(view, h, lang, fmt) for h in view.source_holdings()],
        "restrictions": view.restrictions(),
        "doctypes": [(n, platform.doctypes.get(n).title[lang]) for n in platform.doctypes.names()],
    }


@router.get("/rights")
def rights(request: Request) -> Response:
    citizen = require_citizen(request)
    context = {**_context(request, citizen), "done": request.query_params.get("done")}
    return page(request, "rights.html", context, citizen=citizen)


@router.post("/rights/export")
async def export(request: Request) -> Response:
    form = await read_form(request)
    citizen = require_citizen(request)
    check_csrf(citizen, form)
    passphrase = one(form, "passphrase") or None
    if passphrase is not None and len(passphrase) < 8:
        _ = gettext(choose_language(request))
        return page(
            request,
            "rights.html",
            {
                **_context(request, citizen),
                "export_error": _("The passphrase needs at least 8 characters."),
            },
            status=400,
            citizen=citizen,
        )
    name = "space.zip.age" if passphrase else "space.zip"
    view = citizen.view
    return StreamingResponse(
        stream_from(lambda out: view.export_space(out, passphrase=passphrase)),
        media_type="application/octet-stream" if passphrase else "application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/rights/restrict")
async def restrict(request: Request) -> Response:
    form = await read_form(request)
    citizen = require_citizen(request)
    check_csrf(citizen, form)
    scope = one(form, "scope") or "*"
    await run_in_threadpool(citizen.view.restrict, scope, None)
    return redirect("/rights?done=restricted")


@router.post("/rights/lift")
async def lift(request: Request) -> Response:
    form = await read_form(request)
    citizen = require_citizen(request)
    check_csrf(citizen, form)
    await run_in_threadpool(citizen.view.lift_restriction, one(form, "scope"))
    return redirect("/rights?done=lifted")


@router.get("/rights/erase")
def erase_confirm(request: Request) -> Response:
    citizen = require_citizen(request)
    summary = citizen.view.summary()
    return page(
        request,
        "erase.html",
        {"total": sum(s.count for s in summary), "error": None},
        citizen=citizen,
    )


@router.post("/rights/erase")
async def erase(request: Request) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_erase, request, form)


def _erase(request: Request, form: Form) -> Response:
    citizen = require_citizen(request)
    check_csrf(citizen, form)
    _ = gettext(choose_language(request))
    if one(form, "confirm").strip().lower() != citizen.username.lower():
        return page(
            request,
            "erase.html",
            {
                "total": sum(s.count for s in citizen.view.summary()),
                "error": _("The name you typed is not your username; nothing was erased."),
            },
            status=400,
            citizen=citizen,
        )
    done = platform_of(request).directory.erase_certified(citizen.view.space_id, citizen.view.actor)
    response = page(request, "erased.html", {"done": done.as_dict()})
    clear_session_cookie(response, request)
    return response
