"""The example service (examples/watt-wise) end to end: the selfdata server and the
example app each on loopback; the operator registers the manifest with the CLI; the
citizen goes through the real OAuth consent in a browser (httpx); the app asks its
question with the SDK and shows the monthly totals — and nothing more."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from selfdata.cli import app as cli
from selfdata.clock import FixedClock
from selfdata.platform import Platform, init_instance
from selfdata.web import create_app
from tests.conftest import PASSWORD, make_space
from tests.http.conftest import serving
from tests.support.questions import WATT_WISE, load_curve

EXAMPLE = WATT_WISE.parent / "app.py"


def _example_module() -> Any:
    spec = importlib.util.spec_from_file_location("watt_wise_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def instance(home: Path, clock: FixedClock) -> Iterator[Platform]:
    settings, _ = init_instance(home)
    platform = Platform.open(settings, clock=clock)
    try:
        yield platform
    finally:
        platform.close()


def _register(home: Path, tmp_path: Path, callback: str) -> None:
    """What the operator does: register the manifest (with this run's redirect URI)."""
    manifest = yaml.safe_load(WATT_WISE.read_text(encoding="utf-8"))
    manifest["redirect_uris"] = [callback]
    path = tmp_path / "watt-wise.yaml"
    path.write_text(yaml.safe_dump(manifest), encoding="utf-8")
    runner = CliRunner()
    for args in (["services", "register", str(path)], ["services", "approve", "watt-wise"]):
        result = runner.invoke(cli, ["--home", str(home), *args])
        assert result.exit_code == 0, result.output


def _consent(browser: httpx.Client, authorize_url: str) -> httpx.Response:
    """The citizen signs in and allows, on the selfdata pages; returns the redirect."""
    page = browser.get(authorize_url)
    assert page.status_code == 200 and 'name="password"' in page.text
    nxt = re.search(r'name="next" value="([^"]+)"', page.text)
    login_csrf = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert nxt and login_csrf
    base = httpx.URL(authorize_url).copy_with(path="/", query=None)
    signed_in = browser.post(
        base.join("/oauth/login"),
        data={
            "username": "alice",
            "password": PASSWORD,
            "next": nxt.group(1).replace("&amp;", "&"),
            "login_csrf": login_csrf.group(1),
        },
    )
    assert signed_in.status_code == 303, signed_in.text
    consent = browser.get(base.join(signed_in.headers["location"]))
    assert consent.status_code == 200
    # The notice shows the question in plain words.
    assert "Combien d&#39;électricité" in consent.text or "How much electricity" in consent.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', consent.text)
    notice = re.search(r'name="notice_hash" value="([^"]+)"', consent.text)
    action = re.search(r'<form method="post" action="([^"]+)"', consent.text)
    assert csrf and notice and action
    decided = browser.post(
        base.join(action.group(1).replace("&amp;", "&")),
        data={
            "notice_hash": notice.group(1),
            "csrf_token": csrf.group(1),
            "decision": "allow",
            "grant": ["consumption"],
        },
    )
    assert decided.status_code == 302, decided.text
    return decided


def test_example_service_flow(instance: Platform, home: Path, tmp_path: Path) -> None:
    alice = make_space(instance, "alice")
    load_curve(alice)
    example = _example_module()
    with serving(create_app(instance)) as selfdata_url:
        example_app = example.create_app(selfdata_url)
        with serving(example_app) as service_url, httpx.Client(timeout=30) as browser:
            _register(home, tmp_path, f"{service_url}/callback")
            start = browser.get(f"{service_url}/login")
            assert start.status_code == 302
            authorize_url = start.headers["location"]
            assert authorize_url.startswith(f"{selfdata_url}/oauth/authorize?")
            assert "code_challenge_method=S256" in authorize_url

            back = _consent(browser, authorize_url)
            callback = back.headers["location"]
            assert callback.startswith(f"{service_url}/callback?code=")
            landed = browser.get(callback)
            assert landed.status_code == 303

            report = browser.get(f"{service_url}/report.json")
            assert report.status_code == 200, report.text
            assert report.json()["months"] == [{"month": "2026-02", "kwh": 672.0}]
            page = browser.get(f"{service_url}/report")
            assert "<td>2026-02</td><td>672.0</td>" in page.text

            # The citizen sees what the service received, and can stop it at once.
            copies = list(alice.iter_records("service.answer"))
            assert len(copies) == 2  # the JSON report and the page each asked once
            assert all(c.data["answer"] == [{"month": "2026-02", "kwh": 672.0}] for c in copies)
            (consent,) = alice.consents()
            alice.withdraw_consent(consent.id)
            after = browser.get(f"{service_url}/report.json")
            assert after.status_code in (401, 403)
