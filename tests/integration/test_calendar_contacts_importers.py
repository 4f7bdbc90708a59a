"""iCalendar and vCard importers, on both engines."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from selfdata.access import SpaceView
from selfdata.importers import ImportFailed, ImportReport, ImportRunner
from selfdata.platform import Platform
from tests.conftest import make_space

CALENDAR = Path(__file__).resolve().parents[1] / "samples" / "calendar" / "agenda.ics"
CONTACTS = Path(__file__).resolve().parents[1] / "samples" / "contacts" / "address_book.vcf"
REAL_ICS = Path("/work/shared/sample-data/calendar-ics")
REAL_VCF = Path("/work/shared/sample-data/contacts-vcf")


def run(view: SpaceView, data: bytes, name: str, **kwargs: object) -> ImportReport:
    return ImportRunner(view).run(io.BytesIO(data), name, **kwargs)  # type: ignore[arg-type]


def events(view: SpaceView) -> list[dict[str, object]]:
    return sorted(
        (r.data for r in view.iter_records("calendar.event")),
        key=lambda d: (str(d["uid"]), str(d.get("recurrence_id"))),
    )


def test_events_with_zones_all_day_rules_and_overrides(platform: Platform) -> None:
    view = make_space(platform)
    report = run(view, CALENDAR.read_bytes(), "agenda.ics")
    assert report.importer == "ical" and not report.refused, report.rejected
    assert report.counts["calendar.event"].created == 5
    assert any("1 VTODO" in n.message for n in report.notices)
    found = {(e["uid"], e.get("recurrence_id")): e for e in events(view)}

    dentist = found[("dentist-2025@example.org", None)]
    assert dentist["start"] == "2025-03-12T09:30:00+01:00"
    assert dentist["timezone"] == "Europe/Paris" and dentist["all_day"] is False
    assert dentist["summary"] == "Dentiste, contrôle annuel"
    assert dentist["location"] == "12 rue Mercière, Lyon"
    assert dentist["description"] == "Apporter la carte Vitale.\nCabinet au 2e étage."
    assert dentist["calendar"] == "Perso" and dentist["status"] == "confirmed"
    assert dentist["categories"] == ["santé", "rdv"]
    assert dentist["organizer"] == {"name": "Cabinet Dentaire", "email": "rdv@dentiste.example.org"}
    (attendee,) = dentist["attendees"]  # type: ignore[misc]
    assert attendee == {
        "name": "Martin, Camille",
        "email": "camille@example.org",  # the folded line is unfolded
        "role": "required",
        "status": "accepted",
    }

    holiday = found[("holiday-2025@example.org", None)]
    assert holiday["start"] == "2025-07-14" and holiday["end"] == "2025-07-15"
    assert holiday["all_day"] is True

    yoga = found[("yoga@example.org", None)]
    assert yoga["recurrence_rule"] == "FREQ=WEEKLY;UNTIL=20250630T000000Z;BYDAY=MO"
    assert yoga["end"] == "2025-01-06T19:30:00+01:00"  # DTSTART + DURATION
    assert yoga["exception_dates"] == ["2025-04-21T18:30:00+02:00"]  # summer time
    moved = found[("yoga@example.org", "2025-01-13T18:30:00+01:00")]
    assert moved["start"] == "2025-01-14T19:00:00+01:00"

    floating = found[("floating@example.org", None)]
    assert floating["start"] == "2025-02-01T08:00:00+01:00"  # placed in the space's zone


def test_importing_the_calendar_again_changes_nothing(platform: Platform) -> None:
    view = make_space(platform)
    run(view, CALENDAR.read_bytes(), "agenda.ics")
    again = run(view, CALENDAR.read_bytes(), "agenda.ics")
    assert again.source_existed and again.created == 0
    assert again.counts["calendar.event"].unchanged == 5
    # The same events in another file (an updated export) update in place.
    changed = CALENDAR.read_bytes().replace(b"SUMMARY:Yoga\n", b"SUMMARY:Yoga doux\n")
    report = run(view, changed, "agenda-v2.ics")
    assert report.counts["calendar.event"].updated == 1
    assert report.counts["calendar.event"].created == 0
    assert len(events(view)) == 5


def test_a_bad_event_is_rejected_on_its_line(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    data = CALENDAR.read_bytes().replace(
        b"DTSTART;VALUE=DATE:20250714\n", b"DTSTART;VALUE=DATE:20250714\nRRULE:BYDAY=MO\n"
    )
    report = run(view, data, "agenda.ics")
    assert report.refused and report.rejected_total == 1
    (error,) = report.rejected
    assert error.line == 41 and error.path == "recurrence_rule"
    assert events(view) == []
    report = run(view, data, "agenda.ics", skip_invalid=True)
    assert report.counts["calendar.event"].created == 4


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:x\nDTSTART:20250101T100000Z\n", "truncated"),
        (b"BEGIN:VEVENT\nUID:x\nEND:VEVENT\n", "BEGIN:VCALENDAR"),
    ],
)
def test_truncated_calendars_fail_and_write_nothing(
    sqlite_platform: Platform, data: bytes, expected: str
) -> None:
    view = make_space(sqlite_platform)
    with pytest.raises(ImportFailed) as caught:
        run(view, data, "agenda.ics", format_name="ical")
    assert expected in str(caught.value)
    assert events(view) == []


def cards(view: SpaceView) -> dict[str, dict[str, object]]:
    return {str(r.data["full_name"]): r.data for r in view.iter_records("contact.card")}


def test_cards_of_versions_2_1_3_0_and_4_0(platform: Platform) -> None:
    view = make_space(platform)
    report = run(view, CONTACTS.read_bytes(), "contacts.vcf", options={"address_book": "Perso"})
    assert report.importer == "vcard" and not report.refused, report.rejected
    assert report.counts["contact.card"].created == 3
    found = cards(view)

    francois = found["François Lefèvre"]  # 2.1, quoted-printable UTF-8
    assert francois["family_name"] == "Lefèvre" and francois["given_name"] == "François"
    assert francois["note"] == "Voisin du 3e étage.\nA les clés."  # soft line break joined
    assert francois["phones"] == [
        {"value": "+33611223344", "type": "cell", "preferred": True},
        {"value": "+33478000000", "type": "work", "preferred": False},
    ]
    assert francois["uid"] == "no-uid:François Lefèvre:francois.lefevre@example.org"
    assert francois["address_book"] == "Perso"

    anne = found["Dr Anne Durand"]  # 3.0
    assert anne["prefix"] == "Dr" and anne["organisation"] == "Cabinet médical du Vieux-Lyon"
    assert anne["birthday"] == "1971-11-02"
    (address,) = anne["addresses"]  # type: ignore[misc]
    assert address["street"] == "3 place Saint-Jean" and address["postal_code"] == "69005"
    assert address["region"] == "France" and "country" not in address  # not an ISO code
    assert anne["urls"] == ["https://durand.example.org"]

    lea = found["Léa Martin"]  # 4.0
    assert lea["emails"] == [{"value": "lea.martin@example.org", "type": "home", "preferred": True}]
    assert lea["phones"] == [{"value": "+33-6-12-34-56-78", "type": "cell", "preferred": False}]
    assert lea["addresses"][0]["country"] == "FR"  # type: ignore[index]
    assert "birthday" not in lea and "Birthday: --0412" in str(lea["note"])


def test_importing_the_address_book_again_changes_nothing(platform: Platform) -> None:
    view = make_space(platform)
    run(view, CONTACTS.read_bytes(), "contacts.vcf")
    again = run(view, CONTACTS.read_bytes(), "contacts.vcf")
    assert again.source_existed and again.created == 0
    assert again.counts["contact.card"].unchanged == 3


def test_a_card_without_any_name_is_rejected(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    data = CONTACTS.read_bytes() + b"BEGIN:VCARD\nVERSION:3.0\nNOTE:rien\nEND:VCARD\n"
    report = run(view, data, "contacts.vcf")
    assert report.refused
    (error,) = report.rejected
    assert error.line == 40 and error.path == "FN"
    assert cards(view) == {}
    with pytest.raises(ImportFailed, match="without its END"):
        run(view, CONTACTS.read_bytes()[:-10], "contacts.vcf")
    assert cards(view) == {}


@pytest.mark.skipif(not REAL_VCF.is_dir(), reason="shared sample data absent")
def test_real_vcard_exports(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    total = 0
    for path in sorted(REAL_VCF.glob("*.vcf")):
        report = run(view, path.read_bytes(), path.name)
        assert not report.refused, (path.name, report.rejected)
        total += report.counts["contact.card"].created + report.counts["contact.card"].unchanged
    assert total >= 19
    outlook = cards(view)
    assert any(c.get("organisation") == "IBM" for c in outlook.values())


@pytest.mark.skipif(not REAL_ICS.is_dir(), reason="shared sample data absent")
def test_real_calendar_exports(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    report = run(view, (REAL_ICS / "biweekly__outlook-2010.ics").read_bytes(), "outlook.ics")
    assert report.counts["calendar.event"].created == 1
    (event,) = events(view)
    # A Windows zone name, resolved: 12:00 in New York in June is 16:00 UTC.
    assert event["start"] == "2013-06-10T12:00:00-04:00"
    assert event["timezone"] == "Eastern Standard Time"
    report = run(view, (REAL_ICS / "biweekly__vcal-example1.vcs").read_bytes(), "old.vcs")
    assert report.counts["calendar.event"].created == 1
