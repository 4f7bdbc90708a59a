"""Record values as the web app shows them: per field type, in French and English."""

from __future__ import annotations

import pytest

from selfdata.doctypes.builtin import default_registry
from selfdata.web.pages.i18n import Formatter, Lang, translations
from selfdata.web.pages.values import ValueFormatter

REGISTRY = default_registry()
NNBSP, NBSP = "\u202f", "\xa0"


def _values(doctype: str, lang: Lang) -> ValueFormatter:
    fmt = Formatter(lang, "Europe/Paris")
    return ValueFormatter(REGISTRY.get(doctype), fmt, translations(lang).gettext)


TX = {
    "account_id": "FR76-0189",
    "booked_on": "2026-03-01",
    "amount": "-1234.50",
    "currency": "EUR",
    "label": "CB CARREFOUR " + "X" * 100,
    "original_amount": "-12.00",
    "original_currency": "USD",
    "occurrence": 1200,
    "payment_method": "direct_debit",
}


def test_money_dates_and_numbers_in_french() -> None:
    values = _values("bank.transaction", "fr")
    assert values.label("amount") == "Montant"
    assert values.value("amount", TX) == f"-1{NNBSP}234,50{NBSP}€"
    assert values.value("original_amount", TX) == f"-12,00{NBSP}$US"
    assert values.value("booked_on", TX) == "1 mars 2026"
    assert values.value("occurrence", TX) == f"1{NNBSP}200"
    assert values.value("payment_method", TX) == "Prélèvement"
    assert values.value("payment_method", {"payment_method": "barter"}) == "barter"
    assert values.value("memo", TX) == ""  # absent
    short = values.value("label", TX, short=True)
    assert len(short) == 80 and short.endswith("…")
    assert values.value("label", TX) == TX["label"]  # the record page shows it all


def test_money_dates_and_numbers_in_english() -> None:
    values = _values("bank.transaction", "en")
    assert values.label("booked_on") == "Booking date"
    assert values.value("amount", TX) == "-€1,234.50"
    assert values.value("booked_on", TX) == "Mar 1, 2026"
    assert values.value("payment_method", TX) == "Direct debit"


@pytest.mark.parametrize(
    ("lang", "yes", "when"),
    [("fr", "Oui", "9 mars 2026, 14:30:00"), ("en", "Yes", "Mar 9, 2026, 2:30:00")],
)
def test_booleans_instants_and_lists_of_dates(lang: Lang, yes: str, when: str) -> None:
    values = _values("calendar.event", lang)
    event = {"start": "2026-03-09T13:30:00Z", "all_day": True, "exception_dates": ["2026-03-16"]}
    assert values.value("all_day", event) == yes
    assert values.value("start", event).replace(NNBSP, " ").startswith(when)
    assert "2026" in values.value("exception_dates", event)
    assert "-03-" not in values.value("exception_dates", event)


def test_a_measure_shows_its_unit() -> None:
    values = _values("health.observation", "fr")
    observation = {"value_quantity": "5.40", "value_unit": "mmol/L", "reference_low": "3.9"}
    assert values.value("value_quantity", observation) == "5,40 mmol/L"  # the lab's scale
    assert values.value("reference_low", observation) == "3,9 mmol/L"
    trip = _values("mobility.trip", "fr")
    assert trip.value("start_lat", {"start_lat": 45.764043}) == "45,764043"
    assert trip.value("started_at", {"started_at": "2026-03-01T07:00:00+00:00"}).startswith(
        "1 mars 2026"
    )
