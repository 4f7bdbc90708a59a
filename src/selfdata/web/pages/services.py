"""Services: the catalogue, the consent screen (partial grants), my consents with
one-click withdrawal, and the signed receipt of each consent."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from selfdata.consent import ConsentRecord, build_notice
from selfdata.errors import InvalidInput
from selfdata.web.pages.common import (
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
from selfdata.web.pages.i18n import choose_language

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _consent_row(record: ConsentRecord, lang: str) -> dict[str, Any]:
    return {
        "id": record.id,
        "service_id": record.service_id,
        "service": record.service_name.get(lang) or record.service_id,
        "status": record.status,
        "given_at": record.given_at,
        "expires_at": record.expires_at,
        "doctypes": sorted({d for g in record.grants for d in g.doctypes}),
        "purposes": sorted({p for g in record.grants for p in g.purposes}),
    }


@router.get("/services")
def catalogue(request: Request) -> Response:
    citizen = require_citizen(request)
    platform = platform_of(request)
    lang = choose_language(request)
    consents = citizen.view.consents()
    active = {c.service_id for c in consents if c.status == "active"}
    services = []
    for info in platform.services.list("approved"):
        notice = build_notice(info.manifest, platform.doctypes).content[lang]
        services.append(
            {
                "id": info.id,
                "title": notice["title"],
                "who": notice["who"],
                "description": notice["description"],
                "active": info.id in active,
            }
        )
    return page(
        request,
        "services.html",
        {
            "services": services,
            "consents": [_consent_row(c, lang) for c in consents],
            "done": request.query_params.get("done"),
        },
        citizen=citizen,
    )


@router.get("/services/{service_id}")
def consent_screen(service_id: str, request: Request) -> Response:
    citizen = require_citizen(request)
    platform = platform_of(request)
    lang = choose_language(request)
    info = platform.services.get(service_id)
    if info.status != "approved":
        raise InvalidInput(f"{service_id} is not offered on this instance")
    built = build_notice(info.manifest, platform.doctypes)
    return page(
        request,
        "consent.html",
        {
            "service_id": service_id,
            "notice": built.content[lang],
            "notice_hash": built.hash,
            "error": None,
        },
        citizen=citizen,
    )


@router.post("/services/{service_id}")
async def give(service_id: str, request: Request) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_give, service_id, request, form)


def _give(service_id: str, request: Request, form: Form) -> Response:
    citizen = require_citizen(request)
    check_csrf(citizen, form)
    platform = platform_of(request)
    lang = choose_language(request)
    _ = gettext(lang)
    info = platform.services.get(service_id)
    built = build_notice(info.manifest, platform.doctypes)
    if one(form, "notice_hash") != built.hash:
        # What the citizen read is not what they would grant: show the new notice.
        return page(
            request,
            "consent.html",
            {
                "service_id": service_id,
                "notice": built.content[lang],
                "notice_hash": built.hash,
                "error": _(
                    "This service's notice changed while you were reading it; read it again."
                ),
            },
            status=409,
            citizen=citizen,
        )
    chosen = form.get("grant", [])
    required = [r.id for r in info.manifest.requests if r.required]
    chosen = list(dict.fromkeys(required + chosen))
    citizen.view.give_consent(info, chosen, method="web-form", language=lang)
    return redirect("/services?done=given")


@router.post("/consents/{consent_id}/withdraw")
async def withdraw(consent_id: str, request: Request) -> Response:
    form = await read_form(request)
    citizen = require_citizen(request)
    check_csrf(citizen, form)
    await run_in_threadpool(citizen.view.withdraw_consent, consent_id)
    return redirect("/services?done=withdrawn")


@router.get("/consents/{consent_id}/receipt")
def receipt(consent_id: str, request: Request) -> Response:
    citizen = require_citizen(request)
    record = citizen.view.consent(consent_id)
    return Response(
        platform_of(request).receipt(record),
        media_type="application/jose",
        headers={
            "Content-Disposition": f'attachment; filename="consent-{record.id}.jws"',
        },
    )
