"""vCard address books (``.vcf``; versions 2.1, 3.0 and 4.0): each ``VCARD`` becomes a
``contact.card``.

Read by a small parser of content lines rather than ``vobject``, which fails on 5 of the
13 real exports in the shared samples (vCard 2.1 quoted-printable values with soft line
breaks, 2.1 base64 photos, Lotus Notes cards): see docs/dependencies.md.

* Parameters in all three styles: ``TEL;CELL;VOICE:`` (2.1), ``TEL;TYPE=work,voice:``
  (3.0), ``TEL;TYPE=home;PREF=1:`` (4.0); ``item1.EMAIL`` groups are ignored.
* ``ENCODING=QUOTED-PRINTABLE`` values are decoded with their ``CHARSET`` (UTF-8 by
  default); ``\\n``, ``\\,``, ``\\;`` escapes are undone; photos and other binary
  values are left out.
* ``UID`` is the natural key; a card without one gets ``no-uid:<FN>:<first e-mail or
  phone>``, so importing the file again finds it.
* A value the doctype cannot hold is left out rather than refusing the card: an e-mail
  that is not one, a country that is not a 2-letter code (kept in ``region`` instead…),
  a birthday without a year (kept in ``note``). A card without a name is named after its
  organisation, e-mail or phone; one with none of them is rejected.
"""

from __future__ import annotations

import quopri
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, ClassVar

from selfdata.importers._contentlines import Block, iter_blocks
from selfdata.importers.base import (
    ImportContext,
    Importer,
    ImportFailed,
    Item,
    RecordBatch,
    RecordRow,
    Rejected,
)
from selfdata.importers.text import decode_head

__all__ = ["VCard"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_PHONE_TYPES = {"cell", "home", "work", "fax", "pager", "text", "voice"}
_PLACE_TYPES = {"home", "work"}
_BDAY = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})")
_SPLIT = re.compile(r"(?<!\\);")
_LIST = re.compile(r"(?<!\\),")


@dataclass(slots=True)
class _Property:
    name: str
    params: dict[str, list[str]] = field(default_factory=dict)
    types: set[str] = field(default_factory=set)
    value: str = ""

    @property
    def preferred(self) -> bool:
        return "pref" in self.types or "PREF" in self.params


def _unescape(text: str) -> str:
    return (
        text.replace("\r\n", "\n")
        .replace("\\n", "\n")
        .replace("\\N", "\n")
        .replace("\\,", ",")
        .replace("\\;", ";")
        .replace("\\\\", "\\")
    ).strip()


def _split_params(head: str) -> list[str]:
    """``TEL;TYPE="a,b";PREF=1`` → its parts, quotes respected."""
    parts, current, quoted = [], "", False
    for char in head:
        if char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    return parts


def _property(text: str) -> _Property | None:
    head, sep, value = _split_value(text)
    if not sep:
        return None
    name, *params = _split_params(head)
    found = _Property(name.rpartition(".")[2].upper())
    for param in params:
        key, eq, raw = param.partition("=")
        if not eq:  # vCard 2.1: a bare type
            found.types.add(key.strip().lower())
            continue
        key = key.strip().upper()
        values = [v.strip().strip('"') for v in raw.split(",")]
        found.params.setdefault(key, []).extend(values)
        if key == "TYPE":
            found.types.update(v.lower() for v in values)
    encoding = (found.params.get("ENCODING") or [""])[0].upper()
    if encoding == "QUOTED-PRINTABLE" or "quoted-printable" in found.types:
        charset = (found.params.get("CHARSET") or ["utf-8"])[0]
        raw_bytes = quopri.decodestring(value.encode("latin-1", "replace"))
        try:
            value = raw_bytes.decode(charset, "replace")
        except LookupError:
            value = raw_bytes.decode("utf-8", "replace")
    elif encoding in {"B", "BASE64"} or "base64" in found.types:
        value = ""  # binary (a photo): not kept
    found.value = value
    return found


def _split_value(text: str) -> tuple[str, str, str]:
    """The name and parameters, and the value, split on the first ``:`` outside
    quotes (a parameter may hold ``"mailto:…"``)."""
    quoted = False
    for index, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            return text[:index], ":", text[index + 1 :]
    return text, "", ""


def _parts(value: str) -> list[str]:
    return [_unescape(p) for p in _SPLIT.split(value)]


def _place(prop: _Property) -> str | None:
    found = next((t for t in ("home", "work") if t in prop.types), None)
    return found if found in _PLACE_TYPES else None


