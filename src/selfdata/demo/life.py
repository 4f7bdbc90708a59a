"""The demo household and its calendar of life: who, where, weather, holidays, outings.

Every generator draws its randomness from :meth:`Life.rng` / :meth:`Life.np_rng`, keyed
by the seed, a stream name and a *date* (or a year). So a given day always comes out the
same, whatever window is generated around it: two demo runs whose windows overlap agree
on the overlap, and a later run only adds the new days.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

__all__ = [
    "ANCHOR",
    "FAMILY",
    "HOME",
    "PARIS",
    "PLACES",
    "Appointment",
    "Life",
    "Person",
    "Place",
    "Trip",
    "easter",
]

PARIS = ZoneInfo("Europe/Paris")
"""The household lives in Lyon: every local time is Europe/Paris."""

ANCHOR = date(2023, 1, 1)
"""Where the household's money history starts (balances are carried from here)."""

_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    lat: float
    lon: float
    address: str
    place_id: str


@dataclass(frozen=True, slots=True)
class Person:
    given: str
    family: str
    birth: date
    gender: Literal["male", "female"]
    email: str
    phone: str

    @property
    def full_name(self) -> str:
        return f"{self.given} {self.family}"


HOME = Place("Domicile", 45.7507, 4.8437, "14 rue Béchevelin, 69007 Lyon", "demo-place-home")
WORK = Place(
    "Campus LyonTech-la Doua",
    45.7822,
    4.8716,
    "20 avenue Albert Einstein, 69100 Villeurbanne",
    "demo-place-doua",
)
PLACES: dict[str, Place] = {
    "home": HOME,
    "work": WORK,
    "tete_dor": Place(
        "Parc de la Tête d'Or",
        45.7772,
        4.8542,
        "Boulevard des Belges, 69006 Lyon",
        "demo-place-tete-dor",
    ),
    "market": Place(
        "Marché du quai Saint-Antoine",
        45.7627,
        4.8306,
        "Quai Saint-Antoine, 69002 Lyon",
        "demo-place-marche-st-antoine",
    ),
    "blandan": Place(
        "Parc Sergent Blandan", 45.7452, 4.8556, "37 rue du Repos, 69007 Lyon", "demo-place-blandan"
    ),
    "pool": Place(
        "Piscine Delessert",
        45.7480,
        4.8434,
        "4 rue Delessert, 69007 Lyon",
        "demo-place-piscine-delessert",
    ),
    "halles": Place(
        "Halles de Lyon Paul Bocuse",
        45.7629,
        4.8505,
        "102 cours Lafayette, 69003 Lyon",
        "demo-place-halles",
    ),
    "gp": Place(
        "Cabinet du Dr Garnier",
        45.7461,
        4.8419,
        "5 avenue Jean Jaurès, 69007 Lyon",
        "demo-place-cabinet-garnier",
    ),
    "paediatrician": Place(
        "Cabinet du Dr Petit",
        45.7555,
        4.8468,
        "31 cours Gambetta, 69003 Lyon",
        "demo-place-cabinet-petit",
    ),
    "dentist": Place(
        "Cabinet dentaire Chevalier",
        45.7590,
        4.8370,
        "12 rue de la Barre, 69002 Lyon",
        "demo-place-dentiste",
    ),
    "pharmacy": Place(
        "Pharmacie Jean Macé",
        45.7458,
        4.8420,
        "2 place Jean Macé, 69007 Lyon",
        "demo-place-pharmacie-jean-mace",
    ),
    "part_dieu": Place(
        "Gare de Lyon Part-Dieu",
        45.7606,
        4.8597,
        "5 place Charles Béraudier, 69003 Lyon",
        "demo-place-gare-part-dieu",
    ),
}

CAMILLE = Person(
    "Camille",
    "Rousseau",
    date(1987, 5, 14),
    "female",
    "camille.rousseau@example.org",
    "+33612457809",
)
KARIM = Person(
    "Karim", "Benali", date(1985, 11, 2), "male", "karim.benali@example.org", "+33698214573"
)
LEA = Person("Léa", "Benali", date(2016, 9, 20), "female", "lea.benali@example.org", "+33478602154")
FAMILY = (CAMILLE, KARIM, LEA)


