"""Mapping profiles of the CSV exports French banks give (read by ``bank.csv``).

A profile is declarative: how the file is laid out (delimiter, header or none, a
preamble before the header), what each column means, how dates and amounts are
written. Header names are compared by their *skeleton* — lower-case ASCII letters and
digits only — so ``Date opération`` (UTF-8 or Windows-1252), ``Date operation`` and a
mangled ``Date op�ration`` all match the same profile.

Fields a column can map to (``Profile.columns``), as the bank spells its headers:

* ``booked_on`` (required), ``value_date``, ``label`` (required), ``memo``,
  ``counterparty``, ``category``, ``reference`` (kept in ``memo``: banks reuse them);
* one of ``amount`` (signed) or ``debit``/``credit`` (split; a debit is stored negative
  and a credit positive whatever sign the bank wrote); ``fee`` (subtracted);
* ``currency``, ``balance_after``, ``payment_type`` (the bank's operation type),
  ``state`` (rows whose state is not in ``Profile.keep_states`` are left out).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["PROFILES", "Profile", "header_keys", "same_header"]

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def header_keys(text: str) -> tuple[str, str]:
    """Two loose forms of a header cell: accents folded (``Débit`` → ``debit``) and
    non-ASCII letters dropped (``Débit`` and a mangled ``D�bit`` → ``dbit``)."""
    lower = text.lower()
    folded = unicodedata.normalize("NFKD", lower).encode("ascii", "ignore").decode("ascii")
    dropped = lower.encode("ascii", "ignore").decode("ascii")
    return _NOT_ALNUM.sub("", folded), _NOT_ALNUM.sub("", dropped)


def same_header(cell: tuple[str, str], name: tuple[str, str]) -> bool:
    """Whether a header cell is the header a profile names (written as the bank spells
    it, accents included): the file may be unaccented, accented or mangled."""
    return bool(cell[0]) and (cell[0] == name[0] or cell[1] == name[1])


@dataclass(frozen=True, slots=True)
class Profile:
    """One bank's CSV layout."""

    name: str
    """What ``-o profile=NAME`` says."""
    bank: str
    """The bank's name, for the ``bank.account`` record."""
    columns: Mapping[str, tuple[str, ...]]
    """Field → the header names it may have (first found wins). For a headerless
    layout, field → the column's position as a one-item tuple of digits."""
    signature: tuple[str, ...] = ()
    """Header names that must all be present for the profile to be detected."""
    delimiter: str = ";"
    date_formats: tuple[str, ...] = ("%d/%m/%Y",)
    decimal: str = ","
    """The decimal mark; the other mark, spaces and non-breaking spaces are thousands
    separators."""
    encoding: str = "auto"
    """``auto``: UTF-8 (with or without BOM) or Windows-1252, decided line by line (banks
    send one, spreadsheets re-save in the other); or a fixed codec name."""
    currency: str = "EUR"
    headerless: bool = False
    """No header line: the first non-empty line is an account summary (``preamble``)."""
    preamble_account: str | None = None
    """A regular expression finding the account number (group ``account``) and
    optionally its label (group ``label``) in the lines before the header."""
    filename_account: str | None = None
    """A regular expression finding the account number (group ``account``) in the file
    name."""
    account_columns: tuple[str, ...] = ()
    """Header names whose values, joined by a space, name the account of each row."""
    account_label_column: str | None = None
    keep_states: tuple[str, ...] = ()
    """For a ``state`` column: the states of booked rows (others are left out)."""
    payment_types: Mapping[str, str] = field(default_factory=dict)
    """The bank's operation type (skeleton) → ``payment_method``."""
    html_entities: bool = False
    """Cells may hold HTML entities (``Cr&eacute;dit``), decoded."""


_FR_PAYMENT = {
    "cartebancaire": "card",
    "carte": "card",
    "virementrecu": "transfer",
    "virementemis": "transfer",
    "virement": "transfer",
    "prelevement": "direct_debit",
    "cheque": "check",
    "retraitdab": "cash",
    "retrait": "cash",
    "frais": "fee",
}

