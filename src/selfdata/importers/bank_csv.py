"""CSV exports of French banks, read through mapping profiles (``bank.csv``).

Every bank writes its own CSV: Caisse d'Épargne (debit and credit columns, already
signed), BNP Paribas (no header, an account summary on line 1), Fortuneo (Windows-1252,
``Date opération;Date valeur;libellé;Débit;Crédit;``), Boursorama (``dateOp;dateVal;…``,
ISO dates, one account per row), Revolut (comma-separated, decimal point, a state per
row), Crédit Agricole and La Banque Postale (a preamble before the header). Each layout
is a :class:`~selfdata.importers.bank_profiles.Profile`; the profile is detected from the
header (or forced with ``-o profile=NAME``).

One ``bank.account`` per account met (from an account column, the preamble, the file
name, or ``-o account_id=…``; masked like the other bank importers) and one
``bank.transaction`` per row. Rows are read with the standard ``csv`` module, line by
line (a quoted label may span lines), so memory stays bounded.
"""

from __future__ import annotations

import codecs
import csv
import html
import re
from collections.abc import Generator, Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO, ClassVar

from selfdata.importers._bank import Occurrences, mask_account
from selfdata.importers.bank_profiles import PROFILES, Profile, header_keys, same_header
from selfdata.importers.base import (
    ImportContext,
    Importer,
    ImportFailed,
    Item,
    RecordBatch,
    RecordRow,
    Rejected,
)
from selfdata.importers.text import MAX_LINE, decode_head, iter_lines

__all__ = ["BankCsv", "detect_profile", "parse_money"]

HEADER_SCAN = 30
"""Lines looked at for the header (a preamble comes before it)."""
_SPACES = str.maketrans("", "", " \u00a0\u202f\t")
_ACCOUNT_TYPES = (("creditimmobilier", "loan"), ("pret", "loan"), ("livret", "savings"))


def parse_money(text: str, decimal: str) -> Decimal:
    """``"-1 234,56"`` → ``Decimal("-1234.56")`` (scale kept); raises ``ValueError``."""
    raw = text.translate(_SPACES)
    other = "." if decimal == "," else ","
    raw = raw.replace(other, "")
    if decimal == ",":
        raw = raw.replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if not raw or value is None or not value.is_finite():
        example = "-1 234,56" if decimal == "," else "-1234.56"
        raise ValueError(f"{text.strip()!r} is not an amount; expected a number such as {example}")
    return value


def _cells(text: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([text], delimiter=delimiter), [])
    except csv.Error:  # a stray carriage return: not a header
        return []


def _find_header(cells: list[str], profile: Profile) -> dict[str, int] | None:
    """Field → column index when ``cells`` is the profile's header, else None."""
    keys = [header_keys(c) for c in cells]
    for name in profile.signature:
        wanted = header_keys(name)
        if not any(same_header(k, wanted) for k in keys):
            return None
    found: dict[str, int] = {}
    for fieldname, names in profile.columns.items():
        for name in names:
            wanted = header_keys(name)
            index = next((i for i, k in enumerate(keys) if same_header(k, wanted)), None)
            if index is not None:
                found[fieldname] = index
                break
    for i, name in enumerate(profile.account_columns):
        wanted = header_keys(name)
        index = next((j for j, k in enumerate(keys) if same_header(k, wanted)), None)
        if index is not None:
            found[f"account{i}"] = index
    if profile.account_label_column:
        wanted = header_keys(profile.account_label_column)
        index = next((j for j, k in enumerate(keys) if same_header(k, wanted)), None)
        if index is not None:
            found["account_label"] = index
    return found


def detect_profile(lines: list[str], profiles: tuple[Profile, ...]) -> tuple[Profile, float] | None:
    """The profile whose header (or headerless summary line) is among ``lines``."""
    best: tuple[Profile, float] | None = None
    first = next((line for line in lines if line.strip(" ;,")), "")
    for profile in profiles:
        if profile.headerless:
            if profile.preamble_account and re.search(profile.preamble_account, first):
                score = 0.8
            else:
                continue
        elif any(
            _find_header(_cells(line, profile.delimiter), profile) is not None
            for line in lines[:HEADER_SCAN]
        ):
            score = min(0.95, 0.85 + 0.01 * len(profile.signature))
        else:
            continue
        if best is None or score > best[1]:
            best = (profile, score)
    return best


