"""The connectors API: consent at the Data Connect simulator through a browser session,
the callback, the accounts, a sync on demand, unlinking — and the CSRF, auth and
problem conventions on each route."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI

from selfdata.clock import FixedClock
from selfdata.platform import Platform
from tests.conftest import make_space
from tests.http.conftest import API, TestClient, login, make_client
from tests.support.dataconnect_simulator import (
    CLIENT_ID,
    CLIENT_SECRET,
    USAGE_POINT,
    DataConnectSimulator,
)

NAME = "enedis.dataconnect"
CALLBACK = f"http://testserver{API}/connectors/{NAME}/callback"


@pytest.fixture
def simulator(platform: Platform, clock: FixedClock) -> Iterator[DataConnectSimulator]:
    sim = DataConnectSimulator(today=clock.now().date(), redirect_uri=CALLBACK).start()
    table = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "authorize_url": sim.base_url,
        "api_url": sim.base_url,
        "backoff_s": 0.01,
        "history_days": "10",
    }
    platform.settings = platform.settings.with_(connectors={NAME: table})
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def browser(app: FastAPI, platform: Platform) -> Iterator[TestClient]:
    make_space(platform, "alice")
    with make_client(app) as client:
        yield client


def consent(browser: TestClient, csrf: str, sim: DataConnectSimulator) -> str:
    """Authorize, consent at the simulator, come back: the callback URL to follow."""
    response = browser.post(f"{API}/connectors/{NAME}/authorize", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200, response.text
    return sim.approve(response.json()["authorization_url"])


def test_link_sync_and_unlink_an_account(
    browser: TestClient, simulator: DataConnectSimulator
) -> None:
    csrf = login(browser)
    listed = browser.get(f"{API}/connectors").json()["items"]
    assert [(c["name"], c["configured"]) for c in listed] == [(NAME, True)]
    assert set(listed[0]["description"]) == {"fr", "en"}

    back = consent(browser, csrf, simulator)
    assert back.startswith(CALLBACK) and parse_qs(urlsplit(back).query)["usage_point_id"]
    landed = browser.get(back, follow_redirects=False)
    assert landed.status_code == 303
    target = urlsplit(landed.headers["location"])
    assert target.path == "/account" and parse_qs(target.query)["connector"] == ["linked"]
    account_id = parse_qs(target.query)["account"][0]

    (account,) = browser.get(f"{API}/connectors/accounts").json()["items"]
    assert account["id"] == account_id and account["status"] == "ok"
    assert "token" not in str(account).lower()

    synced = browser.post(
        f"{API}/connectors/accounts/{account_id}/sync", headers={"X-CSRF-Token": csrf}
    )
    assert synced.status_code == 200, synced.text
    assert synced.json()["status"] == "ok" and synced.json()["last_sync_at"]
    meters = browser.get(f"{API}/records/energy.meter").json()["items"]
    assert {(m["data"]["meter_id"], m["data"]["reading_type"]) for m in meters} == {
        (USAGE_POINT, "daily_consumption"),
        (USAGE_POINT, "load_curve"),
    }

    # Unsafe methods need the CSRF token with a cookie session.
    refused = browser.delete(f"{API}/connectors/accounts/{account_id}")
    assert refused.status_code == 403 and refused.json()["reason"] == "csrf"
    gone = browser.delete(f"{API}/connectors/accounts/{account_id}", headers={"X-CSRF-Token": csrf})
    assert gone.status_code == 204
    assert browser.get(f"{API}/connectors/accounts").json()["items"] == []
    missing = browser.post(
        f"{API}/connectors/accounts/{account_id}/sync", headers={"X-CSRF-Token": csrf}
    )
    assert missing.status_code == 404


def test_the_state_is_bound_to_the_space_that_asked(
    app: FastAPI, platform: Platform, browser: TestClient, simulator: DataConnectSimulator
) -> None:
    back = consent(browser, login(browser), simulator)
    make_space(platform, "bobby")
    with make_client(app) as other:
        login(other, "bobby")
        landed = other.get(back, follow_redirects=False)
        assert landed.status_code == 303
        assert parse_qs(urlsplit(landed.headers["location"]).query)["connector"] == ["expired"]
        assert other.get(f"{API}/connectors/accounts").json()["items"] == []
    # The citizen who asked can still finish.
    landed = browser.get(back, follow_redirects=False)
    assert parse_qs(urlsplit(landed.headers["location"]).query)["connector"] == ["linked"]


def test_refusals_follow_the_api_conventions(
    app: FastAPI, browser: TestClient, simulator: DataConnectSimulator
) -> None:
    with make_client(app) as anonymous:
        assert anonymous.get(f"{API}/connectors").status_code == 401
        assert anonymous.get(f"{API}/connectors/accounts").status_code == 401
    csrf = login(browser)
    no_csrf = browser.post(f"{API}/connectors/{NAME}/authorize")
    assert no_csrf.status_code == 403 and no_csrf.json()["reason"] == "csrf"
    unknown = browser.post(f"{API}/connectors/nope/authorize", headers={"X-CSRF-Token": csrf})
    assert unknown.status_code == 404
    # The citizen refused at the provider: back to the page, nothing linked.
    landed = browser.get(
        f"{API}/connectors/{NAME}/callback?error=access_denied&state=x", follow_redirects=False
    )
    assert parse_qs(urlsplit(landed.headers["location"]).query)["connector"] == ["refused"]
    forged = browser.get(
        f"{API}/connectors/{NAME}/callback?code=abc&state=forged", follow_redirects=False
    )
    assert parse_qs(urlsplit(forged.headers["location"]).query)["connector"] == ["expired"]
    assert browser.get(f"{API}/connectors/accounts").json()["items"] == []


def test_an_unconfigured_connector_is_refused_clearly(browser: TestClient) -> None:
    csrf = login(browser)
    (listed,) = browser.get(f"{API}/connectors").json()["items"]
    assert listed["configured"] is False
    response = browser.post(f"{API}/connectors/{NAME}/authorize", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 400
    assert "docs/connectors.md" in response.json()["detail"]
