"""Papers: the citizen's documents (invoices, payslips, tax notices, certificates).

A ``paper.document`` record describes one file; the file itself is an encrypted blob
referred to by ``file_id``. There is deliberately no content hash field: a plain hash of
a personal document is itself personal data that can be matched across databases; the
store computes keyed fingerprints instead.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from .fields import CurrencyCode, DoctypeModel, Label, LongText, Money, Name, Tag, hint
from .registry import Doctype

__all__ = ["DOCTYPES", "DOCUMENT", "Document"]

_MEDIA_TYPE = hint(
    r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$",
    "a media type in lower case, such as 'application/pdf'",
)
_FILE_ID = hint(
    r"^[A-Za-z0-9_.:-]{1,128}$",
    "the id of a stored file (letters, digits, '_', '-', '.', ':')",
)

MediaType = Annotated[str, StringConstraints(max_length=255, pattern=_MEDIA_TYPE)]
FileId = Annotated[str, StringConstraints(pattern=_FILE_ID)]
Filename = Annotated[str, StringConstraints(min_length=1, max_length=255)]


class Document(DoctypeModel):
    """A document kept in the space, and what is known about it."""

    title: Label
    """A readable title, such as ``Avis d'impôt 2024``."""
    kind: Literal[
        "invoice",
        "payslip",
        "tax_notice",
        "id_card",
        "certificate",
        "contract",
        "statement",
        "other",
    ]
    """What kind of paper it is."""
    file_id: FileId
    """Id of the encrypted file in the space's file store."""
    filename: Filename
    """The file's original name, such as ``avis-2024.pdf``."""
    media_type: MediaType
    """The file's media type, such as ``application/pdf``."""
    size_bytes: Annotated[int, Field(ge=0)]
    """Size of the original (unencrypted) file in bytes."""
    issuer: Name | None = None
    """Who issued it, such as ``DGFiP``, ``EDF``, ``Mairie de Lyon``."""
    issued_on: date | None = None
    """Date of issue."""
    valid_until: date | None = None
    """Expiry date (identity papers, certificates)."""
    reference: Label | None = None
    """The issuer's reference: invoice number, tax notice number."""
    amount: Money | None = None
    """Amount due or paid (invoices), net pay (payslips)."""
    currency: CurrencyCode | None = None
    """Currency of ``amount``."""
    page_count: Annotated[int, Field(ge=1)] | None = None
    """Number of pages."""
    extracted_text: LongText | None = None
    """Text extracted from the file (OCR or PDF text layer), for search."""
    tags: list[Tag] = Field(default_factory=list)
    """Keywords chosen by the citizen, such as ``impôts`` or ``logement``."""

    @field_validator("valid_until")
    @classmethod
    def _after_issue(cls, value: date | None, info: ValidationInfo) -> date | None:
        issued = info.data.get("issued_on")
        if value is not None and issued is not None and value < issued:
            raise ValueError(f"expected a date on or after issued_on ({issued.isoformat()})")
        return value

    @field_validator("currency")
    @classmethod
    def _needs_amount(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Only when amount was left out: if it was invalid, that error is enough.
        if value is not None and "amount" in info.data and info.data["amount"] is None:
            raise ValueError("expected an amount alongside the currency")
        return value


# Words for people, per field: (French, English); test_doctype_labels wants them all.
DOCUMENT_LABELS = {
    "title": ("Titre", "Title"),
    "kind": ("Type de document", "Document type"),
    "file_id": ("Fichier", "File"),
    "filename": ("Nom du fichier", "File name"),
    "media_type": ("Format", "Format"),
    "size_bytes": ("Taille (octets)", "Size (bytes)"),
    "issuer": ("Émetteur", "Issuer"),
    "issued_on": ("Émis le", "Issued on"),
    "valid_until": ("Valable jusqu'au", "Valid until"),
    "reference": ("Référence", "Reference"),
    "amount": ("Montant", "Amount"),
    "currency": ("Devise", "Currency"),
    "page_count": ("Pages", "Pages"),
    "extracted_text": ("Texte extrait", "Extracted text"),
    "tags": ("Mots-clés", "Tags"),
}


# Words for the coded values of some fields: (French, English).
DOCUMENT_CHOICES = {
    "kind": {
        "invoice": ("Facture", "Invoice"),
        "payslip": ("Bulletin de salaire", "Payslip"),
        "tax_notice": ("Avis d'impôt", "Tax notice"),
        "id_card": ("Pièce d'identité", "Identity document"),
        "certificate": ("Attestation", "Certificate"),
        "contract": ("Contrat", "Contract"),
        "statement": ("Relevé", "Statement"),
        "other": ("Autre", "Other"),
    }
}


DOCUMENT = Doctype(
    name="paper.document",
    summary=("title", "kind", "issuer", "amount"),
    choices=DOCUMENT_CHOICES,
    labels=DOCUMENT_LABELS,
    version=1,
    kind="record",
    model=Document,
    category="papers",
    title={"fr": "Document", "en": "Document"},
    description={
        "fr": "Un document (facture, fiche de paie, avis d'impôt…) et son fichier chiffré.",
        "en": "A document (invoice, payslip, tax notice…) and its encrypted file.",
    },
    time_field="issued_on",
    natural_key=("issuer", "kind", "reference"),
    fallback_key=("file_id",),
)

DOCTYPES = (DOCUMENT,)
