"""The consent record, aligned with ISO/IEC TS 27560 (consent record information structure).

The record keeps a snapshot of exactly what was granted (the *grants*), not a pointer
to the manifest: if the service later publishes a wider manifest, an existing consent
does not widen with it. Every state change is appended to ``history``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from selfdata.services.purposes import iri

__all__ = ["ConsentRecord", "ConsentState", "Grant", "StateChange"]

ConsentState = Literal["active", "withdrawn", "expired"]
SCHEMA = "https://selfdata.org/schemas/consent-record/v1.json"


@dataclass(frozen=True, slots=True)
class Grant:
    """One request of the manifest, as granted."""

    request_id: str
    doctypes: tuple[str, ...]
    operations: tuple[str, ...]
    window_days: int
    purposes: tuple[str, ...]
    legal_basis: str
    retention: str
    recipients: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Grant:
        return cls(
            data["request_id"],
            tuple(data["doctypes"]),
            tuple(data["operations"]),
            int(data["window_days"]),
            tuple(data["purposes"]),
            data["legal_basis"],
            data["retention"],
            tuple(data.get("recipients", ())),
        )

    def covers_doctype(self, doctype: str) -> bool:
        # A file is the body of a paper: a grant on papers covers their files.
        return doctype in self.doctypes or (doctype == "file" and "paper.document" in self.doctypes)


@dataclass(frozen=True, slots=True)
class StateChange:
    state: Literal["given", "renewed", "withdrawn", "expired"]
    at: str
    by: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    id: str
    space_id: str
    service_id: str
    service_name: dict[str, str]
    controller: dict[str, Any]
    notice_id: str
    notice_hash: str
    manifest_version: str
    grants: tuple[Grant, ...]
    given_at: str
    expires_at: str
    status: ConsentState
    language: str = "fr"
    method: str = "web-form"
    history: tuple[StateChange, ...] = field(default_factory=tuple)

    @property
    def expires(self) -> datetime:
        return datetime.fromisoformat(self.expires_at)

    def is_active(self, now: datetime) -> bool:
        return self.status == "active" and now < self.expires

    def with_state(
        self,
        state: Literal["renewed", "withdrawn", "expired"],
        at: datetime,
        by: str,
        *,
        expires_at: datetime | None = None,
        note: str | None = None,
    ) -> ConsentRecord:
        status: ConsentState = "active" if state == "renewed" else state
        return replace(
            self,
            status=status,
            expires_at=(expires_at.isoformat() if expires_at else self.expires_at),
            history=(*self.history, StateChange(state, at.isoformat(), by, note)),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConsentRecord:
        return cls(
            **{k: v for k, v in data.items() if k not in ("grants", "history")},
            grants=tuple(Grant.from_dict(g) for g in data["grants"]),
            history=tuple(StateChange(**h) for h in data["history"]),
        )

    def iso27560(self) -> dict[str, Any]:
        """The record in the ISO/IEC TS 27560 information structure (JSON names)."""
        return {
            "schema_version": SCHEMA,
            "record_id": self.id,
            "pii_principal_id": self.space_id,
            "controllers": [self.controller],
            "service": {"id": self.service_id, "name": self.service_name},
            "notice": {
                "id": self.notice_id,
                "hash_sha256": self.notice_hash,
                "manifest_version": self.manifest_version,
                "language": self.language,
            },
            "processing": [
                {
                    "request_id": g.request_id,
                    "purposes": [{"term": p, "iri": iri(p)} for p in g.purposes],
                    "pii_categories": list(g.doctypes),
                    "processing_operations": list(g.operations),
                    "legal_basis": {"term": g.legal_basis, "iri": iri(g.legal_basis)},
                    "data_period_days": g.window_days,
                    "retention": g.retention,
                    "recipients": list(g.recipients),
                }
                for g in self.grants
            ],
            "consent_type": "explicit",
            "collection_method": self.method,
            "timestamp": self.given_at,
            "duration": {"expires_at": self.expires_at},
            "state": self.status,
            "state_history": [asdict(h) for h in self.history],
            "jurisdiction": "EU (GDPR)",
        }
