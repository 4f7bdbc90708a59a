"""THE authorisation point: one gate every access to personal data goes through.

``Gate.access`` opens a transaction, decides the request with :func:`policy.decide`
against the space's current status (read inside that same transaction, so a
suspension or erasure takes effect on the very next request), hands the caller the
space's keys only when allowed, and appends the audit event to the space's chain in
the same transaction as the access itself. Refusals and failures are audited too, in
their own transaction, since the refused work is rolled back.

Interfaces never get the keys or the store: they get a :class:`SpaceView`
(``selfdata.access.view``) whose every method goes through ``Gate.access``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select

from selfdata.access.actors import Actor
from selfdata.access.policy import AccessRequest, ConsentFacts, Decision, SpaceStatus, decide
from selfdata.audit import AuditEvent, append_event
from selfdata.audit.checkpoints import Checkpoint, checkpoint_due_spaces, create_checkpoint
from selfdata.blobs import BlobStore
from selfdata.clock import Clock
from selfdata.crypto import KeyProvider, MasterKeyring, SpaceKeys
from selfdata.crypto.signing import OperatorSigner
from selfdata.db.prepared import Prepared
from selfdata.db.tables import audit_heads, spaces
from selfdata.doctypes import DoctypeRegistry
from selfdata.errors import AccessDenied, CryptoError, NotFound, SelfdataError
from selfdata.ids import new_id
from selfdata.rights.certificate import ErasureStatement, make_certificate
from selfdata.services.registry import service_status
from selfdata.settings import Settings
from selfdata.store.connectors import linked_doctypes
from selfdata.store.consents import consent_facts
from selfdata.store.keys import KeyStore
from selfdata.store.purge import purge_space
from selfdata.store.restrictions import restricted_scopes
from selfdata.store.types import to_ms

__all__ = ["Access", "Gate"]

log = logging.getLogger(__name__)

# Built once, run on the driver's cursor (db/prepared.py): every access runs it.
_SPACE = Prepared(
    select(spaces.c.status, spaces.c.timezone).where(spaces.c.id == bindparam("space_id"))
)


@dataclass(slots=True)
class Access:
    """An allowed access in progress: the connection, the space's keys, and what the
    audit event will say (filled in by the operation as it learns it)."""

    conn: Connection
    keys: SpaceKeys
    request: AccessRequest
    decision: Decision
    now_ms: int
    count: int | None = None
    target: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    audited: bool = True
    timezone: str = "UTC"  # the space's own zone, for calendar buckets

    def note(self, *, count: int | None = None, target: str | None = None, **detail: Any) -> None:
        if count is not None:
            self.count = count
        if target is not None:
            self.target = target
        self.detail.update(detail)


class Gate:
    def __init__(
        self,
        engine: Engine,
        key_provider: KeyProvider,
        blobs: BlobStore,
        doctypes: DoctypeRegistry,
        clock: Clock,
        settings: Settings,
        signer: OperatorSigner,
    ) -> None:
        self.engine = engine
        self.signer = signer
        self.key_provider = key_provider
        self._keyring: MasterKeyring | None = None
        self._keyring_version: object = None
        self.keys = KeyStore(self.keyring)
        self.blobs = blobs
        self.doctypes = doctypes
        self.clock = clock
        self.settings = settings

    def keyring(self) -> MasterKeyring:
        """The master keyring, reloaded when its source changed (a rotation run by
        another process), so no worker wraps new space keys with a retired key."""
        version = self.key_provider.version()
        if self._keyring is None or version != self._keyring_version:
            self._keyring = self.key_provider.load()
            self._keyring_version = version
        return self._keyring

    def now_ms(self) -> int:
        return to_ms(self.clock.now())

    # -- the one road to the data ------------------------------------------------

    def _status(self, conn: Connection, space_id: str) -> SpaceStatus:
        return self._space(conn, space_id)[0]

    def _space(self, conn: Connection, space_id: str) -> tuple[SpaceStatus, str]:
        """The space's status and time zone, read in the caller's transaction."""
        row = _SPACE.first(conn, {"space_id": space_id})
        statuses: dict[object, SpaceStatus] = {
            "active": "active",
            "suspended": "suspended",
            "erased": "erased",
        }
        if row is None:
            return "missing", self.settings.timezone
        return statuses.get(row.status, "missing"), str(row.timezone)

    @contextmanager
    def access(
        self,
        request: AccessRequest,
        *,
        resolve_doctype: Callable[[Connection], str] | None = None,
        audited: bool = True,
        space_only: bool = False,
    ) -> Iterator[Access]:
        """Decide ``request``; when allowed, yield an :class:`Access` inside a
        transaction that also records the audit event. ``resolve_doctype`` looks up
        the doctype of the object addressed by id, once the space itself is allowed."""
        now_ms = self.now_ms()
        refusal: tuple[AccessRequest, Decision] | None = None
        failure: tuple[AccessRequest, Decision, SelfdataError] | None = None
        with self.engine.begin() as conn:
            status, timezone = self._space(conn, request.space_id)
            keys = (
                self.keys.get(conn, request.space_id) if status in ("active", "suspended") else None
            )
            facts = self._consent_facts(conn, request, keys, now_ms)
            if resolve_doctype is not None:
                decision = decide(request, status, facts, space_only=True)
                if decision.allowed:
                    try:
                        request = replace(request, doctype=resolve_doctype(conn))
                    except NotFound:
                        if request.actor.kind == "citizen":
                            raise
                        # Another party probing ids: refused like the rest, and logged.
                        decision = Decision(False, "not-found", "no such object", conceal=True)
                    else:
                        decision = decide(request, status, facts)
                        if not decision.allowed and decision.reason == "doctype-not-consented":
                            # An id of a doctype the service may not see answers like a
                            # missing one: the refusal must not reveal what the id is.
                            decision = replace(decision, conceal=True)
            else:
                decision = decide(request, status, facts, space_only=space_only)
            if not decision.allowed:
                refusal = (request, decision)
            else:
                assert keys is not None  # an allowed decision implies the space exists
                access = Access(
                    conn,
                    keys,
                    request,
                    decision,
                    now_ms,
                    # Only the citizen's reading of their own log goes unlogged.
                    audited=audited or request.actor.kind != "citizen",
                    timezone=timezone,
                )
                try:
                    yield access
                    if access.audited:
                        append_event(conn, access.keys, self._event(access), now_ms)
                except SelfdataError as exc:
                    failure = (request, decision, exc)
                    conn.rollback()
                except Exception:
                    # An unexpected error is logged in the space too (without its text,
                    # which could hold personal data), then surfaces unchanged.
                    conn.rollback()
                    self._audit_apart(request, decision, "failed", now_ms, error="internal-error")
                    raise
        if refusal is not None:
            request, decision = refusal
            self._audit_apart(request, decision, "denied", now_ms)
            if decision.conceal:
                raise NotFound(
                    "no such space, or it is not yours"
                    if decision.reason in ("space-not-found", "not-your-space")
                    else "no such object, or it is not within what you may see"
                )
            raise AccessDenied(decision.explanation, reason=decision.reason)
        if failure is not None:
            request, decision, error = failure
            self._audit_apart(request, decision, "failed", now_ms, error=error.code)
            raise error

    def _consent_facts(
        self, conn: Connection, request: AccessRequest, keys: SpaceKeys | None, now_ms: int
    ) -> ConsentFacts | None:
        """For a service: its registry status, its consents in this space and the
        citizen's restrictions, read in the access's own transaction (a withdrawal, a
        suspension or a restriction counts at once). For a connector: the restrictions."""
        actor = request.actor
        if actor.kind not in ("service", "connector") or keys is None:
            return None
        restricted = restricted_scopes(conn, request.space_id)
        if actor.kind == "connector":
            linked = linked_doctypes(conn, request.space_id, actor.id)
            return ConsentFacts(None, restricted=restricted, connector_doctypes=linked)
        status = service_status(conn, actor.id)
        if status != "approved":
            return ConsentFacts(status)
        # A token is bound to one consent: the service's other consents do not count.
        active, lapsed = consent_facts(conn, keys, actor.id, now_ms, only=actor.consent_id)
        return ConsentFacts(
            status, tuple(active), tuple(lapsed), self.clock.now(), restricted=restricted
        )

    def _event(self, access: Access) -> AuditEvent:
        r = access.request
        return AuditEvent(
            action=r.action,
            actor_kind=r.actor.kind,
            actor_id=r.actor.id,
            outcome="allowed",
            doctype=r.doctype,
            target=access.target,
            count=access.count,
            period_start=r.period_start.isoformat() if r.period_start else None,
            period_end=r.period_end.isoformat() if r.period_end else None,
            purpose=r.purpose,
            consent_id=access.decision.consent_id,
            reason=access.decision.reason,
            detail={**r.actor.log_detail(), **access.detail},
        )

    def _audit_apart(
        self,
        request: AccessRequest,
        decision: Decision,
        outcome: str,
        now_ms: int,
        *,
        error: str | None = None,
    ) -> None:
        """Record a refused or failed access in its own transaction."""
        detail: dict[str, Any] = dict(request.actor.log_detail())
        if error:
            detail["error"] = error
        event = AuditEvent(
            action=request.action,
            actor_kind=request.actor.kind,
            actor_id=request.actor.id,
            outcome=outcome,  # type: ignore[arg-type]
            doctype=request.doctype,
            purpose=request.purpose,
            period_start=request.period_start.isoformat() if request.period_start else None,
            period_end=request.period_end.isoformat() if request.period_end else None,
            reason=decision.reason,
            detail=detail,
        )
        try:
            with self.engine.begin() as conn:
                if self._status(conn, request.space_id) in ("missing", "erased"):
                    return  # nothing to attach the event to
                append_event(conn, self.keys.get(conn, request.space_id), event, now_ms)
        except CryptoError:
            log.warning("could not audit a %s access to space %s", outcome, request.space_id)

    # -- space lifecycle (operator) ----------------------------------------------

    def provision_space(self, conn: Connection, space_id: str, actor: Actor) -> None:
        """Create the key of a new space (inside the caller's transaction) and open its
        log with the creation event."""
        keys = self.keys.create(conn, space_id, self.now_ms())
        append_event(
            conn,
            keys,
            AuditEvent(
                action="space.create",
                actor_kind=actor.kind,
                actor_id=actor.id,
                outcome="allowed",
                reason="operator-administration",
                detail=actor.log_detail(),
            ),
            self.now_ms(),
        )

    def log_event(self, space_id: str, event: AuditEvent) -> None:
        """Append an event that is not a data access (a login, a consent change)."""
        with self.engine.begin() as conn:
            if self._status(conn, space_id) in ("missing", "erased"):
                return
            append_event(conn, self.keys.get(conn, space_id), event, self.now_ms())

    def record_admin_event(self, actor: Actor, space_id: str, action: str, **detail: Any) -> None:
        """Log an operator action on a space (suspend, resume…) in that space's log."""
        request = AccessRequest(actor, space_id, "admin")
        with self.access(request) as access:
            access.request = replace(request, action=action)  # type: ignore[arg-type]
            access.note(**detail)

    def erase_space(self, actor: Actor, space_id: str) -> dict[str, int]:
        """Crypto-shred then purge. The key goes first, in its own committed
        transaction: from that moment nothing of the space can be decrypted, even if
        the purge that follows is interrupted (running erase again completes it)."""
        request = AccessRequest(actor, space_id, "erase")
        with self.engine.begin() as conn:
            status = self._status(conn, space_id)
            if status == "erased":
                # Resume an interrupted erasure: the key is already gone.
                pass
            else:
                decision = decide(request, status)
                if not decision.allowed:
                    if decision.conceal:
                        raise NotFound("no such space, or it is not yours")
                    raise AccessDenied(decision.explanation, reason=decision.reason)
            conn.execute(
                spaces.update()
                .where(spaces.c.id == space_id)
                .values(status="erased", status_changed_at=self.now_ms())
            )
            key_destroyed = self.keys.destroy(conn, space_id)
        with self.engine.begin() as conn:
            counts = purge_space(conn, self.blobs, space_id)
        if self.engine.dialect.name == "sqlite":
            # secure_delete zeroes the freed pages of the database file; checkpointing
            # and truncating the WAL drops the older copies of those pages it still holds.
            # (On the driver's connection: a checkpoint cannot run inside a transaction.)
            raw = self.engine.raw_connection()
            try:
                raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
            finally:
                raw.close()
        counts["key_destroyed"] = int(key_destroyed)
        return counts

    # -- erasure certificates ------------------------------------------------------

    def log_head(self, space_id: str) -> tuple[int, str] | None:
        """The head of a space's log (sequence number, hash in hex), if it has one."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(audit_heads.c.seq, audit_heads.c.head).where(
                    audit_heads.c.space_id == space_id
                )
            ).first()
        return (int(row.seq), bytes(row.head).hex()) if row is not None else None

    def certify_erasure(self, statement: ErasureStatement) -> str:
        """The operator's signed certificate of an erasure (``selfdata.rights``)."""
        return make_certificate(
            statement, self.signer, self.settings.public_url, new_id(self.now_ms())
        )

    # -- signed checkpoints of the logs --------------------------------------------

    def checkpoint(self, space_id: str) -> Checkpoint | None:
        """Sign the head of one space's log now (on demand)."""
        with self.engine.begin() as conn:
            return create_checkpoint(
                conn, space_id, self.signer, self.now_ms(), self.settings.public_url
            )

    def checkpoint_all(self) -> int:
        """Sign the head of every log that grew since its last checkpoint (periodic job)."""
        count = 0
        for space_id in checkpoint_due_spaces(self.engine):
            try:
                if self.checkpoint(space_id) is not None:
                    count += 1
            except Exception:  # one space's failure must not stop the others
                log.exception("could not checkpoint the log of space %s", space_id)
        return count

    # -- master key rotation -----------------------------------------------------

    def rotate_master_key(self, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
        """New active master key; every space key re-wrapped; data untouched.

        The new keyring (old and new keys) is saved before any space key changes, so an
        interruption at any point leaves every space key unwrappable. Old keys stay in
        the keyring until :meth:`retire_master_keys`, run once every worker has picked up
        the new keyring and no space key is wrapped by them any more."""
        old = self.keyring()
        new = old.with_new_active()
        self.key_provider.store(new)
        self._keyring, self._keyring_version = new, self.key_provider.version()
        with self.engine.begin() as conn:
            count = self.keys.rewrap_all(conn, old, new, self.now_ms(), progress)
        return {
            "active": new.active_id,
            "rewrapped": count,
            "kept": [k for k in new.key_ids if k != new.active_id],
        }

    def retire_master_keys(self) -> list[str]:
        """Drop from the keyring every inactive master key that wraps no space key now."""
        current = self.keyring()
        with self.engine.begin() as conn:
            usage = self.keys.kek_usage(conn)
            retired = [
                k for k in current.key_ids if k != current.active_id and usage.get(k, 0) == 0
            ]
            still_used = {k: n for k, n in usage.items() if k != current.active_id}
            if retired:
                final = current.without(set(retired))
                self.key_provider.store(final)
                self._keyring, self._keyring_version = final, self.key_provider.version()
        if still_used:
            log.warning("master keys still wrapping space keys: %s", still_used)
        return retired

    def key_usage(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return self.keys.kek_usage(conn)
