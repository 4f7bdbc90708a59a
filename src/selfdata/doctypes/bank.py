"""Banking: accounts and the transactions on them.

Modelled on OFX (``STMTTRN``: ``FITID``, ``DTPOSTED``, ``TRNAMT``, ``NAME``, ``MEMO``) and
ISO 20022 CAMT.053 (``Ntry``: ``BookgDt``, ``ValDt``, ``Amt``/``CdtDbtInd``,
``AcctSvcrRef``), as well as the CSV exports of French banks.

Money is a ``Decimal``: accepted as a JSON number or a string, always returned as a
decimal string that keeps the bank's scale (``"-42.50"``). Amounts are signed from the
account holder's point of view: negative for a debit, positive for a credit.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

from .fields import CurrencyCode, DoctypeModel, Identifier, Label, Money, Name, Tag, hint
from .registry import Doctype

__all__ = ["ACCOUNT", "DOCTYPES", "TRANSACTION", "Account", "Transaction"]


def _compact(value: Any) -> Any:
    # IBANs are printed in groups of four ("FR76 3000 ..."); store the compact form.
    return value.replace(" ", "").upper() if isinstance(value, str) else value


def _iban_checksum(value: str) -> str:
    # ISO 13616 mod-97 check: catches typos and truncated copies before they spread.
    rearranged = value[4:] + value[:4]
    digits = "".join(str(int(c, 36)) for c in rearranged)
    if int(digits) % 97 != 1:
        raise ValueError("expected a valid IBAN (its check digits do not match)")
    return value


_IBAN = hint(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$", "an IBAN such as 'FR7630006000011234567890189'")
_BIC = hint(
    r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$",
    "a BIC of 8 or 11 characters, such as 'AGRIFRPP'",
)

Iban = Annotated[
    str, BeforeValidator(_compact), StringConstraints(pattern=_IBAN), AfterValidator(_iban_checksum)
]
Bic = Annotated[str, BeforeValidator(_compact), StringConstraints(pattern=_BIC)]


class Account(DoctypeModel):
    """A bank account (or card, savings book, loan) the citizen holds."""

    bank: Name
    """The bank's name, such as ``La Banque Postale``."""
    account_id: Identifier
    """How the bank identifies the account in exports: a masked IBAN (``FR76 **** 0189``)
    or an account number. Transactions refer to the account by this value."""
    currency: CurrencyCode
    """The account's currency (ISO 4217)."""
    label: Label
    """The account's name, such as ``Compte chèques``."""
    account_type: Literal["checking", "savings", "credit_card", "loan", "securities", "other"]
    """What kind of account it is."""
    iban: Iban | None = None
    """The full IBAN, when the citizen chooses to keep it (spaces are removed)."""
    bic: Bic | None = None
    """The bank's BIC (SWIFT code)."""
    holder_name: Name | None = None
    """The account holder as the bank writes it."""
    opened_on: date | None = None
    """When the account was opened (YYYY-MM-DD)."""


class Transaction(DoctypeModel):
    """One booked entry on a bank statement."""

    account_id: Identifier
    """The ``account_id`` of the account (``bank.account``) it was booked on."""
    booked_on: date
    """Booking date (OFX ``DTPOSTED``, CAMT ``BookgDt``)."""
    amount: Money
    """Signed amount: negative for a debit, positive for a credit."""
    currency: CurrencyCode
    """Currency of ``amount`` (ISO 4217)."""
    label: Label
    """The label as the bank wrote it (OFX ``NAME``, CAMT ``AddtlNtryInf``)."""
    value_date: date | None = None
    """Value date, when the bank gives one (CAMT ``ValDt``)."""
    transaction_id: Identifier | None = None
    """The bank's id for the entry: OFX ``FITID`` or CAMT ``AcctSvcrRef``."""
    counterparty: Name | None = None
    """Who was paid or who paid: merchant, employer, person."""
    category: Tag | None = None
    """A spending category, such as ``groceries`` (from the bank or the citizen)."""
    payment_method: (
        Literal["card", "transfer", "direct_debit", "check", "cash", "fee", "interest", "other"]
        | None
    ) = None
    """How the money moved (OFX ``TRNTYPE``, CAMT bank transaction code)."""
    balance_after: Money | None = None
    """The account balance right after this entry, when the statement gives it."""
    original_amount: Money | None = None
    """For a payment in a foreign currency: the amount in that currency."""
    original_currency: CurrencyCode | None = None
    """The foreign currency of ``original_amount``."""
    memo: Label | None = None
    """Extra text from the bank (OFX ``MEMO``) or a note from the citizen."""
    occurrence: Annotated[int, Field(ge=1)] = 1
    """1 for the first entry of a statement with this date, amount and label, 2 for the
    second look-alike, and so on. Set by importers so that two genuine identical entries
    (two coffees the same day) are not merged by de-duplication when there is no
    ``transaction_id``."""


