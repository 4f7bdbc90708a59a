"""Watt Wise: an example external service of a selfdata instance, using only the SDK.

It never reads a load curve. It sends the citizen to their selfdata instance to consent
(OAuth 2.0 code + PKCE), then asks one declarative question, ``monthly-consumption``,
computed inside the citizen's space; only the monthly totals come back.

Run it (after registering ``manifest.yaml`` with the operator CLI)::

    SELFDATA_URL=http://127.0.0.1:8000 python examples/watt-wise/app.py

then open http://127.0.0.1:8766/. The redirect URI is this app's ``/callback``, as
listed in the manifest.

State is kept in memory (a demo): a real service keeps the PKCE verifier in a signed,
short-lived session and the tokens encrypted, and forgets the answer when its
declared retention ends.
"""

from __future__ import annotations

import html
import os
import secrets
from dataclasses import dataclass, field

from selfdata_sdk import (
    AccessDenied,
    AuthenticationFailed,
    OAuthClient,
    OAuthError,
    SelfdataClient,
    Tokens,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "watt-wise"
SCOPES = ["consumption"]
QUESTION = "monthly-consumption"
COOKIE = "wattwise_session"


@dataclass
class _State:
    pending: dict[str, str] = field(default_factory=dict)  # OAuth state -> PKCE verifier
    sessions: dict[str, Tokens] = field(default_factory=dict)  # cookie -> tokens


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"</head><body><h1>{title}</h1>{body}</body></html>",
        status_code=status,
    )


def create_app(selfdata_url: str) -> Starlette:
    """The Watt Wise web app for the selfdata instance at ``selfdata_url``."""
    state = _State()

    def oauth(request: Request) -> OAuthClient:
        return OAuthClient(selfdata_url, CLIENT_ID, str(request.url_for("callback")))

    def home(request: Request) -> Response:
        return _page(
            "Watt Wise",
            "<p>Compare your monthly electricity use. Your load curve stays in your "
            "selfdata space: we only receive monthly totals.</p>"
            f"<p><a href='{request.url_for('login')}'>Connect my selfdata space</a></p>",
        )

    def login(request: Request) -> Response:
        auth = oauth(request).authorization_request(SCOPES)
        state.pending[auth.state] = auth.verifier
        return RedirectResponse(auth.url, status_code=302)

    def callback(request: Request) -> Response:
        if "error" in request.query_params:
            reason = html.escape(request.query_params["error"])
            return _page("Not connected", f"<p>The consent was not given ({reason}).</p>", 400)
        verifier = state.pending.pop(request.query_params.get("state", ""), None)
        code = request.query_params.get("code")
        if verifier is None or not code:
            return _page("Not connected", "<p>Unknown or expired sign-in attempt.</p>", 400)
        try:
            tokens = oauth(request).exchange_code(code, verifier)
        except OAuthError as exc:
            return _page("Not connected", f"<p>{html.escape(str(exc))}</p>", 400)
        session = secrets.token_urlsafe(24)
        state.sessions[session] = tokens
        response = RedirectResponse(request.url_for("report"), status_code=303)
        response.set_cookie(COOKIE, session, httponly=True, samesite="lax")
        return response

    def _ask(request: Request) -> tuple[int, dict[str, object]]:
        tokens = state.sessions.get(request.cookies.get(COOKIE, ""))
        if tokens is None:
            return 401, {"error": "not-connected"}
        client = SelfdataClient(selfdata_url, tokens.access_token)
        try:
            answer = client.ask(QUESTION)
        except AccessDenied as exc:
            return 403, {"error": exc.reason, "detail": exc.detail}
        except AuthenticationFailed as exc:
            return 401, {"error": "token", "detail": exc.detail}
        finally:
            client.close()
        return 200, {"months": answer.value, "period": [answer.period_start, answer.period_end]}

    def report_json(request: Request) -> Response:
        status, body = _ask(request)
        return JSONResponse(body, status_code=status)

    def report(request: Request) -> Response:
        status, body = _ask(request)
        if status != 200:
            detail = html.escape(str(body.get("detail") or body.get("error")))
            return _page("Watt Wise", f"<p>No answer: {detail}</p>", status)
        rows = "".join(
            f"<tr><td>{html.escape(str(m['month']))}</td><td>{m['kwh']}</td></tr>"
            for m in body["months"]  # type: ignore[attr-defined]
        )
        return _page(
            "Your monthly consumption",
            f"<table><tr><th>Month</th><th>kWh</th></tr>{rows}</table>",
        )

    return Starlette(
        routes=[
            Route("/", home),
            Route("/login", login, name="login"),
            Route("/callback", callback, name="callback"),
            Route("/report", report, name="report"),
            Route("/report.json", report_json),
        ]
    )


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(
        create_app(os.environ.get("SELFDATA_URL", "http://127.0.0.1:8000")),
        host="127.0.0.1",
        port=int(os.environ.get("WATTWISE_PORT", "8766")),
    )
