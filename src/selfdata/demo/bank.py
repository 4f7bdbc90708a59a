"""Banking: a joint current account and a Livret A at LCL, with a year of statements.

Entries are drawn day by day with date-keyed randomness, from :data:`ANCHOR` on: balances
are carried from there, so any window shows the same entries and balances for the same
days. An automatic sweep ("épargne automatique") brings the current account back to
1,600.00 € on the 20th of each month (or the banking day before), moving the difference to
or from the Livret A, which earns its regulated rate; in January, savings above 15,000 €
move on to a life insurance.

Labels follow French statements: ``CB MERCHANT dd/mm`` for a card payment (booked on the
next banking day), ``PRLV SEPA …`` for direct debits, ``VIR …`` for transfers. There is
no bank-given id (a CSV export), so ``occurrence`` tells apart two genuine look-alikes.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from selfdata.access import SpaceView

from .energy import Bill
from .life import ANCHOR, CAMILLE, KARIM, Life, Person

__all__ = ["CHECKING", "SAVINGS", "Entry", "accounts", "generate", "salary", "tax_balance", "write"]

Method = Literal["card", "transfer", "direct_debit", "check", "cash", "fee", "interest", "other"]

_CENT = Decimal("0.01")
_THRESHOLD = Decimal("1600.00")
_SWEEP = "VIR EPARGNE AUTOMATIQUE"
_OPENING_CHECKING = _THRESHOLD
_OPENING_SAVINGS = Decimal("6850.55")
_SAVINGS_CAP, _TO_LIFE_INSURANCE = Decimal("15000.00"), Decimal("5000.00")
_MONTHS_FR = (
    "JANVIER",
    "FEVRIER",
    "MARS",
    "AVRIL",
    "MAI",
    "JUIN",
    "JUILLET",
    "AOUT",
    "SEPTEMBRE",
    "OCTOBRE",
    "NOVEMBRE",
    "DECEMBRE",
)
# Livret A rate from each date on (annual, %).
_LIVRET_A = (
    (date(2000, 1, 1), Decimal("0.5")),
    (date(2022, 2, 1), Decimal("1.0")),
    (date(2022, 8, 1), Decimal("2.0")),
    (date(2023, 2, 1), Decimal("3.0")),
    (date(2025, 2, 1), Decimal("2.4")),
    (date(2025, 8, 1), Decimal("1.7")),
    (date(2026, 2, 1), Decimal("1.5")),
)


def _french_iban(bank: str, branch: str, account: str) -> str:
    key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
    bban = f"{bank}{branch}{account}{key:02d}"
    check = 98 - int(bban + "152700") % 97  # "FR00" with F=15, R=27
    return f"FR{check:02d}{bban}"


_CHECKING_IBAN = _french_iban("30002", "00758", "00008412735")
_SAVINGS_IBAN = _french_iban("30002", "00758", "00008412776")
CHECKING = f"{_CHECKING_IBAN[:4]}****{_CHECKING_IBAN[-4:]}"
SAVINGS = f"{_SAVINGS_IBAN[:4]}****{_SAVINGS_IBAN[-4:]}"
_HOLDERS = "MME ROUSSEAU CAMILLE OU M BENALI KARIM"


def accounts() -> list[dict[str, Any]]:
    common = {"bank": "LCL", "currency": "EUR", "bic": "CRLYFRPP"}
    return [
        {
            **common,
            "account_id": CHECKING,
            "label": "Compte joint",
            "account_type": "checking",
            "iban": _CHECKING_IBAN,
            "holder_name": _HOLDERS,
            "opened_on": "2014-06-02",
        },
        {
            **common,
            "account_id": SAVINGS,
            "label": "Livret A",
            "account_type": "savings",
            "iban": _SAVINGS_IBAN,
            "holder_name": "MME ROUSSEAU CAMILLE",
            "opened_on": "2016-10-03",
        },
    ]


@dataclass(frozen=True, slots=True)
class Entry:
    account: str
    booked_on: date
    amount: Decimal
    label: str
    category: str
    method: Method
    counterparty: str | None = None
    value_date: date | None = None
    memo: str | None = None

    @property
    def rank(self) -> int:
        """Order within a day: credits, then debits, then the sweep."""
        if self.label.startswith(_SWEEP):
            return 2
        return 0 if self.amount > 0 else 1


def _eur(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP)


def _draw(r: random.Random, median: float, sigma: float, low: float, high: float) -> Decimal:
    return _eur(min(high, max(low, r.lognormvariate(math.log(median), sigma))))


def salary(life: Life, person: Person, year: int, month: int) -> Decimal:
    """Net pay for ``month``: date-keyed, so the payslip and the bank agree."""
    r = life.rng(f"salary-{person.given}", year * 12 + month)
    if person is CAMILLE:  # data engineer at 80 %, thirteenth month in December
        net = 1951.40 + r.uniform(-25, 25)
        if month == 12:
            net += 1835.00
        return _eur(net)
    return _eur(1968.10 + r.uniform(-60, 220))  # nurse: night and Sunday allowances vary


def tax_balance(life: Life, year: int) -> Decimal:
    """What is left to pay on ``year - 1``'s income tax after the withholding."""
    return _eur(life.rng("tax", year).uniform(140, 330))


