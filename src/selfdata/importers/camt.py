"""ISO 20022 CAMT.052 / .053 / .054 bank-to-customer messages (XML; versions 001.02 to 001.13).

Three messages share one parser, differing only by the element that holds an account
and its entries:

* ``camt.053`` — end-of-day statement, ``BkToCstmrStmt/Stmt``;
* ``camt.052`` — intraday account report, ``BkToCstmrAcctRpt/Rpt``;
* ``camt.054`` — debit/credit notification, ``BkToCstmrDbtCdtNtfctn/Ntfctn``.

.. code-block:: xml

    <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
      <BkToCstmrStmt><Stmt>
        <Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id><Ccy>EUR</Ccy></Acct>
        <Ntry><Amt Ccy="EUR">42.50</Amt><CdtDbtInd>DBIT</CdtDbtInd>
          <BookgDt><Dt>2024-03-01</Dt></BookgDt><AcctSvcrRef>X1</AcctSvcrRef>…</Ntry>

One ``bank.account`` per ``Stmt`` (``Rpt``, ``Ntfctn``) (``Acct/Id/IBAN``, masked) and one
``bank.transaction`` per booked ``Ntry``: ``AcctSvcrRef`` (or ``NtryRef``) is the
transaction id, ``BookgDt``/``ValDt`` the dates, ``Amt`` signed by ``CdtDbtInd``
(``DBIT`` negative), ``RmtInf/Ustrd`` (else ``AddtlNtryInf``) the label, the creditor
(for a debit) or the debtor (for a credit) the counterparty. Pending entries
(``Sts`` ``PDNG``) are left out.

The file is untrusted. It is read by expat (the C parser behind ``xml.etree``) with the
guards of ``defusedxml`` installed on it: a DTD, an entity declaration or an external
reference raises defusedxml's own exception before anything is expanded (billion laughs,
external entities). No element tree is built: the parser keeps, for the entry being
read, the text of each leaf under its path (``BookgDt/Dt``), which is all the importer
reads — a tree per entry cost four times as much.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO, ClassVar
from xml.parsers import expat

from defusedxml import (
    DefusedXmlException,
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
)

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

__all__ = ["Camt052", "Camt053", "Camt054", "CamtMessage"]

_BIC = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})")
_CREDITOR = ("NtryDtls/TxDtls/RltdPties/Cdtr/Nm", "NtryDtls/TxDtls/RltdPties/Cdtr/Pty/Nm")
_DEBTOR = ("NtryDtls/TxDtls/RltdPties/Dbtr/Nm", "NtryDtls/TxDtls/RltdPties/Dbtr/Pty/Nm")
_CHUNK = 256 * 1024
_NO_REFERENCE = {"NONREF", "NOTPROVIDED", "NOT PROVIDED"}
_USTRD = "NtryDtls/TxDtls/RmtInf/Ustrd"
# The only leaves read, relative to the account element and to an entry; "@" marks an
# element whose attributes are kept, "#" one whose line is kept.
_STMT_PATHS = (
    "Acct#",
    "Acct/Id/IBAN",
    "Acct/Id/Othr/Id",
    "Acct/Ccy",
    "Acct/Nm",
    "Acct/Ownr/Nm",
    "Acct/Svcr/FinInstnId/Nm",
    "Acct/Svcr/FinInstnId/BICFI",
    "Acct/Svcr/FinInstnId/BIC",
    "Bal/Amt@",
)
_ENTRY_PATHS = (
    "Amt@#",
    "CdtDbtInd",
    "Sts",
    "Sts/Cd",
    "BookgDt/Dt",
    "BookgDt/DtTm",
    "ValDt/Dt",
    "ValDt/DtTm",
    "AcctSvcrRef",
    "NtryRef",
    "AddtlNtryInf",
    "BkTxCd/Domn/Fmly/Cd",
    _USTRD,
    "NtryDtls/TxDtls/AddtlTxInf",
    "NtryDtls/TxDtls/Refs/AcctSvcrRef",
    "NtryDtls/TxDtls/RltdPties/Cdtr/Nm",
    "NtryDtls/TxDtls/RltdPties/Cdtr/Pty/Nm",
    "NtryDtls/TxDtls/RltdPties/Dbtr/Nm",
    "NtryDtls/TxDtls/RltdPties/Dbtr/Pty/Nm",
)


class _Node:
    """One element of interest: its children of interest, and what to keep of it."""

    __slots__ = ("attrs", "children", "details", "line", "line_key", "path", "special", "text")

    def __init__(self, path: str = "") -> None:
        self.children: dict[str, _Node] = {}
        self.path = path
        self.text = False  # keep its text under ``path``
        self.attrs = False  # keep its attributes under ``path@name``
        self.line = False  # keep its line under ``path@line``
        self.line_key = path + "@line"
        self.details = path.endswith("TxDtls")  # counted: only the first one's Ustrd
        self.special = self.details  # anything to do when it starts (line, attributes)


def _trie(paths: tuple[str, ...]) -> _Node:
    root = _Node()
    for spec in paths:
        path = spec.rstrip("@#")
        node = root
        for i, local in enumerate(path.split("/")):
            node = node.children.setdefault(local, _Node("/".join(path.split("/")[: i + 1])))
        node.attrs, node.line = "@" in spec, "#" in spec
        node.special = node.special or node.attrs or node.line
        node.text = True
    return root


_STMT_TRIE = _trie(_STMT_PATHS)
_ENTRY_TRIE = _trie(_ENTRY_PATHS)
_SKIP = _Node()  # an element nothing is read from, nor from its descendants
_OUTSIDE = _Node()  # an element outside the account elements
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

Leaves = dict[str, Any]
"""Path (``Acct/Id/IBAN``, ``Amt@Ccy`` for an attribute, ``Acct@line``) → first text."""


def _forbid_dtd(name: str, sysid: str | None, pubid: str | None, internal: bool) -> None:
    raise DTDForbidden(name, sysid, pubid)


def _forbid_entity(name: str, _p: bool, value: str | None, base: str | None, *rest: Any) -> None:
    raise EntitiesForbidden(name, value, base, None, None, None)


def _forbid_unparsed(name: str, base: str | None, *rest: Any) -> None:
    raise EntitiesForbidden(name, None, base, None, None, None)


def _forbid_external(context: str, base: str | None, sysid: str | None, pubid: str | None) -> int:
    raise ExternalReferenceForbidden(context, base, sysid, pubid)


def _reader(container: str, done: list[tuple[str, Leaves]]) -> Any:
    """An expat parser whose callbacks collect, per account element (``Stmt``, ``Rpt``,
    ``Ntfctn``) and per ``Ntry``, the text of their leaves under relative paths. Finished
    pieces are appended to ``done``: ``("stmt", leaves)`` once, before the first entry;
    ``("ntry", leaves)`` per entry; ``("end", leaves)`` when the account element closes.

    The callbacks are closures over local state, not methods: they run for every
    element of the file, and cell variables are read faster than attributes."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = _CHUNK
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _forbid_dtd
    parser.EntityDeclHandler = _forbid_entity
    parser.UnparsedEntityDeclHandler = _forbid_unparsed
    parser.ExternalEntityRefHandler = _forbid_external
    stack: list[_Node] = [_OUTSIDE]  # the node of every open element (under the root)
    push, pop = stack.append, stack.pop
    local_names: dict[str, str] = {}  # an element's name as written -> without its prefix
    text: list[str] = []  # character data since the last element ended
    details = 0  # TxDtls met in the entry (only the first one's Ustrd count)
    stmt: Leaves = {}
    leaves: Leaves = stmt  # where leaves go: the statement's or the entry's
    sent = False
    skip, outside, stmt_trie, entry_trie = _SKIP, _OUTSIDE, _STMT_TRIE, _ENTRY_TRIE

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal details, stmt, leaves, sent
        parent = stack[-1]
        if parent is skip:
            push(skip)
            return
        local = local_names.get(name)
        if local is None:
            local = local_names[name] = name.rpartition(":")[2]
        if parent is outside:
            if local == container:
                sent = False
                stmt = leaves = {"@line": parser.CurrentLineNumber}
                push(stmt_trie)
            else:
                push(outside)
            return
        if parent is stmt_trie and local == "Ntry":
            if not sent:
                done.append(("stmt", stmt))
                sent = True
            details = 0
            leaves = {"@line": parser.CurrentLineNumber}
            push(entry_trie)
            return
        node = parent.children.get(local)
        if node is None:
            push(skip)
            return
        push(node)
        if not node.special:
            return
        if node.line and node.line_key not in leaves:
            leaves[node.line_key] = parser.CurrentLineNumber
        if node.attrs and attrs:
            for key, value in attrs.items():
                leaves.setdefault(f"{node.path}@{key}", value)
        if node.details:
            details += 1

    def end(name: str) -> None:
        nonlocal leaves
        node = pop()
        if not node.text:
            text.clear()
            if node is entry_trie:
                done.append(("ntry", leaves))
                leaves = stmt
            elif node is stmt_trie:
                if not sent:
                    done.append(("stmt", stmt))
                done.append(("end", stmt))
            return
        value = " ".join((text[0] if len(text) == 1 else "".join(text)).split())
        text.clear()
        if not value:
            return
        path = node.path
        if path == _USTRD:
            if details <= 1:
                leaves.setdefault(_USTRD, []).append(value)
        elif path not in leaves:
            leaves[path] = value

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text.append
    return parser


