"""Pieces shared by the bank statement importers (OFX, CAMT.053)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["Occurrences", "mask_account", "parse_amount"]


def parse_amount(text: str) -> str:
    """A bank amount as a decimal string keeping its scale (``"-42.50"``); accepts a
    decimal comma and a leading ``+``. Raises ``ValueError`` with what was expected."""
    raw = text.strip().replace("\u00a0", "").replace(" ", "")
    if raw.count(",") == 1 and "." not in raw:
        raw = raw.replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if not raw or value is None or not value.is_finite():
        raise ValueError(f"{text.strip()!r} is not an amount; expected a number such as -42.50")
    return str(value)


def mask_account(account: str) -> str:
    """Keep the first four and the last four characters (``FR76 **** 0189``)."""
    compact = account.replace(" ", "")
    if len(compact) <= 8:
        return compact
    return f"{compact[:4]} **** {compact[-4:]}"


class Occurrences:
    """Numbers look-alike entries without an id (same account, date, amount, currency
    and label) in file order, as ``bank.transaction``'s ``occurrence`` requires."""

    def __init__(self) -> None:
        self._seen: Counter[tuple[Any, ...]] = Counter()

    def mark(self, row: dict[str, Any]) -> None:
        if row.get("transaction_id"):
            return
        key = (row["account_id"], row["booked_on"], row["amount"], row["currency"], row["label"])
        self._seen[key] += 1
        row["occurrence"] = self._seen[key]
