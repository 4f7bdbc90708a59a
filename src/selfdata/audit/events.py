"""The shape of an access-log event."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import orjson

__all__ = ["ActorKind", "AuditEvent", "LoggedEvent", "Outcome"]

ActorKind = Literal["citizen", "operator", "service", "connector", "system", "anonymous"]
Outcome = Literal["allowed", "denied", "failed"]


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One access or change, as the citizen will read it.

    ``action`` is what was attempted (``read``, ``write``, ``update``, ``delete``,
    ``export``, ``erase``, ``login``, ``space.create``, ``key.rotate``…); ``actor_kind``
    and ``actor_id`` say who; ``doctype``, ``target``, ``count`` and the period say what;
    ``purpose`` and ``consent_id`` say why; ``outcome`` and ``reason`` say how it ended.
    """

    action: str
    actor_kind: ActorKind
    actor_id: str
    outcome: Outcome
    doctype: str | None = None
    target: str | None = None
    count: int | None = None
    period_start: str | None = None
    period_end: str | None = None
    purpose: str | None = None
    consent_id: str | None = None
    reason: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, {})}


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """An event as stored: its place in the chain and its hashes (hex)."""

    seq: int
    at: str
    event: AuditEvent
    prev_hash: str
    hash: str

    def canonical(self) -> bytes:
        """The bytes the chain hash covers (sorted keys, no whitespace)."""
        return canonical_bytes(self.seq, self.at, self.event.as_dict())

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            **self.event.as_dict(),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def canonical_bytes(seq: int, at: str, event: dict[str, Any]) -> bytes:
    return orjson.dumps({"seq": seq, "at": at, **event}, option=orjson.OPT_SORT_KEYS)
