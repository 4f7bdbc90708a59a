"""The energy service's figures against values computed by hand.

The household is described in ``tests/support/energy.py``: base load 250 W (2024) and
300 W (2025), +2500 W every day 19:00–21:00, a 2000 W water heater 23:00–24:00, half-
hourly in Wh, Europe/Paris. 2025 has 365 days and 8760 hours (30 March: 23 h, 46
half-hours; 26 October: 25 h, 50 half-hours).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from selfdata.energy import (
    Consumption,
    DegreeDays,
    HouseholdFigures,
    Period,
    TempoCalendar,
    base_load,
    catalogue,
    constant_power_cost,
    consumption,
    corrected,
    cost,
    dju_min_max,
    evaluate_alerts,
    peak_hours,
    period_summary,
    top_gestures,
)
from selfdata.energy.analysis import household, monthly_report, overview, period_view, weather
from selfdata.energy.degreedays import parse_degree_days
from selfdata.energy.habits import window
from selfdata.energy.localtime import local_seconds
from selfdata.energy.reference import (
    Reference,
    current,
    import_degree_days,
    import_tariffs,
    import_tempo,
    packaged_tariffs,
    parse_tariffs,
)
from selfdata.errors import InvalidInput, ValidationFailed
from tests.support.energy import METER, PARIS, TZ, household_readings

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "energy"
# Test tariffs, with the TRVE prices of 1 February 2025 (€ TTC per kWh, per month).
TARIFFS_YAML = """
version: 1
tariffs:
  - {id: t-base, energy: electricity, option: base, name: {fr: Base, en: Base},
     valid_from: 2025-02-01, prices: {base: "0.2016"}, subscription_monthly: {"9": "19.39"}}
  - {id: t-hphc, energy: electricity, option: hphc, name: {fr: HPHC, en: Peak},
     valid_from: 2025-02-01, prices: {hp: "0.2146", hc: "0.1696"},
     off_peak: [{start: "22:00", end: "06:00"}], subscription_monthly: {"9": "19.81"}}
  - id: t-tempo
    energy: electricity
    option: tempo
    name: {fr: Tempo, en: Tempo}
    valid_from: 2025-02-01
    prices: {blue_hp: "0.1552", blue_hc: "0.1288", white_hp: "0.1792",
             white_hc: "0.1447", red_hp: "0.6586", red_hc: "0.1518"}
    subscription_monthly: {"9": "19.49"}
  - {id: t-gas, energy: gas, option: base, name: {fr: Gaz, en: Gas}, valid_from: 2020-01-01,
     prices: {base: "0.10"}}
