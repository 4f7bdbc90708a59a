"""SWIFT MT940 bank statements and MT942 interim reports (``.sta``, ``.940``, ``.mt940``).

.. code-block:: text

    {1:F01ASNBNL21XXXX0000000000}{2:O940ASNBNL21XXXXN}{3:}{4:
    :20:STATEMENT-REF
    :25:NL81ASNB9999999999
    :28C:1/1
    :60F:C200101EUR444,29
    :61:2001010101D65,00NTRFNONREF//BANKREF-1
    :86:?00SEPA TRANSFER?20Invoice 42?32Shop SA
    :62F:C200101EUR379,29
    -}

A small tolerant tag reader, not a library: ``mt-940`` (PyPI) reads the whole file into
memory and gives no line numbers, which a precise rejection needs. Here the file is read
one line at a time: a line starting with ``:NN[A]:`` opens a field, the lines after it
continue it (``:86:`` spans several lines), a line starting with ``-`` ends a message,
and anything else between messages (``{1:…}`` blocks, a bank's own header lines) is read
past. Lines are UTF-8, else Windows-1252, else Latin-1 (which decodes any byte), with
control characters dropped: banks write all three, and some a stray byte.

One ``bank.account`` per account (``:25:``, masked; the bank is the ``bank`` option, else
the BIC in the message header, else the bank code before a ``/`` in ``:25:``) and one
``bank.transaction`` per ``:61:``: value date, entry date → ``booked_on`` (the value date
when absent), ``C``/``D``/``RC``/``RD`` → sign, the bank's reference after ``//`` →
``transaction_id`` (unless ``NONREF``), the following ``:86:`` → ``label``,
``counterparty`` (German ``?20``-``?29``/``?32`` subfields, SEPA ``/REMI/``/``/NAME/``
codes, or free text), the ``:61:`` supplementary line → ``memo``. The currency is the
opening balance's (``:60F:``/``:60M:``) or, in an MT942, the floor limit's (``:34F:``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, BinaryIO, ClassVar

from selfdata.importers._bank import Occurrences, mask_account, parse_amount
from selfdata.importers.base import (
    ImportContext,
    Importer,
    ImportFailed,
    Item,
    RecordBatch,
    RecordRow,
    Rejected,
)

__all__ = ["Mt940"]

MAX_LINE = 64 * 1024
MAX_FIELD = 64 * 1024
"""A field longer than this (all its lines) is refused: no bank writes one."""

_TAG = re.compile(r"^:(\d{2}[A-Z]?|NS):")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 and C1 controls
_BIC = re.compile(r"(?<![A-Z])([A-Z]{6}[A-Z0-9]{2})(?:XXX|[A-Z0-9]{3})?")
_BALANCE = re.compile(r"^([CD])(\d{6})([A-Z]{3})(\d[\d,.]*)")
_FLOOR = re.compile(r"^([A-Z]{3})([CD]?)(\d[\d,.]*)")
_ENTRY = re.compile(
    r"^(?P<value>\d{6})(?P<entry>\d{4})?"
    r"(?P<mark>R?[CD])(?P<funds>[A-Z])?(?P<amount>\d[\d,.]*)"
    r"(?P<type>[A-Z][A-Z0-9 ]{3})?(?P<reference>.*)$"
)
_ENTRY_HINT = (
    "expected YYMMDD[MMDD] C|D|RC|RD amount type reference, such as 240315D42,50NTRFNONREF"
)
_GERMAN = re.compile(r"\?(\d{2})")
_SEPA = re.compile(r"/(TRTP|IBAN|BIC|NAME|REMI|EREF|MARF|CSID|ORDP|BENM|ID|ADDR|CNTP)/")
_PURPOSE = {f"{n:02d}" for n in (*range(20, 30), *range(60, 64))}
_SUBFIELD = 27
_NO_REFERENCE = {"NONREF", "NOTPROVIDED", "NOT PROVIDED", ""}
_PAYMENT = {
    "TRF": "transfer",
    "STO": "transfer",
    "SAL": "transfer",
    "DDT": "direct_debit",
    "CHK": "check",
    "CHG": "fee",
    "COM": "fee",
    "INT": "interest",
    "CSH": "cash",
}


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")  # decodes any byte: an odd one is kept, not refused


def _lines(stream: BinaryIO, source: str) -> Iterator[tuple[int, str]]:
    """(line number, text) for every line, control characters dropped."""
    number = 0
    readline = stream.readline
    while True:
        raw = readline(MAX_LINE + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            raise ImportFailed.at(
                source, number, "line", f"longer than {MAX_LINE // 1024} KiB; not an MT940 file"
            )
        if b"\x00\x00" in raw or (number == 1 and raw[:2] in (b"\xff\xfe", b"\xfe\xff")):
            raise ImportFailed.at(
                source, number, "encoding", "NUL bytes: binary data or UTF-16; expected text"
            )
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        yield number, _CONTROL.sub("", _decode(raw).rstrip("\r\n"))


def _fields(stream: BinaryIO, source: str) -> Iterator[tuple[int, str, list[str]]]:
    """``(line, tag, lines)`` for each field, ``(line, "-", [])`` at the end of a message
    and ``(line, "", [text])`` for a line outside any field (a header)."""
    tag = ""
    start = 0
    body: list[str] = []
    size = 0
    for number, text in _lines(stream, source):
        found = _TAG.match(text)
        if found or text.startswith(("-", "{")):
            if tag:
                yield start, tag, body
                tag = ""
            if found:
                tag, start, body = found.group(1), number, [text[found.end() :]]
                size = len(text)
            elif text.startswith("-"):
                yield number, "-", []
            else:
                yield number, "", [text]
        elif tag:
            size += len(text)
            if size > MAX_FIELD:
                raise ImportFailed.at(
                    source, start, f":{tag}:", f"a field over {MAX_FIELD // 1024} KiB"
                )
            body.append(text)
        elif text.strip():
            yield number, "", [text]
    if tag:
        yield start, tag, body


def _year(two: str) -> int:
    value = int(two)
    return 2000 + value if value < 80 else 1900 + value


def _dates(value: str, entry: str | None) -> tuple[date, date]:
    """(value date, booking date) of ``:61:``; the entry date (MMDD) takes the value
    date's year, or the next or previous one across a new year."""
    valued = date(_year(value[:2]), int(value[2:4]), int(value[4:6]))
    if not entry:
        return valued, valued
    month, day = int(entry[:2]), int(entry[2:])
    year = valued.year
    if month == 12 and valued.month == 1:
        year -= 1
    elif month == 1 and valued.month == 12:
        year += 1
    return valued, date(year, month, day)