def _card(block: Block) -> dict[str, Any]:
    props = [p for p in (_property(text) for _, text in block.lines[1:-1]) if p is not None]
    first: dict[str, _Property] = {}
    for prop in props:
        first.setdefault(prop.name, prop)
    names = _parts(first["N"].value) + [""] * 5 if "N" in first else [""] * 5
    family, given, additional, prefix = (n or None for n in names[:4])
    full_name = _unescape(first["FN"].value) if "FN" in first else ""
    if not full_name:
        full_name = " ".join(n for n in (prefix, given, additional, family) if n)
    emails = []
    for prop in props:
        address = _unescape(prop.value)
        if prop.name == "EMAIL" and _EMAIL.match(address) and len(address) <= 320:
            email: dict[str, Any] = {"value": address, "preferred": prop.preferred}
            if _place(prop):
                email["type"] = _place(prop)
            emails.append(email)
    phones = []
    for prop in props:
        number = _unescape(prop.value)
        number = number[4:] if number.lower().startswith("tel:") else number  # 4.0 URI
        if prop.name == "TEL" and 3 <= len(number) <= 64:
            kinds = [
                t
                for t in ("cell", "fax", "pager", "text", "home", "work", "voice")
                if t in prop.types
            ]
            phone: dict[str, Any] = {"value": number, "preferred": prop.preferred}
            if kinds:
                phone["type"] = kinds[0]
            phones.append(phone)
    if not full_name:  # a card with only an address or a company: named after it
        organisation = _parts(first["ORG"].value)[0] if "ORG" in first else ""
        full_name = organisation or (emails[0]["value"] if emails else "")
        full_name = full_name or (phones[0]["value"] if phones else "")
    if not full_name:
        raise ValueError("FN|no name, e-mail or phone; expected at least the contact's name")
    addresses = [_address(prop) for prop in props if prop.name == "ADR"]
    notes = [_unescape(p.value) for p in props if p.name == "NOTE" and p.value.strip()]
    birthday = None
    if "BDAY" in first:
        raw = first["BDAY"].value.strip()
        match = _BDAY.match(raw)
        if match:
            birthday = "-".join(match.groups())
        elif raw:
            notes.append(f"Birthday: {raw}")
    uid = _unescape(first["UID"].value) if "UID" in first else ""
    if not uid:
        contact = emails[0]["value"] if emails else phones[0]["value"] if phones else ""
        uid = f"no-uid:{full_name}:{contact}"
    data: dict[str, Any] = {
        "uid": uid[:256],
        "full_name": full_name[:200],
        "given_name": given,
        "family_name": family,
        "additional_names": additional,
        "prefix": prefix,
        "nickname": _unescape(first["NICKNAME"].value) if "NICKNAME" in first else None,
        "emails": emails,
        "phones": phones,
        "addresses": [a for a in addresses if len(a) > (1 if "type" in a else 0)],
        "organisation": _parts(first["ORG"].value)[0] if "ORG" in first else None,
        "title": _unescape(first["TITLE"].value) if "TITLE" in first else None,
        "birthday": birthday,
        "urls": [
            _unescape(p.value) for p in props if p.name == "URL" and _URI.match(_unescape(p.value))
        ],
        "categories": [
            _unescape(c)[:64]
            for p in props
            if p.name == "CATEGORIES"
            for c in _LIST.split(p.value)
            if c.strip()
        ],
        "note": "\n".join(notes)[:100_000] or None,
    }
    return {k: v for k, v in data.items() if v not in (None, "", [])}


def _address(prop: _Property) -> dict[str, Any]:
    parts = _parts(prop.value) + [""] * 7
    po_box, extended, street, locality, region, postal_code, country = parts[:7]
    if country and not _COUNTRY.match(country):
        region = ", ".join(x for x in (region, country) if x)  # a country name: kept here
        country = ""
    found = {
        "po_box": po_box[:200],
        "extended": extended,
        "street": street,
        "locality": locality[:200],
        "region": region[:200],
        "postal_code": postal_code[:16],
        "country": country,
        "type": _place(prop),
    }
    return {k: v for k, v in found.items() if v}


class VCard(Importer):
    name: ClassVar[str] = "vcard"
    version: ClassVar[str] = "1.0"
    description: ClassVar[dict[str, str]] = {
        "fr": "Carnet d'adresses vCard (.vcf, versions 2.1, 3.0 et 4.0)",
        "en": "vCard address book (.vcf, versions 2.1, 3.0 and 4.0)",
    }
    doctypes: ClassVar[tuple[str, ...]] = ("contact.card",)
    options: ClassVar[dict[str, str]] = {
        "address_book": "The address book's name for every card, such as 'Contacts Google'",
    }

    def sniff(self, head: bytes, filename: str) -> float:
        text = decode_head(head)
        if text is None:
            return 0.0
        return 0.95 if text.lstrip().upper().startswith("BEGIN:VCARD") else 0.0

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        source = context.filename
        book = context.options.get("address_book")
        rows: list[RecordRow] = []
        cards = 0
        for block, outside in iter_blocks(stream, source, frozenset({"VCARD"})):
            if block is None:
                assert outside is not None
                raise ImportFailed.at(
                    source, outside[0], "BEGIN", "a line outside any card; expected BEGIN:VCARD"
                )
            cards += 1
            try:
                data = _card(block)
            except ValueError as exc:
                where, _, message = str(exc).partition("|")
                yield Rejected(block.line, where if message else "VCARD", message or str(exc))
                continue
            if book:
                data["address_book"] = book
            rows.append(RecordRow(block.line, data))
            if len(rows) >= context.batch_size:
                yield RecordBatch("contact.card", rows)
                rows = []
        if not cards:
            raise ImportFailed.at(source, 1, "BEGIN", "no card; expected BEGIN:VCARD")
        if rows:
            yield RecordBatch("contact.card", rows)
