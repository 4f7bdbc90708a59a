"""Errors as RFC 9457 problem documents: the one table from error class to HTTP status.

Everything the API answers with a status of 400 or more is an
``application/problem+json`` document::

    {"type": "https://selfdata.org/problems/validation-failed",
     "title": "The data does not match its doctype", "status": 422,
     "detail": "Invalid bank.transaction record: amount: …", "instance": "/api/v1/records/…",
     "errors": [{"field": "amount", "message": "…", "kind": "decimal_parsing"}]}

The status comes from :data:`STATUS` (most specific class wins); ``type`` ends with the
error's stable ``code``; the error's ``extra`` members (safe to show, by the contract of
:class:`selfdata.errors.SelfdataError`) become extension members, as do ``errors``
(``ValidationFailed``) and ``reason`` (``AccessDenied``). Server-side failures (5xx)
never show their detail: it is logged with a correlation id that the body repeats.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from types import MappingProxyType
from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from selfdata.errors import (
    AccessDenied,
    AuthenticationFailed,
    ConfigurationError,
    Conflict,
    CryptoError,
    FieldError,
    InvalidInput,
    MalformedQuery,
    NotFound,
    PayloadTooLarge,
    SelfdataError,
    SpaceUnavailable,
    UnknownDoctype,
    ValidationFailed,
)
from selfdata.web.responses import ProblemJSONResponse

__all__ = [
    "PROBLEM_BASE",
    "STATUS",
    "CatchAllMiddleware",
    "FieldProblem",
    "Problem",
    "install_problem_handlers",
    "problem",
    "problem_responses",
    "status_for",
]

log = logging.getLogger("selfdata.web")

PROBLEM_BASE = "https://selfdata.org/problems/"

#: THE table. A class not listed takes the status of its nearest listed ancestor.
STATUS: Mapping[type[SelfdataError], int] = MappingProxyType(
    {
        ValidationFailed: 422,  # field-level ``errors``; nothing was written
        UnknownDoctype: 404,  # the doctype is a resource name (URL path) in most routes
        MalformedQuery: 400,
        PayloadTooLarge: 413,
        InvalidInput: 400,
        AuthenticationFailed: 401,  # 429 + Retry-After when the account is locked (see below)
        AccessDenied: 403,  # with ``reason``
        NotFound: 404,
        Conflict: 409,
        SpaceUnavailable: 403,
        CryptoError: 500,  # generic message; the detail is logged
        ConfigurationError: 503,  # generic message; the detail is logged
        SelfdataError: 500,
    }
)
LOCKED_OUT = 429  # an AuthenticationFailed carrying ``retry_after`` (too many failed sign-ins)

_STANDARD = frozenset({"type", "title", "status", "detail", "instance"})
_HTTP_SLUGS = {
    400: "bad-request",
    401: "authentication-failed",
    403: "access-denied",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    411: "length-required",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-failed",
    429: "too-many-requests",
    500: "internal-error",
    503: "unavailable",
}


class FieldProblem(BaseModel):
    """One problem with one field of the input."""

    field: str = Field(description="Where: `amount`, `items[2].booked_on`, `query.limit`.")
    message: str = Field(description="What was wrong and what was expected.")
    kind: str = Field(description="A machine-readable category of the problem.")
    line: int | None = Field(None, description="Line of the input, when it has lines.")
    source: str | None = None


class Problem(BaseModel):
    """An RFC 9457 problem document (media type `application/problem+json`)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(
        description="A URI naming the kind of problem (stable).",
        examples=["https://selfdata.org/problems/not-found"],
    )
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What happened, in a sentence a person can act on.")
    instance: str | None = Field(None, description="The path of the request that failed.")
    errors: list[FieldProblem] | None = Field(
        None, description="Field-level problems (validation failures)."
    )
    reason: str | None = Field(None, description="Which rule refused (access denied).")
    correlation_id: str | None = Field(
        None, description="Quote it to the operator: it finds the logged detail (5xx only)."
    )


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    **members: Any,
) -> Response:
    """A problem response; ``members`` become extension members (None ones are left out)."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    for key, value in members.items():
        if key not in _STANDARD and value is not None:
            body[key] = _jsonable(value)
    return ProblemJSONResponse(body, status_code=status, headers=dict(headers or {}))


def _jsonable(value: Any) -> Any:
    try:
        orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return str(value)
    return value


def status_for(exc: SelfdataError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            status = STATUS[cls]
            break
    else:  # pragma: no cover - SelfdataError itself is in the table
        status = 500
    if isinstance(exc, AuthenticationFailed) and exc.extra.get("retry_after") is not None:
        return LOCKED_OUT
    return status


def new_correlation_id() -> str:
    return secrets.token_hex(8)


def internal_error(instance: str | None, correlation_id: str, status: int = 500) -> Response:
    detail = (
        "the instance is not set up to serve this request; the operator can find the cause "
        if status == 503
        else "the server could not complete this request; the operator can find the cause "
    ) + f"in the logs under correlation id {correlation_id}"
    return problem(
        status,
        _HTTP_SLUGS.get(status, "internal-error"),
        HTTPStatus(status).phrase,
        detail,
        instance=instance,
        correlation_id=correlation_id,
    )


def selfdata_problem(exc: SelfdataError, instance: str | None) -> Response:
    status = status_for(exc)
    if status >= 500:
        cid = new_correlation_id()
        log.error("%s (correlation id %s) on %s: %s", type(exc).__name__, cid, instance, exc.detail)
        return internal_error(instance, cid, status)
    headers: dict[str, str] = {}
    slug, title = exc.code, exc.title
    if status == LOCKED_OUT:
        headers["Retry-After"] = str(int(exc.extra["retry_after"]))
        slug, title = "too-many-attempts", "Too many failed sign-in attempts"
    elif status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="selfdata"'
    members = dict(exc.extra)
    if isinstance(exc, ValidationFailed):
        members["errors"] = [e.as_dict() for e in exc.errors]
    return problem(status, slug, title, exc.detail, instance=instance, headers=headers, **members)


# --- handlers -------------------------------------------------------------------------------


async def _on_selfdata_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SelfdataError)
    return selfdata_problem(exc, request.url.path)


def _where(loc: Iterable[Any]) -> tuple[str | int, ...]:
    return tuple(p if isinstance(p, int) else str(p) for p in loc)


async def _on_request_validation(request: Request, exc: Exception) -> Response:
    """FastAPI's own parsing of parameters and bodies: located, never echoing the input."""
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    broken = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if broken is not None:
        return _malformed_json(request, broken, exc.body)
    fields = [
        FieldError(
            _where(e.get("loc", ())),
            str(e.get("msg", "invalid")),
            kind=str(e.get("type", "invalid")),
        )
        for e in errors
    ]
    listed = [f.as_dict() for f in fields[:100]]
    first = fields[0].describe() if fields else "invalid request"
    more = f" (and {len(fields) - 1} more)" if len(fields) > 1 else ""
    if fields and all(f.loc[:1] == ("body",) for f in fields):
        return problem(
            422,
            "validation-failed",
            "The request body does not have the expected shape",
            f"{first}{more}",
            instance=request.url.path,
            errors=listed,
        )
    return problem(
        400,
        "invalid-parameter",
        "Invalid request parameter",
        f"{first}{more}",
        instance=request.url.path,
        errors=listed,
    )


