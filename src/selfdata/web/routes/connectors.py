"""Connectors: link an account at a provider (OAuth consent there), sync it, unlink it.

``POST /connectors/{name}/authorize`` answers the provider's consent URL; the
browser goes there, the citizen consents, and the provider sends the browser back to
``GET /connectors/{name}/callback`` (the redirect URI registered with the provider),
which checks the ``state`` against the citizen's own space, exchanges the code, links
the account and redirects to the account page. See docs/connectors.md.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import RedirectResponse, Response

from selfdata.connectors import ProviderError
from selfdata.errors import Conflict, NotFound
from selfdata.web.auth import CitizenView, PlatformDep
from selfdata.web.problems import problem_responses
from selfdata.web.responses import JSONResponse

__all__ = ["LANDING", "router"]

router = APIRouter(prefix="/connectors", tags=["connectors"])

LANDING = "/account"
"""Where the browser lands after the provider's consent (``?connector=…`` says how it went)."""


@router.get(
    "",
    summary="The connectors this instance offers (and whether the operator configured them)",
    responses=problem_responses(401, 403),
)
def available(view: CitizenView, platform: PlatformDep) -> JSONResponse:
    return JSONResponse({"items": [c.as_dict() for c in platform.connectors.available()]})


@router.post(
    "/{name}/authorize",
    summary="Start linking an account: the provider's consent URL to send the browser to",
    responses=problem_responses(400, 401, 403, 404),
)
def authorize(name: str, view: CitizenView, platform: PlatformDep) -> JSONResponse:
    url = platform.connectors.begin_authorization(view, name)
    return JSONResponse({"authorization_url": url})


@router.get(
    "/{name}/callback",
    summary="(Browser redirect from the provider) Finish linking: exchange the code",
    response_class=RedirectResponse,
    status_code=status.HTTP_303_SEE_OTHER,
    responses=problem_responses(401, 403),
)
def callback(
    name: str,
    request: Request,
    view: CitizenView,
    platform: PlatformDep,
    state: Annotated[str, Query(max_length=200)] = "",
    code: Annotated[str, Query(max_length=2000)] = "",
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> RedirectResponse:
    if error is not None or not code or not state:
        return _landing({"connector": "refused", "reason": error or "no-code"})
    params = {k: v for k, v in request.query_params.items() if k not in ("code", "state")}
    try:
        account = platform.connectors.complete_authorization(view, name, code, state, params)
    except NotFound:
        return _landing({"connector": "expired"})
    except Conflict as exc:
        reason = exc.reason if isinstance(exc, ProviderError) else "already-linked"
        return _landing({"connector": "failed", "reason": reason})
    return _landing({"connector": "linked", "account": account.id})


def _landing(query: dict[str, str]) -> RedirectResponse:
    return RedirectResponse(f"{LANDING}?{urlencode(query)}", status.HTTP_303_SEE_OTHER)


@router.get(
    "/accounts",
    summary="Your linked accounts and their state (ok, syncing, failing, needs_reauthorization)",
    responses=problem_responses(401, 403),
)
def accounts(view: CitizenView, platform: PlatformDep) -> JSONResponse:
    return JSONResponse({"items": [a.as_dict() for a in platform.connectors.accounts(view)]})


@router.post(
    "/accounts/{account_id}/sync",
    summary="Sync an account now; answers its state afterwards",
    responses=problem_responses(401, 403, 404),
)
def sync(account_id: str, view: CitizenView, platform: PlatformDep) -> JSONResponse:
    return JSONResponse(platform.connectors.sync_for(view, account_id).as_dict())


@router.delete(
    "/accounts/{account_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Unlink an account: its tokens are deleted (the data it synced stays)",
    responses=problem_responses(401, 403, 404),
)
def delete(account_id: str, view: CitizenView, platform: PlatformDep) -> Response:
    platform.connectors.delete(view, account_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
