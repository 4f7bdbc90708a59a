"""The authorisation matrix: every data endpoint × every kind of caller, over HTTP.

Each refused answer is checked for the absence of the citizen's personal data."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

import numpy as np
import pytest
from fastapi import FastAPI

from selfdata.access import SpaceView
from selfdata.clock import FixedClock
from selfdata.doctypes.examples import EXAMPLES
from selfdata.oauth import CitizenGrant
from selfdata.platform import Platform
from tests.conftest import PASSWORD, make_space
from tests.http.conftest import API, TestClient, bearer_for, make_client
from tests.support.services import approved_service

MARKERS = ("MATRIX-LABEL-7731", "09876543210123", "MATRIX-FILE-4412", "Camille Martin")
SERVICE_PURPOSE = "dpv:ServiceProvision"


@dataclass
class World:
    platform: Platform
    client: TestClient
    alice: SpaceView
    meter: str
    stream: str
    file_id: str
    tx: str


def _mint(platform: Platform, space_id: str, consent_id: str) -> dict[str, str]:
    """An OAuth access token bound to ``consent_id`` (as the token endpoint saves it)."""
    secret = "sdo_" + secrets.token_urlsafe(32)
    request = SimpleNamespace(
        user=CitizenGrant("acct", space_id, consent_id, "load-curve"),
        client=SimpleNamespace(get_client_id=lambda: "energy-coach"),
    )
    platform.oauth.save_token(
        {"access_token": secret, "expires_in": 3600, "scope": "load-curve"}, request
    )
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def world(platform: Platform, app: FastAPI, clock: FixedClock) -> World:
    alice = make_space(platform, "alice")
    make_space(platform, "bobby")
    platform.directory.create_operator("olga-operator", PASSWORD)
    meter = alice.put_records("energy.meter", [EXAMPLES["energy.meter"]]).ids[0]
    stream = alice.create_stream("energy.reading", record_id=meter).id
    now = int(clock.now().timestamp())
    ts = np.arange(now - 40 * 86400, now, 1800)
    alice.append_points(stream, ts, np.full(ts.shape[0], 250.0))
    tx = alice.put_records(
        "bank.transaction", [dict(EXAMPLES["bank.transaction"], label=MARKERS[0])]
    ).ids[0]
    alice.put_records("bank.account", [EXAMPLES["bank.account"]])
    file_id = alice.put_file(
        [MARKERS[2].encode() * 50], filename="facture.pdf", media_type="application/pdf"
    ).id
    approved_service(platform)
    return World(platform, make_client(app), alice, meter, stream, file_id, tx)


Headers = dict[str, str]


def _operator(w: World) -> Headers:
    response = w.client.post(
        f"{API}/auth/login", json={"username": "olga-operator", "password": PASSWORD}
    )
    token = w.platform.sessions.issue(
        w.platform.directory.login("olga-operator", PASSWORD).id, "token", 600
    )
    assert response.status_code == 200
    return {"Authorization": f"Bearer {token.secret}"}


def _service(
    w: World,
    *,
    requests: list[str] | None = None,
    purpose: str = SERVICE_PURPOSE,
    duration: str | None = None,
) -> Headers:
    consent = w.alice.give_consent(
        w.platform.services.get("energy-coach"), requests or ["load-curve"], duration=duration
    )
    return {**_mint(w.platform, w.alice.space_id, consent.id), "Selfdata-Purpose": purpose}


def caller(name: str, w: World, clock: FixedClock) -> Headers:
    if name == "anonymous":
        return {}
    if name == "citizen":
        return bearer_for(w.platform, "alice")
    if name == "another citizen":
        return bearer_for(w.platform, "bobby")
    if name == "operator":
        return _operator(w)
    if name == "service without consent":
        return {
            **_mint(w.platform, w.alice.space_id, "01NOCONSENTXXXXXXXXXXXXXXX"),
            "Selfdata-Purpose": SERVICE_PURPOSE,
        }
    if name == "service, other purpose":
        return _service(w, purpose="dpv:Marketing")
    if name == "service with consent":
        return _service(w)
    if name == "service, withdrawn":
        headers = _service(w)
        (consent,) = [c for c in w.alice.consents() if c.status == "active"]
        w.alice.withdraw_consent(consent.id)
        return headers
    if name == "service, expired":
        consent = w.alice.give_consent(
            w.platform.services.get("energy-coach"), ["load-curve"], duration="P1D"
        )
        clock.advance(timedelta(days=2))
        # A token still in its hour of validity, under a consent that ended meanwhile.
        return {
            **_mint(w.platform, w.alice.space_id, consent.id),
            "Selfdata-Purpose": SERVICE_PURPOSE,
        }
    if name == "service suspended":
        headers = _service(w)
        w.platform.services.suspend("energy-coach")
        return headers
    raise AssertionError(name)


# endpoint name -> (method, path template, body)
ENDPOINTS: dict[str, tuple[str, str, object]] = {
    "list transactions": ("GET", "/records/bank.transaction", None),
    "get transaction": ("GET", "/records/bank.transaction/{tx}", None),
    "get meter": ("GET", "/records/energy.meter/{meter}", None),
    "add transaction": ("POST", "/records/bank.transaction", EXAMPLES["bank.transaction"]),
    "delete meter": ("DELETE", "/records/energy.meter/{meter}", None),
    "list series": ("GET", "/series?doctype=energy.reading", None),
    "read series": ("GET", "/series/{stream}/points?every=day", None),
    "read old series": ("GET", "/series/{stream}/points?start=2020-01-01", None),
    "list files": ("GET", "/files", None),
    "download file": ("GET", "/files/{file_id}", None),
    "access log": ("GET", "/audit/events", None),
    "consents": ("GET", "/consents", None),
    "summary": ("GET", "/me", None),
}
_SERVICE_OK = {"get meter", "read series", "list series"}
_CITIZEN_ONLY = {"access log", "consents", "summary"}


def expected(caller_name: str, endpoint: str) -> tuple[int, str | None]:
    """The status (and problem reason) each caller must get at each endpoint."""
    method = ENDPOINTS[endpoint][0]
    if caller_name == "citizen":
        return ({"POST": 201, "DELETE": 204}.get(method, 200), None)
    if caller_name == "anonymous":
        return 401, None
    if caller_name == "operator":
        # /me tells operators about their own account; nothing else of a space.
        return (200, None) if endpoint == "summary" else (403, "citizen-only")
    if caller_name == "another citizen":
        by_id = "{" in ENDPOINTS[endpoint][1]
        return (404 if by_id else {"POST": 201}.get(method, 200)), None
    if endpoint in _CITIZEN_ONLY:
        return 403, "citizen-only"
    if endpoint == "get transaction" and caller_name in (
        "service with consent",
        "service, other purpose",
    ):
        # An id of a doctype outside the consent answers like a missing one (no probing).
        return 404, None
    if caller_name == "service with consent":
        if endpoint in _SERVICE_OK:
            return 200, None
        if endpoint == "read old series":
            return 403, "outside-data-period"
        if endpoint in (
            "add transaction",
            "list transactions",
            "get transaction",
            "list files",
            "download file",
        ):
            return 403, "doctype-not-consented"
        return 403, "operation-not-consented"  # delete meter
    reason = {
        "service without consent": "no-consent",
        "service, other purpose": "purpose-not-consented",
        "service, withdrawn": "consent-withdrawn",
        "service, expired": "consent-expired",
        "service suspended": "service-suspended",
    }[caller_name]
    if caller_name == "service, other purpose" and endpoint in (
        "add transaction",
        "list transactions",
        "get transaction",
        "list files",
        "download file",
    ):
        reason = "doctype-not-consented"
    if caller_name == "service, other purpose" and endpoint == "delete meter":
        reason = "operation-not-consented"
    if caller_name == "service without consent" and endpoint == "list series":
        reason = "no-consent"
    return 403, reason


CALLERS = [
    "anonymous",
    "another citizen",
    "citizen",
    "service without consent",
    "service with consent",
    "service, other purpose",
    "service, withdrawn",
    "service, expired",
    "service suspended",
    "operator",
]


@pytest.mark.parametrize("caller_name", CALLERS)
def test_matrix(world: World, clock: FixedClock, caller_name: str) -> None:
    headers = caller(caller_name, world, clock)
    ids = {"tx": world.tx, "meter": world.meter, "stream": world.stream, "file_id": world.file_id}
    # Deleting comes last so that it does not change what the other rows see.
    for endpoint in sorted(ENDPOINTS, key=lambda e: e == "delete meter"):
        method, path, body = ENDPOINTS[endpoint]
        url = API + path.format(**ids)
        send: Callable[..., object] = world.client.request
        response = send(method, url, headers=headers, json=body if body is not None else None)
        status, reason = expected(caller_name, endpoint)
        assert response.status_code == status, (caller_name, endpoint, response.text[:300])  # type: ignore[attr-defined]
        if status >= 400:
            problem = response.json()  # type: ignore[attr-defined]
            if reason is not None:
                assert problem.get("reason") == reason, (caller_name, endpoint, problem)
            for marker in MARKERS:
                assert marker not in response.text, (caller_name, endpoint, marker)  # type: ignore[attr-defined]
        if caller_name in ("another citizen", "operator") and status < 300:
            for marker in MARKERS:
                assert marker not in response.text, (endpoint, marker)  # type: ignore[attr-defined]
