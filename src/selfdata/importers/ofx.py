"""OFX / QFX bank statements: 1.x (SGML, unclosed leaf tags, ``OFXHEADER:100``
headers, Windows-1252 or Latin-1) and 2.x (XML, ``<?OFX OFXHEADER="200"?>``).

.. code-block:: text

    OFXHEADER:100
    DATA:OFXSGML
    CHARSET:1252
    <OFX>…<STMTRS><CURDEF>EUR
    <BANKACCTFROM><BANKID>10907<ACCTID>99999999999<ACCTTYPE>CHECKING</BANKACCTFROM>
    <BANKTRANLIST><STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20220715<TRNAMT>-78.92
    <FITID>202200700026BD27<NAME>130722 CB****6516<MEMO>AUCHAN</STMTTRN>…

A small tolerant tokenizer reads both versions the same way (a tag followed by text is a
value, whether or not it is closed; an aggregate ends at its closing tag). It is not an
XML parser, so no entity of an OFX 2 file is ever expanded; ``&amp;``-style references in
values are decoded. Each ``STMTRS`` (bank) or ``CCSTMTRS`` (card) gives one
``bank.account`` (``BANKID`` and the masked ``ACCTID``) and its ``STMTTRN`` give
``bank.transaction`` records: ``FITID`` → ``transaction_id``, ``DTPOSTED`` →
``booked_on``, ``TRNAMT`` → ``amount`` (a decimal comma is accepted), ``NAME`` → ``label``
(``MEMO`` when there is no name), ``MEMO`` → ``memo``, ``CURDEF`` → ``currency``.
"""

from __future__ import annotations

import codecs
import html
import re
from collections.abc import Iterator
from itertools import chain
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

__all__ = ["Ofx"]

_CHUNK = 64 * 1024
_TAG = re.compile(r"<([/?!]?)([^<>]*)>([^<]*)")
_HEADER_ENCODING = re.compile(rb"(?:CHARSET:\s*|encoding=[\"'])([A-Za-z0-9_-]+)", re.I)
_STATEMENTS = {"STMTRS": "bank", "CCSTMTRS": "credit_card"}
_ACCOUNT_TYPES = {
    "CHECKING": "checking",
    "SAVINGS": "savings",
    "MONEYMRKT": "savings",
    "CREDITLINE": "loan",
    "CD": "savings",
}
_PAYMENT = {
    "POS": "card",
    "ATM": "cash",
    "CASH": "cash",
    "CHECK": "check",
    "XFER": "transfer",
    "DIRECTDEP": "transfer",
    "PAYMENT": "transfer",
    "DIRECTDEBIT": "direct_debit",
    "REPEATPMT": "direct_debit",
    "FEE": "fee",
    "SRVCHG": "fee",
    "INT": "interest",
    "DIV": "interest",
}


def _encoding(head: bytes) -> str:
    found = _HEADER_ENCODING.search(head[:2048])
    name = found.group(1).decode("ascii").lower() if found else ""
    if name in ("utf-8", "utf8") or (not found and head.lstrip().startswith(b"<?xml")):
        return "utf-8-sig"
    return "cp1252"  # CHARSET:1252, ISO-8859-1 and the rest of OFX 1 files


def _tokens(stream: BinaryIO, source: str) -> Iterator[list[tuple[int, str, str, str]]]:
    """Lists of ``(line, kind, tag, text)``, one list per chunk of the file, for each
    tag: kind ``""`` (open), ``"/"`` (close), ``"?"``/``"!"`` (declarations). A list per
    chunk rather than a generator per tag: the loop over tokens is the hot path."""
    head = stream.read(_CHUNK)
    encoding = _encoding(head)
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    pending = ""
    line = 1
    chunk = head
    while True:
        try:
            pending += decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise ImportFailed.at(
                source, line, "encoding", f"not {encoding} text ({exc.reason})"
            ) from None
        cut = len(pending) if not chunk else pending.rfind("<")
        if cut > 0:
            body, pending = pending[:cut], pending[cut:]
            start = body.find("<")
            line += body.count("\n", 0, max(start, 0))
            tokens: list[tuple[int, str, str, str]] = []
            append = tokens.append
            for kind, tag, text in _TAG.findall(body):
                append((line, kind, tag, text))
                if "\n" in text:
                    line += text.count("\n")
                if "\n" in tag:
                    line += tag.count("\n")
            yield tokens
        if not chunk:
            break
        chunk = stream.read(_CHUNK)


