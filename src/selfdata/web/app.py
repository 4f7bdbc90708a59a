"""The HTTP API application factory.

``create_app(platform)`` returns a FastAPI (ASGI) application serving ``/api/v1`` over
that platform; ``selfdata serve`` runs it with uvicorn. Layers, outermost first::

    SecurityHeadersMiddleware   nosniff, no-referrer, CSP, no-store … on every response
    CatchAllMiddleware          any unexpected exception → 500 problem + correlation id
    BodyLimitMiddleware         Content-Length and streamed bytes against the limits
    FastAPI                     routes; SelfdataError / validation / HTTP errors → problems
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from selfdata import __version__
from selfdata.audit.scheduler import PeriodicCheckpoints
from selfdata.connectors.scheduler import PeriodicSyncs
from selfdata.platform import Platform
from selfdata.web.headers import SecurityHeadersMiddleware
from selfdata.web.limits import BodyLimitMiddleware
from selfdata.web.problems import CatchAllMiddleware, install_problem_handlers
from selfdata.web.responses import PROBLEM_JSON
from selfdata.web.routes import api_router, root_router
from selfdata.web.routes.imports import import_jobs, stop_import_jobs

__all__ = ["create_app"]

_DESCRIPTION = """\
The HTTP API of a selfdata instance: a citizen's personal data space (records, time
series, files, access log) and the operator's administration of spaces.

Authenticate with the session cookie set by `POST /api/v1/auth/login` (browsers; unsafe
methods also need the `X-CSRF-Token` header) or with `Authorization: Bearer <token>`
(programs; tokens from `POST /api/v1/auth/tokens`). Errors are RFC 9457
`application/problem+json` documents. See docs/api.md for the guide.
"""


def create_app(platform: Platform, *, secure_cookies: bool = False) -> FastAPI:
    """The API over ``platform``. ``secure_cookies`` marks the session cookie ``Secure``
    even when the request reached the app over plain HTTP (TLS ended at a proxy that
    does not pass ``X-Forwarded-Proto``); over HTTPS it is always ``Secure``."""
    checkpoints = PeriodicCheckpoints(
        platform.gate.checkpoint_all, platform.settings.checkpoint_minutes * 60
    )

    # A lambda: the connectors are built on first use, from the settings of that time.
    syncs = PeriodicSyncs(
        lambda: platform.connectors.sync_due(),  # noqa: PLW0108
        platform.settings.connector_sync_minutes * 60,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = _threads(platform)
        checkpoints.start()
        syncs.start()
        # Load every importer plugin now, not on the first upload page (~250 ms).
        await to_thread.run_sync(import_jobs, app.state)
        try:
            yield
        finally:
            syncs.stop()
            checkpoints.stop()
            stop_import_jobs(app.state)

    app = FastAPI(
        lifespan=lifespan,
        title="selfdata API",
        version=__version__,
        description=_DESCRIPTION,
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.platform = platform
    app.state.secure_cookies = secure_cookies
    install_problem_handlers(app)
    app.include_router(api_router())
    app.include_router(root_router())
    app.add_middleware(BodyLimitMiddleware, limits=lambda: platform.settings.limits)
    app.add_middleware(CatchAllMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    return app


def _threads(platform: Platform) -> int:
    configured = platform.settings.threads
    if configured > 0:
        return configured
    # SQLite: writers take turns, so more threads only fight over the interpreter lock
    # (measured: 1 thread serves the most audited reads per second, 2 keep the server
    # responsive while one long request runs); PostgreSQL: AnyIO's usual 40.
    return 2 if platform.engine.dialect.name == "sqlite" else 40


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """FastAPI's document, with every error response as application/problem+json."""

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        problem_ref = {"$ref": "#/components/schemas/Problem"}
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                for code, response in operation.get("responses", {}).items():
                    if not (code.isdigit() and int(code) >= 400):
                        continue
                    response["content"] = {PROBLEM_JSON: {"schema": problem_ref}}
                    if code == "422" and "validation" in response.get("description", "").lower():
                        response["description"] = (
                            "The body does not have the expected shape (`errors` locates each "
                            "problem). Malformed parameters are answered with 400."
                        )
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = schema
        return schema

    return build
