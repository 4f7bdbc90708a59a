"""What left the space: the answers services received to their questions.

Every answer a service received (compute-to-data, ``selfdata.questions``) is kept as a
sealed ``service.answer`` record in the citizen's own space, so the citizen can read
exactly what each service learned, when, and from which data period.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from .fields import DoctypeModel, Identifier, Label
from .registry import Doctype

__all__ = ["ANSWER", "DOCTYPES", "ServiceAnswer"]


class ServiceAnswer(DoctypeModel):
    """One answer sent to a service."""

    answer_id: Identifier
    """The id of the answer (also in the access log event of the question)."""
    service_id: Identifier
    """The service that asked."""
    consent_id: Identifier
    """The consent the question was asked under."""
    question: Label
    """The question's name in the service's manifest."""
    question_version: Label | None = None
    """The manifest version (or the built-in plugin's version) that defined it."""
    asked_at: datetime
    """When the answer left the space."""
    period_start: datetime
    """The start of the data period the answer was computed from."""
    period_end: datetime
    """The end of that period."""
    doctypes: list[Identifier] = Field(default_factory=list)
    """The kinds of data the answer was computed from."""
    params: dict[str, Any] = Field(default_factory=dict)
    """The parameters the service gave."""
    answer: Any = None
    """The answer exactly as sent."""
    answer_bytes: Annotated[int, Field(ge=0)]
    """Its size in bytes (UTF-8 JSON)."""


# Words for people, per field: (French, English); test_doctype_labels wants them all.
ANSWER_LABELS = {
    "answer_id": ("Identifiant de la réponse", "Answer id"),
    "service_id": ("Service", "Service"),
    "consent_id": ("Consentement", "Consent"),
    "question": ("Question", "Question"),
    "question_version": ("Version de la question", "Question version"),
    "asked_at": ("Envoyée le", "Sent on"),
    "period_start": ("Début de la période", "Period start"),
    "period_end": ("Fin de la période", "Period end"),
    "doctypes": ("Données utilisées", "Data used"),
    "params": ("Paramètres", "Parameters"),
    "answer": ("Réponse", "Answer"),
    "answer_bytes": ("Taille (octets)", "Size (bytes)"),
}


ANSWER = Doctype(
    name="service.answer",
    summary=("service_id", "question", "period_start", "period_end", "answer_bytes"),
    labels=ANSWER_LABELS,
    version=1,
    kind="record",
    model=ServiceAnswer,
    category="service",
    title={"fr": "Réponse transmise à un service", "en": "Answer sent to a service"},
    description={
        "fr": "Une réponse calculée dans votre espace et transmise à un service, "
        "telle qu'il l'a reçue.",
        "en": "An answer computed in your space and sent to a service, exactly as it received it.",
    },
    time_field="asked_at",
    natural_key=("answer_id",),
)

DOCTYPES = (ANSWER,)
