"""Contacts: address-book cards, after vCard 4.0 (RFC 6350).

Multi-valued vCard properties (``EMAIL``, ``TEL``, ``ADR``) are lists of small objects
carrying their ``TYPE``. The card's ``UID`` is its natural key, as in CardDAV.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from .fields import DoctypeModel, Email, Identifier, Name, PostalAddress, Tag, Text, Uri
from .registry import Doctype

__all__ = ["CARD", "DOCTYPES", "Card", "CardAddress", "CardEmail", "CardPhone"]

Phone = Annotated[str, StringConstraints(min_length=3, max_length=64)]


class CardEmail(DoctypeModel):
    """One ``EMAIL`` of a card."""

    value: Email
    """The address."""
    type: Literal["home", "work", "other"] | None = None
    """``TYPE`` parameter."""
    preferred: bool = False
    """``PREF=1``: the address to use first."""


class CardPhone(DoctypeModel):
    """One ``TEL`` of a card (kept as written; E.164 such as ``+33612345678`` preferred)."""

    value: Phone
    """The number."""
    type: Literal["cell", "home", "work", "fax", "pager", "text", "voice", "other"] | None = None
    """``TYPE`` parameter."""
    preferred: bool = False
    """``PREF=1``: the number to use first."""


class CardAddress(PostalAddress):
    """One ``ADR`` of a card."""

    type: Literal["home", "work", "other"] | None = None
    """``TYPE`` parameter."""


class Card(DoctypeModel):
    """A contact card (vCard)."""

    uid: Identifier
    """``UID``: the card's unique id."""
    full_name: Name
    """``FN``: the name as displayed."""
    given_name: Name | None = None
    """Given name (``N``, second component)."""
    family_name: Name | None = None
    """Family name (``N``, first component)."""
    additional_names: Name | None = None
    """Middle names (``N``, third component)."""
    prefix: Name | None = None
    """Honorific prefix, such as ``Dr``."""
    nickname: Name | None = None
    """``NICKNAME``."""
    emails: list[CardEmail] = Field(default_factory=list)
    """``EMAIL``\\ s."""
    phones: list[CardPhone] = Field(default_factory=list)
    """``TEL``\\ s."""
    addresses: list[CardAddress] = Field(default_factory=list)
    """``ADR``\\ s."""
    organisation: Name | None = None
    """``ORG``."""
    title: Name | None = None
    """``TITLE``: job title."""
    birthday: date | None = None
    """``BDAY`` (a full date; a birthday without a year goes in ``note``)."""
    urls: list[Uri] = Field(default_factory=list)
    """``URL``\\ s."""
    categories: list[Tag] = Field(default_factory=list)
    """``CATEGORIES``, such as ``famille``."""
    note: Text | None = None
    """``NOTE``."""
    address_book: Name | None = None
    """The address book it comes from, such as ``Contacts Google``."""


# Words for people, per field: (French, English); test_doctype_labels wants them all.
CARD_LABELS = {
    "uid": ("Identifiant", "Identifier"),
    "full_name": ("Nom complet", "Full name"),
    "given_name": ("Prénom", "Given name"),
    "family_name": ("Nom de famille", "Family name"),
    "additional_names": ("Autres prénoms", "Additional names"),
    "prefix": ("Civilité", "Prefix"),
    "nickname": ("Surnom", "Nickname"),
    "emails": ("Courriels", "E-mails"),
    "phones": ("Téléphones", "Phones"),
    "addresses": ("Adresses", "Addresses"),
    "organisation": ("Organisation", "Organisation"),
    "title": ("Fonction", "Job title"),
    "birthday": ("Anniversaire", "Birthday"),
    "urls": ("Sites web", "Websites"),
    "categories": ("Catégories", "Categories"),
    "note": ("Note", "Note"),
    "address_book": ("Carnet d'adresses", "Address book"),
}


CARD = Doctype(
    name="contact.card",
    summary=("full_name", "organisation", "emails", "phones"),
    labels=CARD_LABELS,
    version=1,
    kind="record",
    model=Card,
    category="contacts",
    title={"fr": "Fiche contact", "en": "Contact card"},
    description={
        "fr": "Une fiche de carnet d'adresses (vCard).",
        "en": "An address-book card (vCard).",
    },
    natural_key=("uid",),
)

DOCTYPES = (CARD,)