"""
BOOK = parse_tariffs(TARIFFS_YAML, "test")
HPHC, BASE, TEMPO = (BOOK.get(i, date(2025, 6, 1)) for i in ("t-hphc", "t-base", "t-tempo"))
# Tempo: every day of 2025 blue but 15 January red and 16 January white.
CALENDAR = TempoCalendar(
    {
        date(2025, 1, 1) + timedelta(days=i): ("red" if i == 14 else "white" if i == 15 else "blue")
        for i in range(365)
    }
)


TS, WH = household_readings()


@pytest.fixture(scope="module")
def elec() -> Consumption:
    return consumption(METER, TS, WH)


def _bounds(first: date, end: date) -> tuple[int, int]:
    return Period("day", first).bounds(TZ)[0], Period("day", end).bounds(TZ)[0]


def _ref() -> Reference:
    return Reference(BOOK, DegreeDays({}), CALENDAR, "test")


# --- local time and periods -----------------------------------------------------------


def test_local_time_matches_datetime_across_both_changes() -> None:
    local = local_seconds(TS, TZ)
    for i in range(0, TS.shape[0], 97):
        dt = datetime.fromtimestamp(int(TS[i]), PARIS).replace(tzinfo=UTC)
        assert int(local[i]) == int(dt.timestamp())


def test_days_of_the_clock_changes(elec: Consumption) -> None:
    spring = period_summary(elec, Period.parse("2025-03-30"), TZ)
    # 23 hours × 300 W = 6900 Wh, + 5000 (evening) + 2000 (water heater) = 13 900 Wh
    assert spring["total"] == 13_900
    assert len(spring["detail"]) == 46
    assert spring["coverage"] == 1.0
    autumn = period_summary(elec, Period.parse("2025-10-26"), TZ)
    # 25 hours × 300 W = 7500 Wh, + 7000 = 14 500 Wh, 50 half-hours
    assert autumn["total"] == 14_500
    assert len(autumn["detail"]) == 50
    assert autumn["detail"][0] == {"start": "2025-10-26T00:00:00+02:00", "value": 150.0}
    assert autumn["detail"][-1]["start"] == "2025-10-26T23:30:00+01:00"
    ordinary = period_summary(elec, Period.parse("2025-03-29"), TZ)
    assert ordinary["total"] == 24 * 300 + 7000  # 14 200 Wh


def test_month_year_navigation_and_last_year(elec: Consumption) -> None:
    march = period_summary(elec, Period.parse("2025-03"), TZ)
    # March 2025: 743 h × 300 W = 222 900 Wh + 31 days × 7000 Wh = 439 900 Wh
    assert march["total"] == 439_900
    assert (march["previous"], march["next"]) == ("2025-02", "2025-04")
    # March 2024: 743 h × 250 W = 185 750 + 217 000 = 402 750 Wh; +9.22 %
    assert march["last_year"]["total"] == 402_750
    assert march["last_year"]["change_pct"] == 9.2
    assert len(march["detail"]) == 31
    assert march["detail"][29] == {"period": "2025-03-30", "total": 13_900}
    year = period_summary(elec, Period.parse("2025"), TZ)
    # 2025: 8760 h × 300 W = 2 628 000 + 365 × 7000 = 2 555 000 → 5 183 000 Wh
    assert year["total"] == 5_183_000
    assert year["next"] is None
    assert year["previous"] == "2024"
    # 2024 (leap): 8784 h × 250 W = 2 196 000 + 366 × 7000 = 2 562 000 → 4 758 000 Wh
    assert year["last_year"]["total"] == 4_758_000
    assert [m["total"] for m in year["detail"]][9] == 440_500  # October: 745 h
    assert period_summary(elec, Period.parse("2024-01"), TZ)["previous"] is None
    empty = period_summary(elec, Period.parse("2026-02"), TZ)
    assert empty["total"] is None
    assert empty["coverage"] == 0


def test_period_keys_and_shifts() -> None:
    p = Period.parse("2024-02-29")
    assert p.last_year().key == "2023-02-28"
    assert Period.parse("2025-01").previous().key == "2024-12"
    assert Period.parse("2025-12").next().key == "2026-01"
    with pytest.raises(InvalidInput, match="YYYY"):
        Period.parse("March")
    with pytest.raises(InvalidInput, match=r"month must be in 1\.\.12"):
        Period.parse("2025-13")


# --- units ------------------------------------------------------------------------------


def test_power_in_watts_becomes_the_same_energy() -> None:
    watts = consumption({**METER, "unit": "W"}, TS, WH * 2)  # 150 Wh in 30 min = 300 W
    lo, hi = Period.parse("2025").bounds(TZ)
    part = slice(int(np.searchsorted(TS, lo)), int(np.searchsorted(TS, hi)))
    assert float(watts.amount[part].sum()) == 5_183_000


def test_daily_index_becomes_daily_consumption() -> None:
    days = [Period("day", date(2025, 1, d)).bounds(TZ)[0] for d in (1, 2, 3, 5, 6)]
    index = consumption(
        {"kind": "electricity", "unit": "Wh", "reading_type": "daily_index", "meter_id": "x"},
        np.array(days, dtype=np.int64),
        np.array([1000, 8000, 15500, 30000, 20000], dtype=np.float64),
    )
    # 1→2: 7000; 2→3: 7500; 3→5 skips a day: gap; 5→6 falls (meter changed): gap
    assert index.amount[:2].tolist() == [7000, 7500]
    assert np.isnan(index.amount[2:]).all()


def test_water_and_gas_units() -> None:
    one = np.array([Period.parse("2025-01-01").bounds(TZ)[0]], dtype=np.int64)
    water = consumption(
        {"kind": "water", "unit": "m3", "reading_type": "daily_consumption", "meter_id": "w"},
        one,
        np.array([0.125]),
    )
    assert (water.unit, water.amount.tolist()) == ("L", [125.0])
    gas = consumption(
        {"kind": "gas", "unit": "m3", "reading_type": "daily_consumption", "meter_id": "g"},
        one,
        np.array([2.0]),
        gas_kwh_per_m3=11.0,
    )
    assert gas.amount.tolist() == [22_000.0]  # 2 m³ × 11 kWh/m³ = 22 kWh


# --- base load, peak hours ------------------------------------------------------------


def test_base_load_and_its_yearly_cost(elec: Consumption) -> None:
    found = base_load(window(elec), TZ, HPHC)
    assert found is not None
    assert found["watts"] == 300.0
    # 300 W × 8760 h = 2628 kWh; off-peak 8 h of 24:
    # 2628 × (2/3 × 0.2146 + 1/3 × 0.1696) = 2628 × 0.1996 = 524.5488 € → 52 455 cents
    assert found["year_wh"] == 2_628_000
    assert found["year_cents"] == 52_455
    # Base: 2628 × 0.2016 = 529.8048 € → 52 980 cents
    assert constant_power_cost(300, BASE) == (2628.0, 52_980)
    # Tempo, 300 blue, 43 white, 22 red days of 7.2 kWh:
    # blue 2160 × (2/3 × .1552 + 1/3 × .1288 = .1464) = 316.224
    # white 309.6 × (2/3 × .1792 + 1/3 × .1447 = .1677) = 51.91992
    # red 158.4 × (2/3 × .6586 + 1/3 × .1518 = .4896666…) = 77.5632
    # total 445.70712 € → 44 571 cents
    assert constant_power_cost(300, TEMPO) == (2628.0, 44_571)
    # In 2024 the night floor was 250 W.
    y2024 = consumption(METER, TS[Period.parse("2025").bounds(TZ)[0] > TS], WH[: 366 * 48])
    assert base_load(y2024, TZ)["watts"] == 250.0  # type: ignore[index]


def test_base_load_ignores_a_rare_dip() -> None:
    wh = WH.copy()
    night = np.flatnonzero((TS % 86_400) == 2 * 3600)[-5:]  # five 03:00 local winter slots
    wh[night] = 0.0
    found = base_load(window(consumption(METER, TS, wh)), TZ)
    assert found is not None
    assert found["watts"] == 300.0  # 5 of 2920 night values sit under the 10th percentile


def test_peak_hours(elec: Consumption) -> None:
    found = peak_hours(window(elec), TZ)
    assert found is not None
    # 19 h and 20 h: 300 + 2500 = 2800 Wh; 23 h: 300 + 2000 = 2300 Wh; others 300 Wh
    assert found["top"] == [
        {"hour": 19, "wh": 2800.0},
        {"hour": 20, "wh": 2800.0},
        {"hour": 23, "wh": 2300.0},
    ]
    assert found["by_hour"][2] == 300.0  # 2 h is missing on 30 March: still 300 on average
    daily = consumption(
        {**METER, "reading_type": "daily_consumption", "interval_s": 86_400}, TS[:10], WH[:10]
    )
    assert peak_hours(daily, TZ) is None
    assert base_load(daily, TZ) is None


# --- costs ------------------------------------------------------------------------------


def test_cost_peak_off_peak_to_the_cent(elec: Consumption) -> None:
    lo, hi = _bounds(date(2025, 1, 1), date(2026, 1, 1))
    found = cost(elec, HPHC, TZ, lo, hi, days=365, kva=9)
    # Off-peak 22:00–06:00: 2920 h of base (8 h × 365; 7 h on 30 March, 9 h on 26 October)
    # × 300 W = 876 000 Wh + 730 000 Wh of water heater = 1 606 000 Wh;
    # peak: 5840 h × 300 W = 1 752 000 + 1 825 000 (evenings) = 3 577 000 Wh.
    assert found.by_period["hc"]["amount"] == 1_606_000
    assert found.by_period["hp"]["amount"] == 3_577_000
    # 3577 × 0.2146 = 767.6242 €; 1606 × 0.1696 = 272.3776 €; sum 1040.0018 €
    assert found.by_period["hp"]["cents"] == 76_762
    assert found.by_period["hc"]["cents"] == 27_238
    assert found.energy_cents == 104_000
    # 19.81 €/month × 12 × 365 / 365 = 237.72 €; total 1277.7218 € → 127 772 cents
    assert found.subscription_cents == 23_772
    assert found.total_cents == 127_772
    base = cost(elec, BASE, TZ, lo, hi)
    assert base.energy_cents == 104_489  # 5183 × 0.2016 = 1044.8928 €


def test_cost_tempo_to_the_cent(elec: Consumption) -> None:
    lo, hi = _bounds(date(2025, 1, 1), date(2026, 1, 1))
    found = cost(elec, TEMPO, TZ, lo, hi, tempo=CALENDAR)
    # The red Tempo day of 15 January runs 06:00 on the 15th to 06:00 on the 16th:
    # peak 06–22 h: 16 h × 300 W = 4800 + 5000 (evening) = 9800 Wh;
    # off-peak 22–06 h: 8 h × 300 W = 2400 + 2000 (water heater) = 4400 Wh. Same white.
    assert found.by_period["red_hp"]["amount"] == 9_800
    assert found.by_period["red_hc"]["amount"] == 4_400
    assert found.by_period["white_hp"]["amount"] == 9_800
    assert found.by_period["white_hc"]["amount"] == 4_400
    assert found.by_period["blue_hp"]["amount"] == 3_577_000 - 19_600
    assert found.by_period["blue_hc"]["amount"] == 1_606_000 - 8_800
    # 3557.4 × .1552 = 552.10848; 1597.2 × .1288 = 205.71936; 9.8 × .1792 = 1.75616;
    # 4.4 × .1447 = 0.63668; 9.8 × .6586 = 6.45428; 4.4 × .1518 = 0.66792
    # sum 767.34288 € → 76 734 cents
    assert found.energy_cents == 76_734
    # 00:00–06:00 on 1 January 2025 belongs to Tempo day 31 December 2024, not in the
    # calendar: counted blue and reported.
    assert found.assumed_blue_days == 1


def test_daily_meter_split_is_estimated() -> None:
    days = np.array([Period("day", date(2025, 5, d)).bounds(TZ)[0] for d in (1, 2, 3)])
    daily = consumption(
        {**METER, "reading_type": "daily_consumption", "interval_s": 86_400},
        days,
        np.array([12_000.0, 12_000.0, 12_000.0]),
    )
    found = cost(daily, HPHC, TZ, int(days[0]), int(days[-1]) + 86_400)
    # 36 kWh: 2/3 at 0.2146 = 5.1504 €, 1/3 at 0.1696 = 2.0352 € → 7.1856 € → 719 cents
    assert found.estimated_split
    assert found.energy_cents == 719


def test_subscription_prorated_by_day(elec: Consumption) -> None:
    lo, hi = _bounds(date(2025, 3, 1), date(2025, 4, 1))
    found = cost(elec, HPHC, TZ, lo, hi, days=31, kva=9)
    # 19.81 × 12 × 31 / 365 = 20.1898… € → 2019 cents
    assert found.subscription_cents == 2_019


# --- degree days ------------------------------------------------------------------------


def test_degree_days_min_max_method() -> None:
    assert dju_min_max(2.0, 10.0) == 12.0  # 18 − (2 + 10) / 2
    assert dju_min_max(15.0, 25.0) == 0.0  # mean 20 °C: no heating
    text = (SAMPLES / "meteo-france-daily.csv").read_text("utf-8")
    days, skipped = parse_degree_days(text, "meteo-france-daily.csv")
    assert days[date(2025, 1, 1)] == 16.5  # TN −1.0, TX 4.0 → 18 − 1.5
    assert days[date(2025, 7, 14)] == 0.0
    assert skipped == 0


def test_degree_days_from_a_departmental_meteo_france_file() -> None:
    text = (SAMPLES / "meteo-france-Q_69-extract.csv").read_text("utf-8")
    with pytest.raises(ValidationFailed, match="holds 2 stations") as caught:
        parse_degree_days(text, "Q_69.csv")
    assert "69029001 (LYON-BRON)" in caught.value.detail
    bron, skipped = parse_degree_days(text, "Q_69.csv", station="Lyon-Bron")
    # 1 January: 18 − (−1 + 4) / 2 = 16.5; 2 January: 18 − 3.5 = 14.5; 3 January has no
    # TN (empty cell): skipped, not an error.
    assert (bron, skipped) == ({date(2025, 1, 1): 16.5, date(2025, 1, 2): 14.5}, 1)
    exupery, _ = parse_degree_days(text, "Q_69.csv", station="69299001")
    assert exupery == {date(2025, 1, 1): 17.5, date(2025, 1, 2): 15.5}
    with pytest.raises(ValidationFailed, match="no station 'Paris'"):
        parse_degree_days(text, "Q_69.csv", station="Paris")


def test_degree_days_bad_file_says_where() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_degree_days("date;tmin;tmax\n2025-01-01;3;1\n2025-01-02;a;4\n", "t.csv")
    assert [e.line for e in caught.value.errors] == [2, 3]
    assert "tmin ≤ tmax" in caught.value.errors[0].message


def test_weather_correction_tiny_example() -> None:
    # corrected = base + (consumption − base) × DJU_ref / DJU_period
    assert corrected(100.0, 20.0, 10.0, 12.0) == 116.0  # 20 + 80 × 12 / 10
    # Gas: 5 kWh a day without heating + 2 kWh per degree-day.
    # January 2024: 12 DJU a day → 29 kWh a day; January 2025: 10 DJU → 25 kWh a day;
    # July 2025: 0 DJU → 5 kWh a day (the non-heating level).
    by_day: dict[date, tuple[float, float]] = {}
    for day in (date(2024, 1, 1) + timedelta(days=i) for i in range(31)):
        by_day[day] = (12, 29_000)
    for day in (date(2025, 1, 1) + timedelta(days=i) for i in range(31)):
        by_day[day] = (10, 25_000)
    for day in (date(2025, 7, 1) + timedelta(days=i) for i in range(31)):
        by_day[day] = (0, 5_000)
    gas = consumption(
        {"kind": "gas", "unit": "Wh", "reading_type": "daily_consumption", "meter_id": "g"},
        np.array([Period("day", d).bounds(TZ)[0] for d in by_day], dtype=np.int64),
        np.array([v[1] for v in by_day.values()]),
    )
    ref = Reference(BOOK, DegreeDays({d: v[0] for d, v in by_day.items()}), CALENDAR, "t")
    found = weather(gas, Period.parse("2025-01"), ref, TZ)
    assert found is not None
    # 775 kWh at 310 DJU against 899 kWh at 372 DJU: −13.8 % raw, but at last year's
    # weather 155 + (775 − 155) × 372 / 310 = 155 + 744 = 899 kWh: no change in habits.
    assert (found["dju"], found["dju_last_year"]) == (310.0, 372.0)
    assert found["non_heating_per_day"] == 5_000
    assert found["total_at_last_year_weather"] == 899_000
    assert found["change_pct_corrected"] == 0.0
    assert weather(gas, Period.parse("2025-02"), ref, TZ) is None  # no degree-days known


# --- gestures, alerts ---------------------------------------------------------------------


def test_catalogue_is_bilingual_and_valid() -> None:
    gestures = catalogue()
    assert len(gestures) >= 10
    assert all(g.title["fr"] and g.title["en"] and g.advice["fr"] for g in gestures)
    assert len({g.id for g in gestures}) == len(gestures)


def test_gesture_estimates_for_this_household() -> None:
    figures = HouseholdFigures(
        electricity_wh=5_183_000,
        base_load_wh=2_628_000,
        water_l=120_000,
        euros_per_kwh={"electricity": 0.20},
        euros_per_m3=3.5,
    )
    found = {g["id"]: g["saving"] for g in top_gestures(figures)}
    # Standby: 30 % of the 2628 kWh base load = 788.4 kWh; × 0.20 € = 157.68 € → 15 768
    # cents; × 0.052 kg CO2e/kWh = 40.9968 → 41.0 kg
    assert found["standby-off"] == {"wh": 788_400, "litres": None, "cents": 15_768, "kg_co2e": 41.0}
    # Shorter showers: 10 % of 120 000 L = 12 000 L × 3.5 €/m³ = 42 € → 4200 cents
    assert found["shorter-showers"] == {
        "wh": None,
        "litres": 12_000,
        "cents": 4_200,
        "kg_co2e": 0.0,
    }
    assert "heating-minus-one-degree" not in found  # no gas meter: does not apply
    ranked = [g["saving"]["cents"] for g in top_gestures(figures)]
    assert ranked == sorted(ranked, reverse=True)


def test_alerts_over_daily_and_monthly_thresholds(elec: Consumption) -> None:
    rules = [
        {"id": "r1", "kind": "electricity", "period": "day", "threshold": 14.3, "unit": "kWh"},
        {
            "id": "r2",
            "kind": "electricity",
            "period": "month",
            "threshold": 440.3,
            "unit": "kWh",
        },
        {"id": "r3", "kind": "water", "period": "day", "threshold": 1, "unit": "L"},
        {
            "id": "r4",
            "kind": "electricity",
            "period": "day",
            "threshold": 1,
            "unit": "kWh",
            "active": False,
        },
    ]
    now = datetime(2025, 12, 31, 12, tzinfo=PARIS)
    found = evaluate_alerts(rules, [elec], TZ, now, since=date(2025, 1, 1))
    assert [a["rule_id"] for a in found] == ["r1", "r2"]
    # Only 26 October (25 h: 14.5 kWh) is over 14.3 kWh; ordinary days are 14.2 kWh.
    assert found[0]["exceeded"] == [
        {"period": "2025-10-26", "value": 14.5, "threshold": 14.3, "excess_pct": 1.4}
    ]
    assert found[0]["ongoing"] == {"period": "2025-12-31", "value": 14.2, "over": False}
    # Months: 31-day months hold 440.2 kWh, October (745 h) 440.5 kWh.
    assert [e["period"] for e in found[1]["exceeded"]] == ["2025-10"]


# --- the answers as a whole -----------------------------------------------------------------


def test_overview_and_reports(elec: Consumption) -> None:
    now = datetime(2026, 1, 5, 9, tzinfo=PARIS)
    found = overview([elec], _ref(), TZ, now)
    meter = found["meters"][0]
    assert meter["meter"]["first"] == "2024-01-01T00:00:00+01:00"
    assert meter["last_day"]["period"] == "2025-12-31"
    assert meter["last_month"]["total"] == 440_200
    assert meter["base_load"]["watts"] == 300.0
    assert [y["total"] for y in meter["years"]] == [4_758_000, 5_183_000, None]
    assert meter["last_365_days"]["cost"]["tariff"] == "t-hphc"
    json.dumps(found)  # plain, renderable data
    view = period_view([elec], _ref(), TZ, Period.parse("2025-03"))
    assert view["meters"][0]["total"] == 439_900
    assert view["meters"][0]["cost"]["subscription_cents"] == 2_019
    report = monthly_report([elec], _ref(), TZ, Period.parse("2025-10"), now)
    month = report["meters"][0]
    assert month["total"] == 440_500
    assert month["previous_month"]["total"] == 300 * 720 + 30 * 7000  # September: 426 000
    assert month["base_load"]["watts"] == 300.0
    assert report["gestures"][0]["id"] == "standby-off"
    figures = household([elec], _ref(), TZ, date(2026, 1, 1))
    assert figures.electricity_wh == 5_183_000


# --- reference data files ------------------------------------------------------------------


def test_packaged_tariffs_have_the_three_regulated_options() -> None:
    book = packaged_tariffs()
    options = {t.option for t in book.tariffs if t.energy == "electricity"}
    assert options == {"base", "hphc", "tempo"}
    assert book.for_meter(METER, date(2025, 6, 1)).id == "trve-hphc"  # type: ignore[union-attr]


def test_packaged_tariffs_name_their_source_and_change_on_1_august_2025() -> None:
    book = packaged_tariffs()
    assert all(t.source for t in book.tariffs)
    before = book.get("trve-base", date(2025, 7, 31))
    after = book.get("trve-base", date(2025, 8, 1))
    assert before is not None and after is not None
    assert (before.prices["base"], after.prices["base"]) == (Decimal("0.2016"), Decimal("0.1952"))
    assert after.subscription(6) == Decimal("15.47") and not after.indicative
    # Figures that could not be confirmed are flagged, the water price is a placeholder.
    assert book.get("trve-tempo", date(2025, 3, 1)).indicative  # type: ignore[union-attr]
    assert book.get("water-reference", date(2026, 1, 1)).indicative  # type: ignore[union-attr]


def test_tariff_files_without_the_indicative_flag_still_load() -> None:
    book = parse_tariffs(TARIFFS_YAML, "t.yaml")
    assert not any(t.indicative for t in book.tariffs)
    assert not any(t.prices_by_kva for t in book.tariffs)


def test_prices_that_depend_on_the_subscribed_power(elec: Consumption) -> None:
    """Since February 2026 the Base kWh costs 0.1940 € at 3–6 kVA, 0.1927 € from 9 kVA."""
    book = parse_tariffs(
        """