class CamtMessage(Importer):
    """The shared parser; subclasses name the message and its account element."""

    message: ClassVar[str]
    """``053``, ``052`` or ``054``: the message number in the namespace."""
    container: ClassVar[str]
    """The element holding one account and its entries (``Stmt``, ``Rpt``, ``Ntfctn``)."""
    root: ClassVar[str]
    """The message's root element, for error messages."""
    version = "1.1"
    doctypes = ("bank.account", "bank.transaction")
    options: ClassVar[dict[str, str]] = {
        "bank": "the bank's name, when the statement does not give it",
    }

    def sniff(self, head: bytes, filename: str) -> float:
        if b"<" not in head[:512]:
            return 0.0
        if re.search(
            rb"urn:iso:std:iso:20022:tech:xsd:camt\." + self.message.encode() + rb"\.001\.\d\d",
            head,
        ):
            return 0.95
        return 0.0

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        source = context.filename
        done: list[tuple[str, Leaves]] = []
        parser = _reader(self.container, done)
        state = _Statement(context)
        first = True
        while True:
            chunk = stream.read(_CHUNK)
            if first:
                first = False
                body = chunk.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
                if body and not body.startswith(b"<"):
                    # Fail at once: expat would scan a huge non-XML file quadratically.
                    raise ImportFailed.at(
                        source, 1, "xml", f"not XML; expected a CAMT.{self.message} document"
                    )
            try:
                parser.Parse(chunk, not chunk)
            except LookupError as exc:  # an encoding Python does not know
                raise ImportFailed.at(
                    source, 1, "xml", f"unknown character encoding declared ({exc})"
                ) from None
            except DefusedXmlException as exc:
                raise ImportFailed.at(
                    source,
                    parser.CurrentLineNumber,
                    "xml",
                    f"the file declares a DTD or entities ({type(exc).__name__}); "
                    "a bank statement has none, and they are refused for safety",
                ) from None
            except expat.ExpatError as exc:
                message = expat.ErrorString(exc.code)
                raise ImportFailed.at(
                    source, exc.lineno, "xml", f"not well-formed XML: {message}"
                ) from None
            for kind, leaves in done:
                yield from state.handle(kind, leaves)
            done.clear()
            if not chunk:
                break
        yield from state.flush()
        if not state.statements:
            raise ImportFailed.at(
                source,
                None,
                self.container,
                f"no {self.root}/{self.container}; expected a CAMT.{self.message}",
            )


