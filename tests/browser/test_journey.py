"""A citizen's whole journey in a real browser, in French: sign up, add an Enedis
export, see the chart, let a service in, see it in the log, withdraw, take the data
away, erase the space."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from playwright.sync_api import Page, Route, expect

from selfdata.platform import Platform
from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD
from tests.support.services import approved_service

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "enedis"
REDIRECT = "http://127.0.0.1:8765/callback"
PURPOSE = {"Selfdata-Purpose": "dpv:ServiceProvision"}


def _nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Principale").get_by_role(
        "link", name=name, exact=True
    ).click()


def _sign_up(page: Page, name: str) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin"))
    page.get_by_role("link", name="Créer mon espace").click()
    page.get_by_label("Choisissez un identifiant").fill(name)
    page.get_by_label("Choisissez un mot de passe").fill(PASSWORD)
    page.get_by_label("Retapez le mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Créer mon espace").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes données")
    expect(page.get_by_role("status")).to_contain_text("Votre espace est prêt")


def _upload(page: Page) -> None:
    _nav(page, "Ajouter des données")
    screenshot(page, "add")
    page.get_by_label("Fichiers d'export").set_input_files(
        [SAMPLES / "load_curve_dst_march_utf8bom.csv", SAMPLES / "daily_index_utf8bom.csv"]
    )
    expect(page.locator("#chosen li")).to_have_count(2)
    page.get_by_role("button", name="Ajouter ces fichiers").click()
    # The event stream (or the refresh) brings the report once both jobs have ended.
    expect(page.get_by_role("heading", level=1)).to_have_text("Compte rendu d'import")
    expect(page.get_by_text("terminé")).to_have_count(2)
    expect(page.get_by_role("table").first).to_contain_text("energy.reading")
    screenshot(page, "import-report")


def _chart(page: Page) -> None:
    _nav(page, "Mes données")
    screenshot(page, "dashboard")
    energy = page.locator("#cat-energy")
    expect(energy).to_contain_text("Relevé de compteur")
    expect(energy).to_contain_text("enedis")
    energy.get_by_role("link", name="Relevé de compteur").click()
    page.locator("#main li a").first.click()
    chart = page.locator("svg.chart")
    expect(chart).to_be_visible()
    expect(chart.locator("title").first).not_to_be_empty()
    assert chart.locator("rect.bar").count() >= 2
    screenshot(page, "chart-day")
    page.get_by_role("link", name="Par mois").click()
    expect(page.get_by_role("link", name="Par mois")).to_have_attribute("aria-current", "true")
    page.get_by_text("Les chiffres sous forme de tableau").click()
    expect(page.get_by_role("table")).to_contain_text("mars 2024")


def _oauth_consent(page: Page, site: str) -> tuple[OAuth2Client, dict[str, str]]:
    """The service sends the citizen to the consent screen; the citizen agrees to the
    load curve only (a partial grant)."""
    coach = OAuth2Client(
        client_id="energy-coach",
        redirect_uri=REDIRECT,
        scope="load-curve bills",
        code_challenge_method="S256",
    )
    verifier = generate_token(64)
    url, _ = coach.create_authorization_url(f"{site}/oauth/authorize", code_verifier=verifier)
    callbacks: list[str] = []

    def service(route: Route) -> None:
        callbacks.append(route.request.url)
        route.fulfill(status=200, content_type="text/plain", body="ok")

    page.route(re.compile(r"^http://127\.0\.0\.1:8765/"), service)
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Coach énergie")
    screenshot(page, "oauth-consent")
    page.get_by_role("checkbox", name=re.compile("bank|banc|Opération", re.I)).uncheck()
    page.get_by_role("button", name="J'accepte").click()
    page.wait_for_url(re.compile(r"8765/callback"))
    assert callbacks and "code" in parse_qs(urlsplit(callbacks[0]).query)
    token = coach.fetch_token(
        f"{site}/oauth/token", authorization_response=callbacks[0], code_verifier=verifier
    )
    assert token["scope"] == "load-curve"
    return coach, {"Authorization": f"Bearer {token['access_token']}", **PURPOSE}


def _service_reads(site: str, headers: dict[str, str]) -> httpx.Response:
    streams = httpx.get(
        f"{site}/api/v1/series", params={"doctype": "energy.reading"}, headers=headers
    )
    if streams.status_code != 200:
        return streams
    stream = streams.json()[0]["id"]
    return httpx.get(f"{site}/api/v1/series/{stream}/points", headers=headers)


def test_citizen_journey(page: Page, site: str, sqlite_platform: Platform) -> None:
    approved_service(sqlite_platform)
    _sign_up(page, "camille")
    _upload(page)
    _chart(page)

    _, headers = _oauth_consent(page, site)
    assert _service_reads(site, headers).status_code == 200
    denied = httpx.get(f"{site}/api/v1/records/bank.transaction", headers=headers)
    assert denied.status_code == 403

    # The citizen sees the service's accesses in the timeline, and filters them.
    page.goto("/log")
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text("Service Coach énergie")
    page.get_by_label("Service").select_option("energy-coach")
    page.get_by_role("button", name="Filtrer").click()
    entries = page.locator("ol.timeline > li")
    assert entries.count() >= 2
    for text in entries.all_inner_texts():
        assert "Coach énergie" in text
    expect(timeline).to_contain_text("refusé")  # the bank transactions it was not given
    screenshot(page, "log")
    page.get_by_role("link", name="Vérifier que le journal est intact").click()
    expect(page.locator("#verify-result")).to_contain_text("Le journal est intact")
    screenshot(page, "log-verified")

    # Withdraw in one click: the service's next request is refused.
    _nav(page, "Services")
    screenshot(page, "services")
    receipt = page.get_by_role("link", name=re.compile("Télécharger le reçu signé"))
    with page.expect_download() as got:
        receipt.click()
    assert got.value.suggested_filename.endswith(".jws")
    page.get_by_role("button", name=re.compile("Retirer mon consentement")).click()
    expect(page.get_by_role("status")).to_contain_text("Consentement retiré")
    after = _service_reads(site, headers)
    assert after.status_code in (401, 403), after.text

    # Consent again from the catalogue, partially: only what the service requires.
    page.get_by_role("link", name=re.compile("Lire et décider|Voir ce qu'il peut faire")).click()
    screenshot(page, "consent")
    page.get_by_role("checkbox", name=re.compile("Opération|bank", re.I)).uncheck()
    page.get_by_role("button", name="J'accepte de partager ce qui est coché").click()
    expect(page.get_by_role("status")).to_contain_text("Votre consentement est enregistré")
    (active,) = [
        c for c in sqlite_platform.citizen_view("camille").consents() if c.status == "active"
    ]
    assert [g.request_id for g in active.grants] == ["load-curve"]

    # English on demand, then back to French.
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Services")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")

    # Take the data away.
    _nav(page, "Mes droits")
    screenshot(page, "rights")
    with page.expect_download() as got:
        page.get_by_role("button", name="Télécharger mes données").click()
    archive = got.value.path()
    assert archive is not None
    with zipfile.ZipFile(io.BytesIO(Path(archive).read_bytes())) as zipped:
        names = zipped.namelist()
        assert "records/energy.meter.jsonl" in names and "manifest.json" in names
        assert any(n.startswith("series/") and n.endswith(".parquet") for n in names)

    # Erase, with the confirmation step.
    page.get_by_role("link", name="Effacer mon espace…").click()
    button = page.get_by_role("button", name="Tout effacer, définitivement")
    expect(button).to_be_disabled()  # until the name is typed
    page.get_by_label(re.compile("tapez votre identifiant")).fill("camille")
    expect(button).to_be_enabled()
    screenshot(page, "erase")
    button.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre espace est effacé")
    expect(page.locator("#certificate")).to_contain_text(".")
    screenshot(page, "erased")
    assert "camille" not in [s.name for s in sqlite_platform.directory.list_spaces()]
    page.goto("/data")
    expect(page).to_have_url(re.compile(r"/signin"))
