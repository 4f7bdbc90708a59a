"""A real OAuth client library (Authlib's httpx client) against the running server:
authorization code + PKCE, the consent screen, consented reads, withdrawal, refresh,
revocation and introspection."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import numpy as np
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client

from selfdata.access import SpaceView
from selfdata.doctypes.examples import EXAMPLES
from selfdata.platform import Platform
from tests.conftest import PASSWORD, make_space
from tests.support.services import approved_service

REDIRECT = "http://127.0.0.1:8765/callback"
PURPOSE = {"Selfdata-Purpose": "dpv:ServiceProvision"}


def _meter_stream(view: SpaceView) -> str:
    meter = view.put_records("energy.meter", [EXAMPLES["energy.meter"]]).ids[0]
    stream = view.create_stream("energy.reading", record_id=meter).id
    end = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())
    ts = np.arange(end - 30 * 86400, end, 1800)
    view.append_points(stream, ts, np.full(ts.shape[0], 100.0))
    return stream


def _sign_in(browser: httpx.Client, page: str, *, with_csrf: bool = True) -> httpx.Response:
    """Submit the sign-in form shown on the authorization page, as a browser would."""
    nxt = re.search(r'name="next" value="([^"]+)"', page)
    login_csrf = re.search(r'name="login_csrf" value="([^"]+)"', page)
    assert nxt and login_csrf
    form = {"username": "alice", "password": PASSWORD, "next": nxt.group(1).replace("&amp;", "&")}
    if with_csrf:
        form["login_csrf"] = login_csrf.group(1)
    return browser.post("/oauth/login", data=form)


def _consent_in_browser(server: str, authorize_url: str, grants: list[str] | None = None) -> str:
    """What the citizen does in the browser; returns the redirect back to the service."""
    with httpx.Client(base_url=server, follow_redirects=False) as browser:
        page = browser.get(authorize_url)
        assert page.status_code == 200 and 'name="password"' in page.text
        signed_in = _sign_in(browser, page.text)
        assert signed_in.status_code == 303
        consent = browser.get(signed_in.headers["location"])
        assert consent.status_code == 200, consent.text
        assert "Energy coach" in consent.text or "Coach énergie" in consent.text
        assert (
            "form-action 'self' http://127.0.0.1:8765" in consent.headers["content-security-policy"]
        )
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', consent.text)
        notice = re.search(r'name="notice_hash" value="([^"]+)"', consent.text)
        action = re.search(r'<form method="post" action="([^"]+)"', consent.text)
        assert csrf and action and notice
        form = {
            "notice_hash": notice.group(1),
            "csrf_token": csrf.group(1),
            "decision": "allow",
            "grant": grants or ["load-curve"],
        }
        decided = browser.post(action.group(1).replace("&amp;", "&"), data=form)
        assert decided.status_code == 302, decided.text
        return decided.headers["location"]


@pytest.fixture
def coach(platform: Platform) -> OAuth2Client:
    approved_service(platform)
    return OAuth2Client(
        client_id="energy-coach",
        redirect_uri=REDIRECT,
        scope="load-curve",
        code_challenge_method="S256",
    )


def test_code_pkce_flow_read_then_withdraw(
    platform: Platform, server: str, coach: OAuth2Client
) -> None:
    alice = make_space(platform)
    stream = _meter_stream(alice)
    verifier = generate_token(64)
    url, state = coach.create_authorization_url(f"{server}/oauth/authorize", code_verifier=verifier)
    callback = _consent_in_browser(server, url)
    assert parse_qs(urlsplit(callback).query)["state"] == [state]

    token = coach.fetch_token(
        f"{server}/oauth/token", authorization_response=callback, code_verifier=verifier
    )
    assert (
        token["access_token"].startswith("sdo_")
        and token["refresh_token"]
        and token["scope"] == "load-curve"
    )

    read = coach.get(
        f"{server}/api/v1/series/{stream}/points", params={"every": "day"}, headers=PURPOSE
    )
    assert read.status_code == 200, read.text
    assert max(p["value"] for p in read.json()["points"] if p["value"]) == 4800.0  # 48 x 100 Wh
    denied = coach.get(f"{server}/api/v1/records/bank.transaction", headers=PURPOSE)
    assert denied.status_code == 403 and denied.json()["reason"] == "doctype-not-consented"
    assert "items" not in denied.json()
    mine = coach.get(f"{server}/api/v1/service/consent")
    assert mine.status_code == 200 and mine.json()["status"] == "active"

    # The citizen withdraws; the very next call with the same token is refused.
    (consent,) = alice.consents()
    alice.withdraw_consent(consent.id)
    after = coach.get(f"{server}/api/v1/series/{stream}/points", headers=PURPOSE)
    assert after.status_code == 403 and after.json()["reason"] == "consent-withdrawn"
    assert "points" not in after.json()
    refreshed = httpx.post(
        f"{server}/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": "energy-coach",
        },
    )
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
    log = [e.event for e in alice.access_log(limit=50)]
    assert any(
        e.actor_kind == "service" and e.outcome == "denied" and e.reason == "consent-withdrawn"
        for e in log
    )


def test_refresh_revoke_introspect(platform: Platform, server: str, coach: OAuth2Client) -> None:
    alice = make_space(platform)
    stream = _meter_stream(alice)
    verifier = generate_token(64)
    url, _ = coach.create_authorization_url(f"{server}/oauth/authorize", code_verifier=verifier)
    callback = _consent_in_browser(server, url)
    first = coach.fetch_token(
        f"{server}/oauth/token", authorization_response=callback, code_verifier=verifier
    )

    def introspect(value: str) -> dict[str, object]:
        answer = httpx.post(
            f"{server}/oauth/introspect", data={"token": value, "client_id": "energy-coach"}
        )
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    info = introspect(first["access_token"])
    assert info["active"] is True and info["sub"] == alice.space_id and info["consent_id"]
    second = coach.refresh_token(f"{server}/oauth/token", refresh_token=first["refresh_token"])
    assert second["access_token"] != first["access_token"]
    # Refresh tokens rotate: the old one is spent.
    replay = httpx.post(
        f"{server}/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "client_id": "energy-coach",
        },
    )
    assert replay.status_code == 400
    ok = coach.get(f"{server}/api/v1/series/{stream}/points", headers=PURPOSE)
    assert ok.status_code == 200
    revoked = httpx.post(
        f"{server}/oauth/revoke",
        data={"token": second["access_token"], "client_id": "energy-coach"},
    )
    assert revoked.status_code == 200
    assert introspect(second["access_token"])["active"] is False
    gone = coach.get(f"{server}/api/v1/series/{stream}/points", headers=PURPOSE)
    assert gone.status_code == 401


def test_authorization_errors(platform: Platform, server: str, coach: OAuth2Client) -> None:
    make_space(platform)
    # No PKCE: refused before any consent screen.
    plain = OAuth2Client(client_id="energy-coach", redirect_uri=REDIRECT, scope="load-curve")
    url, _ = plain.create_authorization_url(f"{server}/oauth/authorize")
    page = httpx.get(url)
    assert page.status_code == 400 and "PKCE" in page.text
    # A redirect URI the manifest does not list.
    evil = OAuth2Client(
        client_id="energy-coach",
        redirect_uri="http://127.0.0.1:9999/steal",
        code_challenge_method="S256",
    )
    url, _ = evil.create_authorization_url(
        f"{server}/oauth/authorize", code_verifier=generate_token(64)
    )
    assert httpx.get(url).status_code == 400
    # An unknown client.
    assert (
        httpx.get(f"{server}/oauth/authorize?response_type=code&client_id=nobody").status_code
        == 400
    )
    # A wrong code verifier.
    verifier = generate_token(64)
    url, _ = coach.create_authorization_url(f"{server}/oauth/authorize", code_verifier=verifier)
    callback = _consent_in_browser(server, url)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    wrong = httpx.post(
        f"{server}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": "energy-coach",
            "code_verifier": generate_token(64),
        },
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"


def test_refusing_on_the_consent_screen(
    platform: Platform, server: str, coach: OAuth2Client
) -> None:
    alice = make_space(platform)
    url, _ = coach.create_authorization_url(
        f"{server}/oauth/authorize", code_verifier=generate_token(64)
    )
    with httpx.Client(base_url=server, follow_redirects=False) as browser:
        page = browser.get(url)
        consent = browser.get(_sign_in(browser, page.text).headers["location"])
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', consent.text)
        action = re.search(r'<form method="post" action="([^"]+)"', consent.text)
        assert csrf and action
        target = action.group(1).replace("&amp;", "&")
        forged = browser.post(target, data={"csrf_token": "forged", "decision": "allow"})
        assert forged.status_code == 403
        notice = re.search(r'name="notice_hash" value="([^"]+)"', consent.text)
        assert notice
        stale = browser.post(
            target,
            data={
                "csrf_token": csrf.group(1),
                "decision": "allow",
                "notice_hash": "0" * 64,
                "grant": ["load-curve"],
            },
        )
        assert stale.status_code == 409
        refused = browser.post(
            target,
            data={"csrf_token": csrf.group(1), "decision": "deny", "notice_hash": notice.group(1)},
        )
    assert refused.status_code == 302
    assert parse_qs(urlsplit(refused.headers["location"]).query)["error"] == ["access_denied"]
    assert alice.consents() == []


def test_discovery_documents(platform: Platform, server: str) -> None:
    approved_service(platform)
    meta = httpx.get(f"{server}/.well-known/oauth-authorization-server").json()
    assert (
        meta["code_challenge_methods_supported"] == ["S256"]
        and "load-curve" in meta["scopes_supported"]
    )
    keys = httpx.get(f"{server}/.well-known/jwks.json").json()
    assert keys == platform.signer.jwks()


def test_sign_in_form_refuses_cross_site_posts(
    platform: Platform, server: str, coach: OAuth2Client
) -> None:
    make_space(platform)
    url, _ = coach.create_authorization_url(
        f"{server}/oauth/authorize", code_verifier=generate_token(64)
    )
    with httpx.Client(base_url=server, follow_redirects=False) as browser:
        page = browser.get(url)
        forged = _sign_in(browser, page.text, with_csrf=False)
        assert forged.status_code == 403 and "selfdata_session" not in forged.headers.get(
            "set-cookie", ""
        )
    with httpx.Client(
        base_url=server, follow_redirects=False
    ) as other_site:  # no cookie from the page
        replayed = _sign_in(other_site, page.text)
        assert replayed.status_code == 403


def test_oauth_pages_use_the_apps_stylesheet(server: str, coach: OAuth2Client) -> None:
    url, _ = coach.create_authorization_url(
        f"{server}/oauth/authorize", code_verifier=generate_token(64)
    )
    page = httpx.get(url)
    linked = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text)
    assert linked == ["/static/app.css"]
    css = httpx.get(f"{server}{linked[0]}")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert httpx.get(f"{server}/static/selfdata.css").status_code == 404  # the old one, gone