class _Statement:
    def __init__(self, context: ImportContext) -> None:
        self.context = context
        self.statements = 0
        self.account: dict[str, Any] | None = None
        self.rows: list[RecordRow] = []
        self.occurrences = Occurrences()
        self.size = max(1, context.batch_size)

    def handle(self, kind: str, leaves: Leaves) -> Iterator[Item]:
        if kind == "stmt":
            if self.account is None:
                yield from self._account(leaves)
        elif kind == "end":
            self.account = None
        else:
            yield from self._entry(leaves)

    def _account(self, stmt: Leaves) -> Iterator[Item]:
        self.statements += 1
        get = stmt.get
        line = get("Acct@line") or get("@line", 0)
        number = get("Acct/Id/IBAN") or get("Acct/Id/Othr/Id")
        if number is None:
            raise ImportFailed.at(
                self.context.filename, line, "Acct/Id", "no IBAN or other account id"
            )
        currency = get("Acct/Ccy") or get("Bal/Amt@Ccy")
        bic = get("Acct/Svcr/FinInstnId/BICFI") or get("Acct/Svcr/FinInstnId/BIC")
        bank = (
            self.context.options.get("bank")
            or get("Acct/Svcr/FinInstnId/Nm")
            or bic
            or "unknown bank"
        )
        account: dict[str, Any] = {
            "bank": bank,
            "account_id": mask_account(number),
            "currency": currency or "XXX",
            "label": get("Acct/Nm") or f"{bank} {mask_account(number)}",
            "account_type": "checking",
        }
        if bic and _BIC.match(bic.replace(" ", "").upper()):
            account["bic"] = bic  # a placeholder ("BANK BIC") is left out, not refused
        holder = get("Acct/Ownr/Nm")
        if holder:
            account["holder_name"] = holder
        self.account = account
        yield RecordBatch("bank.account", [RecordRow(line, account)])

    def _entry(self, entry: Leaves) -> Iterator[Item]:
        get = entry.get
        line = get("@line", 0)
        status = get("Sts/Cd") or get("Sts")
        if status in ("PDNG", "INFO"):
            return
        if self.account is None:
            yield Rejected(line, "Ntry", "an entry outside an account's statement or report")
            return
        try:
            amount = parse_amount(get("Amt", ""))
        except ValueError as exc:
            yield Rejected(get("Amt@line") or line, "Amt", str(exc))
            return
        indicator = get("CdtDbtInd")
        if indicator not in ("CRDT", "DBIT"):
            yield Rejected(line, "CdtDbtInd", f"{indicator!r}; expected CRDT or DBIT")
            return
        if indicator == "DBIT" and not amount.startswith("-"):
            amount = "-" + amount
        booked = _date(get("BookgDt/Dt") or get("BookgDt/DtTm"))
        if booked is None:
            yield Rejected(line, "BookgDt", "no booking date; expected BookgDt/Dt (YYYY-MM-DD)")
            return
        party = _CREDITOR if indicator == "DBIT" else _DEBTOR
        counterparty = get(party[0]) or get(party[1])
        label = (
            " ".join(get(_USTRD, ()))
            or get("AddtlNtryInf")
            or get("NtryDtls/TxDtls/AddtlTxInf")
            or counterparty
            or "(no label)"
        )
        account = self.account
        row: dict[str, Any] = {
            "account_id": account["account_id"],
            "booked_on": booked,
            "amount": amount,
            "currency": get("Amt@Ccy") or account["currency"],
            "label": label[:1000],
        }
        value_date = _date(get("ValDt/Dt") or get("ValDt/DtTm"))
        if value_date:
            row["value_date"] = value_date
        # "NONREF" is SWIFT's placeholder for "no reference": shared by every such entry,
        # it would merge them all into one record.
        for key in ("AcctSvcrRef", "NtryDtls/TxDtls/Refs/AcctSvcrRef", "NtryRef"):
            reference = get(key)
            if reference and reference.upper() not in _NO_REFERENCE:
                row["transaction_id"] = reference
                break
        if counterparty:
            row["counterparty"] = counterparty[:200]
        family = get("BkTxCd/Domn/Fmly/Cd")
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


