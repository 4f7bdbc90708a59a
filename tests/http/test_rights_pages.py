"""Partial erasure from the rights page (one kind of data, one import) and the field
labels of the explorer and record pages, over HTTP without a browser."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI

from selfdata.demo import populate
from selfdata.platform import Platform
from selfdata.rights import verify_certificate
from selfdata.web import create_app
from tests.http.conftest import TestClient
from tests.support.pages import csrf_of, sign_up

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
BANK_FILE = SAMPLES / "bank" / "banque_postale.csv"
ENERGY_FILE = SAMPLES / "enedis" / "daily_consumption_cp1252.csv"


@pytest.fixture
def app(sqlite_platform: Platform) -> FastAPI:
    return create_app(sqlite_platform)


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def _upload(browser: TestClient, token: str, *paths: Path) -> None:
    files = [("file", (p.name, p.read_bytes(), "text/csv")) for p in paths]
    posted = browser.post(f"/add?csrf_token={token}", files=files, follow_redirects=False)
    assert posted.status_code == 303, posted.text
    deadline = time.monotonic() + 60
    page = browser.get(posted.headers["location"]).text
    while 'http-equiv="refresh"' in page:
        assert time.monotonic() < deadline, "the imports did not end"
        time.sleep(0.2)
        page = browser.get(posted.headers["location"]).text


@pytest.fixture
def camille(browser: TestClient, sqlite_platform: Platform) -> str:
    """Signed in, with demo data (no source) and two imported files (two sources)."""
    token = sign_up(browser, "camille")
    populate(sqlite_platform.citizen_view("camille"), end=date(2026, 2, 28), days=20)
    _upload(browser, token, BANK_FILE, ENERGY_FILE)
    return token


def _counts(platform: Platform) -> dict[str, int]:
    return {s.doctype: s.count for s in platform.citizen_view("camille").summary()}


def _source(platform: Platform, filename: str) -> str:
    for holding in platform.citizen_view("camille").source_holdings():
        if holding.detail.get("filename") == filename:
            return holding.source_id
    raise AssertionError(f"no source for {filename}")


def test_rights_page_offers_kinds_and_imports(browser: TestClient, camille: str) -> None:
    page = browser.get("/rights").text
    assert 'action="/rights/erase/doctype"' in page and 'action="/rights/erase/source"' in page
    assert '<option value="health.observation">Observation' in page
    assert BANK_FILE.name in page and ENERGY_FILE.name in page
    # The page answered to a refused export offers the same choices.
    refused = browser.post("/rights/export", data={"csrf_token": camille, "passphrase": "short"})
    assert refused.status_code == 400 and 'role="alert"' in refused.text
    assert BANK_FILE.name in refused.text and '<option value="bank.transaction">' in refused.text


def test_erasing_one_doctype_removes_it_and_keeps_the_rest(
    browser: TestClient, camille: str, sqlite_platform: Platform
) -> None:
    before = _counts(sqlite_platform)
    assert before["health.observation"] > 0
    confirm = browser.get("/rights/erase/doctype", params={"doctype": "health.observation"})
    assert confirm.status_code == 200
    assert "Ce qui sera effacé" in confirm.text and "irréversible" in confirm.text.lower()
    shown = f"{before['health.observation']} éléments : Observation"
    assert shown in confirm.text.replace("\u202f", " ")
    # Without the box ticked: nothing happens.
    refused = browser.post(
        "/rights/erase/doctype",
        data={"csrf_token": camille, "doctype": "health.observation"},
    )
    assert refused.status_code == 400 and 'role="alert"' in refused.text
    assert _counts(sqlite_platform) == before
    done = browser.post(
        "/rights/erase/doctype",
        data={"csrf_token": camille, "doctype": "health.observation", "understood": "yes"},
    )
    assert done.status_code == 200 and "Certificat d'effacement" in done.text
    after = _counts(sqlite_platform)
    assert "health.observation" not in after
    assert {k: v for k, v in before.items() if k != "health.observation"} == after
    certificate = re.search(r'id="certificate"[^>]*>([^<]+)</pre>', done.text)
    assert certificate
    download = browser.post(
        "/rights/certificate",
        data={"csrf_token": csrf_of(done.text), "certificate": certificate.group(1)},
    )
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    statement = verify_certificate(download.text, sqlite_platform.signer.jwks())
    assert statement.scope == "doctype" and statement.target == "health.observation"
    assert statement.counts["records"] == before["health.observation"]
    forged = browser.post(
        "/rights/certificate",
        data={"csrf_token": camille, "certificate": certificate.group(1)[:-4] + "AAAA"},
    )
    assert forged.status_code == 404


def test_erasing_one_import_removes_only_what_it_brought(
    browser: TestClient, camille: str, sqlite_platform: Platform
) -> None:
    view = sqlite_platform.citizen_view("camille")
    bank_source = _source(sqlite_platform, BANK_FILE.name)
    energy_source = _source(sqlite_platform, ENERGY_FILE.name)
    from_bank = [r for r in view.iter_records("bank.transaction") if r.source_id == bank_source]
    demo_bank = [r for r in view.iter_records("bank.transaction") if r.source_id != bank_source]
    assert from_bank and demo_bank
    energy_points = sum(s.points for s in view.streams() if s.source_id == energy_source)
    assert energy_points > 0
    confirm = browser.get("/rights/erase/source", params={"source": bank_source})
    assert confirm.status_code == 200 and BANK_FILE.name in confirm.text
    assert re.search(rf"{len(from_bank)} éléments : Opération bancaire", confirm.text)
    done = browser.post(
        "/rights/erase/source",
        data={"csrf_token": camille, "source": bank_source, "understood": "yes"},
    )
    assert done.status_code == 200 and BANK_FILE.name in done.text
    left = list(view.iter_records("bank.transaction"))
    assert {r.id for r in left} == {r.id for r in demo_bank}  # the demo's stay
    assert sum(s.points for s in view.streams() if s.source_id == energy_source) == energy_points
    assert bank_source not in {h.source_id for h in view.source_holdings()}
    assert BANK_FILE.name not in browser.get("/rights").text


def test_partial_erasure_without_csrf_is_refused(
    browser: TestClient, camille: str, sqlite_platform: Platform
) -> None:
    before = _counts(sqlite_platform)
    source = _source(sqlite_platform, BANK_FILE.name)
    for path, data in (
        ("/rights/erase/doctype", {"doctype": "health.observation", "understood": "yes"}),
        ("/rights/erase/source", {"source": source, "understood": "yes"}),
        ("/rights/erase/source", {"source": source, "understood": "yes", "csrf_token": "x"}),
    ):
        refused = browser.post(path, data=data)
        assert refused.status_code == 403 and "<html" in refused.text
    assert _counts(sqlite_platform) == before


def test_another_citizens_import_is_not_found(
    app: FastAPI, browser: TestClient, camille: str, sqlite_platform: Platform
) -> None:
    theirs = _source(sqlite_platform, BANK_FILE.name)
    with TestClient(app) as other:
        token = sign_up(other, "dominique")
        assert other.get("/rights/erase/source", params={"source": theirs}).status_code == 404
        erased = other.post(
            "/rights/erase/source",
            data={"csrf_token": token, "source": theirs, "understood": "yes"},
        )
        assert erased.status_code == 404
        unknown = other.get("/rights/erase/doctype", params={"doctype": "bank.transaction"})
        assert unknown.status_code == 404  # dominique holds none
    assert theirs in {
        h.source_id for h in sqlite_platform.citizen_view("camille").source_holdings()
    }


def test_explorer_and_record_use_field_labels_and_format_values(
    browser: TestClient, camille: str
) -> None:
    page = browser.get("/data/bank.transaction").text
    assert '<th scope="col">Montant</th>' in page and '<th scope="col">Libellé</th>' in page
    assert '<option value="counterparty">Bénéficiaire ou payeur</option>' in page
    assert ">amount<" not in page and ">booked_on<" not in page
    assert re.search(r"<td>-?[\d\u202f ]+,\d\d\xa0€</td>", page)  # money, French style
    record_id = re.findall(r'href="/data/bank.transaction/([0-9A-Z]+)"', page)[0]
    record = browser.get(f"/data/bank.transaction/{record_id}").text
    assert "<dt>Date de l'opération</dt>" in record.replace("&#39;", "'")
    assert re.search(r"<dt>Montant</dt><dd>-?[\d\u202f ]+,\d\d\xa0€</dd>", record)
    english = browser.get(
        f"/data/bank.transaction/{record_id}", headers={"Accept-Language": "en"}
    ).text
    assert "<dt>Booking date</dt>" in english
    assert re.search(r"<dt>Amount</dt><dd>-?€[\d,]+\.\d\d</dd>", english)


def test_erasing_meters_takes_their_readings(
    browser: TestClient, camille: str, sqlite_platform: Platform
) -> None:
    view = sqlite_platform.citizen_view("camille")
    points = sum(s.points for s in view.streams("energy.reading") if s.record_id)
    assert points > 0
    confirm = browser.get("/rights/erase/doctype", params={"doctype": "energy.meter"})
    shown = f"{points:,} mesures : Relevé de compteur".replace(",", " ")
    assert shown in confirm.text.replace("\u202f", " ")
    done = browser.post(
        "/rights/erase/doctype",
        data={"csrf_token": camille, "doctype": "energy.meter", "understood": "yes"},
    )
    assert done.status_code == 200
    assert not [s for s in view.streams("energy.reading") if s.record_id]
    assert "energy.meter" not in _counts(sqlite_platform)
    assert _counts(sqlite_platform)["bank.transaction"] > 0


def test_searching_a_coded_field_by_its_words(browser: TestClient, camille: str) -> None:
    found = browser.get(
        "/data/bank.transaction", params={"field": "payment_method", "q": "prélèvement"}
    )
    rows = re.findall(r"<tr><td>.*?</tr>", found.text)
    assert rows and all("<td>Prélèvement</td>" in row for row in rows)
