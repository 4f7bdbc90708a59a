"""The web app's pages: CSRF on every form, cookie flags, CSP, sign-in limits, and no
way to reach another citizen's data by URL."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from selfdata.platform import Platform
from selfdata.web import create_app
from selfdata.web.pages.common import APP_CSP
from tests.conftest import make_space
from tests.http.conftest import TestClient, serving
from tests.support.pages import csrf_of, sign_in, sign_up
from tests.support.services import approved_service


@pytest.fixture
def app(sqlite_platform: Platform) -> FastAPI:
    return create_app(sqlite_platform)


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "Traceback" not in response.text


def test_every_form_needs_its_csrf_token(browser: TestClient, sqlite_platform: Platform) -> None:
    approved_service(sqlite_platform)
    # Signed out: the sign-in and sign-up forms (double submit).
    _refused(browser.post("/signin", data={"username": "x", "password": "y" * 12}))
    _refused(browser.post("/signup", data={"username": "eve", "password": "p" * 12}))
    assert "eve" not in [s.name for s in sqlite_platform.directory.list_spaces()]
    token = sign_up(browser, "camille")
    # Signed in: every state-changing form, with no token and with a wrong one.
    forms = {
        "/signout": {},
        "/account/password": {"current_password": "x", "new_password": "y" * 12},
        "/services/energy-coach": {"grant": "load-curve"},
        "/rights/restrict": {"scope": "*"},
        "/rights/export": {},
        "/rights/erase": {"confirm": "camille"},
    }
    for path, fields in forms.items():
        _refused(browser.post(path, data=fields))
        _refused(browser.post(path, data={**fields, "csrf_token": token[:-2] + "xx"}))
    _refused(browser.post("/add", files=[("file", ("a.csv", b"x", "text/csv"))]))
    # Nothing happened: still signed in, not restricted, no consent, space intact.
    view = sqlite_platform.citizen_view("camille")
    assert view.restrictions() == [] and view.consents() == []
    assert browser.get("/data", follow_redirects=False).status_code == 200
    # The same forms go through with the token.
    assert browser.post("/rights/restrict", data={"scope": "*", "csrf_token": token}).is_success
    assert [r.scope for r in view.restrictions()] == ["*"]


def test_a_forged_form_from_another_session_is_refused(
    app: FastAPI, sqlite_platform: Platform
) -> None:
    with TestClient(app) as mallory, TestClient(app) as victim:
        mallory_token = sign_up(mallory, "mallory")
        sign_up(victim, "victim")
        _refused(victim.post("/rights/restrict", data={"scope": "*", "csrf_token": mallory_token}))
    assert sqlite_platform.citizen_view("victim").restrictions() == []


def _session_cookie(response: httpx.Response) -> str:
    cookies = [c for c in response.headers.get_list("set-cookie") if "selfdata_session=" in c]
    assert cookies, response.headers
    return cookies[0].lower()


def test_session_cookie_flags_over_http_and_https(app: FastAPI, sqlite_platform: Platform) -> None:
    make_space(sqlite_platform, "camille")
    with TestClient(app) as plain:
        cookie = _session_cookie(sign_in(plain, "camille"))
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    with TestClient(app, base_url="https://testserver") as tls:
        cookie = _session_cookie(sign_in(tls, "camille"))
        assert "httponly" in cookie and "samesite=lax" in cookie and "; secure" in cookie
    # Behind a TLS-terminating proxy on loopback: X-Forwarded-Proto says https.
    with serving(app) as url, httpx.Client(base_url=url) as proxied:
        proxied.headers["X-Forwarded-Proto"] = "https"
        form = proxied.get("/signin")
        form_cookie = next(c for c in form.headers.get_list("set-cookie") if "form_csrf" in c)
        assert "secure" in form_cookie.lower() and "samesite=strict" in form_cookie.lower()
        # The client, on plain HTTP to the proxy's back end, keeps no Secure cookie:
        # send it back as the browser (on HTTPS) would.
        proxied.cookies.clear()
        token = csrf_of(form.text)
        done = proxied.post(
            "/signin",
            data={"csrf_token": token, "username": "camille", "password": _pw()},
            headers={"Cookie": f"selfdata_form_csrf={token}"},
        )
        assert done.status_code == 303, done.text
        assert "; secure" in _session_cookie(done)


def _pw() -> str:
    from tests.conftest import PASSWORD

    return PASSWORD


def test_pages_send_a_strict_csp_and_the_api_keeps_its_own(browser: TestClient) -> None:
    for path in ("/signin", "/signup"):
        page = browser.get(path)
        assert page.headers["content-security-policy"] == APP_CSP
    sign_up(browser, "camille")
    for path in ("/data", "/add", "/services", "/log", "/rights", "/account"):
        page = browser.get(path)
        assert page.status_code == 200, path
        csp = page.headers["content-security-policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "default-src 'none'" in csp and "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert page.headers["x-frame-options"] == "DENY"
        # No inline script or style anywhere (the CSP would block them).
        assert not re.search(r"<script(?![^>]*\bsrc=)", page.text), path
        assert " style=" not in page.text and "<style" not in page.text, path
    api = browser.get("/api/v1/me")
    assert api.headers["content-security-policy"].startswith("default-src 'none'; frame-ancestors")


def test_another_citizens_urls_are_not_found(app: FastAPI, sqlite_platform: Platform) -> None:
    service = approved_service(sqlite_platform)
    with TestClient(app) as alice, TestClient(app) as bob:
        alice_token = sign_up(alice, "alice")
        sign_up(bob, "bob")
        view = sqlite_platform.citizen_view("alice")
        record = view.put_records("contact.card", [{"uid": "u1", "full_name": "Zoé Martin"}]).ids[0]
        consent = view.give_consent(service, ["load-curve"])
        upload = alice.post(
            f"/add?csrf_token={alice_token}",
            files=[("file", ("a.csv", b"not an export", "text/csv"))],
            follow_redirects=False,
        )
        job = upload.headers["location"] if upload.status_code == 303 else None
        assert alice.get(f"/data/contact.card/{record}").status_code == 200
        for path in (
            f"/data/contact.card/{record}",
            f"/consents/{consent.id}/receipt",
        ):
            answer = bob.get(path)
            assert answer.status_code == 404, (path, answer.text)
            assert "Zoé" not in answer.text and answer.headers["content-type"].startswith(
                "text/html"
            )
        if job is not None:
            assert bob.get(job).status_code == 404
        withdrawn = bob.post(
            f"/consents/{consent.id}/withdraw",
            data={"csrf_token": csrf_of(bob.get("/account").text)},
        )
        assert withdrawn.status_code == 404
    assert view.consent(consent.id).status == "active"


def test_sign_in_is_limited_per_address_and_errors_are_generic(
    browser: TestClient, sqlite_platform: Platform
) -> None:
    make_space(sqlite_platform, "camille")
    unknown = sign_in(browser, "nobody", "whatever-password")
    wrong = sign_in(browser, "camille", "whatever-password")
    assert unknown.status_code == wrong.status_code == 401
    # The same words whether the account exists or not.
    assert re.sub(r'value="[^"]*"', "", unknown.text) == re.sub(r'value="[^"]*"', "", wrong.text)
    statuses = [sign_in(browser, f"user{i}", "whatever-password").status_code for i in range(20)]
    assert statuses[-1] == 429 and 429 not in statuses[:17]
    # Even the right password is refused from this address for now.
    assert sign_in(browser, "camille").status_code == 429


def test_unsafe_next_addresses_are_ignored(browser: TestClient, sqlite_platform: Platform) -> None:
    make_space(sqlite_platform, "camille")
    form = browser.get("/signin?next=//evil.example/")
    assert 'value="/"' in form.text or 'value="/data"' in form.text
    done = browser.post(
        "/signin",
        data={
            "csrf_token": csrf_of(form.text),
            "username": "camille",
            "password": _pw(),
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/"
