"""Signing in and out, cookies, CSRF, bearer tokens, and accounts that stop working."""

from __future__ import annotations

from http.cookies import SimpleCookie

from fastapi import FastAPI

from selfdata.doctypes.examples import EXAMPLES
from selfdata.platform import Platform
from tests.conftest import OPERATOR, PASSWORD, make_space
from tests.http.conftest import API, Headers, TestClient, login, make_client

TX = EXAMPLES["bank.transaction"]


def _cookie(set_cookie: str) -> SimpleCookie:
    jar: SimpleCookie = SimpleCookie()
    jar.load(set_cookie)
    return jar


def test_login_sets_a_protected_session_cookie(platform: Platform, client: TestClient) -> None:
    make_space(platform, "alice")
    response = client.post(f"{API}/auth/login", json={"username": "Alice", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["account"] == {"username": "alice", "role": "citizen"}
    assert body["csrf_token"]
    raw = response.headers["set-cookie"]
    morsel = _cookie(raw)["selfdata_session"]
    assert morsel.value.startswith("sds_")
    assert morsel["httponly"] is True
    assert morsel["samesite"].lower() == "lax"
    assert morsel["path"] == "/"
    assert int(morsel["max-age"]) == platform.settings.session_hours * 3600
    assert not morsel["secure"], "plain http: the cookie cannot be Secure"
    assert client.get(f"{API}/me").json()["account"]["username"] == "alice"


def test_cookie_is_secure_over_https(platform: Platform, app: FastAPI) -> None:
    make_space(platform, "alice")
    with make_client(app, base_url="https://testserver") as client:
        response = client.post(
            f"{API}/auth/login", json={"username": "alice", "password": PASSWORD}
        )
        assert response.status_code == 200
        assert _cookie(response.headers["set-cookie"])["selfdata_session"]["secure"] is True
        assert response.headers["strict-transport-security"].startswith("max-age=")


def test_cookie_is_secure_when_the_instance_is_public_over_https(
    platform: Platform, client: TestClient
) -> None:
    """Behind a TLS proxy the app may see plain http: the public URL decides."""
    make_space(platform, "alice")
    platform.settings = platform.settings.with_(public_url="https://selfdata.example.org")
    response = client.post(f"{API}/auth/login", json={"username": "alice", "password": PASSWORD})
    assert _cookie(response.headers["set-cookie"])["selfdata_session"]["secure"] is True


def test_wrong_password_is_a_401_problem(platform: Platform, client: TestClient) -> None:
    make_space(platform, "alice")
    for username in ("alice", "nobody"):
        response = client.post(
            f"{API}/auth/login", json={"username": username, "password": "wrong password!"}
        )
        assert response.status_code == 401
        assert response.json()["type"].endswith("/authentication-failed")
        assert response.json()["detail"] == "wrong username or password"  # same for both
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "set-cookie" not in response.headers


def test_lockout_after_five_failures_is_429_with_retry_after(
    platform: Platform, client: TestClient
) -> None:
    make_space(platform, "alice")
    for _ in range(5):
        failed = client.post(
            f"{API}/auth/login", json={"username": "alice", "password": "not it at all"}
        )
        assert failed.status_code == 401
    # Now even the right password waits.
    response = client.post(f"{API}/auth/login", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert response.json()["type"].endswith("/too-many-attempts")
    assert (
        0 < int(response.headers["retry-after"]) <= platform.settings.limits.login_lock_seconds + 1
    )


def test_login_body_is_checked(client: TestClient) -> None:
    response = client.post(f"{API}/auth/login", json={"username": "alice"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.password"
    form = client.post(f"{API}/auth/login", data={"username": "alice", "password": PASSWORD})
    assert form.status_code == 415  # a cross-site form cannot sign anyone in


def test_csrf_token_is_required_with_the_cookie(platform: Platform, client: TestClient) -> None:
    make_space(platform, "alice")
    csrf = login(client)
    url = f"{API}/records/bank.transaction"
    refused = client.post(url, json=TX)
    assert refused.status_code == 403
    assert refused.json()["reason"] == "csrf"
    wrong = client.post(url, json=TX, headers={"X-CSRF-Token": csrf[:-2] + "xx"})
    assert wrong.status_code == 403
    assert client.get(url).json()["items"] == []  # nothing was written
    accepted = client.post(url, json=TX, headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 201
    assert client.get(f"{API}/me").json()["csrf_token"] == csrf  # a reload gets it back


def test_bearer_token_flow(platform: Platform, client: TestClient) -> None:
    make_space(platform, "alice")
    csrf = login(client)
    created = client.post(
        f"{API}/auth/tokens", json={"label": "my script", "days": 7}, headers={"X-CSRF-Token": csrf}
    )
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("sdt_")
    listed = client.get(f"{API}/auth/tokens").json()
    assert [t["label"] for t in listed] == ["my script"]
    assert "token" not in listed[0]  # the secret is shown once

    with make_client(client.app) as program:  # type: ignore[arg-type]
        auth = {"Authorization": f"Bearer {token}"}
        assert (
            program.post(f"{API}/records/bank.transaction", json=TX, headers=auth).status_code
            == 201
        )
        assert program.get(f"{API}/me", headers=auth).json()["csrf_token"] is None
        revoked = client.delete(
            f"{API}/auth/tokens/{created.json()['id']}", headers={"X-CSRF-Token": csrf}
        )
        assert revoked.status_code == 204
        after = program.get(f"{API}/me", headers=auth)
        assert after.status_code == 401
        assert program.get(f"{API}/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_token_lifetime_is_bounded(platform: Platform, alice: Headers, client: TestClient) -> None:
    days = platform.settings.token_days + 1
    response = client.post(f"{API}/auth/tokens", json={"label": "x", "days": days}, headers=alice)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "days"


def test_secrets_only_work_where_they_belong(platform: Platform, client: TestClient) -> None:
    make_space(platform, "alice")
    login(client)
    session = client.cookies["selfdata_session"]
    client.cookies.clear()
    as_bearer = client.get(f"{API}/me", headers={"Authorization": f"Bearer {session}"})
    assert as_bearer.status_code == 401
    account = platform.directory.account_for_space(platform.directory.get_space("alice").id)
    token = platform.sessions.issue(account.id, "token", 3600).secret
    client.cookies.set("selfdata_session", token)
    assert client.get(f"{API}/me").status_code == 401


def test_logout_revokes_the_session(platform: Platform, client: TestClient) -> None:
    make_space(platform, "alice")
    csrf = login(client)
    session = client.cookies["selfdata_session"]
    response = client.post(f"{API}/auth/logout", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    assert (
        'selfdata_session=""' in response.headers["set-cookie"]
        or "Max-Age=0" in response.headers["set-cookie"]
    )
    client.cookies.set("selfdata_session", session)  # a copy of the cookie is dead too
    assert client.get(f"{API}/me").status_code == 401
    # Signing out again, or without a session, is harmless.
    client.cookies.clear()
    assert client.post(f"{API}/auth/logout").status_code == 204


def test_unauthenticated_requests_are_401(client: TestClient) -> None:
    for method, path in (
        ("GET", "/me"),
        ("GET", "/records/bank.transaction"),
        ("GET", "/files"),
        ("GET", "/audit/events"),
        ("GET", "/admin/spaces"),
    ):
        response = client.request(method, API + path)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == 'Bearer realm="selfdata"'


def test_me_summarises_the_space(platform: Platform, alice: Headers, client: TestClient) -> None:
    client.post(f"{API}/records/bank.transaction", json=TX, headers=alice)
    me = client.get(f"{API}/me", headers=alice).json()
    assert me["account"] == {"username": "alice", "role": "citizen"}
    assert me["space"]["name"] == "alice"
    assert me["space"]["doctypes"][0]["doctype"] == "bank.transaction"
    assert me["space"]["doctypes"][0]["count"] == 1


def test_password_change_signs_out_everywhere_else(platform: Platform, client: TestClient) -> None:
    make_space(platform, "alice")
    csrf = login(client)
    with make_client(client.app) as other_browser:  # type: ignore[arg-type]
        login(other_browser)
        new = "another long passphrase"
        wrong = client.post(
            f"{API}/me/password",
            json={"current": "nope nope nope", "new": new},
            headers={"X-CSRF-Token": csrf},
        )
        assert wrong.status_code == 422
        assert wrong.json()["errors"][0]["field"] == "current"
        short = client.post(
            f"{API}/me/password",
            json={"current": PASSWORD, "new": "short"},
            headers={"X-CSRF-Token": csrf},
        )
        assert short.status_code == 422
        assert short.json()["errors"][0]["field"] == "new"
        changed = client.post(
            f"{API}/me/password",
            json={"current": PASSWORD, "new": new},
            headers={"X-CSRF-Token": csrf},
        )
        assert changed.status_code == 200
        assert client.get(f"{API}/me").status_code == 200  # this browser got a new session
        assert changed.json()["csrf_token"] != csrf
        assert other_browser.get(f"{API}/me").status_code == 401
    assert login(client, password=new)


def test_suspension_stops_sessions_at_once(
    platform: Platform, client: TestClient, alice: Headers
) -> None:
    login(client)
    assert client.get(f"{API}/me").status_code == 200
    platform.directory.suspend("alice", OPERATOR)
    assert client.get(f"{API}/me").status_code == 401
    assert client.get(f"{API}/records/bank.transaction", headers=alice).status_code == 401
    relogin = client.post(f"{API}/auth/login", json={"username": "alice", "password": PASSWORD})
    assert relogin.status_code == 401
    platform.directory.resume("alice", OPERATOR)
    assert login(client)


def test_erased_space_is_gone(platform: Platform, client: TestClient, alice: Headers) -> None:
    login(client)
    platform.directory.erase("alice", OPERATOR)
    assert client.get(f"{API}/me").status_code == 401
    assert client.get(f"{API}/records/bank.transaction", headers=alice).status_code == 401
    relogin = client.post(f"{API}/auth/login", json={"username": "alice", "password": PASSWORD})
    assert relogin.status_code == 401