def _malformed_json(request: Request, error: Mapping[str, Any], body: Any) -> Response:
    loc = error.get("loc", ())
    pos = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else 0
    reason = str((error.get("ctx") or {}).get("error", "invalid JSON"))
    text = body if isinstance(body, str) else ""
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    detail = f"the request body is not valid JSON: {reason} at line {line}, column {column}"
    return problem(
        400,
        "malformed-json",
        "Malformed JSON",
        detail,
        instance=request.url.path,
        errors=[
            {
                "field": "body",
                "message": f"{reason} (column {column})",
                "kind": "json_invalid",
                "line": line,
            }
        ],
    )


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    detail = str(exc.detail)
    if detail == phrase:  # Starlette's own, say something useful instead
        if status == 404:
            detail = (
                f"there is nothing at {request.url.path}; see /api/openapi.json for the endpoints"
            )
        elif status == 405:
            allowed = (exc.headers or {}).get("Allow", "")
            detail = f"{request.method} is not allowed on {request.url.path} (allowed: {allowed})"
    return problem(
        status,
        _HTTP_SLUGS.get(status, f"http-{status}"),
        phrase,
        detail,
        instance=request.url.path,
        headers=exc.headers,
    )


class CatchAllMiddleware:
    """Turns any unexpected exception into a 500 problem carrying a correlation id.

    The exception (type, message, traceback) is logged under that id, never sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            cid = new_correlation_id()
            log.error(
                "unexpected error (correlation id %s) on %s %s",
                cid,
                scope.get("method"),
                scope.get("path"),
                exc_info=exc,
            )
            if started:
                raise  # too late for a problem document: the server ends the response
            await internal_error(scope.get("path"), cid)(scope, receive, send)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SelfdataError, _on_selfdata_error)
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(HTTPException, _on_http_exception)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting the problems a route may answer."""
    notes = {
        400: "Malformed input: a parameter, filter, cursor, date or JSON body.",
        401: "Not signed in, or the session or token is not valid any more.",
        403: "Signed in, but refused (see `reason`: `csrf`, `citizen-only`, `operator-only`…).",
        404: "No such thing that you may see.",
        409: "The request clashes with the current state (a revision, a name).",
        413: "The body (or the result asked for) is over a configured bound.",
        415: "The body's media type is not one this endpoint reads.",
        422: "The data does not match its doctype; `errors` locates each problem.",
        429: "Too many failed sign-ins: wait for `Retry-After` seconds.",
        503: "The instance is not ready (database unreachable, misconfiguration).",
    }
    return {
        status: {"model": Problem, "description": notes.get(status, HTTPStatus(status).phrase)}
        for status in statuses
    }