# (label, counterparty, category, median €, sigma, min, max)
_Shop = tuple[str, str, str, float, float, float, float]
_WEEKDAY_SHOPS: tuple[tuple[float, _Shop], ...] = (
    (0.22, ("CARREFOUR CITY JEAN MACE", "Carrefour City", "groceries", 23, 0.45, 2.5, 70)),
    (0.13, ("MONOPRIX LYON GUILLOTIERE", "Monoprix", "groceries", 32, 0.5, 4, 120)),
    (0.09, ("BIOCOOP LYON GUILLOTIERE", "Biocoop", "groceries", 36, 0.45, 5, 110)),
    (0.05, ("LIDL LYON GERLAND", "Lidl", "groceries", 42, 0.4, 8, 140)),
    (0.035, ("SALON L ATELIER COIFFURE", "L'Atelier Coiffure", "personal_care", 36, 0.4, 14, 90)),
    (0.035, ("PHARMACIE JEAN MACE", "Pharmacie Jean Macé", "health", 13, 0.6, 2.2, 60)),
    (0.05, ("AMAZON PAYMENTS", "Amazon", "shopping", 29, 0.7, 5, 180)),
    (0.04, ("FNAC BELLECOUR", "Fnac", "shopping", 32, 0.7, 6, 250)),
)
_WEEKEND_SHOPS: tuple[tuple[float, _Shop], ...] = (
    (0.07, ("DECATHLON GERLAND", "Decathlon", "leisure", 38, 0.7, 5, 220)),
    (0.08, ("KIABI LYON PART DIEU", "Kiabi", "shopping", 46, 0.5, 8, 160)),
    (0.06, ("ZARA LYON REPUBLIQUE", "Zara", "shopping", 58, 0.5, 10, 220)),
    (0.05, ("LIBRAIRIE PASSAGES", "Librairie Passages", "leisure", 19, 0.5, 6, 80)),
    (0.025, ("IKEA VENISSIEUX", "IKEA", "home", 95, 0.7, 10, 450)),
    (0.04, ("LA GRANDE RECRE LYON", "La Grande Récré", "gifts", 34, 0.5, 8, 120)),
    (0.05, ("CINEMA COMOEDIA", "Cinéma Comoedia", "leisure", 24, 0.2, 7.5, 40)),
    (0.02, ("MUSEE DES CONFLUENCES", "Musée des Confluences", "leisure", 21, 0.1, 9, 30)),
)
_RESTAURANTS = (
    ("BRASSERIE GEORGES", "Brasserie Georges"),
    ("BOUCHON DANIEL ET DENISE", "Daniel et Denise"),
    ("LE KITCHEN CAFE", "Le Kitchen Café"),
    ("PIZZERIA POPOLARE LYON", "Popolare"),
    ("SUSHI SHOP LYON 7", "Sushi Shop"),
    ("LA MAISON THAI", "La Maison Thaï"),
)
_AWAY_SHOPS = {
    "Paris": (
        ("MONOPRIX PARIS 11", "groceries"),
        ("CAFE CHARLOT PARIS", "restaurants"),
        ("RATP", "transport"),
        ("MUSEE D ORSAY", "leisure"),
    ),
    "Marseille": (
        ("CARREFOUR CITY MARSEILLE", "groceries"),
        ("CHEZ FONFON MARSEILLE", "restaurants"),
        ("GLACES DU VIEUX PORT", "restaurants"),
        ("RTM MARSEILLE", "transport"),
    ),
    "Annecy": (
        ("CARREFOUR ANNECY", "groceries"),
        ("LA CIBOULETTE ANNECY", "restaurants"),
        ("FROMAGERIE ANNECY VIEILLE VILLE", "groceries"),
    ),
}
_BREAD = ("1.30", "1.30", "2.60", "3.90", "4.20", "6.80", "12.40")
_COFFEE = ("2.20", "2.50", "3.80")


