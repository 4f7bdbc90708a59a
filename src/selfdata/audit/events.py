"""The shape of an access-log event."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
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
        # Field by field (not dataclasses.asdict, which deep-copies): this runs per access.
        out = {name: getattr(self, name) for name in _EVENT_FIELDS}
        if out["detail"]:
            out["detail"] = dict(out["detail"])
        return {k: v for k, v in out.items() if v not in (None, {})}


_EVENT_FIELDS = tuple(f.name for f in fields(AuditEvent))


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """An event as stored: its place in the chain and its hashes (hex)."""

    seq: int
    at: str
    event: AuditEvent
    prev_hash: str
    hash: str
    # 128 random bits inside what the hash covers: the clear hashes in the database
    # cannot be used to confirm a guess of what an event says.
    salt: str = ""

    def canonical(self) -> bytes:
        """The bytes the chain hash covers (sorted keys, no whitespace)."""
        body = self.event.as_dict()
        if self.salt:
            body["salt"] = self.salt
        return canonical_bytes(self.seq, self.at, body)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            **self.event.as_dict(),
            "salt": self.salt,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def canonical_bytes(seq: int, at: str, event: dict[str, Any]) -> bytes:
    return orjson.dumps({"seq": seq, "at": at, **event}, option=orjson.OPT_SORT_KEYS)
