"""The citizen's rights, as accesses through the gate (used by :class:`SpaceView`).

Each function takes the citizen's view and runs one decided, audited access:

- access (art. 15): :func:`access_summary`, what the space holds, where it came from
  and who it is shared with;
- rectification (art. 16): :func:`record_history`, the sealed past versions every
  update keeps (``store/revisions.py``);
- restriction (art. 18): :func:`restrict`, :func:`lift`, :func:`restrictions` — the
  gate refuses services and connectors with reason ``restricted`` meanwhile;
- objection (art. 21) and withdrawal (art. 7.3): :func:`withdraw_all_consents`;
- erasure (art. 17): :func:`erase_doctype`, :func:`erase_source`, each with a signed
  certificate (the whole space: ``SpaceDirectory.erase_certified``).

Only the citizen exercises these rights: the policy refuses the ``rights`` action to
services and operators, and reading a record's history is the citizen's alone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from selfdata.access.actors import Actor
from selfdata.audit.log import iter_events
from selfdata.consent import ConsentRecord
from selfdata.errors import AccessDenied, InvalidInput, NotFound, UnknownDoctype
from selfdata.rights import (
    ErasureScope,
    ErasureStatement,
    Holding,
    Lang,
    Origin,
    ServiceActivity,
    build_summary,
)
from selfdata.store import consents as consent_store
from selfdata.store import erasure as erasure_store
from selfdata.store import files as file_store
from selfdata.store import records as record_store
from selfdata.store import restrictions as restriction_store
from selfdata.store import series as series_store
from selfdata.store import sources as source_store
from selfdata.store.restrictions import Restriction
from selfdata.store.revisions import RecordRevision, RevisionAuthor, list_revisions
from selfdata.store.types import at_ms, from_ms

if TYPE_CHECKING:
    from selfdata.access.view import SpaceView

__all__ = [
    "ErasureReport",
    "Lang",
    "RecordRevision",
    "Restriction",
    "SourceHolding",
    "access_summary",
    "author_of",
    "erase_doctype",
    "erase_source",
    "lift",
    "record_history",
    "restrict",
    "restrictions",
    "source_holdings",
    "withdraw_all_consents",
]

_MAX_NOTE = 500


def author_of(actor: Actor) -> RevisionAuthor:
    """Who a record's history says replaced a version."""
    return RevisionAuthor(actor.kind, actor.id, actor.label)


@dataclass(frozen=True, slots=True)
class ErasureReport:
    """What a partial erasure did, and the operator's signed statement of it."""

    statement: ErasureStatement
    certificate: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "scope": self.statement.scope,
            "target": self.statement.target,
            "erased_at": self.statement.erased_at.isoformat(),
            "counts": dict(self.statement.counts),
            "key_destroyed": self.statement.key_destroyed,
            "log": {"seq": self.statement.log_seq, "head": self.statement.log_head},
            "certificate": self.certificate,
        }


def _citizen_only(view: SpaceView, what: str) -> None:
    if view.actor.kind != "citizen":
        raise AccessDenied(f"{what} is the citizen's own", reason="citizen-only")


# -- access -------------------------------------------------------------------------


def access_summary(view: SpaceView, lang: Lang = "fr") -> dict[str, Any]:
    """What the space holds, per doctype with time spans; where it came from; which
    services it is shared with, since when, and how often the log shows them reading."""
    gate = view._gate
    with gate.access(view._request("read")) as access:
        conn, keys, space_id = access.conn, access.keys, view.space_id
        holdings = [
            Holding(name, "record", count, from_ms(first), from_ms(last))
            for name, count, first, last in record_store.count_by_doctype(conn, space_id)
        ]
        streams = series_store.list_streams(conn, keys)
        by_doctype: dict[str, list[Any]] = {}
        for stream in streams:
            by_doctype.setdefault(stream.doctype, []).append(stream)
        for name, group in sorted(by_doctype.items()):
            holdings.append(
                Holding(
                    name,
                    "series",
                    sum(s.points for s in group),
                    min((s.first for s in group if s.first), default=None),
                    max((s.last for s in group if s.last), default=None),
                )
            )
        origins = [
            Origin(source, doctype, n)
            for source, doctype, n in record_store.count_by_source(conn, space_id)
        ]
        by_source: dict[tuple[str | None, str], int] = {}
        for stream in streams:
            key = (stream.source_id, stream.doctype)
            by_source[key] = by_source.get(key, 0) + 1
        files = file_store.list_files(conn, keys)
        for info in files:
            key = (info.source_id, "file")
            by_source[key] = by_source.get(key, 0) + 1
        origins += [Origin(s, what, n) for (s, what), n in sorted(by_source.items(), key=str)]
        consents = consent_store.list_consents(conn, keys)
        activity: dict[str, ServiceActivity] = {}
        for logged in iter_events(conn, keys):
            event = logged.event
            if event.actor_kind != "service" or event.outcome == "failed":
                continue
            seen = activity.get(event.actor_id, ServiceActivity())
            if event.outcome == "allowed":
                seen = replace(seen, allowed=seen.allowed + 1, last=logged.at)
            else:
                seen = replace(seen, refused=seen.refused + 1)
            activity[event.actor_id] = seen
        restricted = restriction_store.list_restrictions(conn, keys)
        access.note(detail="access summary")
    return build_summary(
        space_id=view.space_id,
        generated_at=gate.clock.now(),
        holdings=holdings,
        origins=origins,
        files=(len(files), sum(f.size for f in files)),
        consents=consents,
        activity=activity,
        restrictions=[(r.scope, r.since) for r in restricted],
        doctypes=gate.doctypes,
        lang=lang,
    )