class _Book:
    """Entries being drawn, with the card-payment booking rule."""

    def __init__(self, life: Life) -> None:
        self.life = life
        self.entries: list[Entry] = []

    def add(
        self,
        booked: date,
        amount: Decimal,
        label: str,
        category: str,
        method: Method,
        counterparty: str | None = None,
        memo: str | None = None,
        account: str = CHECKING,
        value_date: date | None = None,
    ) -> None:
        self.entries.append(
            Entry(account, booked, amount, label, category, method, counterparty, value_date, memo)
        )

    def card(
        self,
        day: date,
        amount: Decimal,
        merchant: str,
        category: str,
        counterparty: str | None = None,
    ) -> None:
        booked = self.life.next_business_day(day + timedelta(days=1))
        self.add(
            booked,
            -amount,
            f"CB {merchant} {day:%d/%m}",
            category,
            "card",
            counterparty,
            value_date=day,
        )

    def debit(
        self,
        day: date,
        amount: Decimal,
        creditor: str,
        category: str,
        counterparty: str,
        memo: str | None = None,
    ) -> None:
        self.add(
            self.life.next_business_day(day),
            -amount,
            f"PRLV SEPA {creditor}",
            category,
            "direct_debit",
            counterparty,
            memo,
        )


def _daily(book: _Book, day: date) -> None:
    life = book.life
    r = life.rng("bank", day)
    trip = next((t for t in life.trips(day.year) if t.depart.date() <= day <= t.back.date()), None)
    if trip is not None and trip.depart.date() < day < trip.back.date():
        for merchant, category in _AWAY_SHOPS[trip.destination]:
            if r.random() < 0.45:
                median = 48.0 if category == "restaurants" else 22.0
                book.card(day, _draw(r, median, 0.5, 2, 160), merchant, category)
        return
    weekend = day.weekday() >= 5 or life.is_public_holiday(day)
    if r.random() < (0.6 if weekend else 0.33):
        label = "AU FOURNIL DE LA GUILLOTIERE"
        book.card(day, Decimal(r.choice(_BREAD)), label, "groceries", "Au Fournil")
    if day.weekday() == 5 and r.random() < 0.8:
        book.card(
            day,
            _draw(r, 104, 0.3, 25, 240),
            "CARREFOUR MARKET GERLAND",
            "groceries",
            "Carrefour Market",
        )
    if day.weekday() == 6 and r.random() < 0.35:
        book.card(
            day,
            _draw(r, 38, 0.45, 8, 120),
            "HALLES PAUL BOCUSE",
            "groceries",
            "Halles de Lyon Paul Bocuse",
        )
    for p, (label, who, category, median, sigma, low, high) in (
        _WEEKEND_SHOPS if weekend else _WEEKDAY_SHOPS
    ):
        if r.random() < p:
            book.card(day, _draw(r, median, sigma, low, high), label, category, who)
    if life.works(day):
        if r.random() < 0.28:  # a coffee at work, sometimes a second identical one
            price = Decimal(r.choice(_COFFEE))
            book.card(day, price, "CAFE DE LA DOUA", "restaurants", "Café de la Doua")
            if r.random() < 0.2:
                book.card(day, price, "CAFE DE LA DOUA", "restaurants", "Café de la Doua")
        if r.random() < 0.2:
            book.card(
                day,
                _draw(r, 12.5, 0.2, 7, 22),
                "LE COMPTOIR DE LA DOUA",
                "restaurants",
                "Le Comptoir de la Doua",
            )
    if r.random() < (0.16 if day.weekday() in (4, 5) else 0.02):
        label, who = r.choice(_RESTAURANTS)
        book.card(day, _draw(r, 58, 0.35, 18, 160), label, "restaurants", who)
    if day.weekday() in (4, 5, 6) and r.random() < 0.14:
        book.card(day, _draw(r, 31, 0.3, 12, 80), "DELIVEROO", "restaurants", "Deliveroo")
    if r.random() < 0.045:
        amount = Decimal(r.choice(("20.00", "40.00", "40.00", "60.00")))
        book.add(day, -amount, f"RETRAIT DAB {day:%d/%m} LYON JEAN MACE", "cash", "cash", "LCL")
    if r.random() < 0.012:
        friend = r.choice(("THOMAS LEROY", "CLAIRE FAURE", "JULIE GIRARD", "NADIA BENALI"))
        reason = r.choice(("REMB RESTO", "REMB COURSES", "CADEAU COMMUN", "REMB PLACES CONCERT"))
        book.add(
            day,
            _draw(r, 28, 0.5, 8, 90),
            f"VIR INST DE {friend} {reason}",
            "transfer",
            "transfer",
            friend.title(),
        )
    if r.random() < 0.008:
        friend = r.choice(("CLAIRE FAURE", "ANTOINE GIRARD", "NADIA BENALI"))
        book.add(
            day,
            -_draw(r, 35, 0.5, 10, 120),
            f"VIR INST VERS {friend} PART WEEK-END",
            "transfer",
            "transfer",
            friend.title(),
        )


