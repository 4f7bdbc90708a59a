"""An upload over the instance's size bound, from the real form in a real browser: the
citizen reads a page saying the bound (not the API's JSON, not a broken connection)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from playwright.sync_api import Page, expect

from selfdata.platform import Platform
from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD


def test_a_too_large_upload_gets_a_page_saying_the_limit(
    page: Page, sqlite_platform: Platform, tmp_path: Path
) -> None:
    page.goto("/signup")
    page.get_by_label("Choisissez un identifiant").fill("camille")
    page.get_by_label("Choisissez un mot de passe").fill(PASSWORD)
    page.get_by_label("Retapez le mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Créer mon espace").click()
    expect(page).to_have_url(re.compile(r"/data"))

    settings = sqlite_platform.settings
    smaller = settings.with_(limits=replace(settings.limits, max_file_bytes=64 * 1024))
    sqlite_platform.settings = sqlite_platform.gate.settings = smaller
    big = tmp_path / "export.csv"
    big.write_bytes(b"0;0\n" * 500_000)  # 2 MB of nothing personal

    page.goto("/add")
    page.get_by_label("Fichiers d'export").set_input_files(big)
    page.get_by_role("button", name="Ajouter ces fichiers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Trop volumineux")
    expect(page.get_by_role("main")).to_contain_text("64 Kio")
    screenshot(page, "upload-too-large")