class _Lines:
    """The file's lines (decoded as the profile says), remembering the current number."""

    def __init__(self, stream: BinaryIO, source: str, encoding: str) -> None:
        self.number = 0
        self._iter = (
            iter_lines(stream, source)
            if encoding == "auto"
            else self._fixed(stream, source, encoding)
        )

    @staticmethod
    def _fixed(stream: BinaryIO, source: str, encoding: str) -> Iterator[tuple[int, str]]:
        decode = codecs.getdecoder(encoding)
        for number, raw in enumerate(iter(lambda: stream.readline(MAX_LINE + 1), b""), 1):
            if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
                raise ImportFailed.at(source, number, "line", "longer than 64 KiB")
            try:
                text = decode(raw)[0]
            except UnicodeDecodeError:
                raise ImportFailed.at(source, number, "encoding", f"not {encoding} text") from None
            yield number, text.lstrip("\ufeff").rstrip("\r\n")

    def __iter__(self) -> Iterator[str]:
        for number, text in self._iter:
            self.number = number
            yield text


class BankCsv(Importer):
    name = "bank.csv"
    version = "1.0"
    description: ClassVar[dict[str, str]] = {
        "fr": "Relevé bancaire CSV (Caisse d'Épargne, BNP Paribas, Fortuneo, Boursorama, "
        "Revolut, Crédit Agricole, La Banque Postale)",
        "en": "Bank statement CSV (Caisse d'Épargne, BNP Paribas, Fortuneo, Boursorama, "
        "Revolut, Crédit Agricole, La Banque Postale)",
    }
    doctypes = ("bank.account", "bank.transaction")
    options: ClassVar[dict[str, str]] = {
        "profile": "the bank's layout: "
        + ", ".join(p.name for p in PROFILES)
        + " (default: detected from the header)",
        "account_id": "the account number (default: from the file, else its name)",
        "bank": "the bank's name (default: the profile's)",
        "currency": "the account's currency (default: EUR, or the file's column)",
    }
    profiles: ClassVar[tuple[Profile, ...]] = PROFILES
    """Subclass and extend to add layouts from a plugin."""

    def sniff(self, head: bytes, filename: str) -> float:
        text = decode_head(head)
        if text is None or "\n" not in text:
            return 0.0
        lines = text.splitlines()[:-1] if len(head) >= 8192 else text.splitlines()
        found = detect_profile(lines, self.profiles)
        return found[1] if found else 0.0

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        source = context.filename
        profile = self._profile(stream, context)
        lines = _Lines(stream, source, profile.encoding)
        reader = iter(lines)
        preamble: list[str] = []
        columns: dict[str, int] | None = None
        header: list[str] = []
        header_line = 0
        if profile.headerless:
            for text in reader:
                if text.strip(" ;,"):
                    preamble.append(text)
                    header_line = lines.number
                    break
            columns = {f: int(n[0]) for f, n in profile.columns.items()}
        else:
            for text in reader:
                header = _cells(text, profile.delimiter)
                columns = _find_header(header, profile)
                if columns is not None:
                    header_line = lines.number
                    break
                preamble.append(text)
                if len(preamble) >= HEADER_SCAN:
                    break
        if columns is None or (not preamble and profile.headerless):
            expected = ";".join(profile.signature) or "an account summary line"
            raise ImportFailed.at(
                source, None, "header", f"no {profile.name} header found; expected {expected}"
            )
        state = _Rows(profile, context, columns, header, preamble, header_line)
        rows = csv.reader(reader, delimiter=profile.delimiter)
        end = lines.number
        while True:
            try:
                cells = next(rows)
            except StopIteration:
                break
            except csv.Error as exc:  # a stray carriage return, a field over csv's limit
                yield Rejected(lines.number, "line", f"not CSV: {exc}")
                end = lines.number
                continue
            start, end = end + 1, lines.number
            if not any(c.strip() for c in cells):
                continue
            yield from state.row(start, cells)
        yield from state.flush()
        if state.seen == 0:
            raise ImportFailed.at(source, None, "file", "no operations after the header")

    def _profile(self, stream: BinaryIO, context: ImportContext) -> Profile:
        wanted = context.options.get("profile")
        if wanted:
            for profile in self.profiles:
                if profile.name == wanted:
                    return profile
            raise ImportFailed.at(
                context.filename,
                None,
                "profile",
                f"unknown profile {wanted!r}; known: {', '.join(p.name for p in self.profiles)}",
            )
        head = stream.read(8192)
        stream.seek(0)
        text = decode_head(head) or ""
        found = detect_profile(text.splitlines(), self.profiles)
        if found is None:
            raise ImportFailed.at(
                context.filename,
                None,
                "header",
                "not the CSV export of a known bank; give -o profile=NAME "
                f"({', '.join(p.name for p in self.profiles)})",
            )
        return found[0]


