"""What every page shares: who is signed in, CSRF on forms, rendering, error pages.

Pages use the same browser session as the API (the ``selfdata_session`` cookie,
HttpOnly, SameSite=Lax, Secure over HTTPS). Every form carries a synchroniser token:

- signed in: ``csrf_token`` = HMAC of the session secret (the API's own token, so it
  dies with the session and needs no server state);
- signed out (sign-in, sign-up): a random value also set in a SameSite=Strict,
  HttpOnly cookie scoped to those forms (double submit; a cross-site page can
  neither read nor set it).

A page never answers with a problem document or a stack trace: the errors the core
raises become a page saying what happened, with the matching status.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from selfdata.access import Actor, SpaceView
from selfdata.errors import AccessDenied, AuthenticationFailed, PayloadTooLarge, SelfdataError
from selfdata.platform import Platform
from selfdata.spaces import Principal
from selfdata.web.auth import COOKIE, csrf_token, get_platform
from selfdata.web.limits import BodyTooLarge
from selfdata.web.pages.i18n import Formatter, Lang, choose_language, translations
from selfdata.web.problems import status_for

__all__ = [
    "APP_CSP",
    "FORM_CSRF_COOKIE",
    "Citizen",
    "Form",
    "PageRoute",
    "SignInFirst",
    "check_csrf",
    "citizen_of",
    "error_page",
    "page",
    "read_form",
    "redirect",
    "require_citizen",
]

# The app's own script and stylesheet only; forms post to us; nothing frames the pages.
APP_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
FORM_CSRF_COOKIE = "selfdata_form_csrf"


def _environment(lang: Lang) -> Environment:
    env = Environment(
        loader=PackageLoader("selfdata.web", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    return env


_ENVS: dict[Lang, Environment] = {}
_ENVS_LOCK = threading.Lock()


def environment(lang: Lang) -> Environment:
    with _ENVS_LOCK:
        if lang not in _ENVS:
            _ENVS[lang] = _environment(lang)
        return _ENVS[lang]


def gettext(lang: Lang) -> Callable[[str], str]:
    """``_`` for Python code (flash messages built in a route)."""
    return translations(lang).gettext


Form = dict[str, list[str]]


@dataclass(frozen=True, slots=True)
class Citizen:
    """A signed-in citizen: their principal, session secret and view of their space."""

    principal: Principal
    secret: str
    view: SpaceView

    @property
    def csrf(self) -> str:
        return csrf_token(self.secret)

    @property
    def username(self) -> str:
        return self.principal.username


class SignInFirst(Exception):
    """The page needs a signed-in citizen: go to the sign-in page and come back."""


class CsrfRefused(Exception):
    """A form came back without the token its page gave."""


def citizen_of(request: Request) -> Citizen | None:
    secret = request.cookies.get(COOKIE)
    if not secret:
        return None
    platform = get_platform(request)
    try:
        principal = platform.sessions.authenticate(secret)
    except AuthenticationFailed:
        return None
    if principal.kind != "session" or principal.role != "citizen" or principal.space_id is None:
        return None
    actor = Actor.citizen(principal.account_id, principal.space_id, principal.username)
    return Citizen(principal, secret, platform.view(actor, principal.space_id))


def require_citizen(request: Request) -> Citizen:
    citizen = citizen_of(request)
    if citizen is None:
        raise SignInFirst
    return citizen


async def read_form(request: Request) -> Form:
    form: Form = {}
    for key, value in (await request.form()).multi_items():
        if isinstance(value, str):
            form.setdefault(key, []).append(value)
    return form


def one(form: Form, name: str) -> str:
    return (form.get(name) or [""])[0]


def check_csrf(citizen: Citizen, form: Form) -> None:
    if not hmac.compare_digest(one(form, "csrf_token").encode(), citizen.csrf.encode()):
        raise CsrfRefused


def check_form_csrf(request: Request, form: Form) -> None:
    """The signed-out forms' double-submit check."""
    expected = request.cookies.get(FORM_CSRF_COOKIE, "")
    sent = one(form, "csrf_token")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused


def new_form_token(request: Request, response: Response) -> None:
    token = request.state.form_token
    response.set_cookie(
        FORM_CSRF_COOKIE,
        token,
        max_age=3600,
        path="/",
        httponly=True,
        samesite="strict",
        secure=is_secure(request),
    )