# Words for people, per field: (French, English); test_doctype_labels wants them all.
ACCOUNT_LABELS = {
    "bank": ("Banque", "Bank"),
    "account_id": ("Compte", "Account"),
    "currency": ("Devise", "Currency"),
    "label": ("Nom du compte", "Account name"),
    "account_type": ("Type de compte", "Account type"),
    "iban": ("IBAN", "IBAN"),
    "bic": ("BIC", "BIC"),
    "holder_name": ("Titulaire", "Account holder"),
    "opened_on": ("Ouvert le", "Opened on"),
}
TRANSACTION_LABELS = {
    "account_id": ("Compte", "Account"),
    "booked_on": ("Date de l'opération", "Booking date"),
    "amount": ("Montant", "Amount"),
    "currency": ("Devise", "Currency"),
    "label": ("Libellé", "Label"),
    "value_date": ("Date de valeur", "Value date"),
    "transaction_id": ("Référence de la banque", "Bank reference"),
    "counterparty": ("Bénéficiaire ou payeur", "Counterparty"),
    "category": ("Catégorie", "Category"),
    "payment_method": ("Moyen de paiement", "Payment method"),
    "balance_after": ("Solde après l'opération", "Balance after"),
    "original_amount": ("Montant en devise d'origine", "Original amount"),
    "original_currency": ("Devise d'origine", "Original currency"),
    "memo": ("Note", "Memo"),
    "occurrence": ("Occurrence le même jour", "Occurrence on the same day"),
}


# Words for the coded values of some fields: (French, English).
ACCOUNT_CHOICES = {
    "account_type": {
        "checking": ("Compte courant", "Current account"),
        "savings": ("Épargne", "Savings"),
        "credit_card": ("Carte de crédit", "Credit card"),
        "loan": ("Prêt", "Loan"),
        "securities": ("Titres", "Securities"),
        "other": ("Autre", "Other"),
    }
}
TRANSACTION_CHOICES = {
    "payment_method": {
        "card": ("Carte", "Card"),
        "transfer": ("Virement", "Transfer"),
        "direct_debit": ("Prélèvement", "Direct debit"),
        "check": ("Chèque", "Cheque"),
        "cash": ("Espèces", "Cash"),
        "fee": ("Frais", "Fee"),
        "interest": ("Intérêts", "Interest"),
        "other": ("Autre", "Other"),
    }
}


ACCOUNT = Doctype(
    name="bank.account",
    summary=("bank", "label", "account_type", "account_id"),
    choices=ACCOUNT_CHOICES,
    labels=ACCOUNT_LABELS,
    version=1,
    kind="record",
    model=Account,
    category="bank",
    title={"fr": "Compte bancaire", "en": "Bank account"},
    description={
        "fr": "Un compte bancaire, une carte, un livret ou un prêt.",
        "en": "A bank account, card, savings account or loan.",
    },
    natural_key=("bank", "account_id"),
)

TRANSACTION = Doctype(
    name="bank.transaction",
    summary=("label", "amount", "counterparty", "category", "payment_method"),
    choices=TRANSACTION_CHOICES,
    labels=TRANSACTION_LABELS,
    version=1,
    kind="record",
    model=Transaction,
    category="bank",
    title={"fr": "Opération bancaire", "en": "Bank transaction"},
    description={
        "fr": "Une opération passée sur un compte (relevé OFX, CAMT.053 ou CSV).",
        "en": "An entry booked on an account (from an OFX, CAMT.053 or CSV statement).",
    },
    time_field="booked_on",
    natural_key=("account_id", "transaction_id"),
    fallback_key=("account_id", "booked_on", "amount", "currency", "label", "occurrence"),
)

DOCTYPES = (ACCOUNT, TRANSACTION)
