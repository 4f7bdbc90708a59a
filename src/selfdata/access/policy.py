"""The rules of the authorisation point, as a pure function (no I/O, no framework).

``decide`` answers one :class:`AccessRequest` from the facts the gate gathered inside
the access's transaction: the space's status and, for a service, the service's status
in the registry and its consents in this space. Every refusal carries a stable
``reason`` code and a sentence the party refused can understand; no refusal says
anything about the data itself.

Reasons (``Decision.reason``)::

    allowed:  owner · operator-administration · consent · linked-account
    refused:  space-not-found · not-your-space · space-suspended · operator-no-data-access
              service-unknown · service-not-approved · service-suspended · service-retired
              no-consent · consent-withdrawn · consent-expired · doctype-not-consented
              operation-not-consented · purpose-not-consented · purpose-required
              outside-data-period · action-not-for-services · unknown-actor
              restricted

``restricted``: the citizen restricted the processing of the whole space (scope
``"*"``) or of the doctype asked for (GDPR art. 18). Only services and connectors are
refused; the citizen keeps every use of their own space. A service learns of a
restriction only once its consent would have allowed the request, so a restriction
tells nothing to a service the citizen never consented to.

Actions: the data actions (``read`` … ``export``), ``erase`` (the whole space: its
citizen, or an operator), ``admin`` (operators), ``consent`` and ``rights`` (the
citizen's own decisions about their space: consents, restrictions, partial erasure —
never a service's or an operator's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from selfdata.access.actors import Actor
from selfdata.consent.record import ConsentRecord

__all__ = [
    "DATA_ACTIONS",
    "AccessRequest",
    "Action",
    "ConsentFacts",
    "Decision",
    "decide",
    "restriction_covers",
]

Action = Literal[
    "read", "write", "update", "delete", "derive", "export", "erase", "admin", "consent", "rights"
]
DATA_ACTIONS: frozenset[str] = frozenset({"read", "write", "update", "delete", "derive", "export"})
SpaceStatus = Literal["active", "suspended", "erased", "missing"]
# What a service's consented operation allows.
# The citizen's own records about their space: never part of what a service can be granted.
# service.answer: the citizen's copy of what services learned (selfdata.questions).
_CITIZEN_ONLY = frozenset({"audit.event", "consent.record", "service.answer"})
# A linked connector account reads and writes its connector's doctypes, its sources and
# its own sync state; nothing else.
_CONNECTOR_ACTIONS = frozenset({"read", "write", "update"})
_CONNECTOR_OWN = frozenset({"source", "connector.account"})
_OPERATION = {
    "read": "read",
    "write": "write",
    "update": "write",
    "delete": "write",
    "derive": "derive",
}


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
class ConsentFacts:
    """What the gate knows of a service when it decides."""

    service_status: str | None  # None: no such service in the registry
    active: tuple[ConsentRecord, ...] = ()  # active, unexpired (only the token's own, if bound)
    lapsed: tuple[str, ...] = ()  # "withdrawn" / "expired" states of its other consents
    now: datetime | None = None
    # Scopes the citizen restricted ("*" or doctypes), read in the access's transaction.
    restricted: frozenset[str] = frozenset()
    # For a connector: the doctypes its account (linked by the citizen) writes; None when
    # the account is not linked (or no longer).
    connector_doctypes: frozenset[str] | None = None


def restriction_covers(restricted: frozenset[str], doctype: str | None) -> bool:
    """Whether a restriction in ``restricted`` covers ``doctype`` (None: the space as a
    whole). A restriction of papers covers their files."""
    if not restricted:
        return False
    if "*" in restricted:
        return True
    if doctype is None:
        return False
    return doctype in restricted or (doctype == "file" and "paper.document" in restricted)


def _restricted(name: str, doctype: str | None) -> Decision:
    what = "this space" if doctype is None else doctype
    return _deny(
        "restricted",
        f"the citizen restricted the processing of {what}: {name} may not access it "
        "until the citizen lifts the restriction",
    )


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str
    explanation: str
    consent_id: str | None = None
    # Refusals that must not reveal that the space exists answer "not found".
    conceal: bool = False
    # The earliest data time the actor may see (a service's consented data period).
    not_before: datetime | None = None
    purposes: tuple[str, ...] = field(default_factory=tuple)


def _allow(reason: str, explanation: str, **extra: object) -> Decision:
    return Decision(True, reason, explanation, **extra)  # type: ignore[arg-type]


def _deny(reason: str, explanation: str, *, conceal: bool = False) -> Decision:
    return Decision(False, reason, explanation, conceal=conceal)


def decide(
    request: AccessRequest,
    space_status: SpaceStatus,
    consent: ConsentFacts | None = None,
    *,
    space_only: bool = False,
) -> Decision:
    """Decide ``request``. ``space_only`` checks only whether the actor may address the
    space at all (used before resolving the doctype of an object addressed by id)."""
    actor = request.actor
    if space_status in ("missing", "erased"):
        return _deny("space-not-found", "there is no such space", conceal=True)
    if actor.kind == "citizen":
        # The owner may do anything in their space, erasing it included.
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
    if actor.kind == "service":
        if space_status == "suspended":
            return _deny("space-suspended", "this space is suspended by the operator")
        facts = consent or ConsentFacts(None)
        decision = _decide_service(request, facts, space_only)
        if decision.allowed and restriction_covers(
            facts.restricted, None if space_only else request.doctype
        ):
            whole = space_only or "*" in facts.restricted
            return _restricted(actor.label or actor.id, None if whole else request.doctype)
        return decision
    if actor.kind == "connector":
        if consent is not None and restriction_covers(consent.restricted, request.doctype):
            return _restricted(actor.label or actor.id, request.doctype)
        linked = consent.connector_doctypes if consent is not None else None
        if (
            linked is not None
            and space_status == "active"
            and request.action in _CONNECTOR_ACTIONS
            and (space_only or request.doctype in linked | _CONNECTOR_OWN)
        ):
            # The citizen linked this account: it syncs what its connector declares.
            return _allow("linked-account", "the citizen linked this connector account")
        return _deny(
            "no-consent",
            f"no active consent lets this connector {request.action} "
            f"{request.doctype or 'data'} in this space",
        )
    return _deny("unknown-actor", "the request does not say who is asking")


def _decide_service(request: AccessRequest, facts: ConsentFacts, space_only: bool) -> Decision:
    name = request.actor.label or request.actor.id
    status = facts.service_status
    if status is None:
        return _deny("service-unknown", f"{name} is not a registered service")
    if status != "approved":
        reason = {"suspended": "service-suspended", "retired": "service-retired"}.get(
            status, "service-not-approved"
        )
        return _deny(reason, f"{name} is {status} by the operator and may not access any data")
    if not facts.active:
        if "withdrawn" in facts.lapsed:
            return _deny("consent-withdrawn", f"the citizen withdrew their consent to {name}")
        if "expired" in facts.lapsed:
            return _deny("consent-expired", f"the citizen's consent to {name} has expired")
        return _deny("no-consent", f"the citizen has not consented to {name}")
    if space_only:
        return _allow("consent", "the service holds an active consent in this space")
    operation = _OPERATION.get(request.action)
    if request.doctype in _CITIZEN_ONLY:
        return _deny(
            "action-not-for-services", f"services may not read a citizen's {request.doctype}"
        )
    if operation is None or request.doctype is None:
        what = (
            "list everything in"
            if operation is not None
            else "exercise the citizen's rights over"
            if request.action == "rights"
            else request.action
        )
        return _deny("action-not-for-services", f"services may not {what} a space")
    now = facts.now
    refusal = _deny(
        "doctype-not-consented",
        f"the citizen did not consent to {name} using {request.doctype}",
    )
    for record in facts.active:
        for grant in record.grants:
            if not grant.covers_doctype(request.doctype):
                continue
            if operation not in grant.operations:
                refusal = _deny(
                    "operation-not-consented",
                    f"the consent lets {name} {', '.join(grant.operations)} {request.doctype}, "
                    f"not {operation}",
                )
                continue
            if request.purpose is None:
                refusal = _deny(
                    "purpose-required",
                    "say why: declare one of the consented purposes "
                    f"({', '.join(grant.purposes)}) with the request",
                )
                continue
            if request.purpose not in grant.purposes:
                refusal = _deny(
                    "purpose-not-consented",
                    f"{request.purpose} is not a purpose the citizen consented to for "
                    f"{request.doctype} (consented: {', '.join(grant.purposes)})",
                )
                continue
            not_before = now - timedelta(days=grant.window_days) if now else None
            if (
                not_before is not None
                and request.period_start is not None
                and request.period_start < not_before
            ):
                refusal = _deny(
                    "outside-data-period",
                    f"the consent covers data from {not_before.date().isoformat()} on; "
                    f"the request starts at {request.period_start.date().isoformat()}",
                )
                continue
            return _allow(
                "consent",
                f"consent {record.id} covers this request",
                consent_id=record.id,
                not_before=not_before,
                purposes=grant.purposes,
            )
    return refusal
