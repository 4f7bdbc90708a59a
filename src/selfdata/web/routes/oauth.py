"""OAuth 2.0 endpoints for external services, and the consent screen citizens see.

``GET /oauth/authorize`` shows the sign-in form, then the consent screen built from the
service's notice; ``POST /oauth/authorize`` records the citizen's decision as a consent
and redirects back to the service with a code bound to it. ``/oauth/token``,
``/oauth/revoke`` (RFC 7009) and ``/oauth/introspect`` (RFC 7662) are Authlib's.
Metadata: ``/.well-known/oauth-authorization-server`` (RFC 8414) and the operator's
``/.well-known/jwks.json`` (receipts, log checkpoints).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749.errors import OAuth2Error
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from selfdata.access import Actor
from selfdata.consent import build_notice
from selfdata.errors import AuthenticationFailed, SelfdataError
from selfdata.oauth import CitizenGrant, HttpRequest, OAuthResponse
from selfdata.platform import Platform
from selfdata.web.auth import COOKIE, PlatformDep, csrf_token, get_platform, start_session
from selfdata.web.responses import JSONResponse
from selfdata.web.templating import language, render

__all__ = ["router"]

router = APIRouter(tags=["oauth"])

LOGIN_CSRF_COOKIE = "selfdata_login_csrf"

_T = {
    "fr": {
        "signin": "Connexion",
        "signin_for": "Pour répondre à la demande de",
        "username": "Identifiant",
        "password": "Mot de passe",
        "asks": "Ce service demande",
        "required": "indispensable",
        "allow": "J'accepte",
        "deny": "Je refuse",
        "error_title": "Demande impossible",
    },
    "en": {
        "signin": "Sign in",
        "signin_for": "To answer the request of",
        "username": "Username",
        "password": "Password",
        "asks": "This service asks to",
        "required": "required",
        "allow": "I agree",
        "deny": "I refuse",
        "error_title": "Request not possible",
    },
}


async def _http(request: Request) -> HttpRequest:
    form: dict[str, list[str]] = {}
    if request.method == "POST":
        for key, value in (await request.form()).multi_items():
            if isinstance(value, str):
                form.setdefault(key, []).append(value)
    query: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        query.setdefault(key, []).append(value)
    return HttpRequest(request.method, str(request.url), query, form, request.headers)


def _respond(result: OAuthResponse) -> Response:
    headers = dict(result.headers)
    if result.status in (301, 302, 303, 307) and "Location" in headers:
        return RedirectResponse(headers["Location"], status_code=302)
    body = result.body if isinstance(result.body, dict) else {}
    headers.pop("Content-Type", None)
    return JSONResponse(body, status_code=result.status, headers=headers)


def _error_page(request: Request, message: str, status: int = 400) -> Response:
    lang = language(request)
    return render(
        "oauth_error.html",
        {"lang": lang, "t": _T[lang], "title": _T[lang]["error_title"], "message": message},
        status=status,
    )


def _citizen(request: Request) -> tuple[str, Any] | None:
    secret = request.cookies.get(COOKIE)
    if not secret:
        return None
    try:
        principal = get_platform(request).sessions.authenticate(secret)
    except AuthenticationFailed:
        return None
    if principal.kind != "session" or principal.role != "citizen" or principal.space_id is None:
        return None
    return secret, principal


@router.get("/oauth/authorize", include_in_schema=False)
async def authorize_page(request: Request, platform: PlatformDep) -> Response:
    # The form is read here; the work (database, Argon2…) runs in the thread pool so
    # the event loop is never blocked.
    return await run_in_threadpool(_authorize_page, request, platform, await _http(request))


def _authorize_page(request: Request, platform: Platform, http: HttpRequest) -> Response:
    lang = language(request)
    try:
        service, requested, _ = platform.oauth.validate_authorization(http)
    except OAuth2Error as error:
        return _error_page(request, f"{error.error}: {error.description or ''}")
    citizen = _citizen(request)
    if citizen is None:
        target = request.url.path + ("?" + request.url.query if request.url.query else "")
        login_csrf = secrets.token_urlsafe(24)
        page = render(
            "oauth_login.html",
            {
                "lang": lang,
                "t": _T[lang],
                "title": _T[lang]["signin"],
                "service_name": service.manifest.name.get(lang),
                "next": target,
                "error": None,
                "login_csrf": login_csrf,
            },
        )
        # Login CSRF: the form must come back with the value of a cookie only this
        # page set (a cross-site form cannot read or set it).
        page.set_cookie(
            LOGIN_CSRF_COOKIE,
            login_csrf,
            max_age=900,
            path="/oauth/login",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return page
    secret, _ = citizen
    built = build_notice(service.manifest, platform.doctypes)
    notice = built.content[lang]
    shown = [r for r in notice["requests"] if r["id"] in requested]
    origins = " ".join(
        sorted(
            {
                f"{urlsplit(str(u)).scheme}://{urlsplit(str(u)).netloc}"
                for u in service.manifest.redirect_uris
            }
        )
    )
    return render(
        "oauth_consent.html",
        {
            "lang": lang,
            "t": _T[lang],
            "title": notice["title"],
            "notice": notice,
            "requests": shown,
            "csrf": csrf_token(secret),
            "notice_hash": built.hash,
            "action": str(request.url.path) + "?" + request.url.query,
        },
        form_action=origins,
    )


@router.post("/oauth/authorize", include_in_schema=False)
async def authorize_decision(request: Request, platform: PlatformDep) -> Response:
    return await run_in_threadpool(_authorize_decision, request, platform, await _http(request))


def _authorize_decision(request: Request, platform: Platform, http: HttpRequest) -> Response:
    citizen = _citizen(request)
    if citizen is None:
        return _error_page(request, "sign in first", status=401)
    secret, principal = citizen
    sent = (http.form.get("csrf_token") or [""])[0]
    if not hmac.compare_digest(sent.encode(), csrf_token(secret).encode()):
        return _error_page(request, "the form expired or was not sent from this page", status=403)
    try:
        service, requested, _ = platform.oauth.validate_authorization(http)
    except OAuth2Error as error:
        return _error_page(request, f"{error.error}: {error.description or ''}")
    read = (http.form.get("notice_hash") or [""])[0]
    if read != build_notice(service.manifest, platform.doctypes).hash:
        # The service's manifest changed since the page was shown: what the citizen
        # read is not what they would grant.
        return _error_page(request, "this service's notice changed since you read it; reload", 409)
    if (http.form.get("decision") or [""])[0] != "allow":
        return _respond(platform.oauth.authorize(http, None))
    chosen = [r for r in http.form.get("grant", []) if r in requested]
    view = platform.view(
        Actor.citizen(principal.account_id, principal.space_id, principal.username),
        principal.space_id,
    )
    try:
        record = view.give_consent(service, chosen, method="oauth", language=language(request))
    except SelfdataError as exc:
        return _error_page(request, exc.detail)
    grant = CitizenGrant(principal.account_id, principal.space_id, record.id, " ".join(chosen))
    return _respond(platform.oauth.authorize(http, grant))


@router.post("/oauth/login", include_in_schema=False)
async def login(request: Request, platform: PlatformDep) -> Response:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return await run_in_threadpool(_login, request, platform, fields)


def _login(request: Request, platform: Platform, form: dict[str, str]) -> Response:
    target = str(form.get("next", ""))
    if not target.startswith("/oauth/authorize?"):
        return _error_page(request, "invalid return address")
    sent = str(form.get("login_csrf", ""))
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return _error_page(request, "the sign-in form expired or was not sent from this page", 403)
    lang = language(request)
    try:
        account = platform.directory.login(
            str(form.get("username", "")), str(form.get("password", ""))
        )
        if account.role != "citizen":
            raise AuthenticationFailed("only citizens can consent to services")
    except AuthenticationFailed as exc:
        return render(
            "oauth_login.html",
            {
                "lang": lang,
                "t": _T[lang],
                "title": _T[lang]["signin"],
                "service_name": "",
                "next": target,
                "error": exc.detail,
                "login_csrf": sent,
            },
            status=401,
        )
    response = RedirectResponse(target, status_code=303)
    start_session(platform, request, response, account.id)
    return response


@router.post("/oauth/token", summary="Exchange a code (with its PKCE verifier) or a refresh token")
async def token(request: Request, platform: PlatformDep) -> Response:
    return _respond(await run_in_threadpool(platform.oauth.token, await _http(request)))


@router.post("/oauth/revoke", summary="Revoke an access or refresh token (RFC 7009)")
async def revoke(request: Request, platform: PlatformDep) -> Response:
    return _respond(await run_in_threadpool(platform.oauth.revoke, await _http(request)))


@router.post("/oauth/introspect", summary="Is this token active, for what? (RFC 7662)")
async def introspect(request: Request, platform: PlatformDep) -> Response:
    return _respond(await run_in_threadpool(platform.oauth.introspect, await _http(request)))


@router.get(
    "/.well-known/oauth-authorization-server", summary="Authorization server metadata (RFC 8414)"
)
def metadata(platform: PlatformDep) -> JSONResponse:
    base = platform.settings.public_url.rstrip("/")
    return JSONResponse(
        {
            "issuer": base,
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "revocation_endpoint": f"{base}/oauth/revoke",
            "introspection_endpoint": f"{base}/oauth/introspect",
            "jwks_uri": f"{base}/.well-known/jwks.json",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": [
                "none",
                "client_secret_basic",
                "client_secret_post",
            ],
            "scopes_supported": sorted(
                {r.id for s in platform.services.list("approved") for r in s.manifest.requests}
            ),
        },
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get(
    "/.well-known/jwks.json", summary="The operator's public keys (receipts, log checkpoints)"
)
def jwks(platform: PlatformDep) -> JSONResponse:
    return JSONResponse(platform.signer.jwks(), headers={"Cache-Control": "public, max-age=300"})