# -- rectification ------------------------------------------------------------------


def record_history(
    view: SpaceView, record_id: str, *, doctype: str | None = None
) -> list[RecordRevision]:
    """The record's past versions, newest first (the current one is the record)."""
    _citizen_only(view, "the history of a record")
    with view._gate.access(
        view._request("read"), resolve_doctype=view._record_doctype(record_id, doctype)
    ) as access:
        found = list_revisions(access.conn, access.keys, record_id)
        access.note(count=len(found), target=record_id, detail="history")
    return found


# -- restriction --------------------------------------------------------------------


def _scope(view: SpaceView, scope: str) -> str:
    scope = scope.strip()
    if scope == "*":
        return scope
    try:
        return view._gate.doctypes.get(scope).name
    except UnknownDoctype as exc:
        raise InvalidInput(
            f'cannot restrict {scope!r}: a restriction covers the whole space ("*") or one '
            f"doctype. {exc.detail}",
            scope=scope,
        ) from None


def restrict(view: SpaceView, scope: str, note: str | None = None) -> Restriction:
    """Freeze the processing of ``scope`` (``"*"``: the whole space) by services and
    connectors until the citizen lifts it; the citizen keeps using their data."""
    scope = _scope(view, scope)
    if note is not None and len(note) > _MAX_NOTE:
        raise InvalidInput(f"the note has at most {_MAX_NOTE} characters", limit=_MAX_NOTE)
    request = view._request("rights", None if scope == "*" else scope)
    with view._gate.access(request) as access:
        made = restriction_store.add_restriction(
            access.conn, access.keys, scope, access.now_ms, note or None
        )
        access.request = replace(access.request, action="rights.restrict")  # type: ignore[arg-type]
        access.note(target=scope)
    return made


def lift(view: SpaceView, scope: str) -> None:
    """End a restriction: services with a consent may access the data again."""
    scope = _scope(view, scope)
    request = view._request("rights", None if scope == "*" else scope)
    with view._gate.access(request) as access:
        restriction_store.remove_restriction(access.conn, view.space_id, scope)
        access.request = replace(access.request, action="rights.lift")  # type: ignore[arg-type]
        access.note(target=scope)


def restrictions(view: SpaceView) -> list[Restriction]:
    with view._gate.access(view._request("rights"), audited=False) as access:
        return restriction_store.list_restrictions(access.conn, access.keys)


# -- objection: every consent withdrawn at once -------------------------------------


def withdraw_all_consents(view: SpaceView) -> list[ConsentRecord]:
    """Withdraw every active consent in one transaction: each service's tokens are
    revoked and its next request refused. Returns the consents withdrawn."""
    gate = view._gate
    with gate.access(view._request("consent", "consent.record")) as access:
        now = gate.clock.now()
        withdrawn: list[ConsentRecord] = []
        for current in consent_store.list_consents(access.conn, access.keys):
            if current.status != "active":
                continue
            if current.expires <= now:
                # Already over: marked expired (as listing consents does), not withdrawn.
                record = current.with_state("expired", current.expires, "system")
                consent_store.save_consent(access.conn, access.keys, record, access.now_ms)
                consent_store.revoke_tokens(
                    access.conn, view.space_id, record.id, access.now_ms, "consent-expired"
                )
                continue
            record = current.with_state("withdrawn", now, "citizen", note="withdraw-all")
            consent_store.save_consent(access.conn, access.keys, record, access.now_ms)
            consent_store.revoke_tokens(access.conn, view.space_id, record.id, access.now_ms)
            withdrawn.append(record)
        access.request = replace(access.request, action="rights.withdraw-all")  # type: ignore[arg-type]
        access.note(
            count=len(withdrawn),
            consents=[r.id for r in withdrawn],
            services=sorted({r.service_id for r in withdrawn}),
        )
    return withdrawn


