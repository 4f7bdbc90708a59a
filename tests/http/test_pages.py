"""The web app's pages over HTTP (no browser): languages, the dashboard, the explorer's
search and keyset pagination, charts, sign-up settings, password change, imports."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import text

from selfdata.demo import populate
from selfdata.platform import Platform
from selfdata.web import create_app
from tests.conftest import PASSWORD
from tests.http.conftest import TestClient
from tests.support.dataconnect_simulator import CLIENT_ID, CLIENT_SECRET, DataConnectSimulator
from tests.support.pages import csrf_of, sign_in, sign_up

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "enedis"


@pytest.fixture
def app(sqlite_platform: Platform) -> FastAPI:
    return create_app(sqlite_platform)


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def camille(browser: TestClient, sqlite_platform: Platform) -> str:
    token = sign_up(browser, "camille")
    populate(sqlite_platform.citizen_view("camille"), end=date(2026, 2, 28), days=60)
    return token


def test_french_by_default_english_on_demand(browser: TestClient) -> None:
    assert 'lang="fr"' in browser.get("/signin").text
    assert "Se connecter" in browser.get("/signin").text
    english = browser.get("/signin", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert 'lang="en"' in english.text and "Sign in" in english.text
    switched = browser.get("/lang/en?next=/signup", follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/signup"
    assert "Create my space" in browser.get("/signup").text
    browser.get("/lang/fr?next=https://evil.example/")
    assert "Créer mon espace" in browser.get("/signup").text


def test_dashboard_groups_data_by_category(browser: TestClient, camille: str) -> None:
    page = browser.get("/data").text
    for category in ("Énergie", "Banque", "Mobilité", "Santé", "Papiers", "Agenda", "Contacts"):
        assert f"<h2>{category}</h2>" in page
    energy = page[page.index('id="cat-energy"') : page.index('id="cat-bank"')]
    assert "Relevé de compteur" in energy and re.search(r"\d[\d\u202f ]* mesures", energy)
    assert "du " in energy and " au " in energy  # its date range


def _ids(html: str, doctype: str) -> list[str]:
    return re.findall(rf'href="/data/{re.escape(doctype)}/([0-9A-Z]+)"', html)


def test_explorer_searches_and_pages_by_keyset(
    browser: TestClient, camille: str, sqlite_platform: Platform
) -> None:
    first = browser.get("/data/bank.transaction")
    assert first.status_code == 200
    seen = _ids(first.text, "bank.transaction")
    assert len(seen) == 25
    html = first.text
    while more := re.search(r'href="(/data/bank.transaction\?[^"]*cursor=[^"]+)"', html):
        html = browser.get(more.group(1).replace("&amp;", "&")).text
        seen += _ids(html, "bank.transaction")
    total = sum(1 for _ in sqlite_platform.citizen_view("camille").iter_records("bank.transaction"))
    assert len(seen) == len(set(seen)) == total
    found = browser.get("/data/bank.transaction", params={"field": "label", "q": "SALAIRE"})
    rows = re.findall(r"<tr><td>.*?</tr>", found.text)
    assert rows and all("SALAIRE" in row for row in rows)
    bad = browser.get("/data/bank.transaction", params={"field": "nope"})
    assert bad.status_code == 400 and "nope" in bad.text
    record = browser.get(f"/data/bank.transaction/{seen[0]}")
    assert record.status_code == 200 and "où cela vient" in record.text


def test_series_chart_is_inline_svg_with_a_table(browser: TestClient, camille: str) -> None:
    listing = browser.get("/data/energy.reading").text
    stream = re.findall(r'href="/data/energy.reading/([0-9A-Z]+)"', listing)[0]
    for every in ("day", "month", "year"):
        page = browser.get(f"/data/energy.reading/{stream}", params={"every": every}).text
        svg = page[page.index("<svg") : page.index("</svg>")]
        assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
        assert svg.count('class="bar"') >= 1
        assert "<table>" in page[page.index("</svg>") :]
    month = browser.get(f"/data/energy.reading/{stream}", params={"every": "month"}).text
    assert "janvier 2026" in month and "février 2026" in month


def test_sign_up_can_be_turned_off(app: FastAPI, sqlite_platform: Platform) -> None:
    sqlite_platform.settings = sqlite_platform.settings.with_(self_signup=False)
    with TestClient(app) as client:
        assert "/signup" not in client.get("/signin").text
        refused = client.get("/signup")
        assert refused.status_code == 403
        token = csrf_of(client.get("/signin").text)
        posted = client.post(
            "/signup",
            data={
                "csrf_token": token,
                "username": "eve",
                "password": PASSWORD,
                "password2": PASSWORD,
            },
        )
        assert posted.status_code == 403
    assert sqlite_platform.directory.list_spaces() == []


def test_sign_up_explains_what_is_wrong(browser: TestClient) -> None:
    token = csrf_of(browser.get("/signup").text)
    answer = browser.post(
        "/signup",
        data={"csrf_token": token, "username": "A", "password": "short", "password2": "short"},
    )
    assert answer.status_code == 400
    assert 'aria-invalid="true"' in answer.text and "De 3 à 64 caractères" in answer.text


def test_password_change(app: FastAPI, browser: TestClient) -> None:
    token = sign_up(browser, "camille")
    new = "another long passphrase"
    wrong = browser.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": "not it at all",
            "new_password": new,
            "new_password2": new,
        },
    )
    assert wrong.status_code == 400 and "actuel est incorrect" in wrong.text
    done = browser.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": new,
            "new_password2": new,
        },
    )
    assert done.status_code == 200 and "Mot de passe modifié" in done.text
    with TestClient(app) as other:
        assert sign_in(other, "camille").status_code == 401
        assert sign_in(other, "camille", new).status_code == 303


def test_upload_works_without_javascript(browser: TestClient, sqlite_platform: Platform) -> None:
    token = sign_up(browser, "camille")
    files = [
        ("file", (p.name, p.read_bytes(), "text/csv"))
        for p in (SAMPLES / "daily_index_utf8bom.csv", SAMPLES / "daily_consumption_cp1252.csv")
    ]
    posted = browser.post(f"/add?csrf_token={token}", files=files, follow_redirects=False)
    assert posted.status_code == 303
    results = posted.headers["location"]
    assert results.count("id=") == 2
    deadline = time.monotonic() + 30
    page = browser.get(results).text
    while 'http-equiv="refresh"' in page:
        assert "<noscript>" in page  # the refresh is only for browsers without scripts
        assert time.monotonic() < deadline
        time.sleep(0.2)
        page = browser.get(results).text
    assert page.count("terminé") == 2 and "energy.reading" in page
    assert "/add/jobs?id=" in browser.get("/add").text  # listed under recent imports
    assert sqlite_platform.citizen_view("camille").streams("energy.reading")


def test_a_refused_import_says_why(browser: TestClient) -> None:
    token = sign_up(browser, "camille")
    bad = b"\xef\xbb\xbfIdentifiant PRM;Type de donn\xc3\xa9es\nnot;an export\n"
    posted = browser.post(f"/add?csrf_token={token}", files=[("file", ("x.csv", bad, "text/csv"))])
    deadline = time.monotonic() + 30
    page = posted.text
    while 'http-equiv="refresh"' in page and time.monotonic() < deadline:
        time.sleep(0.2)
        page = browser.get(str(posted.url)).text
    assert 'role="alert"' in page and "échec" in page


def test_connect_a_provider_from_the_add_page(
    app: FastAPI, browser: TestClient, sqlite_platform: Platform
) -> None:
    name = "enedis.dataconnect"
    callback = f"http://testserver/api/v1/connectors/{name}/callback"
    sim = DataConnectSimulator(
        today=sqlite_platform.clock.now().date(), redirect_uri=callback
    ).start()
    try:
        sqlite_platform.settings = sqlite_platform.settings.with_(
            connectors={
                name: {
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "authorize_url": sim.base_url,
                    "api_url": sim.base_url,
                    "backoff_s": 0.01,
                    "history_days": "10",
                }
            }
        )
        token = sign_up(browser, "camille")
        add = browser.get("/add").text
        assert f'action="/add/connectors/{name}"' in add
        leaving = browser.post(f"/add/connectors/{name}", data={"csrf_token": token})
        assert leaving.status_code == 200
        provider = re.search(r'class="button primary" href="([^"]+)"', leaving.text)
        assert provider and provider.group(1).startswith(sim.base_url)
        back = sim.approve(provider.group(1).replace("&amp;", "&"))
        landed = browser.get(back)  # the API's callback, then the account page
        assert landed.url.path == "/account" and 'role="status"' in landed.text
        add = browser.get("/add").text
        assert "à jour" in add
        account = re.search(r'action="/add/accounts/([^/]+)/sync"', add)
        assert account
        assert browser.post(
            f"/add/accounts/{account.group(1)}/sync", data={"csrf_token": token}
        ).is_success
        assert (
            browser.post(
                f"/add/accounts/{account.group(1)}/unlink", data={"csrf_token": "forged"}
            ).status_code
            == 403
        )
        assert browser.post(
            f"/add/accounts/{account.group(1)}/unlink", data={"csrf_token": token}
        ).is_success
        assert "/sync" not in browser.get("/add").text
        assert sqlite_platform.citizen_view("camille").streams("energy.reading")
    finally:
        sim.stop()


def test_log_check_says_clearly_when_the_log_was_tampered_with(
    browser: TestClient, sqlite_platform: Platform
) -> None:
    sign_up(browser, "camille")
    for _ in range(3):
        browser.get("/data")
    intact = browser.get("/log/verify")
    assert 'id="verify-result"' in intact.text and "Le journal est intact" in intact.text
    space = sqlite_platform.directory.get_space("camille").id
    with sqlite_platform.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE space_id = :s AND seq = 3"), {"s": space})
    broken = browser.get("/log/verify")
    assert broken.status_code == 200
    assert 'role="alert"' in broken.text and "NE correspond PAS" in broken.text
    assert "event 3 is missing" in broken.text