class Ofx(Importer):
    name = "ofx"
    version = "1.0"
    description: ClassVar[dict[str, str]] = {
        "fr": "Relevé bancaire OFX / QFX (versions 1 SGML et 2 XML)",
        "en": "OFX / QFX bank statement (versions 1 SGML and 2 XML)",
    }
    doctypes = ("bank.account", "bank.transaction")
    options: ClassVar[dict[str, str]] = {
        "bank": "the bank's name (default: the file's FI/ORG, else its BANKID)",
    }

    def sniff(self, head: bytes, filename: str) -> float:
        start = head.lstrip(b"\xef\xbb\xbf \r\n\t")[:1024].upper()
        if start.startswith(b"OFXHEADER:") or b"<?OFX " in start:
            return 0.95
        if b"<OFX>" in start:
            return 0.8
        return 0.0

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        source = context.filename
        size = max(1, context.batch_size)
        occurrences = Occurrences()
        stack: list[str] = []
        values: dict[str, tuple[int, str]] = {}  # leaf values of the open aggregates
        statement: dict[str, tuple[int, str]] = {}
        account: dict[str, Any] | None = None
        kind = "bank"
        org: str | None = None
        rows: list[RecordRow] = []
        seen_ofx = False
        in_trn = False
        for line, mark, raw, text in chain.from_iterable(_tokens(stream, source)):
            if mark in ("?", "!") or not raw:
                continue
            tag = raw if raw.isupper() else raw.upper()
            name = tag.split()[0] if " " in tag or "\n" in tag or "\t" in tag else tag.strip()
            if mark == "/":
                if name not in stack:
                    continue  # the closing tag of a value (OFX 2, or a tidy OFX 1)
                while stack:
                    closed = stack.pop()
                    if closed == "STMTTRN":
                        in_trn = False
                        if account is None:
                            account = self._account(statement, kind, org, context, line)
                            yield RecordBatch(
                                "bank.account", [RecordRow(account["_line"], _public(account))]
                            )
                        item = self._transaction(values, account, occurrences, line)
                        if isinstance(item, Rejected):
                            yield item
                        else:
                            rows.append(item)
                            if len(rows) >= size:
                                yield RecordBatch("bank.transaction", rows)
                                rows = []
                        values = {}
                    elif closed in _STATEMENTS:
                        if account is None and "ACCTID" in statement:
                            account = self._account(statement, kind, org, context, line)
                            yield RecordBatch(
                                "bank.account", [RecordRow(account["_line"], _public(account))]
                            )
                        account, statement = None, {}
                    if closed == name:
                        break
                continue
            if name == "OFX":
                seen_ofx = True
            value = text.strip()
            if value:  # a leaf: <TAG>value
                if "&" in value:
                    value = html.unescape(value)
                if in_trn:
                    values[name] = (line, value)
                elif name == "ORG" and "FI" in stack:
                    org = value
                elif any(s in stack for s in _STATEMENTS):
                    statement.setdefault(name, (line, value))
                continue
            if name in _STATEMENTS:
                kind = _STATEMENTS[name]
                statement, account = {}, None
            if name == "STMTTRN":
                values, in_trn = {}, True
            stack.append(name)
        if not seen_ofx:
            raise ImportFailed.at(source, None, "OFX", "no <OFX> element; expected an OFX file")
        if rows:
            yield RecordBatch("bank.transaction", rows)

    def _account(
        self,
        statement: dict[str, tuple[int, str]],
        kind: str,
        org: str | None,
        context: ImportContext,
        line: int,
    ) -> dict[str, Any]:
        acct = statement.get("ACCTID")
        if acct is None:
            raise ImportFailed.at(
                context.filename, line, "ACCTID", "no account id before the transactions"
            )
        bank_id = statement.get("BANKID", (0, ""))[1]
        bank = context.options.get("bank") or org or bank_id or "unknown bank"
        masked = mask_account(acct[1])
        account_id = f"{bank_id} {masked}" if bank_id else masked
        raw_type = statement.get("ACCTTYPE", (0, ""))[1].upper()
        account_type = (
            "credit_card" if kind == "credit_card" else _ACCOUNT_TYPES.get(raw_type, "other")
        )
        return {
            "_line": acct[0],
            "bank": bank,
            "account_id": account_id,
            "currency": statement.get("CURDEF", (0, "XXX"))[1].upper(),
            "label": f"{raw_type.capitalize() or 'Account'} {account_id}",
            "account_type": account_type,
        }

    @staticmethod
    def _transaction(
        values: dict[str, tuple[int, str]],
        account: dict[str, Any],
        occurrences: Occurrences,
        end_line: int,
    ) -> RecordRow | Rejected:
        line = next(iter(values.values()))[0] if values else end_line  # the first value
        amount_at = values.get("TRNAMT")
        if amount_at is None:
            return Rejected(line, "TRNAMT", "missing; expected the amount of the transaction")
        try:
            amount = parse_amount(amount_at[1])
        except ValueError as exc:
            return Rejected(amount_at[0], "TRNAMT", str(exc))
        posted = values.get("DTPOSTED")
        day = posted[1][:8] if posted else ""
        if not (len(day) == 8 and day.isdigit()):
            where = posted[0] if posted else line
            found = repr(posted[1]) if posted else "missing"
            return Rejected(where, "DTPOSTED", f"{found}; expected a date YYYYMMDD[hhmmss]")
        name = values.get("NAME", (0, ""))[1]
        memo = values.get("MEMO", (0, ""))[1]
        row: dict[str, Any] = {
            "account_id": account["account_id"],
            "booked_on": f"{day[:4]}-{day[4:6]}-{day[6:]}",
            "amount": amount,
            "currency": values.get("CURRENCY", (0, account["currency"]))[1][:3].upper()
            if "CURSYM" not in values
            else account["currency"],
            "label": (name or memo or "(no label)")[:1000],
        }
        if name and memo:
            row["memo"] = memo[:1000]
        fitid = values.get("FITID", (0, ""))[1]
        if fitid:
            row["transaction_id"] = fitid
        method = _PAYMENT.get(values.get("TRNTYPE", (0, ""))[1].upper())
        if method:
            row["payment_method"] = method
        occurrences.mark(row)
        return RecordRow(line, row)


def _public(account: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in account.items() if not k.startswith("_")}
