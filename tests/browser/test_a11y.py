"""Accessibility: axe-core on every page of the web app, on a laptop and on a 375 px
phone — no serious or critical violation, and no sideways scrolling on the phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from selfdata.demo import populate
from selfdata.platform import Platform
from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD, make_space
from tests.support.questions import consent_view, register_watt_wise
from tests.support.services import approved_service

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "enedis" / "daily_index_utf8bom.csv"
SIZES = {"laptop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 740}}
_axe = Axe()


def _problems(page: Page) -> list[str]:
    results = _axe.run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(n["target"][0] for n in v["nodes"][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture
def citizen_pages(chromium: Browser, site: str, sqlite_platform: Platform) -> Iterator[Any]:
    """A signed-in tab over a space with demo data, a consent and an import; yields the
    tab and the addresses of every page."""
    service = approved_service(sqlite_platform)
    context = chromium.new_context(base_url=site, locale="fr-FR")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    tab.goto("/signup")
    tab.get_by_label("Choisissez un identifiant").fill("camille")
    tab.get_by_label("Choisissez un mot de passe").fill(PASSWORD)
    tab.get_by_label("Retapez le mot de passe").fill(PASSWORD)
    tab.get_by_role("button", name="Créer mon espace").click()
    expect(tab).to_have_url(re.compile(r"/data"))
    view = sqlite_platform.citizen_view("camille")
    populate(view, end=date(2026, 2, 28), days=40)
    view.give_consent(service, ["load-curve"])
    # Answers a service received, shown on /services/answers.
    asking, _ = consent_view(sqlite_platform, view, register_watt_wise(sqlite_platform))
    sqlite_platform.questions.run(asking, "monthly-consumption")
    sqlite_platform.questions.run(asking, "above", {"threshold": 500})
    tab.goto("/add")
    tab.get_by_label("Fichiers d'export").set_input_files(SAMPLE)
    tab.get_by_role("button", name="Ajouter ces fichiers").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Compte rendu d'import")
    jobs = tab.url.removeprefix(site)
    transaction = next(view.iter_records("bank.transaction")).id
    stream = view.streams("energy.reading")[0].id
    source = view.source_holdings()[0].source_id
    paths = [
        "/data",
        "/data/bank.transaction",
        f"/data/bank.transaction/{transaction}",
        "/data/energy.reading",
        f"/data/energy.reading/{stream}?every=day",
        f"/data/energy.reading/{stream}?every=month",
        "/add",
        jobs,
        "/services",
        "/services/answers",
        "/services/energy-coach",
        "/log",
        "/log/verify",
        "/rights",
        "/rights/erase",
        "/rights/erase/doctype?doctype=bank.transaction",
        f"/rights/erase/source?source={source}",
        "/account",
        "/data/no.such.doctype",
    ]
    try:
        yield tab, paths
    finally:
        context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_signed_out_pages(chromium: Browser, site: str, size: str) -> None:
    context = chromium.new_context(base_url=site, locale="fr-FR", viewport=SIZES[size])
    tab = context.new_page()
    try:
        failures = {}
        for path in ("/signin", "/signup", "/signin?lang=en"):
            tab.goto(path)
            failures[path] = _problems(tab) + _overflow(tab, size)
        tab.goto("/signup")
        tab.get_by_role("button", name="Créer mon espace").click()  # with errors shown
        failures["/signup (errors)"] = _problems(tab) + _overflow(tab, size)
        screenshot(tab, f"signup-errors-{size}")
    finally:
        context.close()
    assert {p: f for p, f in failures.items() if f} == {}


@pytest.mark.parametrize("size", list(SIZES))
def test_oauth_sign_in_and_consent_pages(
    chromium: Browser, site: str, sqlite_platform: Platform, size: str
) -> None:
    """The screens a service sends the citizen to: sign-in (also with its error) and
    the consent notice, in French and English."""
    approved_service(sqlite_platform)
    make_space(sqlite_platform, "camille")
    authorize = "/oauth/authorize?" + urlencode(
        {
            "response_type": "code",
            "client_id": "energy-coach",
            "redirect_uri": "http://127.0.0.1:8765/callback",
            "scope": "load-curve bills",
            "state": "s",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuEJSJ3XI0Q",
            "code_challenge_method": "S256",
        }
    )
    failures = {}
    for lang in ("fr-FR", "en-GB"):
        context = chromium.new_context(base_url=site, locale=lang, viewport=SIZES[size])
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        try:
            tab.goto(authorize)
            expect(tab.locator("#password")).to_be_visible()
            failures[f"sign-in {lang}"] = _problems(tab) + _overflow(tab, size)
            tab.locator("#username").fill("camille")
            tab.locator("#password").fill("not the password")
            tab.locator("button[type=submit]").click()
            expect(tab.get_by_role("alert")).to_be_visible()
            failures[f"sign-in error {lang}"] = _problems(tab) + _overflow(tab, size)
            tab.locator("#username").fill("camille")
            tab.locator("#password").fill(PASSWORD)
            tab.locator("button[type=submit]").click()
            expect(tab.locator("fieldset")).to_be_visible()
            failures[f"consent {lang}"] = _problems(tab) + _overflow(tab, size)
            # The app's stylesheet, not an unstyled page.
            assert tab.evaluate("getComputedStyle(document.body).backgroundColor") == (
                "rgb(251, 251, 253)"
            )
            screenshot(tab, f"oauth-consent-{lang}-{size}")
        finally:
            context.close()
    assert {p: f for p, f in failures.items() if f} == {}


def _overflow(tab: Page, size: str) -> list[str]:
    if size != "phone":
        return []
    width = tab.evaluate("document.documentElement.scrollWidth")
    return [f"the page is {width} px wide on a 375 px screen"] if width > 376 else []


@pytest.mark.parametrize("size", list(SIZES))
def test_every_page_of_a_citizen(citizen_pages: Any, size: str) -> None:
    tab, paths = citizen_pages
    tab.set_viewport_size(SIZES[size])
    failures = {}
    for path in paths:
        answer = tab.goto(path)
        assert answer is not None and answer.status < 500, path
        failures[path] = _problems(tab) + _overflow(tab, size)
        if size == "phone" and path in ("/data", "/log", "/services", "/services/answers"):
            screenshot(tab, f"phone{path.replace('/', '-')}")
    assert {p: f for p, f in failures.items() if f} == {}


@pytest.mark.parametrize("size", list(SIZES))
def test_partial_erasure_and_its_certificate(citizen_pages: Any, size: str) -> None:
    """From the rights page: choose a kind of data, confirm, then the certificate page."""
    tab, _ = citizen_pages
    tab.set_viewport_size(SIZES[size])
    tab.goto("/rights")
    screenshot(tab, f"rights-{size}")
    tab.get_by_label("Effacer un type de données").select_option("contact.card")
    tab.locator("form[action='/rights/erase/doctype'] button").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Effacer un type de données")
    screenshot(tab, f"erase-part-{size}")
    tab.get_by_label("Je comprends que ces données seront effacées définitivement.").check()
    tab.get_by_role("button", name="Effacer ces données définitivement").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Données effacées")
    problems = _problems(tab) + _overflow(tab, size)
    screenshot(tab, f"erased-part-{size}")
    with tab.expect_download() as download:
        tab.get_by_role("button", name="Télécharger le certificat").click()
    assert download.value.suggested_filename.startswith("erasure-certificate-")
    assert problems == []


def test_keyboard_reaches_the_content_first(citizen_pages: Any) -> None:
    tab, _ = citizen_pages
    tab.goto("/data")
    tab.keyboard.press("Tab")
    skip = tab.locator(":focus")
    expect(skip).to_have_text("Aller au contenu")
    tab.keyboard.press("Enter")
    expect(tab).to_have_url(re.compile(r"#main$"))
    # Focus is visible: the outline the stylesheet draws on :focus-visible.
    tab.keyboard.press("Tab")
    outline = tab.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"


def test_axe_does_find_violations(chromium: Browser) -> None:
    """The check above is only worth something if axe reports what it should."""
    context = chromium.new_context()
    tab = context.new_page()
    try:
        tab.set_content('<html><body><img src="x.png"><input type="text"></body></html>')
        found = _problems(tab)
    finally:
        context.close()
    assert any(p.startswith("image-alt") for p in found), found
