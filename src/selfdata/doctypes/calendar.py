"""Calendar: events, after iCalendar (RFC 5545) ``VEVENT``.

``start``/``end`` are either dates (all-day events; ``end`` is exclusive, as ``DTEND``)
or timezone-aware datetimes. A recurring event is one record with ``recurrence_rule``;
an occurrence that was moved or changed is its own record with the same ``uid`` and a
``recurrence_id`` — hence the natural key (``uid``, ``recurrence_id``), falling back to
``uid`` alone for the master event.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import Field, StringConstraints, ValidationInfo, field_validator, model_validator

from .fields import (
    DateOrDateTime,
    DoctypeModel,
    Email,
    Identifier,
    Label,
    Name,
    Tag,
    Text,
    check_not_before,
    hint,
)
from .registry import Doctype

__all__ = ["DOCTYPES", "EVENT", "Attendee", "CalendarUser", "Event"]

_RRULE = hint(
    r"^[A-Z]+=[^;=]+(;[A-Z]+=[^;=]+)*$",
    "an RFC 5545 recurrence rule without the RRULE: prefix, such as 'FREQ=WEEKLY;BYDAY=MO'",
)
_FREQ = re.compile(r"(^|;)FREQ=(SECONDLY|MINUTELY|HOURLY|DAILY|WEEKLY|MONTHLY|YEARLY)(;|$)")

RecurrenceRule = Annotated[str, StringConstraints(max_length=1000, pattern=_RRULE)]


def _is_date_only(value: date) -> bool:
    return not isinstance(value, datetime)


class CalendarUser(DoctypeModel):
    """Someone taking part in an event (iCalendar ``CAL-ADDRESS`` with ``CN``)."""

    name: Name | None = None
    """Display name (``CN``)."""
    email: Email | None = None
    """E-mail address (the ``mailto:`` URI without its scheme)."""


class Attendee(CalendarUser):
    """An invited participant (iCalendar ``ATTENDEE``)."""

    role: Literal["chair", "required", "optional", "non-participant"] | None = None
    """``ROLE``: ``REQ-PARTICIPANT`` is ``required``, ``OPT-PARTICIPANT`` is ``optional``."""
    status: Literal["needs-action", "accepted", "declined", "tentative", "delegated"] | None = None
    """``PARTSTAT``: the participant's answer."""


class Event(DoctypeModel):
    """A calendar event (``VEVENT``)."""

    uid: Identifier
    """``UID``: the event's globally unique id."""
    start: DateOrDateTime
    """``DTSTART``: a date for an all-day event, else a date and time with offset."""
    end: DateOrDateTime | None = None
    """``DTEND`` (exclusive). Absent: the event lasts one day (date) or no time."""
    all_day: bool | None = None
    """Whether it is an all-day event; inferred from ``start`` when left out."""
    summary: Label | None = None
    """``SUMMARY``: the title."""
    description: Text | None = None
    """``DESCRIPTION``."""
    location: Label | None = None
    """``LOCATION``."""
    timezone: Name | None = None
    """``TZID`` of the start, such as ``Europe/Paris`` (recurrences expand in it)."""
    recurrence_rule: RecurrenceRule | None = None
    """``RRULE`` value, such as ``FREQ=WEEKLY;BYDAY=MO``."""
    recurrence_id: DateOrDateTime | None = None
    """``RECURRENCE-ID``: which occurrence of a recurring event this record overrides."""
    exception_dates: list[DateOrDateTime] = Field(default_factory=list)
    """``EXDATE``: occurrences that do not take place."""
    status: Literal["tentative", "confirmed", "cancelled"] | None = None
    """``STATUS``."""
    organizer: CalendarUser | None = None
    """``ORGANIZER``."""
    attendees: list[Attendee] = Field(default_factory=list)
    """``ATTENDEE``\\ s."""
    categories: list[Tag] = Field(default_factory=list)
    """``CATEGORIES``."""
    calendar: Name | None = None
    """The calendar it belongs to, such as ``Travail``."""

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, value: date | None, info: ValidationInfo) -> date | None:
        check_not_before(value, info.data.get("start"), "start")
        return value

    @field_validator("all_day")
    @classmethod
    def _matches_start(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        start = info.data.get("start")
        if value is not None and start is not None and value != _is_date_only(start):
            if value:
                raise ValueError("expected false, because start has a time of day")
            raise ValueError("expected true, because start is a date without a time")
        return value

    @field_validator("recurrence_rule")
    @classmethod
    def _has_frequency(cls, value: str | None) -> str | None:
        if value is not None and not _FREQ.search(value):
            raise ValueError("expected a recurrence rule with a FREQ part, such as FREQ=DAILY")
        return value

    @model_validator(mode="after")
    def _infer_all_day(self) -> Self:
        # Stored explicitly so that readers need not re-derive it from the string's shape.
        if self.all_day is None:
            self.all_day = _is_date_only(self.start)
        return self


# Words for people, per field: (French, English); test_doctype_labels wants them all.
EVENT_LABELS = {
    "uid": ("Identifiant", "Identifier"),
    "start": ("Début", "Start"),
    "end": ("Fin", "End"),
    "all_day": ("Toute la journée", "All day"),
    "summary": ("Titre", "Title"),
    "description": ("Description", "Description"),
    "location": ("Lieu", "Location"),
    "timezone": ("Fuseau horaire", "Time zone"),
    "recurrence_rule": ("Répétition", "Repeats"),
    "recurrence_id": ("Occurrence modifiée", "Changed occurrence"),
    "exception_dates": ("Dates exclues", "Excluded dates"),
    "status": ("Statut", "Status"),
    "organizer": ("Organisateur", "Organiser"),
    "attendees": ("Participants", "Attendees"),
    "categories": ("Catégories", "Categories"),
    "calendar": ("Agenda", "Calendar"),
}


# Words for the coded values of some fields: (French, English).
EVENT_CHOICES = {
    "status": {
        "tentative": ("Provisoire", "Tentative"),
        "confirmed": ("Confirmé", "Confirmed"),
        "cancelled": ("Annulé", "Cancelled"),
    }
}


EVENT = Doctype(
    name="calendar.event",
    summary=("summary", "location", "end", "status"),
    choices=EVENT_CHOICES,
    labels=EVENT_LABELS,
    version=1,
    kind="record",
    model=Event,
    category="calendar",
    title={"fr": "Événement", "en": "Event"},
    description={
        "fr": "Un événement d'agenda (iCalendar VEVENT).",
        "en": "A calendar event (iCalendar VEVENT).",
    },
    time_field="start",
    time_end_field="end",
    natural_key=("uid", "recurrence_id"),
    fallback_key=("uid",),
)

DOCTYPES = (EVENT,)
