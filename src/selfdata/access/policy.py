"""The rules of the authorisation point, as a pure function (no I/O, no framework).

``decide`` answers one :class:`AccessRequest` from the facts the gate gathered: the
space's status and, for services (a later capability), their consents. Every refusal
carries a stable ``reason`` code and a sentence the person refused can understand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from selfdata.access.actors import Actor

__all__ = ["DATA_ACTIONS", "AccessRequest", "Action", "Decision", "decide"]

Action = Literal["read", "write", "update", "delete", "export", "erase", "admin"]
DATA_ACTIONS: frozenset[str] = frozenset({"read", "write", "update", "delete", "export"})
SpaceStatus = Literal["active", "suspended", "erased", "missing"]


@dataclass(frozen=True, slots=True)
class AccessRequest:
    actor: Actor
    space_id: str
    action: Action
    doctype: str | None = None
    purpose: str | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str
    explanation: str
    consent_id: str | None = None
    # Refusals that must not reveal that the space exists answer "not found".
    conceal: bool = False


def _allow(reason: str, explanation: str) -> Decision:
    return Decision(True, reason, explanation)


def _deny(reason: str, explanation: str, *, conceal: bool = False) -> Decision:
    return Decision(False, reason, explanation, conceal=conceal)


def decide(request: AccessRequest, space_status: SpaceStatus) -> Decision:
    actor = request.actor
    if space_status in ("missing", "erased"):
        return _deny("space-not-found", "there is no such space", conceal=True)
    if actor.kind == "citizen":
        if actor.space_id != request.space_id:
            # Another citizen: answer as if the space did not exist.
            return _deny("not-your-space", "this space belongs to someone else", conceal=True)
        if space_status == "suspended":
            return _deny("space-suspended", "this space is suspended by the operator")
        return _allow("owner", "the citizen uses their own space")
    if actor.kind == "operator":
        if request.action in ("admin", "erase"):
            return _allow("operator-administration", "the operator administers the space")
        # Least privilege: running the instance gives no right to read what it holds.
        return _deny(
            "operator-no-data-access",
            "operators administer spaces but cannot read or change the data in them",
        )
    if actor.kind in ("service", "connector"):
        return _deny(
            "no-consent",
            f"no active consent lets this {actor.kind} {request.action} "
            f"{request.doctype or 'data'} in this space",
        )
    return _deny("unknown-actor", "the request does not say who is asking")
