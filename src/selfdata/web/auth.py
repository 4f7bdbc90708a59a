"""Who is calling: session cookie or bearer token, CSRF, and the route dependencies.

Two ways to authenticate, resolved by :meth:`selfdata.spaces.SessionStore.authenticate`:

- ``Authorization: Bearer <token>`` — a personal token (``sdt_…``) for programs. Browsers
  never send it on their own, so no CSRF token is needed.
- the ``selfdata_session`` cookie — a browser session (``sds_…``, HttpOnly, SameSite=Lax).
  Browsers attach it to cross-site requests too, so every unsafe request (POST, PUT,
  PATCH, DELETE) must also carry ``X-CSRF-Token``:
  ``base64url(HMAC-SHA256(key=session secret, "selfdata/csrf/v1"))``, returned by
  login and by ``GET /api/v1/me``. Only someone who holds the cookie's value — which
  the page's scripts cannot read — or who was given the token can compute it; it needs
  no server state and dies with the session. (It is keyed on the secret itself, not on
  its SHA-256, because the database stores that hash: a copy of the database must not
  be enough to forge CSRF tokens.)

A session secret is only accepted from the cookie and a token only from the header.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Literal, cast

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.responses import Response

from selfdata.access import Actor, SpaceView
from selfdata.errors import AccessDenied, AuthenticationFailed
from selfdata.platform import Platform
from selfdata.spaces import Principal

__all__ = [
    "COOKIE",
    "CSRF_HEADER",
    "Caller",
    "CallerDep",
    "CitizenView",
    "DataView",
    "DeferredDataView",
    "OperatorActor",
    "PlatformDep",
    "clear_session_cookie",
    "csrf_token",
    "get_platform",
    "set_session_cookie",
    "start_session",
]

COOKIE = "selfdata_session"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_CSRF_CONTEXT = b"selfdata/csrf/v1"

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="A personal token (`sdt_…`) from `POST /api/v1/auth/tokens`. No CSRF token needed.",
)
_cookie = APIKeyCookie(
    name=COOKIE,
    auto_error=False,
    scheme_name="session",
    description="The browser session set by `POST /api/v1/auth/login`. Unsafe methods also "
    f"need the `{CSRF_HEADER}` header.",
)


def csrf_token(session_secret: str) -> str:
    mac = hmac.new(session_secret.encode(), _CSRF_CONTEXT, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated request: the principal, how it proved itself, its secret."""

    principal: Principal
    via: Literal["cookie", "bearer"]
    secret: str

    @property
    def csrf_token(self) -> str | None:
        return csrf_token(self.secret) if self.via == "cookie" else None


def get_platform(request: Request) -> Platform:
    return cast(Platform, request.app.state.platform)


async def _platform(request: Request) -> Platform:
    # async on purpose: FastAPI runs a plain-def dependency on a worker thread, and that
    # hop (for one attribute read) cost every request ~0.1 ms of CPU.
    return get_platform(request)


PlatformDep = Annotated[Platform, Depends(_platform)]


