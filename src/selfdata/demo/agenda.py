"""Calendar and contacts: the family agenda and Camille's address book.

Recurring activities are one master event per season with an RRULE (badminton, swimming,
yoga, the weekly team meeting with public holidays as EXDATE), a moved occurrence is an
override with ``recurrence_id``, birthdays recur yearly from the birth date. One-off
events (appointments, school, trips, Lyon's festivals, dinners) are drawn per year with
date-keyed randomness and kept when they fall in the window.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from selfdata.access import SpaceView

from .life import CAMILLE, KARIM, LEA, Life, Person

__all__ = ["contacts", "events", "write"]

_TZ = "Europe/Paris"
_BIRTHDAYS = {"Jacqueline": date(1958, 3, 8), "Nadia": date(1990, 6, 21)}
_NS = uuid.UUID("6f1c3a52-8d0e-4c47-9a43-0d5e2b7c9f10")


def _uid(slug: str, when: date) -> str:
    return f"demo-{slug}-{when:%Y%m%d}@example.org"


def _first_weekday(on_or_after: date, weekday: int) -> date:
    return on_or_after + timedelta(days=(weekday - on_or_after.weekday()) % 7)


def _event(
    uid: str,
    start: datetime | date,
    end: datetime | date,
    summary: str,
    *,
    calendar: str,
    location: str | None = None,
    description: str | None = None,
    categories: tuple[str, ...] = (),
    **extra: Any,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "uid": uid,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "summary": summary,
        "status": "confirmed",
        "calendar": calendar,
        "categories": list(categories),
        **extra,
    }
    if isinstance(start, datetime):
        item["timezone"] = _TZ
    if location:
        item["location"] = location
    if description:
        item["description"] = description
    return item


def _timed(
    life: Life, day: date, hour: int, minute: int, minutes: int
) -> tuple[datetime, datetime]:
    start = life.at(day, hour, minute)
    return start, start + timedelta(minutes=minutes)


def _season_masters(life: Life, year: int) -> list[dict[str, Any]]:
    """Weekly activities of the school year starting in September of ``year``."""
    out = []
    until = f"{year + 1}0630T215959Z"
    specs: tuple[tuple[str, int, tuple[int, int], int, str, str, str, list[Person]], ...] = (
        (
            "badminton",
            1,
            (20, 0),
            105,
            "Badminton — ASUL Lyon",
            "Gymnase Jean Macé, Lyon 7e",
            "Sport",
            [KARIM],
        ),
        (
            "natation-lea",
            2,
            (14, 0),
            60,
            "Natation Léa",
            "Piscine Delessert, Lyon 7e",
            "Famille",
            [LEA],
        ),
        ("yoga", 3, (19, 15), 75, "Yoga", "Studio Yoga Lyon 7, rue de Marseille", "Sport", []),
    )
    for slug, weekday, (h, m), minutes, summary, where, calendar, people in specs:
        first = _first_weekday(date(year, 9, 8), weekday)
        start, end = _timed(life, first, h, m, minutes)
        weekday_code = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[weekday]
        out.append(
            _event(
                _uid(slug, first),
                start,
                end,
                summary,
                calendar=calendar,
                location=where,
                categories=("sport",),
                recurrence_rule=f"FREQ=WEEKLY;BYDAY={weekday_code};UNTIL={until}",
                attendees=[
                    {
                        "name": p.full_name,
                        "email": p.email,
                        "role": "required",
                        "status": "accepted",
                    }
                    for p in people
                ],
            )
        )
        if slug == "badminton":  # the gym is closed one week: that session moves to Thursday
            r = life.rng("badminton-moved", year)
            moved = first + timedelta(weeks=r.randrange(6, 28))
            while any(
                life.is_public_holiday(moved + timedelta(days=k))
                or life.school_break(moved + timedelta(days=k))
                for k in (0, 2)
            ):
                moved += timedelta(weeks=1)
            old_start, _ = _timed(life, moved, h, m, minutes)
            new_start, new_end = _timed(life, moved + timedelta(days=2), h, m, minutes)
            if life.in_window(new_start):
                out.append(
                    _event(
                        _uid(slug, first),
                        new_start,
                        new_end,
                        summary + " (déplacé au jeudi)",
                        calendar=calendar,
                        location="Gymnase Gerland, Lyon 7e",
                        categories=("sport",),
                        recurrence_id=old_start.isoformat(),
                        description="Gymnase Jean Macé fermé cette semaine (travaux).",
                    )
                )
    return out


def _team_meeting(life: Life, year: int) -> dict[str, Any]:
    first = _first_weekday(date(year, 1, 2), 0)
    start, end = _timed(life, first, 9, 30, 60)
    holidays = sorted(d for d in life.public_holidays(year) if d.weekday() == 0)
    return _event(
        _uid("point-equipe", first),
        start,
        end,
        "Point d'équipe hebdomadaire",
        calendar="Travail",
        location="Campus LyonTech-la Doua, bâtiment Ada, salle 2",
        categories=("travail",),
        recurrence_rule=f"FREQ=WEEKLY;BYDAY=MO;UNTIL={year}1231T225959Z",
        exception_dates=[life.at(d, 9, 30).isoformat() for d in holidays],
        organizer={"name": "Inès Moreau", "email": "ines.moreau@example.org"},
        attendees=[
            {
                "name": CAMILLE.full_name,
                "email": CAMILLE.email,
                "role": "required",
                "status": "accepted",
            },
            {
                "name": "Hugo Lambert",
                "email": "hugo.lambert@example.org",
                "role": "required",
                "status": "accepted",
            },
        ],
    )


def _birthdays() -> list[dict[str, Any]]:
    people: list[tuple[str, Person | tuple[str, date]]] = [
        ("camille", CAMILLE),
        ("karim", KARIM),
        ("lea", LEA),
        ("jacqueline", ("Jacqueline Rousseau", _BIRTHDAYS["Jacqueline"])),
        ("nadia", ("Nadia Benali", _BIRTHDAYS["Nadia"])),
    ]
    out = []
    for slug, who in people:
        name, born = (who.full_name, who.birth) if isinstance(who, Person) else who
        out.append(
            _event(
                _uid(f"anniversaire-{slug}", born),
                born,
                born + timedelta(days=1),
                f"Anniversaire de {name}",
                calendar="Anniversaires",
                categories=("anniversaire",),
                recurrence_rule="FREQ=YEARLY",
            )
        )
    return out


def _one_offs(life: Life, year: int) -> list[dict[str, Any]]:
    r = life.rng("agenda", year)
    out: list[dict[str, Any]] = []

    def timed(
        slug: str,
        day: date,
        hm: tuple[int, int],
        minutes: int,
        summary: str,
        calendar: str,
        **kw: Any,
    ) -> None:
        start, end = _timed(life, day, hm[0], hm[1], minutes)
        out.append(_event(_uid(slug, day), start, end, summary, calendar=calendar, **kw))

    def all_day(slug: str, first: date, last: date, summary: str, calendar: str, **kw: Any) -> None:
        out.append(
            _event(
                _uid(slug, first), first, last + timedelta(days=1), summary, calendar=calendar, **kw
            )
        )

    labels = {
        "gp": ("Médecin — Dr Garnier", "Santé"),
        "paediatrician": ("Pédiatre Léa — Dr Petit", "Santé"),
        "dentist": ("Dentiste — Dr Chevalier", "Santé"),
        "flu": ("Vaccin contre la grippe (pharmacie)", "Santé"),
    }
    for visit in life.appointments(year):
        summary, calendar = labels[visit.kind]
        out.append(
            _event(
                _uid(visit.kind, visit.start.date()),
                visit.start,
                visit.end,
                summary,
                calendar=calendar,
                location=f"{visit.place.name}, {visit.place.address}",
                categories=("santé",),
            )
        )
    for trip in life.trips(year):
        all_day(
            f"vacances-{trip.destination.lower()}",
            trip.depart.date(),
            trip.back.date(),
            f"Vacances à {trip.destination}",
            "Famille",
            categories=("vacances",),
            description=(
                f"Train aller {trip.depart:%d/%m à %H:%M} depuis Lyon Part-Dieu, "
                f"retour {trip.back:%d/%m à %H:%M}."
            ),
        )
    rentree = _first_weekday(date(year, 9, 9), 1)
    school = "École élémentaire Gilbert Dru, Lyon 7e"
    timed(
        "reunion-rentree",
        rentree,
        (18, 0),
        90,
        "Réunion de rentrée de la classe de Léa",
        "École",
        location=school,
        categories=("école",),
    )
    timed(
        "photo-classe",
        _first_weekday(date(year, 10, 6), 3),
        (8, 30),
        30,
        "Photo de classe",
        "École",
        location=school,
        categories=("école",),
    )
    for month, day in ((3, 10), (6, 9), (11, 10)):
        timed(
            "conseil-ecole",
            _first_weekday(date(year, month, day), 1),
            (18, 0),
            120,
            "Conseil d'école",
            "École",
            location=school,
            categories=("école",),
            description="Camille y siège comme représentante des parents d'élèves.",
        )
    timed(
        "parents-professeurs",
        _first_weekday(date(year, 1, 20), 3),
        (16, 45),
        20,
        "Rencontre avec la maîtresse de Léa",
        "École",
        location=school,
        categories=("école",),
    )
    timed(
        "kermesse",
        _first_weekday(date(year, 6, 20), 5),
        (10, 0),
        360,
        "Kermesse de l'école",
        "École",
        location=school,
        categories=("école",),
    )
    timed(
        "spectacle-noel",
        _first_weekday(date(year, 12, 12), 4),
        (17, 0),
        90,
        "Spectacle de Noël de l'école",
        "École",
        location=school,
        categories=("école",),
    )
    timed(
        "fete-lumieres",
        date(year, 12, 8),
        (18, 30),
        240,
        "Fête des Lumières en famille",
        "Famille",
        location="Presqu'île, Lyon",
        categories=("sortie",),
    )
    timed(
        "fourviere",
        date(year, 7, r.randrange(1, 25)),
        (21, 30),
        150,
        "Les Nuits de Fourvière — concert",
        "Famille",
        location="Théâtre antique de Fourvière, Lyon 5e",
        categories=("sortie",),
    )
    timed(
        "quais-du-polar",
        _first_weekday(date(year, 4, 1), 5),
        (14, 0),
        180,
        "Quais du Polar",
        "Famille",
        location="Palais de la Bourse, Lyon 2e",
        categories=("sortie",),
    )
    timed(
        "festival-lumiere",
        _first_weekday(date(year, 10, 12), 6),
        (16, 0),
        150,
        "Festival Lumière — projection",
        "Famille",
        location="Institut Lumière, rue du Premier-Film, Lyon 8e",
        categories=("sortie",),
    )
    timed(
        "match-ol",
        _first_weekday(date(year, r.choice((2, 4, 10, 11)), 10), 6),
        (20, 45),
        120,
        "Match OL au Groupama Stadium (Karim)",
        "Famille",
        location="Groupama Stadium, Décines",
        categories=("sortie",),
    )
    timed(
        "entretien-chaudiere",
        _first_weekday(date(year, 10, 1), 1),
        (8, 0),
        120,
        "Entretien annuel de la chaudière gaz",
        "Maison",
        location="Domicile",
        categories=("maison",),
        description="Technicien Chauffage Rhône Services.",
    )
    timed(
        "plombier",
        date(year, r.randrange(1, 13), r.randrange(1, 28)),
        (13, 30),
        90,
        "Plombier — fuite sous l'évier",
        "Maison",
        location="Domicile",
        categories=("maison",),
    )
    all_day(
        "impots",
        date(year, 5, 27),
        date(year, 5, 27),
        "Date limite de la déclaration de revenus (Rhône)",
        "Administratif",
        categories=("administratif",),
    )
    timed(
        "entretien-annuel",
        _first_weekday(date(year, 1, 13), 3),
        (14, 0),
        60,
        "Entretien annuel avec Inès",
        "Travail",
        location="Campus LyonTech-la Doua",
        categories=("travail",),
    )
    all_day(
        "seminaire",
        _first_weekday(date(year, 6, 10), 3),
        _first_weekday(date(year, 6, 10), 4),
        "Séminaire d'équipe",
        "Travail",
        location="Domaine de Lacroix-Laval, Marcy-l'Étoile",
        categories=("travail",),
    )
    timed(
        "gouter-lea",
        _first_weekday(date(year, 9, 20), 5),
        (15, 0),
        180,
        "Goûter d'anniversaire de Léa",
        "Famille",
        location="Domicile",
        categories=("anniversaire",),
    )
    friends = (
        ("Claire et Thomas", "claire.faure@example.org"),
        ("Julie et Antoine", "julie.girard@example.org"),
        ("Nadia", "nadia.benali@example.org"),
    )
    for month in sorted(r.sample(range(1, 13), 6)):
        who, email = r.choice(friends)
        dinner = _first_weekday(date(year, month, r.randrange(1, 22)), 5)
        at_home = r.random() < 0.5
        summary = f"Dîner {'à la maison avec' if at_home else 'chez'} {who}"
        timed(
            "diner",
            dinner,
            (20, 0),
            210,
            summary,
            "Famille",
            location="Domicile" if at_home else None,
            categories=("amis",),
            attendees=[{"email": email, "role": "required", "status": "accepted"}],
        )
    return out


def events(life: Life) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [*_birthdays()]
    for year in range(life.start.year - 1, life.end.year + 1):
        season_start = date(year, 9, 1)
        if season_start <= life.end and date(year + 1, 6, 30) >= life.start:
            out += _season_masters(life, year)
        if date(year, 1, 1) <= life.end and date(year, 12, 31) >= life.start:
            out.append(_team_meeting(life, year))
        out += [e for e in _one_offs(life, year) if life.in_window(_start_day(e))]
    return out


def _start_day(event: dict[str, Any]) -> date:
    text: str = event["start"]
    return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text).date()


# (given, family, category, organisation, title, city, postal code, phone prefix)
_CONTACTS: tuple[tuple[str, str, str, str | None, str | None, str, str, str], ...] = (
    ("Jacqueline", "Rousseau", "famille", None, None, "Annecy", "74000", "+33450"),
    ("Michel", "Rousseau", "famille", None, None, "Annecy", "74000", "+33450"),
    ("Nadia", "Benali", "famille", None, "Infirmière scolaire", "Villeurbanne", "69100", "+336"),
    ("Samir", "Benali", "famille", None, None, "Marseille", "13006", "+336"),
    ("Thomas", "Leroy", "amis", None, None, "Lyon", "69003", "+336"),
    ("Claire", "Faure", "amis", None, None, "Lyon", "69003", "+337"),
    ("Julie", "Girard", "amis", None, None, "Caluire-et-Cuire", "69300", "+336"),
    ("Antoine", "Girard", "amis", None, None, "Caluire-et-Cuire", "69300", "+336"),
    ("Élise", "Martin", "amis", None, None, "Paris", "75011", "+336"),
    ("Fatima", "El Amrani", "amis", None, None, "Lyon", "69007", "+337"),
    (
        "Hugo",
        "Lambert",
        "travail",
        "Rhône Data SAS",
        "Data engineer",
        "Villeurbanne",
        "69100",
        "+336",
    ),
    (
        "Sarah",
        "Nguyen",
        "travail",
        "Rhône Data SAS",
        "Data scientist",
        "Villeurbanne",
        "69100",
        "+337",
    ),
    (
        "Inès",
        "Moreau",
        "travail",
        "Rhône Data SAS",
        "Responsable d'équipe",
        "Villeurbanne",
        "69100",
        "+336",
    ),
    ("Sophie", "Garnier", "santé", None, "Médecin généraliste", "Lyon", "69007", "+33478"),
    ("Élodie", "Petit", "santé", None, "Pédiatre", "Lyon", "69003", "+33472"),
    ("Paul", "Chevalier", "santé", None, "Chirurgien-dentiste", "Lyon", "69002", "+33478"),
    (
        "Anne",
        "Morel",
        "école",
        "École élémentaire Gilbert Dru",
        "Directrice",
        "Lyon",
        "69007",
        "+33478",
    ),
    (
        "Valérie",
        "Roux",
        "logement",
        "Régie Saint-Loup",
        "Gestionnaire locative",
        "Lyon",
        "69006",
        "+33472",
    ),
    ("Lucas", "Bonnet", "maison", "Plomberie Bonnet", "Plombier", "Lyon", "69008", "+336"),
    ("Chloé", "Dubois", "baby-sitting", None, None, "Lyon", "69007", "+336"),
)
_PRIVATE = ("famille", "amis", "baby-sitting")


def _ascii(text: str) -> str:
    table = str.maketrans("éèêëàâîïôöûüçÉÈ", "eeeeaaiioouucEE")
    return text.translate(table).lower().replace(" ", "")


def contacts(life: Life) -> list[dict[str, Any]]:
    """Camille's address book: family, friends, colleagues, the people who look after
    the family and the flat."""
    out: list[dict[str, Any]] = [
        {
            "uid": f"urn:uuid:{uuid.uuid5(_NS, KARIM.full_name)}",
            "full_name": KARIM.full_name,
            "given_name": KARIM.given,
            "family_name": KARIM.family,
            "emails": [{"value": KARIM.email, "type": "home", "preferred": True}],
            "phones": [{"value": KARIM.phone, "type": "cell", "preferred": True}],
            "addresses": [
                {
                    "street": "14 rue Béchevelin",
                    "locality": "Lyon",
                    "postal_code": "69007",
                    "country": "FR",
                    "type": "home",
                }
            ],
            "organisation": "Hospices Civils de Lyon",
            "title": "Infirmier",
            "birthday": KARIM.birth.isoformat(),
            "urls": [],
            "categories": ["famille"],
            "address_book": "Contacts Google",
        }
    ]
    for given, family, category, org, title, city, postal, prefix in _CONTACTS:
        r = life.rng("contact", f"{given} {family}")
        phone = prefix + "".join(str(r.randrange(10)) for _ in range(12 - len(prefix)))  # +33 + 9
        private = category in _PRIVATE
        doctor = category == "santé" and title != "Chirurgien-dentiste"
        card: dict[str, Any] = {
            "uid": f"urn:uuid:{uuid.uuid5(_NS, f'{given} {family}')}",
            "full_name": f"{'Dr ' if category == 'santé' else ''}{given} {family}",
            "given_name": given,
            "family_name": family,
            "emails": [
                {
                    "value": f"{_ascii(given)}.{_ascii(family)}@example.org",
                    "type": "home" if private else "work",
                    "preferred": True,
                }
            ],
            "phones": [
                {
                    "value": phone,
                    "type": "cell" if prefix in ("+336", "+337") else "work",
                    "preferred": True,
                }
            ],
            "addresses": [
                {
                    "locality": city,
                    "postal_code": postal,
                    "country": "FR",
                    "type": "home" if private else "work",
                }
            ],
            "urls": [],
            "categories": [category],
            "address_book": "Contacts Google",
        }
        if category == "santé":
            card["prefix"] = "Dr"
            if doctor:
                card["note"] = (
                    "Médecin traitant de Camille" if given == "Sophie" else "Pédiatre de Léa"
                )
        if org:
            card["organisation"] = org
        if title:
            card["title"] = title
        born = _BIRTHDAYS.get(given)
        if born is None and private and r.random() < 0.6:
            first_year = 1954 if family == "Rousseau" else 1980
            born = date(
                r.randrange(first_year, first_year + 12), r.randrange(1, 13), r.randrange(1, 29)
            )
        if born is not None:
            card["birthday"] = born.isoformat()
        out.append(card)
    return out


def write(
    view: SpaceView, life: Life, tick: Callable[[], None]
) -> tuple[dict[str, int], dict[str, int]]:
    counts: dict[str, int] = {}
    new: dict[str, int] = {}
    for doctype, items in (("calendar.event", events(life)), ("contact.card", contacts(life))):
        report = view.put_records(doctype, items)
        counts[doctype], new[doctype] = report.total, report.created + report.updated
        tick()
    return counts, new
