"""Server-rendered pages: Jinja2 templates shipped in the package, autoescaped."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

__all__ = ["PAGE_CSP", "language", "render"]

_env = Environment(
    loader=PackageLoader("selfdata.web", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)

# Pages load nothing but our own stylesheet and post forms only to us (plus, for the
# consent page, the service's redirect origin, which the browser checks after our 302).
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'{extra}"
)


def language(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in ("fr", "en"):
        return asked
    accept = request.headers.get("accept-language", "")
    return "en" if accept.lower().startswith("en") else "fr"


def render(
    name: str, context: dict[str, Any], *, status: int = 200, form_action: str = ""
) -> HTMLResponse:
    html = _env.get_template(name).render(**context)
    headers = {
        "Content-Security-Policy": PAGE_CSP.format(extra=f" {form_action}" if form_action else "")
    }
    return HTMLResponse(html, status_code=status, headers=headers)