def resolve_caller(request: Request, platform: Platform) -> Caller:
    """Authenticate the request (and check its CSRF token when the cookie is used)."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationFailed("the Authorization header must be 'Bearer <token>'")
        if token.strip().startswith(SERVICE_TOKEN_PREFIX):
            raise AccessDenied(
                "this endpoint serves the citizen themself; a service's token reaches only "
                "the data endpoints its consent covers",
                reason="citizen-only",
            )
        principal = platform.sessions.authenticate(token.strip())
        if principal.kind != "token":
            raise AuthenticationFailed(
                "a browser session cannot be used as a bearer token; "
                "create a personal token with POST /api/v1/auth/tokens"
            )
        return Caller(principal, "bearer", token.strip())
    secret = request.cookies.get(COOKIE)
    if not secret:
        raise AuthenticationFailed(
            "sign in first (POST /api/v1/auth/login) or send 'Authorization: Bearer <token>'"
        )
    principal = platform.sessions.authenticate(secret)
    if principal.kind != "session":
        raise AuthenticationFailed(
            "a personal token goes in the Authorization header, not in a cookie"
        )
    if request.method in UNSAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), csrf_token(secret).encode()):
            raise AccessDenied(
                f"this request changes something and was authenticated by the session cookie: "
                f"send the csrf_token given at sign-in in the {CSRF_HEADER} header",
                reason="csrf",
            )
    return Caller(principal, "cookie", secret)


def current_caller(
    request: Request,
    platform: PlatformDep,
    _bearer_doc: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    _cookie_doc: Annotated[str | None, Depends(_cookie)],
) -> Caller:
    # The two security dependencies only document the schemes in OpenAPI.
    return resolve_caller(request, platform)


CallerDep = Annotated[Caller, Depends(current_caller)]


def citizen_view(caller: CallerDep, platform: PlatformDep) -> SpaceView:
    """The caller's own space. Operators have none: the data routes refuse them here
    (and the gate would refuse them too)."""
    p = caller.principal
    if p.role != "citizen" or p.space_id is None:
        raise AccessDenied(
            "this endpoint serves a citizen's own space; operators administer spaces "
            "through /api/v1/admin and cannot read or change the data in them",
            reason="citizen-only",
        )
    return platform.view(Actor.citizen(p.account_id, p.space_id, p.username), p.space_id)


CitizenView = Annotated[SpaceView, Depends(citizen_view)]

PURPOSE_HEADER = "Selfdata-Purpose"
SERVICE_TOKEN_PREFIX = "sdo_"  # noqa: S105 - a prefix, not a secret


def service_bearer(request: Request) -> str | None:
    """The OAuth access token of a service, if the request carries one."""
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token.startswith(SERVICE_TOKEN_PREFIX):
        return token
    return None


def service_view(request: Request, platform: Platform, token: str) -> SpaceView:
    """The citizen's space as a service holding a consent-bound OAuth token sees it:
    only what that consent covers, for the purpose the request declares."""
    granted = platform.oauth.resource_token(token)
    name = platform.services.label(granted.service_id)
    actor = Actor(
        "service", granted.service_id, granted.space_id, label=name, consent_id=granted.consent_id
    )
    purpose = request.headers.get(PURPOSE_HEADER) or None
    return platform.view(actor, granted.space_id, purpose)


def data_view(
    request: Request,
    platform: PlatformDep,
    _bearer_doc: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    _cookie_doc: Annotated[str | None, Depends(_cookie)],
) -> SpaceView:
    """A space's data as the caller may see it: the citizen's own space, or — for a
    service's OAuth token — the consenting citizen's space through that consent.
    The authorisation point decides every access either way."""
    token = service_bearer(request)
    if token is not None:
        return service_view(request, platform, token)
    return citizen_view(resolve_caller(request, platform), platform)


DataView = Annotated[SpaceView, Depends(data_view)]


async def deferred_data_view(
    request: Request,
    platform: PlatformDep,
    _bearer_doc: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    _cookie_doc: Annotated[str | None, Depends(_cookie)],
) -> Callable[[], SpaceView]:
    """:func:`data_view`, for the endpoint to call first thing on its own worker thread.
    Authentication reads the database, so as a dependency it takes a thread hop of its
    own; deferred, the hot single-record read makes one hop per request instead of two."""
    return partial(data_view, request, platform, _bearer_doc, _cookie_doc)


DeferredDataView = Annotated[Callable[[], SpaceView], Depends(deferred_data_view)]


def operator_actor(caller: CallerDep) -> Actor:
    p = caller.principal
    if p.role != "operator":
        raise AccessDenied("this endpoint is for the instance's operators", reason="operator-only")
    return Actor.operator(p.account_id, p.username)


OperatorActor = Annotated[Actor, Depends(operator_actor)]


def _secure(request: Request) -> bool:
    """Secure cookies over HTTPS, or when the instance says it is served over HTTPS (its
    ``public_url``), or when the app was created with ``secure_cookies``."""
    forced = bool(getattr(request.app.state, "secure_cookies", False))
    public = get_platform(request).settings.public_url.startswith("https://")
    return forced or public or request.url.scheme == "https"


def set_session_cookie(response: Response, request: Request, secret: str, max_age: int) -> None:
    response.set_cookie(
        COOKIE,
        secret,
        max_age=max_age,
        path="/",
        secure=_secure(request),
        httponly=True,
        samesite="lax",
    )


def start_session(
    platform: Platform, request: Request, response: Response, account_id: str
) -> tuple[str, int]:
    """Issue a browser session, set its cookie on ``response``; returns the session's
    CSRF token and its expiry (epoch ms)."""
    ttl = platform.settings.session_hours * 3600
    issued = platform.sessions.issue(account_id, "session", ttl, label="browser session")
    set_session_cookie(response, request, issued.secret, ttl)
    return csrf_token(issued.secret), issued.expires_at


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(COOKIE, path="/", secure=_secure(request), httponly=True, samesite="lax")