def _date(text: str | None) -> str | None:
    if text is None:
        return None
    day = text[:10]
    # What _DATE matches, without the regex's cost (it runs twice per entry).
    if len(day) == 10 and day[4] == day[7] == "-" and (day[:4] + day[5:7] + day[8:]).isdigit():
        return day
    match = _DATE.match(text)
    return match.group(1) if match else None


class Camt053(CamtMessage):
    name = "camt.053"
    message = "053"
    container = "Stmt"
    root = "BkToCstmrStmt"
    description: ClassVar[dict[str, str]] = {
        "fr": "Relevé de compte ISO 20022 CAMT.053 (XML)",
        "en": "ISO 20022 CAMT.053 bank statement (XML)",
    }


class Camt052(CamtMessage):
    name = "camt.052"
    message = "052"
    container = "Rpt"
    root = "BkToCstmrAcctRpt"
    description: ClassVar[dict[str, str]] = {
        "fr": "Relevé intrajournalier ISO 20022 CAMT.052 (XML)",
        "en": "ISO 20022 CAMT.052 intraday account report (XML)",
    }


class Camt054(CamtMessage):
    name = "camt.054"
    message = "054"
    container = "Ntfctn"
    root = "BkToCstmrDbtCdtNtfctn"
    description: ClassVar[dict[str, str]] = {
        "fr": "Avis de débit/crédit ISO 20022 CAMT.054 (XML)",
        "en": "ISO 20022 CAMT.054 debit/credit notification (XML)",
    }