# -- erasure ------------------------------------------------------------------------


def _certify(
    view: SpaceView, scope: ErasureScope, target: str, counts: dict[str, int], at_ms_: int
) -> ErasureReport:
    """Sign the statement of a committed partial erasure, with the log's head (which
    covers the erasure's own event)."""
    gate = view._gate
    checkpoint = gate.checkpoint(view.space_id)
    statement = ErasureStatement(
        space_id=view.space_id,
        scope=scope,
        target=target,
        erased_at=at_ms(at_ms_),
        counts=counts,
        key_destroyed=False,
        log_seq=checkpoint.seq if checkpoint else None,
        log_head=checkpoint.head if checkpoint else None,
    )
    return ErasureReport(statement, gate.certify_erasure(statement))


@dataclass(frozen=True, slots=True)
class SourceHolding:
    """What one import (or connector sync) brought that the space still holds: records
    and series points per doctype, and files — what erasing that source would remove."""

    source_id: str
    kind: str | None
    created_at: datetime | None
    detail: dict[str, Any]
    records: dict[str, int]
    points: dict[str, int]
    files: int


def source_holdings(view: SpaceView) -> list[SourceHolding]:
    """The space's sources with what each still holds, newest first (a service's
    answers, sourced ``service:…``, are not imports and are left out)."""
    _citizen_only(view, "the list of sources")
    with view._gate.access(view._request("read", "source")) as access:
        conn, keys = access.conn, access.keys
        records: dict[str, dict[str, int]] = {}
        for source_id, doctype, n in record_store.count_by_source(conn, view.space_id):
            if source_id:
                records.setdefault(source_id, {})[doctype] = n
        points: dict[str, dict[str, int]] = {}
        for stream in series_store.list_streams(conn, keys):
            if stream.source_id:
                held = points.setdefault(stream.source_id, {})
                held[stream.doctype] = held.get(stream.doctype, 0) + stream.points
        files: dict[str, int] = {}
        for info in file_store.list_files(conn, keys):
            if info.source_id:
                files[info.source_id] = files.get(info.source_id, 0) + 1
        out = []
        for source_id in sorted({*records, *points, *files}):
            if source_id.startswith("service:"):
                continue
            row = source_store.get_source(conn, keys, source_id)
            out.append(
                SourceHolding(
                    source_id=source_id,
                    kind=row[1] if row else None,
                    created_at=at_ms(row[2]) if row else None,
                    detail=dict(row[3]) if row else {},
                    records=records.get(source_id, {}),
                    points=points.get(source_id, {}),
                    files=files.get(source_id, 0),
                )
            )
        access.note(count=len(out), detail="sources held")
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(out, key=lambda h: h.created_at or oldest, reverse=True)


def erase_doctype(view: SpaceView, doctype: str) -> ErasureReport:
    """Erase every record of ``doctype`` (with its history), its series and the series of
    its records, and — for papers — their files, in one transaction."""
    name = view._gate.doctypes.get(doctype).name
    with view._gate.access(view._request("rights", name)) as access:
        done = erasure_store.erase_doctype(access.conn, access.keys, name)
        done.counts["blobs"] = len(done.blob_keys)
        access.request = replace(access.request, action="rights.erase")  # type: ignore[arg-type]
        access.note(count=done.counts["records"], scope="doctype", counts=done.counts)
        now_ms = access.now_ms
    for key in done.blob_keys:
        view._gate.blobs.delete(key)
    return _certify(view, "doctype", name, done.counts, now_ms)


def erase_source(view: SpaceView, source_id: str) -> ErasureReport:
    """Erase everything that came from one source (records with their history, series,
    files, the source's description), in one transaction."""
    source_id = source_id.strip()
    if not source_id:
        raise InvalidInput("say which source to erase")
    with view._gate.access(view._request("rights")) as access:
        if not erasure_store.source_exists(access.conn, view.space_id, source_id):
            raise NotFound(f"nothing in your space comes from source {source_id!r}")
        done = erasure_store.erase_source(access.conn, access.keys, source_id)
        done.counts["blobs"] = len(done.blob_keys)
        access.request = replace(access.request, action="rights.erase")  # type: ignore[arg-type]
        access.note(
            count=done.counts["records"], target=source_id, scope="source", counts=done.counts
        )
        now_ms = access.now_ms
    for key in done.blob_keys:
        view._gate.blobs.delete(key)
    return _certify(view, "source", source_id, done.counts, now_ms)
