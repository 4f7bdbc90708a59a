"""« Mon énergie » in the web app: the offer before consent, then figures asked through
the questions runtime as the energy service, over a year of the demo's half-hourly
Linky load curve (plus daily gas and water)."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from html import unescape
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI

from selfdata.access import SpaceView
from selfdata.demo import energy as demo_energy
from selfdata.demo.life import Life
from selfdata.energy import analysis, consumption, reference
from selfdata.energy import questions as energy_questions
from selfdata.energy.periods import Period
from selfdata.platform import Platform
from selfdata.services import ServiceInfo, load_manifest
from selfdata.web import create_app
from selfdata.web.pages.i18n import Formatter
from tests.http.conftest import TestClient
from tests.support.energy import METER, PARIS, household_readings
from tests.support.pages import csrf_of, sign_up

TZ = "Europe/Paris"
FMT = Formatter("fr", TZ)
LAST_DAY = date(2026, 2, 28)  # the clock says 1 March 2026
QUESTIONS = (
    energy_questions.OverviewQuestion,
    energy_questions.PeriodQuestion,
    energy_questions.MonthlyReportQuestion,
    energy_questions.GesturesQuestion,
    energy_questions.AlertsQuestion,
)


@pytest.fixture
def app(sqlite_platform: Platform) -> FastAPI:
    return create_app(sqlite_platform)


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def _register(platform: Platform) -> ServiceInfo:
    # An editable install refreshes its entry points only on reinstall (as in
    # tests/integration/test_energy_service.py): add the built-ins they name first.
    for question in QUESTIONS:
        if question.name not in platform.questions.builtins:
            platform.questions.builtins.add(question)
    manifest = resources.files("selfdata.energy").joinpath("manifest.yaml")
    with resources.as_file(manifest) as path:
        platform.services.register(load_manifest(path))
    return platform.services.approve("selfdata-energy")


@pytest.fixture
def camille(browser: TestClient, sqlite_platform: Platform) -> SpaceView:
    """Camille, signed in, with a year of the demo's meters (load curve, gas, water)."""
    sign_up(browser, "camille")
    view = sqlite_platform.citizen_view("camille")
    life = Life(2024, LAST_DAY - timedelta(days=364), LAST_DAY)
    usage = demo_energy.generate(life, life.start, LAST_DAY)
    demo_energy.write(view, life, usage, lambda: None)
    return view


def _consent(browser: TestClient, grants: tuple[str, ...] = ("alerts",)) -> None:
    screen = browser.get("/services/selfdata-energy")
    assert screen.status_code == 200, screen.text
    notice_hash = re.search(r'name="notice_hash" value="([^"]+)"', screen.text)
    assert notice_hash
    given = browser.post(
        "/services/selfdata-energy",
        data={
            "csrf_token": csrf_of(screen.text),
            "notice_hash": notice_hash.group(1),
            "grant": list(grants),
        },
        follow_redirects=False,
    )
    assert given.status_code == 303, given.text


