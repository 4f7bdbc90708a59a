"""Sign-up, sign-in, sign-out, password change and the language switch."""

from __future__ import annotations

import threading

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from selfdata.access import Actor
from selfdata.errors import AuthenticationFailed, Conflict, ValidationFailed
from selfdata.web.auth import clear_session_cookie, get_platform, start_session
from selfdata.web.pages.common import (
    Form,
    PageRoute,
    RateLimiter,
    check_csrf,
    check_form_csrf,
    citizen_of,
    error_page,
    gettext,
    is_secure,
    one,
    page,
    read_form,
    redirect,
    require_citizen,
    safe_next,
)
from selfdata.web.pages.i18n import LANG_COOKIE, LANGUAGES, choose_language

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# Per client address, on top of the per-account lockout of the directory: guessing many
# accounts' passwords from one address is slowed down too. One pair per app.
SIGN_IN_ATTEMPTS = (20, 300.0)  # attempts per address per 5 minutes
SIGN_UPS = (10, 3600.0)  # new spaces per address per hour


def _limiter(request: Request, name: str, rule: tuple[int, float]) -> RateLimiter:
    state = request.app.state
    with _LIMITERS_LOCK:
        found: RateLimiter | None = getattr(state, name, None)
        if found is None:
            found = RateLimiter(*rule)
            setattr(state, name, found)
        return found


_LIMITERS_LOCK = threading.Lock()

_SELF_SIGNUP = Actor("system", "self-signup", None, "self sign-up (web app)")


def _address(request: Request) -> str:
    return request.client.host if request.client else "-"


@router.get("/")
def home(request: Request) -> Response:
    return redirect("/data" if citizen_of(request) else "/signin")


@router.get("/lang/{code}")
def switch_language(code: str, request: Request) -> Response:
    response = redirect(safe_next(request.query_params.get("next", "/")))
    if code in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE,
            code,
            max_age=365 * 86400,
            path="/",
            samesite="lax",
            httponly=True,
            secure=is_secure(request),
        )
    return response


@router.get("/signin")
def signin_form(request: Request) -> Response:
    if citizen_of(request):
        return redirect(safe_next(request.query_params.get("next", "/data")))
    return page(
        request, "signin.html", {"next": safe_next(request.query_params.get("next", "/data"))}
    )


@router.post("/signin")
async def signin(request: Request) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_signin, request, form)


def _signin(request: Request, form: Form) -> Response:
    check_form_csrf(request, form)
    _ = gettext(choose_language(request))
    target = safe_next(one(form, "next") or "/data")
    platform = get_platform(request)
    if not _limiter(request, "signin_limiter", SIGN_IN_ATTEMPTS).allow(_address(request)):
        return error_page(
            request,
            429,
            _("Too many sign-in attempts from your connection; wait a few minutes and try again."),
        )
    try:
        account = platform.directory.login(one(form, "username"), one(form, "password"))
        if account.role != "citizen":
            raise AuthenticationFailed("operators use the command line or the API")
    except AuthenticationFailed as exc:
        # One message for unknown names and wrong passwords (nothing to learn from it);
        # the lockout says so, since the citizen must wait.
        locked = "retry_after" in exc.extra
        message = (
            _("Too many failed attempts: this account is locked for a few minutes.")
            if locked
            else _("Wrong username or password.")
        )
        return page(
            request,
            "signin.html",
            {"next": target, "error": message, "username": one(form, "username")},
            status=429 if locked else 401,
        )
    response = redirect(target)
    start_session(platform, request, response, account.id)
    return response


@router.get("/signup")
def signup_form(request: Request) -> Response:
    _ = gettext(choose_language(request))
    if not get_platform(request).settings.self_signup:
        return error_page(
            request, 403, _("This instance does not offer sign-up; ask its operator.")
        )
    return page(request, "signup.html", {"errors": {}})


@router.post("/signup")
async def signup(request: Request) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_signup, request, form)


def _signup(request: Request, form: Form) -> Response:
    check_form_csrf(request, form)
    _ = gettext(choose_language(request))
    platform = get_platform(request)
    if not platform.settings.self_signup:
        return error_page(
            request, 403, _("This instance does not offer sign-up; ask its operator.")
        )
    username, password = one(form, "username").strip(), one(form, "password")
    errors: dict[str, str] = {}
    if password != one(form, "password2"):
        errors["password2"] = _("The two passwords differ.")
    elif not _limiter(request, "signup_limiter", SIGN_UPS).allow(_address(request)):
        return error_page(
            request, 429, _("Too many spaces created from your connection; try again later.")
        )
    else:
        try:
            platform.directory.create_space(username, password, _SELF_SIGNUP)
        except ValidationFailed as exc:
            for err in exc.errors:
                field = str(err.loc[0]) if err.loc else "username"
                errors[field] = (
                    _("3 to 64 characters: lower-case letters, digits, '.', '_' or '-'.")
                    if field == "username"
                    else _("At least 10 characters; a sentence of several words is best.")
                )
        except Conflict:
            errors["username"] = _("This name is already taken; choose another.")
    if errors:
        return page(request, "signup.html", {"errors": errors, "username": username}, status=400)
    account = platform.directory.login(username, password)
    response = redirect("/data?welcome=1")
    start_session(platform, request, response, account.id)
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    form = await read_form(request)
    citizen = citizen_of(request)
    response = redirect("/signin")
    if citizen is not None:
        check_csrf(citizen, form)
        get_platform(request).sessions.revoke(
            citizen.principal.session_id, citizen.principal.account_id
        )
    clear_session_cookie(response, request)
    return response


@router.get("/account")
def account(request: Request) -> Response:
    citizen = require_citizen(request)
    # Also where a provider sends the citizen back after linking a connector account.
    landing = {
        "connector": request.query_params.get("connector"),
        "connector_reason": request.query_params.get("reason"),
    }
    return page(request, "account.html", {"errors": {}, **landing}, citizen=citizen)


@router.post("/account/password")
async def change_password(request: Request) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_change_password, request, form)


def _change_password(request: Request, form: Form) -> Response:
    citizen = require_citizen(request)
    check_csrf(citizen, form)
    _ = gettext(choose_language(request))
    errors: dict[str, str] = {}
    new = one(form, "new_password")
    if new != one(form, "new_password2"):
        errors["new_password2"] = _("The two passwords differ.")
    else:
        try:
            get_platform(request).directory.change_password(
                citizen.principal.account_id, one(form, "current_password"), new
            )
        except ValidationFailed:
            errors["new_password"] = _(
                "At least 10 characters; a sentence of several words is best."
            )
        except AuthenticationFailed:
            errors["current_password"] = _("The current password is wrong.")
    if errors:
        return page(request, "account.html", {"errors": errors}, status=400, citizen=citizen)
    return page(
        request, "account.html", {"errors": {}, "done": _("Password changed.")}, citizen=citizen
    )
