"""The citizen's pages about compute-to-data and the log's words: what each service
learned (its answers, newest first, paginated), the log's labels for questions and
connectors, and an upload over the size limit answered with a page, not JSON."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi import FastAPI

from selfdata.access import SpaceView
from selfdata.clock import FixedClock
from selfdata.errors import AccessDenied
from selfdata.platform import Platform
from selfdata.web import create_app
from selfdata.web.pages.answers import answer_view
from tests.http.conftest import TestClient
from tests.support.pages import sign_up
from tests.support.questions import consent_view, load_curve, register_watt_wise


@pytest.fixture
def app(sqlite_platform: Platform) -> FastAPI:
    return create_app(sqlite_platform)


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def service(browser: TestClient, sqlite_platform: Platform) -> SpaceView:
    """Camille signed in, her load curve, her consent to watt-wise: the service's view."""
    sign_up(browser, "camille")
    info = register_watt_wise(sqlite_platform)
    sqlite_platform.questions.pool.timeout_s = 1.5
    citizen = sqlite_platform.citizen_view("camille")
    load_curve(citizen)
    return consent_view(sqlite_platform, citizen, info)[0]


def _ask(platform: Platform, clock: FixedClock, service: SpaceView, name: str) -> str:
    clock.advance(timedelta(seconds=1))  # each answer its own moment: a stable order
    return platform.questions.run(service, name).answer_id


def _answer_ids(page: str) -> list[str]:
    return re.findall(r'id="answer-([0-9A-Za-z]+)"', page)


def test_answers_page_shows_each_answer_readably(
    browser: TestClient, sqlite_platform: Platform, service: SpaceView, clock: FixedClock
) -> None:
    clock.advance(timedelta(seconds=1))
    monthly = sqlite_platform.questions.run(service, "monthly-consumption")
    clock.advance(timedelta(seconds=1))
    peak = sqlite_platform.questions.run(service, "peak")

    page = browser.get("/services/answers")
    assert page.status_code == 200
    text = html.unescape(page.text)
    # Newest first.
    assert _answer_ids(page.text) == [peak.answer_id, monthly.answer_id]
    # The question's words from the manifest, in French, with the service's name.
    assert "Watt Wise — Combien d'électricité avez-vous consommé chaque mois (kWh) ?" in text
    # A list of flat objects: a table with its columns and the numbers, French style.
    table = text[text.index(f'id="answer-{monthly.answer_id}"') :]
    assert '<th scope="col">month</th><th scope="col">kwh</th>' in table
    assert "<td>2026-02</td><td>672</td>" in table
    # An object: pretty JSON, exactly what was sent.
    first = text[: text.index(f'id="answer-{monthly.answer_id}"')]
    assert '<pre class="answer"' in first and '"peak_w": 1000.0' in first
    assert f"{peak.answer_bytes} octets" in first
    assert "du 1 févr. 2025 au 1 mars 2026" in first or "au 1 mars 2026" in first

    english = html.unescape(
        browser.get("/services/answers", headers={"Accept-Language": "en"}).text
    )
    assert "How much electricity did you use each month (kWh)?" in english
    assert "What services learned" in english

    # One answer, as the access log links it; another service's filter shows nothing.
    one = browser.get("/services/answers", params={"answer": monthly.answer_id})
    assert _answer_ids(one.text) == [monthly.answer_id]
    none = browser.get("/services/answers", params={"service": "energy-coach"})
    assert _answer_ids(none.text) == []
    assert "Aucun service n'a reçu de réponse" in html.unescape(none.text)


def test_answers_page_is_paginated_and_private(
    browser: TestClient, sqlite_platform: Platform, service: SpaceView, clock: FixedClock
) -> None:
    asked = [_ask(sqlite_platform, clock, service, "peak") for _ in range(23)]
    first = browser.get("/services/answers", params={"service": "watt-wise"})
    seen = _answer_ids(first.text)
    assert len(seen) == 20
    more = re.search(r'href="(/services/answers\?[^"]*cursor=[^"]+)"', first.text)
    assert more is not None and "service=watt-wise" in more.group(1)
    second = browser.get(html.unescape(more.group(1)))
    seen += _answer_ids(second.text)
    assert seen == list(reversed(asked))
    assert 'rel="next"' not in second.text
    assert browser.get("/services/answers", params={"cursor": "garbage"}).status_code == 400

    # Another citizen sees none of Camille's answers, even by id.
    with TestClient(browser.app) as other:
        sign_up(other, "dominique")
        theirs = other.get("/services/answers", params={"answer": asked[0]})
        assert theirs.status_code == 200 and _answer_ids(theirs.text) == []


