"""ISO 20022 CAMT.053 bank-to-customer statements (XML; versions 001.02 to 001.08).

.. code-block:: xml

    <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
      <BkToCstmrStmt><Stmt>
        <Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id><Ccy>EUR</Ccy></Acct>
        <Ntry><Amt Ccy="EUR">42.50</Amt><CdtDbtInd>DBIT</CdtDbtInd>
          <BookgDt><Dt>2024-03-01</Dt></BookgDt><AcctSvcrRef>X1</AcctSvcrRef>…</Ntry>

One ``bank.account`` per ``Stmt`` (``Acct/Id/IBAN``, masked) and one
``bank.transaction`` per booked ``Ntry``: ``AcctSvcrRef`` (or ``NtryRef``) is the
transaction id, ``BookgDt``/``ValDt`` the dates, ``Amt`` signed by ``CdtDbtInd``
(``DBIT`` negative), ``RmtInf/Ustrd`` (else ``AddtlNtryInf``) the label, the creditor
(for a debit) or the debtor (for a credit) the counterparty. Pending entries
(``Sts`` ``PDNG``) are left out.

The file is untrusted: it is parsed with ``defusedxml``, which refuses DTDs and entity
declarations (billion laughs, external entities) before anything is expanded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO, ClassVar
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

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

__all__ = ["Camt053"]

_NAMESPACE = re.compile(rb"urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.\d\d")
_BIC = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})")
_CHUNK = 64 * 1024
_PAYMENT_FAMILIES = {
    "CCRD": "card",
    "DCCT": "card",
    "ICDT": "transfer",
    "RCDT": "transfer",
    "IDDT": "direct_debit",
    "RDDT": "direct_debit",
    "ICHQ": "check",
    "RCHQ": "check",
    "CNTR": "cash",
    "CHRG": "fee",
}


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


class _Target:
    """A tree builder that remembers each element's line and hands over finished
    ``Stmt`` headers and ``Ntry`` elements, so memory stays bounded."""

    def __init__(self) -> None:
        self.parser: DefusedXMLParser | None = None
        self._builder = TreeBuilder()
        self._stack: list[Element] = []
        self.lines: dict[int, int] = {}
        self.done: list[tuple[str, Element]] = []

    def start(self, tag: str, attrib: dict[str, str]) -> Element:
        element = self._builder.start(tag, attrib)
        if self.parser is not None:
            self.lines[id(element)] = self.parser.parser.CurrentLineNumber
        name = _local(tag)
        if name == "Ntry" and self._stack and _local(self._stack[-1].tag) == "Stmt":
            self.done.append(("stmt", self._stack[-1]))  # the account comes before entries
        self._stack.append(element)
        return element

    def end(self, tag: str) -> Element:
        element = self._builder.end(tag)
        self._stack.pop()
        name = _local(tag)
        if name == "Ntry" and self._stack:
            self.done.append(("ntry", element))
            self._stack[-1].remove(element)  # drop it from the tree once handed over
        elif name == "Stmt":
            self.done.append(("end", element))
        return element

    def data(self, text: str) -> None:
        self._builder.data(text)

    def close(self) -> Element:
        return self._builder.close()


def _find(element: Element | None, *path: str) -> Element | None:
    for name in path:
        if element is None:
            return None
        element = next((child for child in element if _local(child.tag) == name), None)
    return element


def _text(element: Element | None, *path: str) -> str | None:
    found = _find(element, *path)
    if found is None or found.text is None:
        return None
    return " ".join(found.text.split()) or None


class Camt053(Importer):
    name = "camt.053"
    version = "1.0"
    description: ClassVar[dict[str, str]] = {
        "fr": "Relevé de compte ISO 20022 CAMT.053 (XML)",
        "en": "ISO 20022 CAMT.053 bank statement (XML)",
    }
    doctypes = ("bank.account", "bank.transaction")
    options: ClassVar[dict[str, str]] = {
        "bank": "the bank's name, when the statement does not give it",
    }

    def sniff(self, head: bytes, filename: str) -> float:
        if b"<" not in head[:512]:
            return 0.0
        if _NAMESPACE.search(head):
            return 0.95
        return 0.0

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        source = context.filename
        target = _Target()
        parser = DefusedXMLParser(
            target=target, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
        target.parser = parser  # for the line of each element
        state = _Statement(self, context, target.lines)
        while True:
            chunk = stream.read(_CHUNK)
            try:
                if chunk:
                    parser.feed(chunk)
                else:
                    parser.close()
            except DefusedXmlException as exc:
                raise ImportFailed.at(
                    source,
                    parser.parser.CurrentLineNumber,
                    "xml",
                    f"the file declares a DTD or entities ({type(exc).__name__}); "
                    "a bank statement has none, and they are refused for safety",
                ) from None
            except ParseError as exc:
                line = exc.position[0] if exc.position else None
                raise ImportFailed.at(source, line, "xml", f"not well-formed XML: {exc}") from None
            for kind, element in target.done:
                yield from state.handle(kind, element)
            target.done.clear()
            if not chunk:
                break
        yield from state.flush()
        if not state.statements:
            raise ImportFailed.at(
                source, None, "Stmt", "no statement (BkToCstmrStmt/Stmt); expected a CAMT.053"
            )


class _Statement:
    def __init__(self, importer: Camt053, context: ImportContext, lines: dict[int, int]) -> None:
        self.context = context
        self.lines = lines
        self.statements = 0
        self.account: dict[str, Any] | None = None
        self.rows: list[RecordRow] = []
        self.occurrences = Occurrences()
        self.size = max(1, context.batch_size)

    def line(self, element: Element | None) -> int:
        return self.lines.get(id(element), 0) if element is not None else 0

    def handle(self, kind: str, element: Element) -> Iterator[Item]:
        if kind == "stmt":
            if self.account is None:
                yield from self._account(element)
        elif kind == "end":
            if self.account is None:
                yield from self._account(element)
            self.account = None
        else:
            yield from self._entry(element)

    def _account(self, stmt: Element) -> Iterator[Item]:
        self.statements += 1
        acct = _find(stmt, "Acct")
        line = self.line(acct) or self.line(stmt)
        iban = _text(acct, "Id", "IBAN")
        other = _text(acct, "Id", "Othr", "Id")
        number = iban or other
        if number is None:
            raise ImportFailed.at(
                self.context.filename, line, "Acct/Id", "no IBAN or other account id"
            )
        balance = _find(stmt, "Bal", "Amt")
        currency = _text(acct, "Ccy") or (balance.get("Ccy") if balance is not None else None)
        bank = (
            self.context.options.get("bank")
            or _text(acct, "Svcr", "FinInstnId", "Nm")
            or _text(acct, "Svcr", "FinInstnId", "BICFI")
            or _text(acct, "Svcr", "FinInstnId", "BIC")
            or "unknown bank"
        )
        bic = _text(acct, "Svcr", "FinInstnId", "BICFI") or _text(acct, "Svcr", "FinInstnId", "BIC")
        account: dict[str, Any] = {
            "bank": bank,
            "account_id": mask_account(number),
            "currency": currency or "XXX",
            "label": _text(acct, "Nm") or f"{bank} {mask_account(number)}",
            "account_type": "checking",
        }
        if bic and _BIC.match(bic.replace(" ", "").upper()):
            account["bic"] = bic  # a placeholder ("BANK BIC") is left out, not refused
        holder = _text(acct, "Ownr", "Nm")
        if holder:
            account["holder_name"] = holder
        self.account = account
        yield RecordBatch("bank.account", [RecordRow(line, account)])

    def _entry(self, entry: Element) -> Iterator[Item]:
        line = self.line(entry)
        status = _text(entry, "Sts", "Cd") or _text(entry, "Sts")
        if status in ("PDNG", "INFO"):
            return
        if self.account is None:
            yield Rejected(line, "Ntry", "an entry outside a statement (Stmt) with an account")
            return
        amt = _find(entry, "Amt")
        try:
            amount = parse_amount(amt.text or "" if amt is not None else "")
        except ValueError as exc:
            yield Rejected(self.line(amt) or line, "Amt", str(exc))
            return
        indicator = _text(entry, "CdtDbtInd")
        if indicator not in ("CRDT", "DBIT"):
            yield Rejected(line, "CdtDbtInd", f"{indicator!r}; expected CRDT or DBIT")
            return
        if indicator == "DBIT" and not amount.startswith("-"):
            amount = "-" + amount
        booked = _date(entry, "BookgDt")
        if booked is None:
            yield Rejected(line, "BookgDt", "no booking date; expected BookgDt/Dt (YYYY-MM-DD)")
            return
        details = _find(entry, "NtryDtls", "TxDtls")
        ustrd = [
            " ".join((e.text or "").split())
            for e in (_find(details, "RmtInf") or [])
            if _local(e.tag) == "Ustrd"
        ]
        party = "Cdtr" if indicator == "DBIT" else "Dbtr"
        counterparty = _text(details, "RltdPties", party, "Nm") or _text(
            details, "RltdPties", party, "Pty", "Nm"
        )
        label = (
            " ".join(u for u in ustrd if u)
            or _text(entry, "AddtlNtryInf")
            or _text(details, "AddtlTxInf")
            or counterparty
            or "(no label)"
        )
        row: dict[str, Any] = {
            "account_id": self.account["account_id"],
            "booked_on": booked,
            "amount": amount,
            "currency": (amt.get("Ccy") if amt is not None else None) or self.account["currency"],
            "label": label[:1000],
        }
        value_date = _date(entry, "ValDt")
        if value_date:
            row["value_date"] = value_date
        reference = (
            _text(entry, "AcctSvcrRef")
            or _text(details, "Refs", "AcctSvcrRef")
            or _text(entry, "NtryRef")
        )
        if reference:
            row["transaction_id"] = reference
        if counterparty:
            row["counterparty"] = counterparty[:200]
        family = _text(entry, "BkTxCd", "Domn", "Fmly", "Cd")
        if family in _PAYMENT_FAMILIES:
            row["payment_method"] = _PAYMENT_FAMILIES[family]
        self.occurrences.mark(row)
        self.rows.append(RecordRow(line, row))
        if len(self.rows) >= self.size:
            yield from self.flush()

    def flush(self) -> Iterator[Item]:
        if self.rows:
            yield RecordBatch("bank.transaction", self.rows)
            self.rows = []


def _date(entry: Element, name: str) -> str | None:
    text = _text(entry, name, "Dt") or _text(entry, name, "DtTm")
    match = _DATE.match(text or "")
    return match.group(1) if match else None