def _by_id(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">(.*?)</', html, re.S)
    assert found, f"no #{element_id} in the page"
    return unescape(found.group(1)).strip()


def _consumptions(view: SpaceView) -> list[Any]:
    """The meters' consumptions read directly from the space (to compare with)."""
    found = []
    for stream in view.streams("energy.reading"):
        assert stream.record_id
        meter = view.get_record(stream.record_id).data
        frame = view.read_points(stream.id)
        found.append(consumption(meter, frame.ts, frame.columns["value"]))
    return found


def _kwh(wh: float) -> str:
    return f"{FMT.number(wh / 1000, 1)} kWh"


def _euros(cents: int) -> str:
    return f"{FMT.number(cents / 100, 2)} €"


def test_unregistered_service_is_said_plainly(browser: TestClient, camille: SpaceView) -> None:
    page = browser.get("/energy")
    assert page.status_code == 200
    assert 'data-state="unregistered"' in page.text
    assert "pas proposé sur cette instance" in page.text
    assert 'href="/energy" aria-current="page"' in page.text  # the nav link


def test_offer_then_figures_computed_through_the_questions_runtime(
    browser: TestClient, camille: SpaceView, sqlite_platform: Platform
) -> None:
    _register(sqlite_platform)
    offer = browser.get("/energy")
    assert offer.status_code == 200
    assert 'data-state="offer"' in offer.text
    assert 'href="/services/selfdata-energy"' in offer.text
    assert "Mon énergie" in offer.text
    assert not camille.access_log(match={"actor_id": "selfdata-energy"})

    _consent(browser)
    page = browser.get("/energy")
    assert page.status_code == 200, page.text
    html = page.text
    assert 'data-state="offer"' not in html

    # The same figures, computed directly from the same data.
    ref = reference.current(sqlite_platform.settings.home)
    found = _consumptions(camille)
    february = analysis.period_view(found, ref, TZ, Period.parse("2026-02"))
    electricity = next(m for m in february["meters"] if m["meter"]["kind"] == "electricity")
    assert electricity["total"] > 100_000  # a real month of a real flat
    assert _by_id(html, "period-total") == _kwh(electricity["total"])
    assert _by_id(html, "period-cost") == _euros(electricity["cost"]["total_cents"])
    assert "février 2026" in html
    overview = analysis.overview(found, ref, TZ, sqlite_platform.clock.now())
    meter = next(m for m in overview["meters"] if m["meter"]["kind"] == "electricity")
    assert _by_id(html, "base-load-cost") == _euros(meter["base_load"]["year_cents"])
    assert f"{FMT.number(meter['base_load']['watts'], 1)} W" in html
    peaks = _by_id(html, "peak-hours")
    assert f"{meter['peak_hours']['top'][0]['hour']} h" in peaks
    # The chart (inline SVG, one bar a day) and its table fallback.
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert 'role="img"' in svg and svg.count('class="bar"') == 28
    assert '<caption id="energy-chart-caption">' in html[html.index("</svg>") :]
    assert "<script>" not in html and "style=" not in html

    # Previous month: January 2026, with the comparison to January 2025 absent (no data).
    previous = re.search(r'<a rel="prev" href="([^"]+)"', html)
    assert previous
    january_page = browser.get(unescape(previous.group(1)))
    assert january_page.status_code == 200
    january = analysis.period_view(found, ref, TZ, Period.parse("2026-01"))
    expected = next(m for m in january["meters"] if m["meter"]["kind"] == "electricity")
    assert _by_id(january_page.text, "period-total") == _kwh(expected["total"])
    assert "janvier 2026" in january_page.text
    # Gas by year: every month of the year; a day: its 48 half-hours.
    gas = browser.get("/energy", params={"kind": "gas", "period": "2025"}).text
    gas_2025 = analysis.period_view(found, ref, TZ, Period.parse("2025"))
    expected_gas = next(m for m in gas_2025["meters"] if m["meter"]["kind"] == "gas")
    assert _by_id(gas, "period-total") == _kwh(expected_gas["total"])
    day = browser.get("/energy", params={"kind": "electricity", "period": "2026-02-10"}).text
    assert day[day.index("<svg") : day.index("</svg>")].count('class="bar"') == 48
    assert browser.get("/energy", params={"period": "2026-13"}).status_code == 400

    # Every view was the energy service asking its questions, in Camille's log.
    events = camille.access_log(limit=200, match={"actor_id": "selfdata-energy"})
    asked = [e.event.detail.get("question") for e in events if e.event.action == "question"]
    assert asked.count("overview") == 4 and asked.count("period") == 4


def test_report_and_gestures(
    browser: TestClient, camille: SpaceView, sqlite_platform: Platform
) -> None:
    _register(sqlite_platform)
    _consent(browser)
    english = browser.get("/energy/report", headers={"Accept-Language": "en"})
    assert english.status_code == 200, english.text
    assert "My energy — February 2026" in english.text
    assert "Eco-gestures for your home" in english.text
    html = browser.get("/energy/report", params={"month": "2026-01"}).text
    assert "janvier 2026" in html
    ref = reference.current(sqlite_platform.settings.home)
    found = _consumptions(camille)
    report = analysis.monthly_report(
        found, ref, TZ, Period.parse("2026-01"), sqlite_platform.clock.now()
    )
    totals = re.findall(r'class="report-total">(.*?)<', html)
    expected = [
        _kwh(m["total"]) if m["meter"]["unit"] == "Wh" else f"{FMT.number(m['total'], 0)} L"
        for m in report["meters"]
    ]
    assert sorted(unescape(t) for t in totals) == sorted(expected)
    table = html[html.index('id="gestures"') :]
    assert "kg CO₂e" in table and "€" in table and table.count("<tr>") > 3


def test_alert_threshold_is_set_and_shown(
    browser: TestClient, camille: SpaceView, sqlite_platform: Platform
) -> None:
    _register(sqlite_platform)
    _consent(browser)
    form = browser.get("/energy/alerts")
    assert form.status_code == 200, form.text
    token = csrf_of(form.text)
    refused = browser.post(
        "/energy/alerts", data={"kind": "electricity", "period": "day", "threshold": "1"}
    )
    assert refused.status_code == 403
    bad = browser.post(
        "/energy/alerts",
        data={"csrf_token": token, "kind": "electricity", "period": "day", "threshold": "-3"},
    )
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.text
    assert not list(camille.iter_records("energy.alert_rule"))
    # A daily threshold of 10 kWh: the days of the last three months above it.
    saved = browser.post(
        "/energy/alerts",
        data={
            "csrf_token": token,
            "kind": "electricity",
            "period": "day",
            "threshold": "10",
            "label": "Hiver raisonnable",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    (rule,) = list(camille.iter_records("energy.alert_rule"))
    assert rule.data["threshold"] == 10.0 and rule.data["unit"] == "kWh"
    page = browser.get(saved.headers["location"]).text
    assert "Hiver raisonnable" in page
    from selfdata.energy.alerts import evaluate

    found = _consumptions(camille)
    now = sqlite_platform.clock.now()
    since = (now - timedelta(days=92)).astimezone(FMT.zone).date()
    (expected,) = evaluate([rule.data], found, TZ, now, since=since)
    assert expected["exceeded"]  # a winter flat goes over 10 kWh on some days
    assert page.count('class="exceeded"') == len(expected["exceeded"])
    events = camille.access_log(limit=50, match={"actor_id": "selfdata-energy"})
    assert any(e.event.detail.get("question") == "alerts" for e in events)


def test_withdrawal_falls_back_to_the_offer_at_once(
    browser: TestClient, camille: SpaceView, sqlite_platform: Platform
) -> None:
    _register(sqlite_platform)
    _consent(browser, grants=())
    assert "period-total" in browser.get("/energy").text
    alerts = browser.get("/energy/alerts").text
    assert "consent" in alerts and 'id="alerts"' not in alerts  # alerts not granted
    consents = browser.get("/services").text
    withdraw = re.search(r'action="(/consents/[^"]+/withdraw)"', consents)
    assert withdraw
    done = browser.post(
        withdraw.group(1), data={"csrf_token": csrf_of(consents)}, follow_redirects=False
    )
    assert done.status_code == 303
    for path in ("/energy", "/energy/report", "/energy/alerts"):
        after = browser.get(path)
        assert after.status_code == 200 and 'data-state="offer"' in after.text
    signed_out = TestClient(browser.app)
    assert (
        signed_out.get("/energy", follow_redirects=False).headers["location"].startswith("/signin")
    )


def test_overview_render_time_for_a_year(
    browser: TestClient, camille: SpaceView, sqlite_platform: Platform
) -> None:
    """The overview page (two questions over a year of three meters) under 200 ms."""
    _register(sqlite_platform)
    _consent(browser)
    browser.get("/energy")  # warm: templates compiled, catalogues loaded
    timings = []
    for _ in range(7):
        start = time.perf_counter()
        assert browser.get("/energy").status_code == 200
        timings.append(time.perf_counter() - start)
    median = statistics.median(timings)
    print(f"energy overview page, a year of data: median {median * 1000:.1f} ms")
    assert median < 0.2


def test_weather_corrected_comparison_when_degree_days_exist(
    browser: TestClient, sqlite_platform: Platform, tmp_path: Path
) -> None:
    """Two years of the hand-computed household (tests/support/energy.py) and the
    operator's degree-days: January 2025 is compared with January 2024 at its weather."""
    sign_up(browser, "dominique")
    view = sqlite_platform.citizen_view("dominique")
    meter = view.put_records("energy.meter", [METER]).ids[0]
    stream = view.create_stream("energy.reading", record_id=meter).id
    view.append_points(stream, *household_readings())
    lines = ["date;dju"]
    day = date(2024, 1, 1)
    while day <= date(2025, 12, 31):
        dju = (12.0 if day.year == 2024 else 10.0) if day.month == 1 else 0.0
        lines.append(f"{day.isoformat()};{dju}")
        day += timedelta(days=1)
    (tmp_path / "dju.csv").write_text("\n".join(lines) + "\n", "utf-8")
    reference.import_degree_days(sqlite_platform.settings.home, tmp_path / "dju.csv")
    _register(sqlite_platform)
    _consent(browser)
    html = browser.get("/energy", params={"period": "2025-01"}).text
    ref = reference.current(sqlite_platform.settings.home)
    (expected,) = analysis.period_view(_consumptions(view), ref, TZ, Period.parse("2025-01"))[
        "meters"
    ]
    weather = expected["weather"]
    assert weather is not None and weather["dju"] == 310 and weather["dju_last_year"] == 372
    shown = _by_id(html, "period-weather")
    assert _kwh(weather["total_at_last_year_weather"]) in shown
    assert f"{FMT.number(weather['change_pct_corrected'], 1)} %" in shown
    assert "310 degrés-jours contre 372" in html
    assert (
        _by_id(html, "period-change") == f"+{FMT.number(expected['last_year']['change_pct'], 1)} %"
    )


def test_overview_on_both_engines(platform: Platform) -> None:
    """The same page over SQLite and PostgreSQL (the ``platform`` fixture runs both)."""
    with TestClient(create_app(platform)) as client:
        sign_up(client, "camille")
        view = platform.citizen_view("camille")
        life = Life(2024, LAST_DAY - timedelta(days=364), LAST_DAY)
        demo_energy.write(
            view, life, demo_energy.generate(life, life.start, LAST_DAY), lambda: None
        )
        _register(platform)
        _consent(client)
        html = client.get("/energy", params={"kind": "gas"}).text
    ref = reference.current(platform.settings.home)
    february = analysis.period_view(_consumptions(view), ref, TZ, Period.parse("2026-02"))
    gas = next(m for m in february["meters"] if m["meter"]["kind"] == "gas")
    assert _by_id(html, "period-total") == _kwh(gas["total"])


def test_meter_picker_shows_each_electricity_meter(
    browser: TestClient, sqlite_platform: Platform
) -> None:
    """Two electricity meters: tabs name them (label, else the id masked) and each one's
    own figures show; every link keeps the meter chosen."""
    sign_up(browser, "estelle")
    view = sqlite_platform.citizen_view("estelle")
    house = view.put_records("energy.meter", [METER]).ids[0]
    view.append_points(
        view.create_stream("energy.reading", record_id=house).id, *household_readings(2025, 2025)
    )
    studio_meter = {k: v for k, v in METER.items() if k != "label"}
    studio_meter["meter_id"] = "30001234567890"
    studio = view.put_records("energy.meter", [studio_meter]).ids[0]
    start = int(datetime(2025, 1, 1, tzinfo=PARIS).timestamp())
    ts = np.arange(start, start + 31 * 86400, 1800, dtype=np.int64)  # January 2025
    view.append_points(
        view.create_stream("energy.reading", record_id=studio).id, ts, np.full(ts.shape, 500.0)
    )
    _register(sqlite_platform)
    _consent(browser)

    house_page = browser.get("/energy", params={"period": "2025-01"}).text
    tabs = _by_id(house_page, "meter-tabs")
    # January 2025 at the house: 31 × (48 × 150 + 4 × 1250 + 2 × 1000) Wh = 440.2 kWh.
    assert _by_id(house_page, "period-total") == _kwh(440_200)
    assert "Maison" in house_page and "•••• 7890" in house_page
    assert "30001234567890" not in house_page  # the other meter's id stays masked
    assert tabs  # the first tab, the house, is the one shown
    assert re.search(r'aria-current="true">Maison</a>', house_page)

    link = re.search(r'href="([^"]*meter=2)">•••• 7890</a>', house_page)
    assert link  # a position in the URL, never the meter's id
    studio_page = browser.get(unescape(link.group(1))).text
    # The studio: 1 488 half-hours of 500 Wh = 744.0 kWh, in its latest month (January).
    assert _by_id(studio_page, "period-total") == _kwh(744_000)
    assert re.search(r'aria-current="true">•••• 7890</a>', studio_page)
    studio_day = {"kind": "electricity", "meter": "2", "period": "2025-01-10"}
    day = browser.get("/energy", params=studio_day)
    assert _by_id(day.text, "period-total") == _kwh(24_000)  # 48 × 500 Wh
    previous = re.search(r'<a rel="prev" href="([^"]+)"', day.text)
    assert previous and unescape(previous.group(1)).endswith("meter=2&period=2025-01-09")
    scales = re.findall(r'href="(/energy\?kind=electricity[^"]*period=[^"]*)"', studio_page)
    assert len(scales) == 4 and all("meter=2&" in unescape(h) for h in scales)
    for wrong in ("3", "0", "nope"):
        asked = browser.get("/energy", params={"kind": "electricity", "meter": wrong})
        assert asked.status_code == 400
