"""iCalendar files (``.ics``, RFC 5545; also vCalendar 1.0 ``.vcs``): each ``VEVENT``
becomes a ``calendar.event``.

* Natural key: ``UID`` and ``RECURRENCE-ID`` — a moved occurrence of a recurring event
  is its own record beside its master. An event without ``UID`` (vCalendar 1.0) gets
  ``no-uid:<start>:<summary>``, so importing the file again finds it.
* Times: a ``TZID`` is resolved by ``icalendar`` (IANA names, Windows names such as
  ``W. Europe Standard Time``), else by the file's own ``VTIMEZONE``; a floating time
  (no zone) is placed in the space's time zone. An all-day event keeps dates.
* Recurrence: ``RRULE`` is kept as the rule (``FREQ=WEEKLY;BYDAY=MO``), not expanded:
  an endless rule has no finite expansion, and the rule is what calendars exchange.
  ``EXDATE`` values are kept.

The file is cut into components first (see ``_contentlines``), one ``VEVENT`` parsed at
a time by ``icalendar``; ``VTODO``, ``VJOURNAL`` are counted in a notice.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, BinaryIO, ClassVar
from zoneinfo import ZoneInfo

import icalendar

from selfdata.importers._contentlines import Block, iter_blocks
from selfdata.importers.base import (
    ImportContext,
    Importer,
    ImportFailed,
    Item,
    Notice,
    RecordBatch,
    RecordRow,
    Rejected,
)
from selfdata.importers.text import decode_head

__all__ = ["ICalendar"]

_WANTED = frozenset({"VEVENT", "VTIMEZONE", "VTODO", "VJOURNAL", "VFREEBUSY"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ROLES = {
    "CHAIR": "chair",
    "REQ-PARTICIPANT": "required",
    "OPT-PARTICIPANT": "optional",
    "NON-PARTICIPANT": "non-participant",
}
_STATUSES = {"needs-action", "accepted", "declined", "tentative", "delegated"}
_MAX_TIMEZONES = 1000


def _cut(value: Any, limit: int) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text[:limit] or None


class _Times:
    """Turns icalendar's dates and datetimes into the doctype's: aware or dates."""

    def __init__(self, default: tzinfo) -> None:
        self.default = default
        self.zones: dict[str, tzinfo] = {}

    def learn(self, block: Block) -> None:
        if len(self.zones) >= _MAX_TIMEZONES:
            return
        component: Any = icalendar.Timezone.from_ical(block.text())
        tzid = str(component.get("TZID", ""))
        if tzid:
            self.zones[tzid] = component.to_tz()

    def value(self, prop: Any) -> date | None:
        if isinstance(prop, list):  # the property repeated: the first counts
            prop = prop[0] if prop else None
        if prop is None or not hasattr(prop, "dt"):
            return None
        found = prop.dt
        if isinstance(found, datetime) and found.tzinfo is None:
            tzid = prop.params.get("TZID")
            zone = self.zones.get(str(tzid)) if tzid else None
            found = found.replace(tzinfo=zone or self.default)
        if isinstance(found, date):
            return found
        return None

    @staticmethod
    def text(value: date) -> str:
        return value.isoformat()


def _mail(address: Any) -> str | None:
    text = str(address or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return text if _EMAIL.match(text) and len(text) <= 320 else None


def _person(prop: Any) -> dict[str, Any]:
    name = _cut(prop.params.get("CN"), 200) if hasattr(prop, "params") else None
    return {k: v for k, v in (("name", name), ("email", _mail(prop))) if v}


def _attendee(prop: Any) -> dict[str, Any]:
    person = _person(prop)
    role = _ROLES.get(str(prop.params.get("ROLE", "")).upper())
    status = str(prop.params.get("PARTSTAT", "")).lower()
    if role:
        person["role"] = role
    if status in _STATUSES:
        person["status"] = status
    return person


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _event(event: Any, times: _Times, calendar: str | None) -> dict[str, Any]:
    start = times.value(event.get("DTSTART"))
    if start is None:
        raise ValueError("DTSTART|missing; expected the event's start")
    end = times.value(event.get("DTEND"))
    if end is None and event.get("DURATION") is not None:
        duration = getattr(_first(event["DURATION"]), "dt", None)
        if isinstance(duration, timedelta):
            end = start + duration
    summary = _cut(_first(event.get("SUMMARY")), 1000)
    uid = _cut(_first(event.get("UID")), 256) or f"no-uid:{start.isoformat()}:{summary or ''}"[:256]
    rule = event.get("RRULE")
    exceptions = [
        times.text(d)
        for each in _listed(event.get("EXDATE"))
        for d in (times.value(x) for x in each.dts)
        if d is not None
    ]
    categories = [
        _cut(c, 64) for each in _listed(event.get("CATEGORIES")) for c in getattr(each, "cats", [])
    ]
    organizer = event.get("ORGANIZER")
    status = str(event.get("STATUS", "")).lower()
    recurrence_id = times.value(event.get("RECURRENCE-ID"))
    data: dict[str, Any] = {
        "uid": uid,
        "start": times.text(start),
        "end": times.text(end) if end is not None else None,
        "summary": summary,
        "description": _cut(event.get("DESCRIPTION"), 100_000),
        "location": _cut(event.get("LOCATION"), 1000),
        "timezone": _cut(_first(event.get("DTSTART")).params.get("TZID"), 200),
        "recurrence_rule": rule.to_ical().decode() if rule is not None else None,
        "recurrence_id": times.text(recurrence_id) if recurrence_id is not None else None,
        "exception_dates": exceptions,
        "status": status if status in {"tentative", "confirmed", "cancelled"} else None,
        "organizer": (_person(organizer) or None) if organizer is not None else None,
        "attendees": [_attendee(a) for a in _listed(event.get("ATTENDEE"))],
        "categories": [c for c in categories if c],
        "calendar": calendar,
    }
    return {k: v for k, v in data.items() if v is not None and v != []}


class ICalendar(Importer):
    name: ClassVar[str] = "ical"
    version: ClassVar[str] = "1.0"
    description: ClassVar[dict[str, str]] = {
        "fr": "Agenda iCalendar (.ics) : événements",
        "en": "iCalendar calendar (.ics): events",
    }
    doctypes: ClassVar[tuple[str, ...]] = ("calendar.event",)
    options: ClassVar[dict[str, str]] = {
        "calendar": "The calendar's name for every event (default: X-WR-CALNAME)",
    }

    def sniff(self, head: bytes, filename: str) -> float:
        text = decode_head(head)
        if text is None:
            return 0.0
        first = text.lstrip().upper()
        return 0.95 if first.startswith("BEGIN:VCALENDAR") else 0.0

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        source = context.filename
        times = _Times(ZoneInfo(context.timezone))
        calendar = context.options.get("calendar")
        rows: list[RecordRow] = []
        others: dict[str, int] = {}
        seen_calendar = False
        for block, outside in iter_blocks(stream, source, _WANTED):
            if outside is not None:
                line, text = outside
                upper = text.upper()
                seen_calendar = seen_calendar or upper.startswith("BEGIN:VCALENDAR")
                if not seen_calendar:
                    raise ImportFailed.at(source, line, "BEGIN", "expected BEGIN:VCALENDAR first")
                if upper.startswith("X-WR-CALNAME:") and "calendar" not in context.options:
                    calendar = _cut(text.partition(":")[2], 200)
                continue
            assert block is not None
            if block.name == "VTIMEZONE":
                try:
                    times.learn(block)
                except Exception as exc:  # a broken zone is one notice
                    yield Notice(block.line, "VTIMEZONE", f"time zone not understood ({exc})")
                continue
            if block.name != "VEVENT":
                others[block.name] = others.get(block.name, 0) + 1
                continue
            try:
                event = icalendar.Event.from_ical(block.text())
                data = _event(event, times, calendar)
            except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
                # icalendar's own errors on a malformed event, and ours ("FIELD|why").
                where, _, message = str(exc).partition("|")
                field = where if message else "VEVENT"
                yield Rejected(block.line, field, message or f"not understood ({exc})")
                continue
            rows.append(RecordRow(block.line, data))
            if len(rows) >= context.batch_size:
                yield RecordBatch("calendar.event", rows)
                rows = []
        if not seen_calendar:
            raise ImportFailed.at(source, 1, "BEGIN", "expected BEGIN:VCALENDAR")
        if rows:
            yield RecordBatch("calendar.event", rows)
        if others:
            kinds = ", ".join(f"{n} {name}" for name, n in sorted(others.items()))
            yield Notice(None, "component", f"not imported (only events are): {kinds}")
