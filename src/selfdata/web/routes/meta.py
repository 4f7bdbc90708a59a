"""Health, version, and a script-free documentation page."""

from __future__ import annotations

import html
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import text
from starlette.responses import HTMLResponse

from selfdata import __version__
from selfdata.errors import ConfigurationError
from selfdata.web.auth import PlatformDep
from selfdata.web.models import Health, VersionOut
from selfdata.web.problems import problem_responses

__all__ = ["api_router", "root_router"]

root_router = APIRouter(tags=["meta"])
api_router = APIRouter(tags=["meta"])


@root_router.get(
    "/healthz",
    response_model=Health,
    summary="Is the instance up and its database reachable?",
    responses=problem_responses(503),
)
def healthz(platform: PlatformDep) -> Health:
    try:
        with platform.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise ConfigurationError(f"the database is not reachable: {exc}") from None
    return Health(status="ok", database="ok")


@api_router.get("/version", response_model=VersionOut, summary="The selfdata version and API level")
def version() -> VersionOut:
    return VersionOut(name="selfdata", version=__version__, api="v1")


@root_router.get("/api/docs", response_class=HTMLResponse, include_in_schema=False)
def docs_page(request: Request) -> HTMLResponse:
    """Every operation, from the OpenAPI document, with no script and no CDN (the API's
    Content-Security-Policy forbids both); point Swagger UI or any OpenAPI tool at
    /api/openapi.json for an interactive view."""
    schema: dict[str, Any] = request.app.openapi()
    rows = []
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            rows.append(
                f"<tr><td><code>{html.escape(method.upper())}</code></td>"
                f"<td><code>{html.escape(path)}</code></td>"
                f"<td>{html.escape(operation.get('summary', ''))}</td></tr>"
            )
    page = (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<title>{html.escape(schema['info']['title'])}</title>"
        f"<h1>{html.escape(schema['info']['title'])} {html.escape(schema['info']['version'])}</h1>"
        "<p>The machine-readable description is <a href=/api/openapi.json>/api/openapi.json</a> "
        "(OpenAPI 3). Errors are <code>application/problem+json</code> documents (RFC 9457).</p>"
        "<table><thead><tr><th>Method<th>Path<th>Summary</thead><tbody>"
        + "".join(rows)
        + "</tbody></table></html>"
    )
    return HTMLResponse(page)
