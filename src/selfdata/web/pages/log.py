"""Who accessed my data: the access log as a timeline, filtered, and its verification
against the operator's newest signed checkpoint."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from selfdata.audit.export import verify_lines
from selfdata.errors import MalformedQuery
from selfdata.web.pages.common import (
    Citizen,
    PageRoute,
    gettext,
    page,
    platform_of,
    require_citizen,
)
from selfdata.web.pages.i18n import Lang, choose_language

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_PAGE = 50
_FILTERS = ("service", "doctype", "purpose", "outcome", "action", "reason")


def _who(event: Any, lang: Lang, services: dict[str, str]) -> str:
    _ = gettext(lang)
    label = event.detail.get("actor")
    kind = event.actor_kind
    if kind == "citizen":
        return _("You") + (f" ({label})" if label else "")
    if kind == "service":
        name = services.get(event.actor_id) or label or event.actor_id
        return _("Service %(name)s") % {"name": name}
    if kind == "operator":
        return _("The instance's operator")
    if kind == "anonymous":
        return _("Someone not signed in")
    if kind == "connector":
        return _("The connector of your linked account") + (f" ({label})" if label else "")
    return str(label or kind)


def _labels(lang: Lang) -> tuple[dict[str, str], dict[str, str]]:
    """Plain words for the log's actions and reasons (an unknown code is shown as it is).

    The codes are those of the gate's policy (``access/policy.py``), the rights and
    consent operations, the questions runtime (``questions/runner.py``) and the
    connectors (``access/connectors.py``, ``connectors/``)."""
    _ = gettext(lang)
    actions = {
        "read": _("read"),
        "write": _("added"),
        "update": _("changed"),
        "delete": _("deleted"),
        "derive": _("computed from"),
        "export": _("exported"),
        "erase": _("erased"),
        "login": _("sign-in"),
        "question": _("question answered"),
        "consent.give": _("consent given"),
        "consent.withdraw": _("consent withdrawn"),
        "consent.renew": _("consent renewed"),
        "connector.authorize": _("connection to a provider started"),
        "connector.link": _("provider account linked"),
        "connector.delete": _("provider account unlinked"),
        "connector.sync.start": _("synchronisation started"),
        "connector.sync": _("synchronisation"),
        "connector.tokens": _("provider access renewed"),
        "connector.cursor": _("synchronisation progress saved"),
        "rights.restrict": _("processing restricted"),
        "rights.lift": _("restriction lifted"),
        "rights.withdraw-all": _("every consent withdrawn"),
        "rights.erase": _("erasure"),
        "space.create": _("space created"),
        "space.import": _("space imported"),
        "move.offer": _("move to another instance offered"),
        "move.pull": _("space moved to another instance"),
    }
    reasons = {
        "consent": _("under your consent"),
        "owner": _("your own access"),
        "linked-account": _("through the provider account you linked"),
        "operator-administration": _("the operator's administration"),
        "doctype-not-consented": _("this data is not in its consent"),
        "operation-not-consented": _("this operation is not in its consent"),
        "purpose-required": _("no purpose was given"),
        "purpose-not-consented": _("this purpose is not in its consent"),
        "no-consent": _("you gave it no consent"),
        "consent-withdrawn": _("you withdrew the consent"),
        "consent-expired": _("the consent expired"),
        "outside-data-period": _("outside the period you agreed to"),
        "restricted": _("you restricted this data"),
        "wrong-password": _("wrong password"),
        "action-not-for-services": _("services may not do this"),
        "citizen-only": _("only you may do this"),
        "operator-no-data-access": _("the operator has no access to your data"),
        "service-unknown": _("unknown service"),
        "service-suspended": _("the operator suspended this service"),
        "service-retired": _("this service was retired"),
        "service-not-approved": _("this service is not approved"),
        "space-suspended": _("your space is suspended"),
        "unknown-actor": _("nobody identified"),
        "not-found": _("not found"),
        "internal-error": _("an internal error"),
        "rate-limited": _("too many requests"),
        "doctype-not-declared": _("data the question did not declare"),
        "question-forbidden-operation": _("the question tried a forbidden operation"),
        "question-timeout": _("the question took too long"),
        "question-resources-exceeded": _("the question used too much memory or time"),
        "question-failed": _("the question failed"),
        "answer-too-large": _("the answer was larger than declared"),
        "answer-not-json": _("the answer was not plain data"),
        "answer-schema-violation": _("the answer did not have the declared shape"),
    }
    return actions, reasons


def _answer_link(event: Any) -> str | None:
    """Where the citizen reads what a question's answer said (only an answer that left)."""
    if event.action != "question" or event.actor_kind != "service":
        return None
    if event.outcome == "allowed" and event.target:
        return "/services/answers?" + urlencode({"answer": event.target})
    return None


@router.get("/log")
def timeline(request: Request) -> Response:
    citizen = require_citizen(request)
    lang = choose_language(request)
    params = request.query_params
    match: dict[str, str] = {}
    if params.get("service"):
        match["actor_kind"], match["actor_id"] = "service", params["service"]
    for name in ("doctype", "purpose", "outcome", "action", "reason"):
        if params.get(name):
            match[name] = params[name]
    before = params.get("before")
    if before is not None and not before.isdigit():
        raise MalformedQuery("before: expected an event number")
    events = citizen.view.access_log(
        before_seq=int(before) if before else None, limit=_PAGE, match=match or None
    )
    platform = platform_of(request)
    services = {s.id: s.manifest.name.get(lang) for s in platform.services.list()}
    actions, reasons = _labels(lang)
    titles = {n: platform.doctypes.get(n).title[lang] for n in platform.doctypes.names()}
    items = [
        {
            "seq": e.seq,
            "at": e.at,
            "who": _who(e.event, lang, services),
            "kind": e.event.actor_kind,
            "action": actions.get(e.event.action, e.event.action),
            "doctype": titles.get(e.event.doctype or "", e.event.doctype),
            "count": e.event.count,
            "purpose": e.event.purpose,
            "outcome": e.event.outcome,
            "reason": reasons.get(e.event.reason or "", e.event.reason),
            "answer_link": _answer_link(e.event),
        }
        for e in events
    ]
    more = len(events) == _PAGE and events[-1].seq > 1
    keep = {k: v for k, v in params.items() if k in _FILTERS}
    return page(
        request,
        "log.html",
        {
            "items": items,
            "services": sorted(services.items()),
            "doctypes": sorted(titles.items(), key=lambda item: item[1]),
            "filters": keep,
            "actions": sorted(actions.items(), key=lambda item: item[1]),
            "reasons": sorted(reasons.items(), key=lambda item: item[1]),
            "next_before": events[-1].seq if more else None,
        },
        citizen=citizen,
    )


def _verify(citizen: Citizen, jwks: dict[str, Any]) -> Any:
    return verify_lines(citizen.view.export_log(), jwks)


@router.get("/log/verify")
async def verify(request: Request) -> Response:
    citizen = require_citizen(request)
    result = await run_in_threadpool(_verify, citizen, platform_of(request).signer.jwks())
    return page(request, "verify.html", {"result": result}, citizen=citizen)