def test_services_page_and_log_link_to_the_answers(
    browser: TestClient, sqlite_platform: Platform, service: SpaceView
) -> None:
    answer = sqlite_platform.questions.run(service, "monthly-consumption")
    services = browser.get("/services").text
    assert 'href="/services/answers"' in services
    assert 'href="/services/answers?service=watt-wise"' in services

    log = html.unescape(browser.get("/log").text)
    assert "Action : question traitée" in log
    link = f'href="/services/answers?answer={answer.answer_id}"'
    assert link in log
    target = re.search(r'href="(/services/answers\?answer=[^"]+)"', log)
    assert target is not None
    assert _answer_ids(browser.get(target.group(1)).text) == [answer.answer_id]


@pytest.mark.parametrize(
    ("question", "code", "fr", "en"),
    [
        (
            "read-file",
            "question-forbidden-operation",
            "la question a tenté une opération interdite",
            "the question tried a forbidden operation",
        ),
        (
            "too-big",
            "answer-too-large",
            "la réponse dépassait la taille déclarée",
            "the answer was larger than declared",
        ),
        (
            "five-years",
            "outside-data-period",
            "hors de la période acceptée",
            "outside the period you agreed to",
        ),
    ],
)
def test_log_names_the_questions_refusals(
    browser: TestClient,
    sqlite_platform: Platform,
    service: SpaceView,
    question: str,
    code: str,
    fr: str,
    en: str,
) -> None:
    with pytest.raises(AccessDenied):
        sqlite_platform.questions.run(service, question)
    french = html.unescape(browser.get("/log").text)
    assert f"({fr})" in french
    english = html.unescape(browser.get("/log", headers={"Accept-Language": "en"}).text)
    assert f"({en})" in english
    # The filters offer the same words, and filter on the code.
    assert f'<option value="{code}">{en}</option>' in english
    assert '<option value="question">question answered</option>' in english
    assert "Action : espace créé" in french
    only = html.unescape(browser.get("/log", params={"reason": code}).text)
    assert f"({fr})" in only and "Action : espace créé" not in only


def test_log_names_connector_and_consent_reasons(browser: TestClient) -> None:
    sign_up(browser, "camille")
    french = html.unescape(browser.get("/log").text)
    for label in (
        ">synchronisation</option>",
        ">à travers le compte fournisseur que vous avez lié</option>",
        ">cette opération ne fait pas partie de son consentement</option>",
    ):
        assert label in french


def test_answer_view_chooses_a_table_or_json() -> None:
    rows = answer_view([{"month": "2026-01", "kwh": 1.5}, {"month": "2026-02", "n": True}])
    assert rows["kind"] == "table" and rows["columns"] == ["month", "kwh", "n"]
    assert rows["rows"] == [["2026-01", 1.5, None], ["2026-02", None, True]]
    assert answer_view([{"a": {"nested": 1}}])["kind"] == "json"
    assert answer_view({"peak_w": 1})["kind"] == "json"
    assert answer_view([])["kind"] == "json"
    assert answer_view(42)["text"] == "42"


def test_upload_over_the_limit_is_a_page_not_json(
    browser: TestClient, sqlite_platform: Platform
) -> None:
    token = sign_up(browser, "camille")
    settings = sqlite_platform.settings
    smaller = settings.with_(limits=replace(settings.limits, max_file_bytes=2048))
    sqlite_platform.settings = sqlite_platform.gate.settings = smaller
    files = {"file": ("big.csv", b"x" * 10_000, "text/csv")}
    html_accept = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}

    refused = browser.post(f"/add?csrf_token={token}", files=files, headers=html_accept)
    assert refused.status_code == 413
    assert refused.headers["content-type"].startswith("text/html")
    text = html.unescape(refused.text)
    assert "Trop volumineux" in text and "2 Kio" in text and '<main id="main"' in text
    english = browser.post(
        f"/add?csrf_token={token}",
        files=files,
        headers={**html_accept, "Accept-Language": "en"},
    )
    assert english.status_code == 413 and "larger than the 2 KiB" in english.text

    # Streamed without a length (chunked): the page reading the body says the same.
    def chunks() -> Iterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        for _ in range(10):
            yield b"y" * 1000
        yield b"\r\n--b--\r\n"

    streamed = browser.post(
        f"/add?csrf_token={token}",
        content=chunks(),
        headers={**html_accept, "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert streamed.status_code == 413 and "2 Kio" in html.unescape(streamed.text)

    # Under the file limit (but over the JSON one) the form is accepted.
    sqlite_platform.settings = sqlite_platform.gate.settings = settings.with_(
        limits=replace(settings.limits, max_file_bytes=1 << 20, max_json_bytes=1024)
    )
    ok = browser.post(f"/add?csrf_token={token}", files=files, follow_redirects=False)
    assert ok.status_code == 303

    # The API keeps its problem document.
    api = browser.post(
        "/api/v1/files",
        content=b"x" * 5_000_000,
        headers={"X-CSRF-Token": token, "Content-Type": "application/octet-stream"},
    )
    assert api.status_code == 413
    assert api.headers["content-type"].startswith("application/problem+json")