@dataclass(frozen=True, slots=True)
class Appointment:
    """A health appointment: it shows in the calendar, the bank and the health record."""

    kind: Literal["gp", "paediatrician", "dentist", "flu"]
    patient: Person
    practitioner: str
    place: Place
    start: datetime
    minutes: int
    fee: Decimal | None
    reimbursed: Decimal | None  # by the Assurance maladie (CPAM du Rhône)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


@dataclass(frozen=True, slots=True)
class Trip:
    """A stay away from Lyon (school holidays), from departure to return."""

    destination: str
    station: str
    lat: float
    lon: float
    depart: datetime
    back: datetime
    rail_km: float
    mode: Literal["train"]
    co2e_g_per_km: float

    def first_day(self) -> date:
        return self.depart.date()

    def last_day(self) -> date:
        return self.back.date()


def easter(year: int) -> date:
    """Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _saturday_on_or_after(day: date) -> date:
    return day + timedelta(days=(5 - day.weekday()) % 7)


# Zone A school holidays (Lyon), approximately: (first day, last day) as month/day.
_SCHOOL_BREAKS = (
    ((10, 19), (11, 3)),
    ((12, 21), (12, 31)),
    ((1, 1), (1, 5)),
    ((2, 8), (2, 23)),
    ((4, 5), (4, 21)),
    ((7, 5), (8, 31)),
)

# Lyon climate (Bron, 1991–2020): about 3.9 °C in January, 22.5 °C in July.
_MEAN_C, _AMPLITUDE_C, _COLDEST_DOY = 13.2, 9.3, 15
_PERSISTENCE, _ANOMALY_SD = 0.72, 2.8


@dataclass
class Life:
    """The household's life between ``start`` and ``end`` (inclusive, local days)."""

    seed: int
    start: date
    end: date
    _noise: dict[int, float] = field(default_factory=dict, repr=False)
    _trips: dict[int, list[Trip]] = field(default_factory=dict, repr=False)
    _holidays: dict[int, dict[date, str]] = field(default_factory=dict, repr=False)

    # -- randomness keyed by date --------------------------------------------------

    def rng(self, stream: str, key: date | int | str) -> random.Random:
        """A ``random.Random`` for one stream and one day (or year, or name)."""
        tag = key.toordinal() if isinstance(key, date) else key
        return random.Random(f"{self.seed}:{stream}:{tag}")

    def np_rng(self, stream: str, key: date | int) -> np.random.Generator:
        """A NumPy generator for one stream and one day (or year)."""
        tag = key.toordinal() if isinstance(key, date) else key
        return np.random.default_rng([self.seed % 2**63, zlib.crc32(stream.encode()), tag])

    # -- days ----------------------------------------------------------------------

    def days(self, first: date | None = None, last: date | None = None) -> list[date]:
        first, last = first or self.start, last or self.end
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    @staticmethod
    def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
        """A local wall-clock time in Lyon (a time skipped by DST moves forward)."""
        naive = datetime.combine(day, time(hour, minute, second))
        # Round-trip through UTC so that a non-existent local time gets a valid offset.
        return naive.replace(tzinfo=PARIS).astimezone(PARIS)

    @staticmethod
    def midnight(day: date) -> int:
        """Local midnight of ``day`` in epoch seconds."""
        return int(datetime.combine(day, time(), PARIS).timestamp())

    def in_window(self, value: date | datetime) -> bool:
        day = value.astimezone(PARIS).date() if isinstance(value, datetime) else value
        return self.start <= day <= self.end

    # -- weather -------------------------------------------------------------------

    def _z(self, ordinal: int) -> float:
        value = self._noise.get(ordinal)
        if value is None:
            value = self.rng("weather", ordinal).gauss(0.0, 1.0)
            self._noise[ordinal] = value
        return value

    def temperature(self, day: date) -> float:
        """Mean outdoor temperature of the day in Lyon, °C: climate plus weather."""
        doy = day.timetuple().tm_yday
        climate = _MEAN_C - _AMPLITUDE_C * np.cos(2 * np.pi * (doy - _COLDEST_DOY) / 365.25)
        # A moving average of date-keyed noise: persistent weather, same on any window.
        ordinal = day.toordinal()
        scale = _ANOMALY_SD * (1 - _PERSISTENCE**2) ** 0.5
        anomaly = sum(_PERSISTENCE**j * self._z(ordinal - j) for j in range(25)) * scale
        return float(climate + anomaly)

    def temperatures(self, days: list[date]) -> npt.NDArray[np.float64]:
        return np.array([self.temperature(d) for d in days], dtype=np.float64)

    def rain_mm(self, day: date) -> float:
        """Rain of the day in mm (about 110 rainy days a year in Lyon)."""
        r = self.rng("rain", day)
        wet = 0.36 if day.month in (4, 5, 10, 11) else 0.27
        return round(r.expovariate(1 / 6.5), 1) if r.random() < wet else 0.0

    @staticmethod
    def winterness(day: date) -> float:
        """1 in mid-January, 0 in mid-July."""
        doy = day.timetuple().tm_yday
        return float((1 + np.cos(2 * np.pi * (doy - _COLDEST_DOY) / 365.25)) / 2)

    # -- calendar ------------------------------------------------------------------

    def public_holidays(self, year: int) -> dict[date, str]:
        """French public holidays (jours fériés) of ``year``."""
        known = self._holidays.get(year)
        if known is not None:
            return known
        e = easter(year)
        self._holidays[year] = {
            date(year, 1, 1): "Jour de l'an",
            e + _DAY: "Lundi de Pâques",
            date(year, 5, 1): "Fête du Travail",
            date(year, 5, 8): "Victoire 1945",
            e + timedelta(days=39): "Ascension",
            e + timedelta(days=50): "Lundi de Pentecôte",
            date(year, 7, 14): "Fête nationale",
            date(year, 8, 15): "Assomption",
            date(year, 11, 1): "Toussaint",
            date(year, 11, 11): "Armistice 1918",
            date(year, 12, 25): "Noël",
        }
        return self._holidays[year]

    def is_public_holiday(self, day: date) -> bool:
        return day in self.public_holidays(day.year)

    def is_business_day(self, day: date) -> bool:
        """A banking day (TARGET2 closes on weekends, 1 January, Easter, 1 May, 25–26 Dec)."""
        e = easter(day.year)
        closed = {
            date(day.year, 1, 1),
            e - 2 * _DAY,
            e + _DAY,
            date(day.year, 5, 1),
            date(day.year, 12, 25),
            date(day.year, 12, 26),
        }
        return day.weekday() < 5 and day not in closed

    def next_business_day(self, day: date) -> date:
        while not self.is_business_day(day):
            day += _DAY
        return day

    def last_business_day(self, year: int, month: int) -> date:
        day = date(year + month // 12, month % 12 + 1, 1) - _DAY
        while not self.is_business_day(day):
            day -= _DAY
        return day

    @staticmethod
    def school_break(day: date) -> bool:
        return any(date(day.year, *a) <= day <= date(day.year, *b) for a, b in _SCHOOL_BREAKS)

    def school_day(self, day: date) -> bool:
        """A day Léa has school (Monday, Tuesday, Thursday, Friday outside holidays)."""
        return (
            day.weekday() in (0, 1, 3, 4)
            and not self.school_break(day)
            and not self.is_public_holiday(day)
        )

    def trips(self, year: int) -> list[Trip]:
        """The household's stays away from Lyon in ``year``, by train."""
        known = self._trips.get(year)
        if known is not None:
            return known
        r = self.rng("trips", year)
        spring = _saturday_on_or_after(date(year, 4, 19))
        summer = _saturday_on_or_after(date(year, 8, 1))
        self._trips[year] = [
            Trip(
                "Paris",
                "Paris Gare de Lyon",
                48.8443,
                2.3744,
                self.at(spring, 8, 4),
                self.at(spring + timedelta(days=5), 19, 56),
                427.0,
                "train",
                2.93,
            ),
            Trip(
                "Marseille",
                "Marseille Saint-Charles",
                43.3026,
                5.3806,
                self.at(summer, 9, 34 + r.randrange(0, 20)),
                self.at(summer + timedelta(days=14), 18, 26),
                315.0,
                "train",
                2.93,
            ),
            Trip(
                "Annecy",
                "Annecy",
                45.9020,
                6.1223,
                self.at(date(year, 12, 23), 10, 12),
                self.at(date(year, 12, 27), 17, 48),
                151.0,
                "train",
                24.8,
            ),
        ]
        return self._trips[year]

    def trips_between(self, first: date, last: date) -> list[Trip]:
        out = []
        for year in range(first.year - 1, last.year + 1):
            out += [
                t for t in self.trips(year) if t.back.date() >= first and t.depart.date() <= last
            ]
        return out

    def away(self, day: date) -> bool:
        """Whether the household spends the whole day away from Lyon."""
        return any(t.depart.date() < day < t.back.date() for t in self.trips(day.year))

    def works(self, day: date) -> bool:
        """Whether Camille goes to work (four days a week: Wednesdays off)."""
        return (
            day.weekday() in (0, 1, 3, 4)
            and not self.is_public_holiday(day)
            and not any(t.depart.date() <= day <= t.back.date() for t in self.trips(day.year))
            and not self._leave(day)
        )

    def _leave(self, day: date) -> bool:
        # A few days off outside the trips (bridges, a child's sick day).
        return self.rng("leave", day).random() < 0.035

    # -- health appointments -------------------------------------------------------

    def appointments(self, year: int) -> list[Appointment]:
        """The year's health appointments (date-keyed, so stable across windows)."""
        r = self.rng("appointments", year)
        out: list[Appointment] = []
        places = PLACES

        def weekday_in(month: int, weekdays: tuple[int, ...]) -> date:
            while True:
                day = date(year, month, r.randrange(1, 29))
                if (
                    day.weekday() in weekdays
                    and not self.is_public_holiday(day)
                    and not self.away(day)
                ):
                    return day

        for month in sorted(r.sample(range(1, 13), 3)):
            day = weekday_in(month, (0, 1, 3, 4))
            out.append(
                Appointment(
                    "gp",
                    CAMILLE,
                    "Dr Sophie Garnier",
                    places["gp"],
                    self.at(day, 17, r.choice((30, 45)))
                    if r.random() < 0.7
                    else self.at(day, 8, 30),
                    20,
                    Decimal("30.00"),
                    Decimal("19.00"),
                )
            )
        for month in sorted(r.sample((1, 3, 6, 10, 11), 2)):
            day = weekday_in(month, (2,))
            out.append(
                Appointment(
                    "paediatrician",
                    LEA,
                    "Dr Élodie Petit",
                    places["paediatrician"],
                    self.at(day, 10, 30),
                    30,
                    Decimal("32.50"),
                    Decimal("22.75"),
                )
            )
        day = weekday_in(r.choice((2, 5, 9)), (2,))
        out.append(
            Appointment(
                "dentist",
                CAMILLE,
                "Dr Paul Chevalier",
                places["dentist"],
                self.at(day, 11, 0),
                30,
                Decimal("23.00"),
                Decimal("13.80"),
            )
        )
        flu = date(year, 10, 15) + timedelta(days=r.randrange(0, 40))
        while flu.weekday() == 6 or self.is_public_holiday(flu):
            flu += _DAY
        out.append(
            Appointment(
                "flu",
                CAMILLE,
                "Pharmacie Jean Macé",
                places["pharmacy"],
                self.at(flu, 18, 10),
                10,
                None,
                None,
            )
        )
        return sorted(out, key=lambda a: a.start)

    def appointments_in_window(self) -> list[Appointment]:
        out = []
        for year in range(self.start.year, self.end.year + 1):
            out += [a for a in self.appointments(year) if self.in_window(a.start)]
        return out
