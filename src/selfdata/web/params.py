"""Parsing the small things requests carry: instants, ETags, file names, media types."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request

from selfdata.doctypes.fields import to_utc
from selfdata.errors import FieldError, InvalidInput, MalformedQuery, ValidationFailed

__all__ = [
    "content_disposition",
    "etag",
    "from_ms",
    "iso_instant",
    "parse_if_match",
    "parse_instant",
    "require_json",
    "safe_filename",
    "safe_media_type",
]

_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
_ETAG = re.compile(r'^\s*(?:"(\d{1,18})"|(\d{1,18}))\s*$')


def iso_instant(text: str) -> datetime:
    """An ISO 8601 date (midnight UTC) or date and time (no offset: UTC), as aware UTC;
    ``ValueError`` if it is neither."""
    text = text.strip()
    parsed: date = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    return to_utc(parsed)


def parse_instant(value: str | None, name: str) -> datetime | None:
    """A query parameter holding an instant (see :func:`iso_instant`); empty: None."""
    if value is None or value == "":
        return None
    try:
        return iso_instant(value)
    except ValueError:
        raise MalformedQuery(
            f"{name}={value!r} is not a date or time; expected ISO 8601 such as 2024-03-01 "
            "or 2024-03-01T08:00:00+01:00"
        ) from None


def from_ms(ms: int) -> datetime:
    """An epoch-milliseconds time (sessions, tokens) as an aware UTC datetime."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def etag(revision: int) -> str:
    return f'"{revision}"'


def parse_if_match(value: str | None) -> int | None:
    """The expected revision from ``If-Match: "3"``; ``*`` or no header: any revision."""
    if value is None or value.strip() == "*":
        return None
    match = _ETAG.match(value)
    if not match:
        raise MalformedQuery(
            f"If-Match {value!r} is not understood: send the ETag of the record as read, "
            'such as "3"'
        )
    return int(match[1] or match[2])


def safe_filename(value: str, field: str = "filename") -> str:
    """A file name as stored: its last path part, without control characters."""
    name = unicodedata.normalize("NFC", value).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if not name or name in (".", "..") or len(name) > 255:
        raise ValidationFailed(
            "the file name is not acceptable",
            [FieldError((field,), "expected a file name of 1 to 255 characters, such as avis.pdf")],
        )
    return name


def safe_media_type(value: str | None) -> str:
    """``type/subtype`` (lower case, parameters dropped); none given: octet-stream."""
    if not value or not value.strip():
        return "application/octet-stream"
    media = value.split(";", 1)[0].strip().lower()
    if not _MEDIA_TYPE.match(media):
        raise InvalidInput(f"{value!r} is not a media type such as application/pdf")
    return media


def content_disposition(kind: str, filename: str) -> str:
    """RFC 6266: an ASCII fallback and the exact UTF-8 name in ``filename*``."""
    fallback = (
        "".join(
            ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\%;' else "_"
            for ch in unicodedata.normalize("NFKD", filename)
            if not unicodedata.combining(ch)
        )
        or "file"
    )
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def require_json(request: Request) -> None:
    """Route dependency: a body, if any, must be declared as JSON (415 otherwise).

    Also part of the CSRF defence: a cross-site form cannot send ``application/json``."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    headers = request.headers
    has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
    if has_body and not (media == "application/json" or media.endswith("+json")):
        got = media or "no Content-Type"
        raise HTTPException(415, f"send the body as application/json (got {got})")