def _squash(text: str) -> str:
    return " ".join(text.split())


def _join(pieces: list[str]) -> str:
    """Subfields of at most 27 characters: a full one was cut wherever the line ended
    (even in a word), a shorter one ended where its writer chose."""
    text = previous = ""
    for piece in pieces:
        if text and len(previous) < _SUBFIELD:
            text += " "
        text += piece
        previous = piece
    return text


def _details(lines: list[str]) -> tuple[str, str]:
    """(label, counterparty) of the ``:86:`` lines."""
    joined = "".join(lines)  # structured fields wrap anywhere, even inside a word
    if _GERMAN.search(joined[:8]) or ("?2" in joined and _GERMAN.search(joined)):
        parts = _GERMAN.split(joined)
        subfields = dict(zip(parts[1::2], parts[2::2], strict=False))
        purpose = _join([v for c, v in sorted(subfields.items()) if c in _PURPOSE])
        name = _squash(_join([subfields.get("32", ""), subfields.get("33", "")]))
        label = _squash(purpose) or _squash(subfields.get("00", "")) or name
        return label, name
    if ">2" in joined and joined[:4].rstrip(">").isdigit():  # Triodos: 000>20…>21…
        parts = re.split(r">(\d{2})", joined)
        purpose = "".join(
            v for c, v in zip(parts[1::2], parts[2::2], strict=False) if "20" <= c <= "29"
        )
        return _squash(purpose), ""
    if _SEPA.search(joined):
        parts = _SEPA.split(joined)
        codes: dict[str, str] = {}
        for code, value in zip(parts[1::2], parts[2::2], strict=False):
            codes.setdefault(code, value.strip())
        name = _squash(codes.get("NAME", ""))
        return _squash(codes.get("REMI", "")) or name, name
    return _squash(" ".join(lines)), ""


@dataclass(slots=True)
class _Statement:
    """What is known of the statement being read."""

    account_line: int = 0
    account: str = ""
    bank_code: str = ""
    currency: str = ""
    opened: bool = False  # an opening balance (:60F:/:60M:): an MT940, to be closed
    closed: bool = False
    start: int = 0
    emitted: bool = False
    entries: int = 0


@dataclass(slots=True)
class _Entry:
    line: int
    text: str
    extra: list[str]
    details: list[str] = field(default_factory=list)


