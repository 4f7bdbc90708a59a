"""Field types shared by the doctypes, and ``DoctypeModel``, the base of their models.

Plugins that declare their own doctypes use these too.

Each type carries its constraints once, so that every doctype says "a currency" or "an
amount of money" the same way and error messages stay consistent. ``PATTERN_HINTS`` maps
each regular expression used here to the words shown to a person whose value did not
match it (see ``_messages``).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
)

__all__ = [
    "PATTERN_HINTS",
    "CountryCode",
    "CurrencyCode",
    "DateOrDateTime",
    "DoctypeModel",
    "Email",
    "ExactNumber",
    "Identifier",
    "Label",
    "Latitude",
    "LongText",
    "Longitude",
    "Money",
    "Name",
    "OptionalMeasure",
    "PostalAddress",
    "Tag",
    "Text",
    "Uri",
    "check_not_before",
    "hint",
    "to_utc",
]


class DoctypeModel(BaseModel):
    """Base of every doctype model: unknown fields are errors, floats must be finite.

    ``extra="forbid"`` turns a typo such as ``ammount`` into an error that names the
    field instead of silently dropping the value. Field docstrings become the
    ``description`` of each property in the JSON Schema.
    """

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        use_attribute_docstrings=True,
        regex_engine="rust-regex",  # linear time: no catastrophic backtracking on input
    )


# --- text --------------------------------------------------------------------------------
# min_length=1 everywhere: an empty string is never a value; leave the field out instead.

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
"""A short name: a person, an organisation, a place, a device."""

Label = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
"""One line of text as the source wrote it (a bank label, an event summary)."""

Text = Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
"""Free text: a note, a description."""

LongText = Annotated[str, StringConstraints(min_length=1, max_length=10_000_000)]
"""Large text, such as the text extracted from a scanned document."""

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=256)]
"""An identifier given by the source, kept verbatim (opaque to selfdata)."""

Tag = Annotated[str, StringConstraints(min_length=1, max_length=64)]
"""A short keyword chosen by the citizen or the importer."""

_CURRENCY = r"^[A-Z]{3}$"
_COUNTRY = r"^[A-Z]{2}$"
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_URI = r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$"

CurrencyCode = Annotated[str, StringConstraints(pattern=_CURRENCY)]
"""An ISO 4217 alphabetic currency code, upper case: ``EUR``, ``CHF``."""

CountryCode = Annotated[str, StringConstraints(pattern=_COUNTRY)]
"""An ISO 3166-1 alpha-2 country code, upper case: ``FR``."""

Email = Annotated[str, StringConstraints(max_length=320, pattern=_EMAIL)]
"""An e-mail address (checked loosely: something@domain.tld, no spaces)."""

Uri = Annotated[str, StringConstraints(max_length=2048, pattern=_URI)]
"""An absolute URI such as ``http://loinc.org`` or ``urn:oid:1.2.250.1.213.2.2``."""

PATTERN_HINTS: dict[str, str] = {
    _CURRENCY: "a 3-letter ISO 4217 currency code in upper case, such as 'EUR'",
    _COUNTRY: "a 2-letter ISO 3166 country code in upper case, such as 'FR'",
    _EMAIL: "an e-mail address such as 'camille@example.org'",
    _URI: "an absolute URI such as 'http://loinc.org'",
}


def hint(pattern: str, description: str) -> str:
    """Register the human description of ``pattern`` for error messages; return it."""
    PATTERN_HINTS[pattern] = description
    return pattern


# --- numbers -----------------------------------------------------------------------------


def _plain_decimal(value: Decimal) -> Decimal:
    # Decimal("1E+2") would serialise as "1E+2"; quantizing gives the plain "100".
    # Negative exponents print in plain notation already (at most 6 places allowed).
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        return value.quantize(Decimal(1))
    return value


ExactNumber = Annotated[
    Decimal,
    Field(max_digits=24, decimal_places=6, allow_inf_nan=False),
    AfterValidator(_plain_decimal),
]
"""An exact number: accepted as a JSON number or a string, stored as a decimal string.

``"-42.50"`` stays ``"-42.50"`` (scale kept, no float rounding, no exponent). Used for
money and for FHIR decimals (a lab value ``"5.40"`` keeps its precision).
"""

Money = ExactNumber
"""An amount of money (its currency is another field): an ``ExactNumber``."""


def _nan_to_none(value: float | None) -> float | None:
    # Series columns use NaN for "no value"; the JSON-ready form has no NaN, so drop it.
    if value is not None and math.isnan(value):
        return None
    return value


OptionalMeasure = Annotated[float | None, Field(allow_inf_nan=True), AfterValidator(_nan_to_none)]
"""A measurement that may be missing: ``null``, absent or NaN all mean "no value"."""

Latitude = Annotated[float, Field(ge=-90.0, le=90.0)]
"""WGS 84 latitude in decimal degrees."""

Longitude = Annotated[float, Field(ge=-180.0, le=180.0)]
"""WGS 84 longitude in decimal degrees."""


# --- dates and times ---------------------------------------------------------------------


def to_utc(value: date) -> datetime:
    """A date or datetime as an aware UTC datetime (dates: midnight; naive: taken as UTC)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


_DATE_OR_DATETIME = (
    "a date (YYYY-MM-DD) or a date and time with a timezone (YYYY-MM-DDThh:mm:ss+01:00)"
)


def _parse_date_or_datetime(value: Any) -> date:
    # One validator instead of a pydantic union: a union reports one error per branch,
    # which would tell a person two confusing things about one field.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected {_DATE_OR_DATETIME}") from None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected {_DATE_OR_DATETIME}") from None
    if not isinstance(value, datetime):
        raise ValueError(f"expected {_DATE_OR_DATETIME}")
    if value.tzinfo is None:
        raise ValueError("expected a timezone offset after the time (such as +01:00 or Z)")
    return value


def _serialise_date_or_datetime(value: date) -> str:
    # Same text as pydantic gives plain datetime fields: "Z" for UTC.
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


DateOrDateTime = Annotated[
    date,
    PlainValidator(_parse_date_or_datetime),
    PlainSerializer(_serialise_date_or_datetime, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date"},
                {"type": "string", "format": "date-time"},
            ],
            "description": "A date, or a date and time with a timezone offset.",
        }
    ),
]
"""A date (all-day, partial FHIR dates) or a timezone-aware date and time."""


def check_not_before(end: date | None, start: date | None, start_field: str) -> None:
    """Raise ``ValueError`` when ``end`` is before ``start`` (the field ``start_field``)."""
    if end is not None and start is not None and to_utc(end) < to_utc(start):
        shown = _serialise_date_or_datetime(start)
        raise ValueError(f"expected a time at or after {start_field} ({shown})")


# --- structures shared by several categories ---------------------------------------------


class PostalAddress(DoctypeModel):
    """A postal address, with the parts of a vCard ``ADR`` (RFC 6350 §6.3.1)."""

    street: Label | None = None
    """Street and number, such as ``12 rue de la République``."""
    extended: Label | None = None
    """Building, floor, apartment (the vCard "extended address")."""
    po_box: Name | None = None
    """Post office box."""
    locality: Name | None = None
    """City or town, such as ``Lyon``."""
    region: Name | None = None
    """Region or department."""
    postal_code: Annotated[str, StringConstraints(min_length=1, max_length=16)] | None = None
    """Postal code, such as ``69002``."""
    country: CountryCode | None = None
    """ISO 3166-1 alpha-2 country code, such as ``FR``."""
