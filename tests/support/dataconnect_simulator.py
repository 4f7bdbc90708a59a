"""A local simulator of the Enedis Data Connect API, served on loopback for tests.

It follows the public documentation (datahub-enedis.fr/data-connect) where the
connector depends on it:

* ``GET /dataconnect/v1/oauth2/authorize?client_id&response_type=code&state&duration``
  — the consent page: the citizen (here: automatically) approves, and the browser is
  sent to the client's registered redirect URI with ``code``, ``state`` and
  ``usage_point_id``;
* ``POST /oauth2/v3/token`` (form: ``grant_type`` ``authorization_code`` /
  ``refresh_token`` / ``client_credentials``, ``client_id``, ``client_secret``) —
  ``{"access_token", "token_type": "Bearer", "expires_in", "refresh_token",
  "usage_points_id"}``; errors ``{"error": "invalid_grant"|"invalid_client"…}``;
* ``GET /metering_data_dc/v5/daily_consumption`` and
  ``GET /metering_data_clc/v5/consumption_load_curve`` (``usage_point_id``, ``start``,
  ``end``; bearer token) — ``{"meter_reading": {"usage_point_id", "start", "end",
  "quality", "reading_type": {…}, "interval_reading": [{"value", "date",
  "interval_length"?, "measure_type"?}]}}``; load-curve dates are Paris local times of
  the **end** of each 30-minute interval (46 on the spring DST day, 50 in autumn);
  errors 400 ``ADAM-ERR0069`` (malformed), ``ADAM-ERR0123`` (period), ``ADAM-ERR0125``
  (more than 7 days of load curve), 401 (token), 403 (usage point not consented), 404
  ``no_data_found``, 429 with ``Retry-After``, 5xx.

Data are deterministic functions of the date (:func:`daily_value`, :func:`curve_value`)
so tests compare what was stored with what the provider holds. Tests steer failures:
:meth:`DataConnectSimulator.fail_data_calls`, :meth:`revoke_refresh_tokens`,
:meth:`expire_access_tokens`.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "USAGE_POINT", "DataConnectSimulator", "curve_value"]

PARIS = ZoneInfo("Europe/Paris")
CLIENT_ID = "selfdata-test-client"
CLIENT_SECRET = "simulator-client-secret-3f9a"
USAGE_POINT = "14295224261882"
DATA_START = date(2025, 1, 1)  # the meter's first day of data at the simulated Enedis


def daily_value(day: date) -> float:
    """Wh consumed on ``day``."""
    return float(6000 + (day.toordinal() * 37) % 5000)


def curve_value(start: datetime) -> float:
    """Average W over the 30 minutes starting at ``start`` (aware)."""
    slot = int(start.timestamp()) // 1800
    return float(150 + (slot * 53) % 900)


def day_intervals(day: date) -> Iterator[tuple[datetime, datetime]]:
    """The (start, end) UTC instants of the 30-minute intervals of a Paris local day."""
    start = datetime(day.year, day.month, day.day, tzinfo=PARIS).astimezone(UTC)
    nxt = day + timedelta(days=1)
    stop = datetime(nxt.year, nxt.month, nxt.day, tzinfo=PARIS).astimezone(UTC)
    while start < stop:
        yield start, start + timedelta(minutes=30)
        start += timedelta(minutes=30)


@dataclass
class _Failure:
    status: int
    after: int  # successful data calls still to serve before failing
    times: int  # failing calls
    retry_after: int | None = None


@dataclass
class DataConnectSimulator:
    redirect_uri: str = "http://127.0.0.1/callback"
    today: date = date(2026, 3, 1)
    usage_point: str = USAGE_POINT
    expires_in: int = 12600
    base_url: str = ""
    data_calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    token_calls: list[str] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)  # every token ever handed out
    _codes: dict[str, str] = field(default_factory=dict)  # code -> usage point
    _access: dict[str, float] = field(default_factory=dict)  # token -> expiry (epoch s)
    _refresh: set[str] = field(default_factory=set)
    _failures: list[_Failure] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    # -- test controls -----------------------------------------------------------------

    def fail_data_calls(
        self, status: int, *, after: int = 0, times: int = 1, retry_after: int | None = None
    ) -> None:
        """Answer ``status`` to ``times`` data calls, once ``after`` more have succeeded."""
        with self._lock:
            self._failures.append(_Failure(status, after, times, retry_after))

    def revoke_refresh_tokens(self) -> None:
        """The citizen withdrew consent at Enedis: refresh tokens are refused."""
        with self._lock:
            self._refresh.clear()

    def expire_access_tokens(self) -> None:
        with self._lock:
            self._access.clear()

    def approve(self, authorize_url: str) -> str:
        """Follow the consent page like a browser; returns the redirect URL."""
        import httpx

        response = httpx.get(authorize_url, follow_redirects=False)
        assert response.status_code == 302, response.text
        return response.headers["location"]

    # -- the server --------------------------------------------------------------------

    def start(self) -> DataConnectSimulator:
        app = Starlette(
            routes=[
                Route("/dataconnect/v1/oauth2/authorize", self._authorize),
                Route("/oauth2/v3/token", self._token, methods=["POST"]),
                Route("/metering_data_dc/v5/daily_consumption", self._daily),
                Route("/metering_data_clc/v5/consumption_load_curve", self._curve),
            ]
        )
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the Data Connect simulator did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    # -- endpoints ---------------------------------------------------------------------

    async def _authorize(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != CLIENT_ID or q.get("response_type") != "code":
            return JSONResponse(
                {"error": "invalid_request", "error_description": "unknown client"}, 400
            )
        if not q.get("duration", "").startswith("P"):
            return JSONResponse(
                {"error": "invalid_request", "error_description": "duration is required"}, 400
            )
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._codes[code] = self.usage_point
        query = urlencode(
            {"code": code, "state": q.get("state", ""), "usage_point_id": self.usage_point}
        )
        return RedirectResponse(f"{self.redirect_uri}?{query}", status_code=302)

    def _issue(self, usage_point: str, refresh: bool) -> dict[str, Any]:
        access = secrets.token_urlsafe(24)
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": "fr_be_cons_detail_load_curve fr_be_cons_daily_consumption",
            "usage_points_id": usage_point,
        }
        self._access[access] = time.time() + self.expires_in
        self.issued.append(access)
        if refresh:
            token = secrets.token_urlsafe(24)
            self._refresh.add(token)
            self.issued.append(token)
            body["refresh_token"] = token
        return body

    async def _token(self, request: Request) -> Response:
        form = await request.form()
        grant = str(form.get("grant_type", ""))
        self.token_calls.append(grant)
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return JSONResponse({"error": "invalid_client"}, 401)
        with self._lock:
            if grant == "authorization_code":
                usage_point = self._codes.pop(str(form.get("code", "")), None)
                if usage_point is None:
                    return JSONResponse({"error": "invalid_grant"}, 400)
                return JSONResponse(self._issue(usage_point, refresh=True))
            if grant == "refresh_token":
                token = str(form.get("refresh_token", ""))
                if token not in self._refresh:
                    return JSONResponse(
                        {"error": "invalid_grant", "error_description": "refresh token revoked"},
                        400,
                    )
                self._refresh.discard(token)  # rotated
                return JSONResponse(self._issue(self.usage_point, refresh=True))
            if grant == "client_credentials":
                return JSONResponse(self._issue(self.usage_point, refresh=False))
        return JSONResponse({"error": "unsupported_grant_type"}, 400)

    def _check(self, request: Request, max_days: int) -> Response | tuple[date, date]:
        """Authentication, injected failures, parameters; the period when all is well."""
        q = request.query_params
        self.data_calls.append((request.url.path, dict(q)))
        with self._lock:
            for failure in self._failures:
                if failure.times <= 0:
                    continue
                if failure.after > 0:
                    failure.after -= 1
                    break
                failure.times -= 1
                headers = (
                    {"Retry-After": str(failure.retry_after)}
                    if failure.retry_after is not None
                    else {}
                )
                error = "too_many_requests" if failure.status == 429 else "internal_server_error"
                return JSONResponse({"error": error}, failure.status, headers=headers)
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            expiry = self._access.get(token.strip())
            if scheme.lower() != "bearer" or expiry is None or expiry < time.time():
                return JSONResponse({"error": "invalid_token"}, 401)
        if q.get("usage_point_id") != self.usage_point:
            return JSONResponse(
                {"error": "ADAM-ERR0069", "error_description": "usage point not consented"}, 403
            )
        try:
            start, end = date.fromisoformat(q["start"]), date.fromisoformat(q["end"])
        except (KeyError, ValueError):
            return JSONResponse(
                {"error": "ADAM-ERR0069", "error_description": "start and end: YYYY-MM-DD"}, 400
            )
        if start >= end or end > self.today:
            return JSONResponse(
                {
                    "error": "ADAM-ERR0123",
                    "error_description": "the period must end at the latest today",
                },
                400,
            )
        if (end - start).days > max_days:
            return JSONResponse(
                {
                    "error": "ADAM-ERR0125",
                    "error_description": f"at most {max_days} days per call",
                },
                400,
            )
        if end <= DATA_START:
            return JSONResponse(
                {"error": "no_data_found", "error_description": "no data for this period"}, 404
            )
        return max(start, DATA_START), end

    def _reading(self, start: date, end: date, kind: dict[str, str], rows: list[Any]) -> Response:
        return JSONResponse(
            {
                "meter_reading": {
                    "usage_point_id": self.usage_point,
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "quality": "BRUT",
                    "reading_type": kind,
                    "interval_reading": rows,
                }
            }
        )

    async def _daily(self, request: Request) -> Response:
        checked = self._check(request, 365 * 3)
        if isinstance(checked, Response):
            return checked
        start, end = checked
        rows = []
        day = start
        while day < end:
            rows.append({"value": str(int(daily_value(day))), "date": day.isoformat()})
            day += timedelta(days=1)
        kind = {"unit": "Wh", "measurement_kind": "energy", "aggregate": "sum"}
        kind["measuring_period"] = "P1D"
        return self._reading(start, end, kind, rows)

    async def _curve(self, request: Request) -> Response:
        checked = self._check(request, 7)
        if isinstance(checked, Response):
            return checked
        start, end = checked
        rows = []
        day = start
        while day < end:
            for begin, finish in day_intervals(day):
                local_end = finish.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S")
                rows.append(
                    {
                        "value": str(int(curve_value(begin))),
                        "date": local_end,
                        "interval_length": "PT30M",
                        "measure_type": "B",
                    }
                )
            day += timedelta(days=1)
        kind = {"unit": "W", "measurement_kind": "power", "aggregate": "average"}
        return self._reading(start, end, kind, rows)