def _monthly(book: _Book, year: int, month: int, bills_by_month: dict[date, list[Bill]]) -> None:
    life = book.life
    first = date(year, month, 1)
    name = f"{_MONTHS_FR[month - 1]} {year}"
    pay_c = life.last_business_day(year, month)
    book.add(
        pay_c,
        salary(life, CAMILLE, year, month),
        f"VIR SEPA SALAIRE {name} RHONE DATA SAS",
        "income",
        "transfer",
        "Rhône Data SAS",
    )
    pay_k = date(year, month, 27)
    while not life.is_business_day(pay_k):
        pay_k -= timedelta(days=1)
    book.add(
        pay_k,
        salary(life, KARIM, year, month),
        f"VIR SEPA HOSPICES CIVILS DE LYON SALAIRE {name}",
        "income",
        "transfer",
        "Hospices Civils de Lyon",
    )
    book.add(
        life.next_business_day(first.replace(day=3)),
        Decimal("-1265.00"),
        "VIR PERMANENT LOYER REGIE SAINT-LOUP",
        "housing",
        "transfer",
        "Régie Saint-Loup",
        f"LOYER ET CHARGES {name}",
    )
    book.debit(
        first.replace(day=4),
        Decimal("29.99"),
        "FREE TELECOM",
        "telecom",
        "Free",
        "FREEBOX REVOLUTION",
    )
    book.debit(first.replace(day=7), Decimal("21.99"), "FREE MOBILE", "telecom", "Free Mobile")
    book.debit(
        first.replace(day=5),
        Decimal("62.40"),
        "HARMONIE MUTUELLE",
        "insurance",
        "Harmonie Mutuelle",
        "COTISATION MUTUELLE",
    )
    book.debit(
        first.replace(day=10),
        Decimal("28.73"),
        "MAIF",
        "insurance",
        "MAIF",
        "ASSURANCE HABITATION RAQVAM",
    )
    book.debit(
        first.replace(day=1),
        Decimal("68.00"),
        "SYTRAL MOBILITES TCL",
        "transport",
        "TCL",
        "TICK'ABONNEMENT MENSUEL",
    )
    book.debit(
        first.replace(day=8),
        Decimal("15.00"),
        "MEDECINS SANS FRONTIERES",
        "donations",
        "Médecins Sans Frontières",
        "DON MENSUEL",
    )
    book.add(
        life.next_business_day(first.replace(day=2)),
        Decimal("-8.90"),
        "COTISATION OFFRE LCL ESSENTIEL",
        "fees",
        "fee",
        "LCL",
    )
    book.debit(
        first.replace(day=10),
        Decimal("50.00"),
        "CAISSE D EPARGNE LIVRET A LEA",
        "savings",
        "Caisse d'Épargne",
        "EPARGNE LEA",
    )
    if month in (1, 2, 3, 4, 5, 6, 9, 10, 11, 12):
        book.debit(
            first.replace(day=6),
            Decimal("45.00"),
            "STUDIO YOGA LYON 7",
            "leisure",
            "Studio Yoga Lyon 7",
            "ABONNEMENT MENSUEL",
        )
    if month in (3, 5, 8, 11):
        book.debit(
            first.replace(day=16),
            Decimal("96.60"),
            "VILLE DE LYON",
            "education",
            "Ville de Lyon",
            "CENTRE DE LOISIRS VACANCES",
        )
    r = life.rng("citiz", year * 12 + month)
    trips = r.randrange(0, 4)
    if trips:
        book.debit(
            first.replace(day=9),
            _eur(sum(r.uniform(18, 62) for _ in range(trips))),
            "CITIZ AUTOPARTAGE",
            "transport",
            "Citiz",
            f"{trips} RESERVATION(S)",
        )
    book.card(first.replace(day=18), Decimal("13.49"), "NETFLIX.COM", "subscriptions", "Netflix")
    book.card(first.replace(day=22), Decimal("17.99"), "SPOTIFY FAMILY", "subscriptions", "Spotify")
    prev = first - timedelta(days=1)
    school_days = sum(life.school_day(d) for d in life.days(prev.replace(day=1), prev))
    if school_days:
        book.debit(
            first.replace(day=15),
            _eur(school_days * 4.12),
            "VILLE DE LYON",
            "education",
            "Ville de Lyon",
            f"RESTAURATION ET PERISCOLAIRE {_MONTHS_FR[prev.month - 1]}",
        )
    for bill in bills_by_month.get(first, []):
        creditor = {
            "electricity": "EDF CLIENTS PARTICULIERS",
            "gas": "ENGIE",
            "water": "EAU DU GRAND LYON",
        }[bill.kind]
        category = "water" if bill.kind == "water" else "energy"
        book.debit(
            bill.debit_on,
            bill.amount,
            creditor,
            category,
            bill.supplier,
            f"FACTURE {bill.reference}",
        )


