"""« Mon énergie » in a real browser: consent through the app's consent screen, then
every energy page passes axe (no serious or critical violation) on a laptop and on a
375 px phone without sideways scrolling, and an alert threshold is set by keyboard
labels."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Browser, expect

from selfdata.demo import energy as demo_energy
from selfdata.demo.life import Life
from selfdata.platform import Platform
from tests.browser.conftest import screenshot
from tests.browser.test_a11y import SIZES, _overflow, _problems
from tests.conftest import PASSWORD
from tests.http.test_energy_pages import LAST_DAY, _register

PAGES = (
    "/energy",
    "/energy?kind=electricity&period=2026-02-10",
    "/energy?kind=gas&period=2025",
    "/energy?kind=water&period=all",
    "/energy/report",
    "/energy/alerts",
)


def test_energy_pages_in_a_browser(chromium: Browser, site: str, sqlite_platform: Platform) -> None:
    _register(sqlite_platform)
    context = chromium.new_context(base_url=site, locale="fr-FR")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    try:
        tab.goto("/signup")
        tab.get_by_label("Choisissez un identifiant").fill("camille")
        tab.get_by_label("Choisissez un mot de passe").fill(PASSWORD)
        tab.get_by_label("Retapez le mot de passe").fill(PASSWORD)
        tab.get_by_role("button", name="Créer mon espace").click()
        expect(tab).to_have_url(re.compile(r"/data"))
        view = sqlite_platform.citizen_view("camille")
        life = Life(2024, LAST_DAY - timedelta(days=364), LAST_DAY)
        demo_energy.write(view, life, demo_energy.generate(life, life.start, LAST_DAY), lambda: 0)

        tab.get_by_role("link", name="Mon énergie").click()
        failures = {"offer": _problems(tab)}
        tab.get_by_role("link", name="Lire et décider").click()
        tab.get_by_role("button", name="J'accepte de partager ce qui est coché").click()
        tab.goto("/energy")
        expect(
            tab.get_by_role("heading", level=2, name="Électricité — février 2026")
        ).to_be_visible()
        tab.get_by_role("link", name="Précédent").click()
        expect(
            tab.get_by_role("heading", level=2, name="Électricité — janvier 2026")
        ).to_be_visible()

        tab.goto("/energy/alerts")
        tab.get_by_label("Énergie", exact=True).select_option("electricity")
        tab.get_by_label("Période", exact=True).select_option("day")
        tab.get_by_role("textbox", name="Seuil (kWh").fill("10")
        tab.get_by_role("button", name="Enregistrer le seuil").click()
        expect(tab.get_by_role("status")).to_have_text("Votre seuil est enregistré.")
        expect(tab.locator("#alerts tr.exceeded").first).to_be_visible()

        for size, viewport in SIZES.items():
            tab.set_viewport_size(viewport)
            for path in PAGES:
                answer = tab.goto(path)
                assert answer is not None and answer.status == 200, path
                failures[f"{path} ({size})"] = _problems(tab) + _overflow(tab, size)
                if path == "/energy":
                    screenshot(tab, f"energy-{size}")
            screenshot(tab, f"energy-alerts-{size}")
    finally:
        context.close()
    assert {p: f for p, f in failures.items() if f} == {}