version: 1
tariffs:
  - {id: b26, energy: electricity, option: base, name: {fr: B, en: B}, valid_from: 2026-02-01,
     prices: {base: "0.1940"}, prices_by_kva: {"9": {base: "0.1927"}}}
""",
        "t.yaml",
    )
    (tariff,) = book.tariffs
    lo, hi = _bounds(date(2025, 1, 1), date(2026, 1, 1))
    # 5183 kWh × 0.1940 = 1005.502 € ; × 0.1927 = 998.7641 €
    assert cost(elec, tariff, TZ, lo, hi, kva=6).energy_cents == 100_550
    assert cost(elec, tariff, TZ, lo, hi, kva=9).energy_cents == 99_876
    assert cost(elec, tariff, TZ, lo, hi).energy_cents == 100_550  # power unknown
    # 300 W all year: 2628 kWh × 0.1927 = 506.4156 €
    assert constant_power_cost(300, tariff, 9) == (2628.0, 50_642)
    shipped = packaged_tariffs().get("trve-base", date(2026, 3, 1))
    assert shipped is not None
    assert shipped.prices_for(6)["base"] == Decimal("0.1940")
    assert shipped.prices_for(36)["base"] == Decimal("0.1927")
    with pytest.raises(ValidationFailed) as bad:
        parse_tariffs(
            TARIFFS_YAML.replace(
                'prices: {base: "0.2016"}',
                'prices: {base: "0.2016"}, prices_by_kva: {"9": {hp: "0.1"}}',
            ),
            "bad.yaml",
        )
    assert "prices_by_kva 9 may only set base" in str(bad.value.errors[0].message)


def test_operator_reference_files(tmp_path: Path) -> None:
    assert current(tmp_path).tariffs_origin == "package"
    (tmp_path / "t.yaml").write_text(TARIFFS_YAML, "utf-8")
    import_tariffs(tmp_path, tmp_path / "t.yaml")
    assert current(tmp_path).tariffs.get("t-tempo", date(2025, 6, 1)) is not None
    bad = tmp_path / "bad.yaml"
    bad.write_text(TARIFFS_YAML.replace('hc: "0.1696"', 'hx: "0.1696"'), "utf-8")
    with pytest.raises(ValidationFailed, match="not a valid tariff file") as caught:
        import_tariffs(tmp_path, bad)
    assert "exactly hc, hp" in caught.value.errors[0].message
    assert current(tmp_path).tariffs.get("t-hphc", date(2025, 6, 1)) is not None  # unchanged
    import_degree_days(tmp_path, SAMPLES / "meteo-france-daily.csv", station="Lyon-Bron")
    dju = current(tmp_path).degree_days
    assert (dju.station, dju.by_day[date(2025, 1, 1)]) == ("Lyon-Bron", 16.5)
    (tmp_path / "tempo.csv").write_text("date;couleur\n2025-01-15;rouge\n2025-01-16;blanc\n")
    assert import_tempo(tmp_path, tmp_path / "tempo.csv") == 2
    codes, missing = current(tmp_path).tempo.codes_for(np.array([20103, 20104, 20105]))
    assert (codes.tolist(), missing) == ([2, 1, 0], 1)  # 2025-01-15, -16 and an unknown day


def test_pyproject_declares_every_energy_question() -> None:
    import importlib
    import tomllib

    from selfdata.questions import BuiltinQuestion

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    declared = tomllib.loads(pyproject.read_text("utf-8"))["project"]["entry-points"][
        "selfdata.questions"
    ]
    energy = {k: v for k, v in declared.items() if k.startswith("energy.")}
    assert set(energy) == {
        "energy.overview",
        "energy.period",
        "energy.monthly_report",
        "energy.gestures",
        "energy.alerts",
    }
    for name, target in energy.items():
        module, attr = target.split(":")
        cls = getattr(importlib.import_module(module), attr)
        assert issubclass(cls, BuiltinQuestion)
        assert cls.name == name
        assert set(cls.description) == {"fr", "en"}


def test_gas_and_water_meters_in_the_answers(elec: Consumption) -> None:
    days = np.array(
        [Period("day", date(2025, 1, 1) + timedelta(days=i)).bounds(TZ)[0] for i in range(365)]
    )
    gas = consumption(
        {"kind": "gas", "unit": "kWh", "reading_type": "daily_consumption", "meter_id": "g"},
        days,
        # 40 kWh a day January–March and October–December (182 days), 5 kWh a day from
        # April to September (183 days): 7280 + 915 = 8195 kWh in 2025.
        np.array([40.0 if (i < 90 or i >= 273) else 5.0 for i in range(365)]),
    )
    water = consumption(
        {"kind": "water", "unit": "L", "reading_type": "daily_consumption", "meter_id": "w"},
        days,
        np.full(365, 300.0),  # 300 L a day
    )
    now = datetime(2026, 1, 1, 9, tzinfo=PARIS)
    found = overview([elec, gas, water], _ref(), TZ, now)
    kinds = [m["meter"]["kind"] for m in found["meters"]]
    assert kinds == ["electricity", "gas", "water"]
    gas_year, water_year = found["meters"][1]["years"][-2], found["meters"][2]["years"][-2]
    assert (gas_year["total"], water_year["total"]) == (8_195_000, 109_500)
    assert found["meters"][1]["base_load"] is None  # daily meters: no base load
    march = period_view([gas], _ref(), TZ, Period.parse("2025-03"))["meters"][0]
    assert (march["total"], march["coverage"]) == (31 * 40_000, 1.0)  # 743 h, 31 days
    # t-gas: 8195 kWh × 0.10 € = 819.50 € a year
    assert found["meters"][1]["last_365_days"]["cost"]["energy_cents"] == 81_950
    report = monthly_report(
        [elec, gas, water], _ref(), TZ, Period.parse("2025-12"), now, gestures=20
    )
    found_gestures = {g["id"]: g["saving"] for g in report["gestures"]}
    assert {"standby-off", "shorter-showers"} <= set(found_gestures)
    # Heating: 8195 kWh − 365 × 5 kWh (the June–August level, no degree-days known) =
    # 6370 kWh; one degree less saves 7 %: 445.9 kWh, × 0.227 × 0.901 kg CO2e/kWh PCS
    heating = found_gestures["heating-minus-one-degree"]
    assert heating["wh"] == 445_900
    assert heating["cents"] == 4_459  # 445.9 kWh × 0.10 €
    assert heating["kg_co2e"] == round(445.9 * 0.2045, 2)
    json.dumps(report)


def test_answers_match_the_declared_schemas(elec: Consumption) -> None:
    from jsonschema import Draft202012Validator

    from selfdata.energy import questions as q

    now = datetime(2026, 1, 5, 9, tzinfo=PARIS)
    answers = {
        q.OverviewQuestion: overview([elec], _ref(), TZ, now),
        q.PeriodQuestion: period_view([elec], _ref(), TZ, Period.parse("2025-03-30")),
        q.MonthlyReportQuestion: monthly_report([elec], _ref(), TZ, Period.parse("2025-10"), now),
        q.GesturesQuestion: {"gestures": top_gestures(household([elec], _ref(), TZ, now.date()))},
        q.AlertsQuestion: {
            "since": "2025-01-01",
            "alerts": evaluate_alerts(
                [{"kind": "electricity", "period": "day", "threshold": 1.0, "unit": "kWh"}],
                [elec],
                TZ,
                now,
                since=date(2025, 12, 1),
            ),
        },
    }
    for question, answer in answers.items():
        Draft202012Validator.check_schema(question.params_schema)
        Draft202012Validator.check_schema(question.answer_schema)
        errors = list(Draft202012Validator(question.answer_schema).iter_errors(answer))
        assert not errors, (question.name, errors[:1])
        assert len(json.dumps(answer)) < question.max_answer_bytes
    broken = {"since": "x", "alerts": [{"kind": "electricity"}]}
    assert list(Draft202012Validator(q.AlertsQuestion.answer_schema).iter_errors(broken))


def test_off_peak_split_agrees_with_the_demo_household() -> None:
    """The demo's generator counts its own off-peak kWh slot by slot (22:00–06:00); the
    service's split of the same load curve must agree to the Wh, DST months included."""
    from selfdata.demo import energy as demo_energy
    from selfdata.demo.life import Life

    life = Life(7, date(2025, 1, 1), date(2025, 12, 31))
    data = demo_energy.generate(life, life.start, life.end)
    meter = next(m for m in demo_energy._METERS if m["kind"] == "electricity")
    curve = consumption(meter, data.ts, data.wh)
    hphc = packaged_tariffs().get("trve-hphc", date(2025, 6, 1))
    assert hphc is not None
    for first, month in sorted(data.months.items()):
        lo, hi = Period("month", first).bounds(TZ)
        split = cost(curve, hphc, TZ, lo, hi).by_period
        assert round(split["hp"]["amount"]) == round(month.hp_kwh * 1000), first
        assert round(split["hc"]["amount"]) == round(month.hc_kwh * 1000), first


def test_no_meter_and_gaps_give_nulls_not_errors() -> None:
    now = datetime(2026, 1, 5, 9, tzinfo=PARIS)
    assert overview([], _ref(), TZ, now)["meters"] == []
    assert monthly_report([], _ref(), TZ, Period.parse("2025-12"), now)["gestures"] == []
    gappy = WH.copy()
    start_2025 = Period.parse("2025").bounds(TZ)[0]
    gappy[np.less(TS, start_2025)] = np.nan  # 2024 missing entirely
    c = consumption(METER, TS, gappy)
    year = period_summary(c, Period.parse("2024"), TZ, detail=False)
    assert (year["total"], year["coverage"]) == (None, 0.0)
    assert period_summary(c, Period.parse("2025"), TZ)["last_year"]["change_pct"] is None
    assert base_load(window(c), TZ)["watts"] == 300.0  # type: ignore[index]
