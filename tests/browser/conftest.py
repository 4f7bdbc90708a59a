"""Browser fixtures: Debian's chromium driven by Playwright against the real app served
by uvicorn on loopback. The tests skip only when chromium or Playwright is truly absent
(``scripts/setup.sh --dev`` installs both; CI runs them)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from selfdata.platform import Platform
from selfdata.web import create_app
from tests.http.conftest import serving

CHROMIUM = Path(os.environ.get("SELFDATA_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    sync_playwright = None  # type: ignore[assignment]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if sync_playwright is None or not CHROMIUM.exists():
        pytest.skip(f"no browser: {CHROMIUM} or Playwright is missing (scripts/setup.sh --dev)")
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def app(sqlite_platform: Platform) -> FastAPI:
    return create_app(sqlite_platform)


@pytest.fixture
def site(app: FastAPI) -> Iterator[str]:
    with serving(app) as url:
        yield url


@pytest.fixture
def page(chromium: Browser, site: str) -> Iterator[Page]:
    """A French-speaking browser tab (the default language), laptop-sized."""
    context = chromium.new_context(
        base_url=site,
        locale="fr-FR",
        viewport={"width": 1280, "height": 900},
        accept_downloads=True,
    )
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    try:
        yield tab
    finally:
        context.close()


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
