"""Request body bounds, enforced before anything reads the body into memory.

A pure-ASGI middleware: a declared ``Content-Length`` over the bound is refused at once
(413, the body is never read); otherwise the bytes are counted as they stream in, and
the read that crosses the bound raises :class:`BodyTooLarge` — chunked uploads without a
length are caught the same way. File uploads (``PUT``/``POST /api/v1/files``, and
``POST /api/v1/imports`` and the web app's ``POST /add`` form, all its files together)
are bounded by ``limits.max_file_bytes``, everything else by ``limits.max_json_bytes``.
A browser posting a page's form (``Accept: text/html``, not under ``/api/``) is refused
with a page in the citizen's language; API clients get the problem document.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from selfdata.settings import Limits
from selfdata.web.problems import problem

__all__ = ["FILE_UPLOAD_PATH", "BodyLimitMiddleware", "BodyTooLarge", "describe_size"]

FILE_UPLOAD_PATH = "/api/v1/files"
IMPORT_UPLOAD_PATH = "/api/v1/imports"
PAGE_UPLOAD_PATH = "/add"  # the web app's upload form (docs/web.md)


def describe_size(size: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


class BodyTooLarge(HTTPException):
    """Raised by the body reader when the bytes received cross the bound.

    An ``HTTPException`` so that FastAPI's JSON body reading lets it through unchanged
    (it turns other exceptions into a 400); handlers that stream the body themselves
    turn it into :class:`selfdata.errors.PayloadTooLarge`."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"the request body is larger than the {describe_size(limit)} allowed for this endpoint",
        )
        self.limit = limit


def _wants_page(scope: Scope) -> bool:
    """A browser's form post to a page (not the API): it gets an HTML page, not JSON."""
    path = str(scope.get("path", ""))
    accept = Headers(scope=scope).get("accept", "")
    return not path.startswith(("/api/", "/oauth/")) and "text/html" in accept


async def _page_refusal(scope: Scope, limit: int) -> ASGIApp:
    # Imported here: the pages build on the web package this module belongs to.
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request

    from selfdata.web.pages.common import too_large_page

    # In a thread: the page looks the session up in the database.
    return await run_in_threadpool(too_large_page, Request(scope), limit)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limits: Callable[[], Limits]) -> None:
        self.app = app
        self._limits = limits

    def limit_for(self, scope: Scope) -> int:
        limits = self._limits()
        if scope.get("path") == FILE_UPLOAD_PATH and scope.get("method") in ("PUT", "POST"):
            return limits.max_file_bytes
        if scope.get("path") in (IMPORT_UPLOAD_PATH, PAGE_UPLOAD_PATH) and (
            scope.get("method") == "POST"
        ):
            return limits.max_file_bytes  # the whole form, every file together
        return limits.max_json_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            if _wants_page(scope):
                await (await _page_refusal(scope, limit))(scope, receive, send)
                return
            response = problem(
                413,
                "payload-too-large",
                "Payload too large",
                f"the request body ({describe_size(int(declared))}) is larger than the "
                f"{describe_size(limit)} allowed for this endpoint",
                instance=scope.get("path"),
                limit=limit,
            )
            await response(scope, receive, send)
            return
        received = 0

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counting, send)