class Mt940(Importer):
    name = "mt940"
    version = "1.0"
    description: ClassVar[dict[str, str]] = {
        "fr": "Relevé bancaire SWIFT MT940 / MT942",
        "en": "SWIFT MT940 / MT942 bank statement",
    }
    doctypes = ("bank.account", "bank.transaction")
    options: ClassVar[dict[str, str]] = {
        "bank": "the bank's name (default: the BIC of the message header, else the bank "
        "code of :25:)",
        "currency": "the currency when the file gives none (an MT942 without :34F:)",
    }

    def sniff(self, head: bytes, filename: str) -> float:
        text = _decode(head[:4096]).replace("\r", "")
        lines = text.split("\n")
        has = {
            tag
            for tag in (":20:", ":25:", ":61:", ":86:")
            for line in lines
            if line.startswith(tag)
        }
        balance = any(
            line.startswith((":60F:", ":60M:", ":28C:", ":28:", ":34F:", ":62F:")) for line in lines
        )
        if {":20:", ":25:"} <= has and balance:
            return 0.95
        if {":61:", ":86:"} <= has or "{2:O940" in text or "{2:O942" in text:
            return 0.6  # a piece of a statement: taken, then refused with what is missing
        return 0.0

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        source = context.filename
        size = max(1, context.batch_size)
        occurrences = Occurrences()
        accounts: set[tuple[str, str]] = set()
        ids: set[tuple[str, str]] = set()
        rows: list[RecordRow] = []
        statement: _Statement | None = None
        entry: _Entry | None = None
        header_bic = ""
        statements = 0
        account: dict[str, Any] = {}

        def close_entry() -> Iterator[Item]:
            nonlocal entry, rows
            if entry is None or statement is None:
                return
            item = self._transaction(entry, statement, account, occurrences, ids)
            entry = None
            if isinstance(item, Rejected):
                yield item
                return
            rows.append(item)
            if len(rows) >= size:
                yield RecordBatch("bank.transaction", rows)
                rows = []

        def open_account(line: int) -> Iterator[Item]:
            nonlocal account
            assert statement is not None
            if not statement.account:
                raise ImportFailed.at(
                    source, line, ":25:", "no account identification before the entries"
                )
            if not statement.currency:
                statement.currency = context.options.get("currency", "").upper()
            if not statement.currency:
                raise ImportFailed.at(
                    source,
                    line,
                    ":60F:",
                    "no opening balance (:60F:) or floor limit (:34F:) before the entries: "
                    "the currency is unknown (give --option currency=EUR)",
                )
            account = self._account(statement, header_bic, context)
            statement.emitted = True
            key = (account["bank"], account["account_id"])
            if key not in accounts:
                accounts.add(key)
                yield RecordBatch("bank.account", [RecordRow(statement.account_line, account)])

        def end_statement() -> Iterator[Item]:
            nonlocal statement
            yield from close_entry()
            pending = statement is not None and statement.account and not statement.emitted
            if pending and statement is not None and statement.currency:
                yield from open_account(statement.account_line)  # a day without entries
            statement = None

        for line, tag, body in _fields(stream, source):
            if tag in ("", "-"):
                if tag == "-":
                    if statement is not None and statement.opened:
                        self._check_closed(statement, source, line)
                    yield from end_statement()
                else:
                    found = _BIC.search(body[0])
                    if found and statement is None:
                        header_bic = found.group(1)
                continue
            value = body[0].strip()
            if tag == "20":
                if statement is not None and statement.opened:
                    self._check_closed(statement, source, line)
                yield from end_statement()
                statement = _Statement(start=line)
                statements += 1
                continue
            if statement is None:
                if tag in ("61", "86", "25"):
                    raise ImportFailed.at(
                        source, line, f":{tag}:", "before any :20: (transaction reference)"
                    )
                continue
            if tag == "25":
                statement.account_line = line
                statement.account, statement.bank_code, currency = _split_account(value)
                statement.currency = statement.currency or currency
            elif tag in ("60F", "60M"):
                found = _BALANCE.match(value)
                if found is None:
                    raise ImportFailed.at(
                        source, line, f":{tag}:", f"{value[:40]!r}; expected C|D YYMMDD CCY amount"
                    )
                statement.currency = found.group(3)
                statement.opened = True
            elif tag == "34F" and not statement.currency:
                found = _FLOOR.match(value)
                if found is not None:
                    statement.currency = found.group(1)
            elif tag == "61":
                yield from close_entry()
                if not statement.emitted:
                    yield from open_account(line)
                statement.entries += 1
                entry = _Entry(line, value, [t.strip() for t in body[1:] if t.strip()])
            elif tag == "86":
                if entry is not None:
                    entry.details.extend(body)
            elif tag in ("62F", "62M"):
                yield from close_entry()
                statement.closed = True
            elif tag != "NS":
                yield from close_entry()
        if statement is not None and statement.opened:
            self._check_closed(statement, source, None)
        yield from end_statement()
        if not statements:
            raise ImportFailed.at(
                source, None, ":20:", "no statement (:20: then :25:); expected an MT940 file"
            )
        if rows:
            yield RecordBatch("bank.transaction", rows)

    @staticmethod
    def _check_closed(statement: _Statement, source: str, line: int | None) -> None:
        if not statement.closed:
            raise ImportFailed.at(
                source,
                line,
                ":62F:",
                f"the statement begun at line {statement.start} has no closing balance "
                "(:62F:); the file is truncated or damaged",
            )

    @staticmethod
    def _account(statement: _Statement, header_bic: str, context: ImportContext) -> dict[str, Any]:
        bank = context.options.get("bank") or header_bic or statement.bank_code or "unknown bank"
        masked = mask_account(statement.account)
        account_id = f"{statement.bank_code} {masked}" if statement.bank_code else masked
        return {
            "bank": " ".join(bank.split())[:200],
            "account_id": account_id[:200],
            "currency": statement.currency,
            "label": f"Account {account_id}"[:1000],
            "account_type": "checking",
        }

    @staticmethod
    def _transaction(
        entry: _Entry,
        statement: _Statement,
        account: dict[str, Any],
        occurrences: Occurrences,
        ids: set[tuple[str, str]],
    ) -> RecordRow | Rejected:
        extra = entry.extra
        found = _ENTRY.match(entry.text)
        if found is None and extra:  # some exports wrap :61: itself (…1126CR / 30,00N062…)
            found = _ENTRY.match(entry.text + extra[0])
            extra = extra[1:]
        if found is None:
            return Rejected(entry.line, ":61:", f"{entry.text[:60]!r}; {_ENTRY_HINT}")
        try:
            valued, booked = _dates(found["value"], found["entry"])
        except ValueError:
            return Rejected(entry.line, ":61:", f"{entry.text[:16]!r}: not a date; {_ENTRY_HINT}")
        try:
            amount = parse_amount(found["amount"].rstrip("."))
        except ValueError as exc:
            return Rejected(entry.line, ":61:", str(exc))
        if found["mark"] in ("D", "RC"):  # a debit, or a credit reversed
            amount = amount if amount.startswith("-") or amount.strip("0.") == "" else f"-{amount}"
        label, counterparty = _details(entry.details)
        customer, _, bank_ref = found["reference"].partition("//")
        memo = _squash(" ".join(extra))
        row: dict[str, Any] = {
            "account_id": account["account_id"],
            "booked_on": booked.isoformat(),
            "value_date": valued.isoformat(),
            "amount": amount,
            "currency": statement.currency,
            "label": (label or memo or _squash(customer) or "(no label)")[:1000],
        }
        if counterparty:
            row["counterparty"] = counterparty[:200]
        if memo and memo != row["label"]:
            row["memo"] = memo[:1000]
        reference = bank_ref.strip()
        if reference.upper() not in _NO_REFERENCE:
            key = (account["account_id"], reference)
            if key not in ids:  # a reference seen twice in a file is not an id
                ids.add(key)
                row["transaction_id"] = reference[:200]
        method = _PAYMENT.get((found["type"] or "")[1:].strip().upper())
        if method:
            row["payment_method"] = method
        occurrences.mark(row)
        return RecordRow(entry.line, row)


def _split_account(value: str) -> tuple[str, str, str]:
    """(account, bank code, currency) of ``:25:``: ``BLZ/account``, ``BIC/account/CCY``,
    an IBAN, or an account number followed by its currency (``1291.99.348EUR``)."""
    parts = [p.strip() for p in value.split("/") if p.strip()]
    currency = ""
    if len(parts) > 1 and re.fullmatch(r"[A-Z]{3}", parts[-1]):
        currency = parts.pop()
    if parts and (tail := re.search(r"(?<=[\d.])([A-Z]{3})$", parts[-1])):
        currency = currency or tail.group(1)
        parts[-1] = parts[-1][: tail.start()]
    if not parts:
        return "", "", currency
    if len(parts) == 1:
        return parts[0], "", currency
    return "/".join(parts[1:]), parts[0], currency