PROFILES: tuple[Profile, ...] = (
    Profile(
        name="caisse_epargne",
        bank="Caisse d'Épargne",
        signature=("Date de comptabilisation", "Libellé simplifié", "Libellé opération"),
        columns={
            "booked_on": ("Date de comptabilisation",),
            "value_date": ("Date de valeur",),
            "label": ("Libellé opération",),
            "counterparty": ("Libellé simplifié",),
            "reference": ("Référence",),
            "memo": ("Informations complémentaires",),
            "payment_type": ("Type opération",),
            "category": ("Sous catégorie", "Catégorie"),
            "debit": ("Débit",),
            "credit": ("Crédit",),
        },
        filename_account=r"(?:^|_)(?P<account>\d{6,})_\d{8}_\d{8}\.csv$",
        payment_types=_FR_PAYMENT,
    ),
    Profile(
        name="bnp_paribas",
        bank="BNP Paribas",
        headerless=True,
        # "Crédit immobilier";"Crédit immobilier";****1234;18/03/2022;;-123 456,78
        preamble_account=(
            r'^(?:"[^"]*"|[^;"]*);(?:"(?P<label>[^"]*)"|[^;"]*);(?P<account>\**[0-9A-Z]{4,});'
            r'"?\d\d/\d\d/\d{4}"?;[^;]*;\s*"?[-+]?[\d \u00a0\u202f.,]+"?\s*$'
        ),
        columns={
            "booked_on": ("0",),
            "category": ("1",),
            "payment_type": ("2",),
            "label": ("3",),
            "amount": ("4",),
        },
        html_entities=True,
    ),
    Profile(
        name="fortuneo",
        bank="Fortuneo",
        signature=("Date opération", "Date valeur", "libellé", "Débit", "Crédit"),
        columns={
            "booked_on": ("Date opération",),
            "value_date": ("Date valeur",),
            "label": ("libellé",),
            "debit": ("Débit",),
            "credit": ("Crédit",),
        },
        filename_account=r"HistoriqueOperations_(?P<account>\d+)_du_",
    ),
    Profile(
        name="boursorama",
        bank="Boursorama Banque",
        # 2019 exports: …;amount;accountNum;…; 2022 exports add a comment column.
        signature=("dateOp", "dateVal", "label", "amount"),
        columns={
            "booked_on": ("dateOp",),
            "value_date": ("dateVal",),
            "label": ("label",),
            "category": ("category",),
            "amount": ("amount",),
            "memo": ("comment",),
        },
        date_formats=("%Y-%m-%d", "%d/%m/%Y"),
        account_columns=("accountNum",),
        account_label_column="accountLabel",
    ),
    Profile(
        name="revolut",
        bank="Revolut",
        delimiter=",",
        decimal=".",
        signature=("Type", "Started Date", "Completed Date", "Description", "Amount", "State"),
        columns={
            "booked_on": ("Completed Date",),
            "label": ("Description",),
            "amount": ("Amount",),
            "fee": ("Fee",),
            "currency": ("Currency",),
            "balance_after": ("Balance",),
            "payment_type": ("Type",),
            "state": ("State",),
        },
        date_formats=("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"),
        account_columns=("Product", "Currency"),
        keep_states=("COMPLETED",),
        payment_types={
            "cardpayment": "card",
            "cardrefund": "card",
            "transfer": "transfer",
            "topup": "transfer",
            "atm": "cash",
            "fee": "fee",
            "exchange": "other",
        },
    ),
    Profile(
        name="credit_agricole",
        bank="Crédit Agricole",
        # A preamble (download date, holder, "Compte de Dépôt carte n° …", balance),
        # then Date;Libellé;Débit euros;Crédit euros; labels span several lines.
        signature=("Date", "Libellé", "Débit euros", "Crédit euros"),
        columns={
            "booked_on": ("Date",),
            "label": ("Libellé",),
            "debit": ("Débit euros",),
            "credit": ("Crédit euros",),
        },
        preamble_account=r"(?P<label>Compte[^;\n]*?)\s*n\S*\s*(?P<account>\d{6,})",
    ),
    Profile(
        name="banque_postale",
        bank="La Banque Postale",
        # Numéro Compte;0123456A020 / Type;CCP / … then Date;Libellé;Montant(EUROS)
        signature=("Date", "Libellé", "Montant(EUROS)"),
        columns={
            "booked_on": ("Date",),
            "label": ("Libellé",),
            "amount": ("Montant(EUROS)",),
        },
        preamble_account=r"^Num\S*ro Compte\s*;\s*(?P<account>[0-9A-Z]{6,})",
    ),
)