class _Rows:
    """Turns the rows of one file into accounts and transactions."""

    def __init__(
        self,
        profile: Profile,
        context: ImportContext,
        columns: dict[str, int],
        header: list[str],
        preamble: list[str],
        header_line: int,
    ) -> None:
        self.profile = profile
        self.context = context
        self.columns = columns
        self.names = self._names(columns, header)
        self.size = max(1, context.batch_size)
        self.occurrences = Occurrences()
        self.accounts: dict[str, str] = {}  # account key → account_id
        self.rows: list[RecordRow] = []
        self.seen = 0
        self.preamble_line = header_line if profile.headerless else 1
        self.default_account, self.default_label = self._from_preamble(preamble)
        self.need = max(columns.values()) + 1

    def _names(self, columns: dict[str, int], header: list[str]) -> dict[str, str]:
        """Field → the column's header, to name the field of a rejected row."""
        if self.profile.headerless:
            return {f: f"column {i + 1}" for f, i in columns.items()}
        return {f: header[i].strip() or f for f, i in columns.items() if i < len(header)}

    def _from_preamble(self, preamble: list[str]) -> tuple[str | None, str | None]:
        option = self.context.options.get("account_id")
        label = None
        number = None
        if self.profile.preamble_account:
            for text in preamble:
                found = re.search(self.profile.preamble_account, text)
                if found:
                    number, label = found.group("account"), found.groupdict().get("label")
                    break
        if number is None and self.profile.filename_account:
            name = self.context.filename.replace("\\", "/").rsplit("/")[-1]
            found = re.search(self.profile.filename_account, name)
            number = found.group("account") if found else None
        if label and self.profile.html_entities:
            label = html.unescape(html.unescape(label))
        return option or number, (label.strip() or None) if label else None

    def row(self, line: int, cells: list[str]) -> Iterator[Item]:
        self.seen += 1
        if self.profile.html_entities:
            cells = [html.unescape(c) if "&" in c else c for c in cells]
        if len(cells) < self.need and not self._tolerable(cells):
            yield Rejected(line, "line", f"{len(cells)} field(s); expected at least {self.need}")
            return
        get = self._getter(cells)
        state = get("state")
        if "state" in self.columns and state.upper() not in self.profile.keep_states:
            return  # pending, reverted or declined: not booked
        try:
            booked = self._date(get("booked_on"))
        except ValueError as exc:
            yield Rejected(line, self.names["booked_on"], str(exc))
            return
        try:
            amount = self._amount(get)
        except _Bad as exc:
            yield Rejected(line, exc.field, exc.message)
            return
        label = " ".join(get("label").split())
        memo_parts = [" ".join(get(f).split()) for f in ("memo", "reference") if get(f).strip()]
        currency = (get("currency").strip().upper() if get("currency").strip() else None) or (
            self.context.options.get("currency") or self.profile.currency
        )
        account_id = yield from self._account(line, get, currency)
        row: dict[str, Any] = {
            "account_id": account_id,
            "booked_on": booked,
            "amount": str(amount),
            "currency": currency,
            "label": (label or (memo_parts[0] if memo_parts else "") or "(no label)")[:1000],
        }
        if get("value_date").strip():
            try:
                row["value_date"] = self._date(get("value_date"))
            except ValueError as exc:
                yield Rejected(line, self.names["value_date"], str(exc))
                return
        if memo_parts and label:
            row["memo"] = " — ".join(dict.fromkeys(memo_parts))[:1000]
        counterparty = " ".join(get("counterparty").split())
        if counterparty:
            row["counterparty"] = counterparty[:200]
        category = get("category").strip()
        if category:
            row["category"] = category[:64]
        method = self.profile.payment_types.get(header_keys(get("payment_type"))[0])
        if method:
            row["payment_method"] = method
        balance = get("balance_after").strip()
        if balance:
            try:
                row["balance_after"] = str(parse_money(balance, self.profile.decimal))
            except ValueError as exc:
                yield Rejected(line, self.names["balance_after"], str(exc))
                return
        self.occurrences.mark(row)
        self.rows.append(RecordRow(line, row))
        if len(self.rows) >= self.size:
            yield from self.flush()

    def _tolerable(self, cells: list[str]) -> bool:
        # Exports drop trailing empty cells (Fortuneo's credit rows end after the debit).
        needed = [i for f, i in self.columns.items() if f in ("booked_on", "label")]
        return bool(cells) and max(needed) < len(cells)

    def _getter(self, cells: list[str]) -> Any:
        columns = self.columns

        def get(fieldname: str) -> str:
            index = columns.get(fieldname)
            return cells[index] if index is not None and index < len(cells) else ""

        return get

    def _date(self, text: str) -> str:
        cell = text.strip()
        for pattern in self.profile.date_formats:
            try:
                return datetime.strptime(cell, pattern).date().isoformat()
            except ValueError:
                continue
        formats = " or ".join(
            p.replace("%d", "dd")
            .replace("%m", "mm")
            .replace("%Y", "yyyy")
            .replace("%H", "HH")
            .replace("%M", "MM")
            .replace("%S", "SS")
            for p in self.profile.date_formats
        )
        raise ValueError(f"{cell!r} is not a date; expected {formats}")

    def _amount(self, get: Any) -> Decimal:
        decimal = self.profile.decimal
        if "amount" in self.columns:
            fields: tuple[str, ...] = ("amount",)
        else:
            fields = tuple(f for f in ("debit", "credit") if get(f).strip())
            if not fields:
                raise _Bad(self.names.get("debit", "debit"), "no amount in Débit nor Crédit")
        total = Decimal(0)
        for name in fields:
            try:
                value = parse_money(get(name), decimal)
            except ValueError as exc:
                raise _Bad(self.names[name], str(exc)) from None
            if name == "debit":
                value = -abs(value)
            elif name == "credit":
                value = abs(value)
            total += value
        fee = get("fee").strip()
        if fee:
            try:
                total -= parse_money(fee, decimal)
            except ValueError as exc:
                raise _Bad(self.names["fee"], str(exc)) from None
        return total

    def _account(self, line: int, get: Any, currency: str) -> Generator[Item, None, str]:
        parts = [get(f"account{i}").strip() for i in range(len(self.profile.account_columns))]
        from_row = " ".join(p for p in parts if p)
        key = self.context.options.get("account_id") or from_row or self.default_account or ""
        known = self.accounts.get(key)
        if known is not None:
            return known
        account_id = _account_id(key) if key else f"{self.profile.name} CSV"
        bank = self.context.options.get("bank") or self.profile.bank
        label = (
            get("account_label").strip()
            or (self.default_label if not from_row else None)
            or f"{bank} {account_id}"
        )
        folded = header_keys(label)[0] + header_keys(from_row)[0]
        account_type = next((t for word, t in _ACCOUNT_TYPES if word in folded), "checking")
        if "savings" in folded:
            account_type = "savings"
        account = {
            "bank": bank,
            "account_id": account_id,
            "currency": currency,
            "label": label[:1000],
            "account_type": account_type,
        }
        self.accounts[key] = account_id
        where = line if from_row else self.preamble_line
        yield from self.flush()  # the account is written before its transactions
        yield RecordBatch("bank.account", [RecordRow(where, account)])
        return account_id

    def flush(self) -> Iterator[Item]:
        if self.rows:
            yield RecordBatch("bank.transaction", self.rows)
            self.rows = []


def _account_id(key: str) -> str:
    """An account number is masked (first and last four characters kept); a name such
    as Revolut's ``Current EUR`` is kept as it is."""
    digits = sum(c.isdigit() for c in key)
    return mask_account(key) if digits >= 6 else key


class _Bad(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message