def form_token(request: Request) -> str:
    """The signed-out form token of this request (reused from the cookie if present)."""
    token = getattr(request.state, "form_token", None)
    if token is None:
        token = request.cookies.get(FORM_CSRF_COOKIE) or secrets.token_urlsafe(24)
        request.state.form_token = token
    return str(token)


def is_secure(request: Request) -> bool:
    forced = bool(getattr(request.app.state, "secure_cookies", False))
    public = get_platform(request).settings.public_url.startswith("https://")
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip() == "https"
    return forced or public or forwarded or request.url.scheme == "https"


def page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    citizen: Citizen | None = None,
) -> HTMLResponse:
    """Render ``pages/<template>`` in the citizen's language, with the app's CSP."""
    platform = get_platform(request)
    lang = choose_language(request)
    values: dict[str, Any] = {
        "lang": lang,
        "fmt": Formatter(lang, platform.settings.timezone),
        "citizen": citizen,
        "path": request.url.path,
        "here": quote(_here(request), safe=""),
        "self_signup": platform.settings.self_signup,
    }
    if citizen is None:
        values["form_csrf"] = form_token(request)
    values.update(context or {})
    html = environment(lang).get_template(f"pages/{template}").render(**values)
    response = HTMLResponse(html, status_code=status)
    response.headers["Content-Security-Policy"] = APP_CSP
    if citizen is None:
        new_form_token(request, response)
    return response


def _here(request: Request) -> str:
    return request.url.path + ("?" + request.url.query if request.url.query else "")


def redirect(to: str) -> RedirectResponse:
    return RedirectResponse(to, status_code=303)


def safe_next(target: str) -> str:
    """A same-site path to go back to (never another site: no open redirect)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    _ = gettext(choose_language(request))
    titles = {
        400: _("Something is not right in what was sent"),
        401: _("Please sign in"),
        403: _("Not allowed"),
        404: _("Not found"),
        409: _("Not possible right now"),
        413: _("Too large"),
        429: _("Too many attempts"),
    }
    return page(
        request,
        "error.html",
        {"title": titles.get(status, _("Something went wrong")), "message": message},
        status=status,
        citizen=citizen_of(request),
    )


def _size(size: int, lang: Lang) -> str:
    _ = gettext(lang)
    units = ((1 << 30, _("%(num)s GiB")), (1 << 20, _("%(num)s MiB")), (1 << 10, _("%(num)s KiB")))
    for factor, unit in units:
        if size >= factor:
            return unit % {"num": Formatter(lang, "UTC").decimal(round(size / factor, 1))}
    return _("%(num)s bytes") % {"num": size}


def too_large_page(request: Request, limit: int) -> HTMLResponse:
    """A form (an upload) over the instance's size bound: say the bound, in words."""
    lang = choose_language(request)
    _ = gettext(lang)
    message = _(
        "What you sent is larger than the %(limit)s this instance accepts at once. "
        "Send fewer files at a time, or smaller ones."
    ) % {"limit": _size(limit, lang)}
    return error_page(request, 413, message)


class PageRoute(APIRoute):
    """A page route: signed-out visitors go to the sign-in page, a missing CSRF token
    gets a 403 page, the core's errors get a page in the citizen's language."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInFirst:
                return redirect(f"/signin?next={quote(_here(request), safe='')}")
            except CsrfRefused:
                _ = gettext(choose_language(request))
                return error_page(
                    request,
                    403,
                    _(
                        "This form expired or was not sent from this site. Go back, reload "
                        "the page and try again."
                    ),
                )
            except BodyTooLarge as exc:  # a form read by request.form()
                return too_large_page(request, exc.limit)
            except PayloadTooLarge as exc:  # an upload streamed by the page itself
                limit = exc.extra.get("limit")
                if isinstance(limit, int):
                    return too_large_page(request, limit)
                return error_page(request, 413, exc.detail)
            except AccessDenied as exc:
                return error_page(request, 403, exc.detail)
            except SelfdataError as exc:
                return error_page(request, status_for(exc), exc.detail)

        return run


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds per key (e.g. sign-in attempts per
    address, on top of the per-account lockout), in this process's memory."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            seen = self._seen.setdefault(key, deque())
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.limit:
                return False
            seen.append(now)
            if len(self._seen) > 10_000:  # forget idle addresses
                for idle in [k for k, v in self._seen.items() if not v]:
                    del self._seen[idle]
            return True


def platform_of(request: Request) -> Platform:
    return get_platform(request)