def _yearly(book: _Book, year: int) -> None:
    life = book.life
    r = life.rng("bank-year", year)
    book.card(date(year, 3, 2), Decimal("31.00"), "VELOV JCDECAUX", "transport", "Vélo'v")
    book.debit(
        date(year, 9, 25),
        tax_balance(life, year),
        "DGFIP IMPOT",
        "taxes",
        "DGFiP",
        f"SOLDE IMPOT SUR LE REVENU {year - 1}",
    )
    book.card(
        date(year, 12, r.randrange(10, 20)),
        _draw(r, 420, 0.2, 250, 700),
        "FNAC BELLECOUR",
        "shopping",
        "Fnac",
    )
    book.card(
        date(year, 3, r.randrange(1, 11)),
        _draw(r, 1150, 0.1, 900, 1500),
        "ABRITEL LOCATION VACANCES",
        "travel",
        "Abritel",
    )
    book.card(
        date(year, 9, r.randrange(1, 20)),
        _draw(r, 190, 0.3, 90, 400),
        "DECATHLON GERLAND",
        "leisure",
        "Decathlon",
    )
    book.card(
        date(year, 9, r.randrange(2, 12)),
        Decimal("212.00"),
        "AQUA LYON NATATION",
        "leisure",
        "Aqua Lyon",
    )
    book.card(
        date(year, 9, r.randrange(12, 28)),
        Decimal("178.00"),
        "ASUL BADMINTON",
        "leisure",
        "ASUL Badminton",
    )
    book.card(
        date(year, r.randrange(1, 13), r.randrange(1, 28)),
        _draw(r, 420, 0.4, 150, 1100),
        "BOULANGER LYON PART DIEU",
        "home",
        "Boulanger",
    )
    for trip in life.trips(year):
        bought = trip.depart.date() - timedelta(days=r.randrange(18, 45))
        price = _draw(
            r, 1.1 * trip.rail_km * (0.45 if trip.co2e_g_per_km < 10 else 0.5), 0.15, 40, 400
        )
        book.card(bought, price, "SNCF CONNECT", "travel", "SNCF Voyageurs")
    for visit in life.appointments(year):
        if visit.fee is None or visit.reimbursed is None:
            continue
        day = visit.start.date()
        who = visit.practitioner.upper().replace("É", "E")
        book.card(day, visit.fee, who, "health", visit.practitioner)
        paid = life.next_business_day(day + timedelta(days=4 + r.randrange(0, 3)))
        book.add(
            paid,
            visit.reimbursed,
            f"VIR SEPA CPAM DU RHONE PRESTATIONS {day:%d%m%y}",
            "health",
            "transfer",
            "CPAM du Rhône",
        )
        rest = visit.fee - visit.reimbursed - (Decimal("2.00") if visit.patient is CAMILLE else 0)
        if rest > 0:
            book.add(
                life.next_business_day(paid + timedelta(days=2)),
                _eur(rest),
                f"VIR SEPA HARMONIE MUTUELLE REMB SOINS {day:%d%m%y}",
                "health",
                "transfer",
                "Harmonie Mutuelle",
            )


def _sweep_day(life: Life, year: int, month: int) -> date:
    day = date(year, month, 20)
    while not life.is_business_day(day):
        day -= timedelta(days=1)
    return day


def _rate(day: date) -> Decimal:
    return [rate for since, rate in _LIVRET_A if since <= day][-1]


def generate(life: Life, bills: list[Bill]) -> tuple[list[dict[str, Any]], list[Entry]]:
    """Every entry from :data:`ANCHOR` to ``life.end``, balanced; and the window's entries
    as ``bank.transaction`` dicts."""
    anchor = min(ANCHOR, date(life.start.year, 1, 1))
    book = _Book(life)
    by_month: dict[date, list[Bill]] = {}
    for bill in bills:
        by_month.setdefault(bill.debit_on.replace(day=1), []).append(bill)
    for day in life.days(anchor, life.end):
        _daily(book, day)
        if day.day == 1:
            _monthly(book, day.year, day.month, by_month)
        if day.month == 1 and day.day == 1:
            _yearly(book, day.year)
    entries = [e for e in book.entries if anchor <= e.booked_on <= life.end]
    entries.sort(key=lambda e: (e.booked_on, e.rank, e.label, e.amount))

    # Walk the days: balances, the month-end sweep and the Livret A's interest.
    out: list[Entry] = []
    balance = {CHECKING: _OPENING_CHECKING, SAVINGS: _OPENING_SAVINGS}
    after: list[Decimal] = []
    interest = Decimal(0)
    i = 0
    for day in life.days(anchor, life.end):
        while i < len(entries) and entries[i].booked_on == day:
            entry = entries[i]
            balance[entry.account] += entry.amount
            out.append(entry)
            after.append(balance[entry.account])
            i += 1
        if day == _sweep_day(life, day.year, day.month):
            gap = balance[CHECKING] - _THRESHOLD
            if gap:
                label = "VERS LIVRET A" if gap > 0 else "DEPUIS LIVRET A"
                back = "DEPUIS CPTE JOINT" if gap > 0 else "VERS CPTE JOINT"
                for account, amount, text in ((CHECKING, -gap, label), (SAVINGS, gap, back)):
                    balance[account] += amount
                    out.append(
                        Entry(
                            account, day, amount, f"{_SWEEP} {text}", "savings", "transfer", "LCL"
                        )
                    )
                    after.append(balance[account])
        if day == life.next_business_day(date(day.year, 1, 15)) and balance[SAVINGS] > _SAVINGS_CAP:
            # Well below the Livret A ceiling: the surplus goes to a life insurance.
            balance[SAVINGS] -= _TO_LIFE_INSURANCE
            out.append(
                Entry(
                    SAVINGS,
                    day,
                    -_TO_LIFE_INSURANCE,
                    "VIR SEPA VERS ASSURANCE VIE LINXEA",
                    "savings",
                    "transfer",
                    "Linxea",
                )
            )
            after.append(balance[SAVINGS])
        next_day = day + timedelta(days=1)
        if next_day.month != day.month:  # interest accrues on the month-end balance
            interest += balance[SAVINGS] * _rate(day) / 100 / 12
        if day.month == 12 and day.day == 31:
            amount = _eur(interest)
            balance[SAVINGS] += amount
            out.append(
                Entry(
                    SAVINGS,
                    day,
                    amount,
                    f"INTERETS CREDITEURS {day.year}",
                    "interest",
                    "interest",
                    "LCL",
                )
            )
            after.append(balance[SAVINGS])
            interest = Decimal(0)

    seen: Counter[tuple[str, date, Decimal, str]] = Counter()
    items: list[dict[str, Any]] = []
    for entry, balance_after in zip(out, after, strict=True):
        key = (entry.account, entry.booked_on, entry.amount, entry.label)
        seen[key] += 1
        if not life.start <= entry.booked_on <= life.end:
            continue
        item: dict[str, Any] = {
            "account_id": entry.account,
            "booked_on": entry.booked_on.isoformat(),
            "amount": f"{entry.amount:.2f}",
            "currency": "EUR",
            "label": entry.label,
            "category": entry.category,
            "payment_method": entry.method,
            "balance_after": f"{balance_after:.2f}",
            "occurrence": seen[key],
        }
        if entry.counterparty:
            item["counterparty"] = entry.counterparty
        if entry.value_date:
            item["value_date"] = entry.value_date.isoformat()
        if entry.memo:
            item["memo"] = entry.memo
        items.append(item)
    return items, out


def write(
    view: SpaceView, items: list[dict[str, Any]], tick: Callable[[], None]
) -> tuple[dict[str, int], dict[str, int]]:
    accounts_report = view.put_records("bank.account", accounts())
    tick()
    report = view.put_records("bank.transaction", items)
    tick()
    counts = {"bank.account": accounts_report.total, "bank.transaction": report.total}
    new = {
        "bank.account": accounts_report.created + accounts_report.updated,
        "bank.transaction": report.created + report.updated,
    }
    return counts, new
