"""A space as one actor may see it: every method is one decided, audited access."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection

from selfdata.access import rights as _rights
from selfdata.access.actors import Actor
from selfdata.access.gate import Access, Gate
from selfdata.access.policy import AccessRequest, Action
from selfdata.audit import LoggedEvent
from selfdata.audit.checkpoints import list_checkpoints
from selfdata.audit.export import export_lines
from selfdata.audit.log import iter_events, list_events, verify_chain
from selfdata.consent import ConsentRecord, Grant, StateChange, build_notice
from selfdata.doctypes import Doctype
from selfdata.errors import (
    AccessDenied,
    Conflict,
    FieldError,
    InvalidInput,
    MalformedQuery,
    NotFound,
    ValidationFailed,
)
from selfdata.ids import new_id
from selfdata.services.manifest import parse_duration
from selfdata.services.registry import ServiceInfo
from selfdata.store import consents as consent_store
from selfdata.store import files as file_store
from selfdata.store import records as record_store
from selfdata.store import series as series_store
from selfdata.store import sources as source_store
from selfdata.store.query import Query
from selfdata.store.records import OnExisting
from selfdata.store.series import Aggregate
from selfdata.store.types import (
    FileInfo,
    Page,
    Record,
    SeriesFrame,
    Stream,
    WriteReport,
    from_ms,
    to_ms,
)

__all__ = ["DoctypeSummary", "SourceInfo", "SpaceView"]

_EVENT_FILTERS = frozenset(
    {"actor_kind", "actor_id", "action", "doctype", "purpose", "outcome", "reason", "consent_id"}
)

_MAX_REPORTED_ERRORS = 100


@dataclass(frozen=True, slots=True)
class DoctypeSummary:
    doctype: str
    kind: str
    count: int
    first: datetime | None
    last: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "doctype": self.doctype,
            "kind": self.kind,
            "count": self.count,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
        }


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """Where data came from: a source row, its description decrypted."""

    id: str
    kind: str
    created_at: datetime
    detail: dict[str, Any]
    existed: bool = False  # found again (the same file imported before), not created

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "created_at": self.created_at.isoformat(),
            "detail": self.detail,
        }


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _epoch(value: datetime | None) -> int | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def _floor(start: datetime | None, access: Access, *, ms: bool = False) -> int | None:
    """The read's lower bound: the caller's, raised to the consented data period
    (epoch seconds, or milliseconds with ``ms``)."""
    floor = access.decision.not_before
    bound = floor if floor is not None and (start is None or start < floor) else start
    if bound is None:
        return None
    return to_ms(bound) if ms else _epoch(bound)


def _check_window(access: Access, record: Record) -> None:
    """A record addressed by id must lie within the consented data period."""
    floor = access.decision.not_before
    if floor is not None and record.time_start is not None and record.time_start < floor:
        raise AccessDenied(
            f"this record is older than the consented data period (from {floor.date()})",
            reason="outside-data-period",
        )


def _earliest(ts: npt.ArrayLike, default: int) -> int:
    """The earliest of some timestamps (epoch seconds or datetime64), or ``default``."""
    t = np.asarray(ts)
    if t.dtype.kind == "M":
        t = t.astype("datetime64[s]").astype(np.int64)
    return int(t.min()) if t.size and t.dtype.kind in "iu" else default


class SpaceView:
    """What ``actor`` may do in space ``space_id``, for ``purpose``."""

    def __init__(self, gate: Gate, actor: Actor, space_id: str, purpose: str | None = None) -> None:
        self._gate = gate
        self.actor = actor
        self.space_id = space_id
        self.purpose = purpose or ("own-use" if actor.kind == "citizen" else None)

    def _request(
        self,
        action: Action,
        doctype: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> AccessRequest:
        return AccessRequest(self.actor, self.space_id, action, doctype, self.purpose, start, end)

    def doctype(self, name: str) -> Doctype:
        """A doctype's description (raises ``UnknownDoctype``)."""
        return self._gate.doctypes.get(name)

    def now(self) -> datetime:
        """The platform clock's current time (what the log and provenance say)."""
        return self._gate.clock.now()

    def timezone(self) -> str:
        """The space's own time zone (an IANA name such as ``Europe/Paris``): where its
        local dates and times are placed (an import's) and its calendar days cut.
        Read in a short decision about the space itself, not logged for its citizen."""
        with self._gate.access(self._request("read"), audited=False, space_only=True) as access:
            return access.timezone

    # -- records -----------------------------------------------------------------

    def validate(
        self,
        doctype_name: str,
        items: Iterable[Mapping[str, Any]],
        *,
        source: str | None = None,
        first_line: int | None = None,
    ) -> list[dict[str, Any]]:
        """Validate every item; all errors are collected, none is written."""
        doctype = self._gate.doctypes.get(doctype_name)
        if doctype.kind != "record":
            raise InvalidInput(
                f"{doctype_name} is a series doctype; append points to a series instead"
            )
        valid: list[dict[str, Any]] = []
        errors: list[FieldError] = []
        for index, item in enumerate(items):
            line = first_line + index if first_line is not None else None
            try:
                valid.append(doctype.validate(item, source=source, line=line))
            except ValidationFailed as exc:
                for error in exc.errors:
                    loc = error.loc if line is not None else (index, *error.loc)
                    errors.append(FieldError(loc, error.message, line, source, error.kind))
                if len(errors) >= _MAX_REPORTED_ERRORS:
                    break
        if errors:
            raise ValidationFailed(
                f"{len(errors)} problem(s) in the {doctype_name} data; nothing was saved", errors
            )
        return valid

    def put_records(
        self,
        doctype_name: str,
        items: Sequence[Mapping[str, Any]],
        *,
        source_id: str | None = None,
        on_existing: OnExisting = "skip",
        validated: bool = False,
    ) -> WriteReport:
        """Store records (all or nothing). Items are validated unless ``validated``."""
        doctype = self._gate.doctypes.get(doctype_name)
        valid = list(items) if validated else self.validate(doctype_name, items)
        request = self._request("write", doctype.name)
        only_source: str | None = None
        if self.actor.kind == "service":
            # A service writes within its consented period, and its writes are matched
            # only against its own: the citizen's other records are neither revealed
            # (as "unchanged" or a conflict) nor overwritten.
            starts = [s for s in (doctype.time_bounds(item)[0] for item in valid) if s]
            request = replace(request, period_start=min(starts, default=None))
            source_id = only_source = f"service:{self.actor.id}"
        with self._gate.access(request) as access:
            report = record_store.insert_records(
                access.conn,
                access.keys,
                doctype,
                valid,
                now_ms=access.now_ms,
                source_id=source_id,
                on_existing=on_existing,
                only_source=only_source,
                author=_rights.author_of(self.actor),
            )
            # The period written is known once the records are: the log shows it.
            access.request = replace(
                access.request,
                period_start=from_ms(report.first_ms),
                period_end=from_ms(report.last_ms),
            )
            access.note(count=report.total)
            access.detail.update(report.as_dict())
        return report

    def _record_doctype(self, record_id: str, expected: str | None) -> Callable[[Connection], str]:
        """Resolve a record's doctype for the gate; a record of another doctype than
        the one addressed is, to the caller, not there."""

        def resolve(conn: Connection) -> str:
            found = record_store.record_doctype(conn, self.space_id, record_id)
            if expected is not None and found != expected:
                raise NotFound(f"no {expected} record {record_id}")
            return found

        return resolve

    def get_record(self, record_id: str, *, doctype: str | None = None) -> Record:
        # One look-up: the gate decides on the stored row's clear doctype, and only
        # then is its sealed body opened (no second read of the same row).
        stored: list[Any] = []

        def resolve(conn: Connection) -> str:
            row = record_store.stored_record(conn, self.space_id, record_id)
            if row is None:
                raise NotFound(f"no record {record_id}")
            if doctype is not None and row.doctype != doctype:
                raise NotFound(f"no {doctype} record {record_id}")
            stored.append(row)
            return str(row.doctype)

        with self._gate.access(self._request("read"), resolve_doctype=resolve) as access:
            record = record_store.open_record(access.keys, stored[-1])
            _check_window(access, record)
            access.note(count=1, target=record_id)
        return record

    def query(self, query: Query) -> Page:
        doctype = self._gate.doctypes.get(query.doctype)
        if doctype.kind != "record":
            raise InvalidInput(
                f"{doctype.name} is a series doctype: read its points from its series instead"
            )
        for f in query.filters:
            if f.root not in doctype.model.model_fields:
                raise MalformedQuery(
                    f"{doctype.name} has no field {f.root!r}; its fields are "
                    + ", ".join(sorted(doctype.model.model_fields))
                )
        with self._gate.access(
            self._request("read", doctype.name, query.start, query.end)
        ) as access:
            page = record_store.query_records(
                access.conn, access.keys, query, floor_ms=_floor(None, access, ms=True)
            )
            access.note(count=len(page.items))
            if query.filters:
                access.note(filters=[f.as_text() for f in query.filters])
        return page

    def iter_records(self, doctype_name: str) -> Iterator[Record]:
        """Every record of a doctype (one audited read per page of 1,000)."""
        cursor: str | None = None
        while True:
            page = self.query(Query.build(doctype_name, limit=1000, cursor=cursor))
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def update_record(
        self,
        record_id: str,
        data: Mapping[str, Any],
        *,
        expected_revision: int | None = None,
        doctype: str | None = None,
    ) -> Record:
        with self._gate.access(
            self._request("update"), resolve_doctype=self._record_doctype(record_id, doctype)
        ) as access:
            if access.decision.not_before is not None:
                _check_window(access, record_store.get_record(access.conn, access.keys, record_id))
            described = self._gate.doctypes.get(access.request.doctype or "")
            valid = described.validate(data)
            record = record_store.update_record(
                access.conn,
                access.keys,
                described,
                record_id,
                valid,
                now_ms=access.now_ms,
                expected_revision=expected_revision,
                author=_rights.author_of(self.actor),
            )
            access.note(count=1, target=record_id)
        return record

    def delete_record(self, record_id: str, *, doctype: str | None = None) -> None:
        with self._gate.access(
            self._request("delete"), resolve_doctype=self._record_doctype(record_id, doctype)
        ) as access:
            if access.decision.not_before is not None:
                _check_window(access, record_store.get_record(access.conn, access.keys, record_id))
            record_store.delete_record(access.conn, self.space_id, record_id)
            access.note(count=1, target=record_id)

    def summary(self) -> list[DoctypeSummary]:
        """Counts and time spans per doctype, records and series alike."""
        with self._gate.access(self._request("read")) as access:
            out = [
                DoctypeSummary(name, "record", count, from_ms(first), from_ms(last))
                for name, count, first, last in record_store.count_by_doctype(
                    access.conn, self.space_id
                )
            ]
            by_doctype: dict[str, list[Stream]] = {}
            for stream in series_store.list_streams(access.conn, access.keys):
                by_doctype.setdefault(stream.doctype, []).append(stream)
            for name, streams in sorted(by_doctype.items()):
                firsts = [s.first for s in streams if s.first]
                lasts = [s.last for s in streams if s.last]
                out.append(
                    DoctypeSummary(
                        name,
                        "series",
                        sum(s.points for s in streams),
                        min(firsts, default=None),
                        max(lasts, default=None),
                    )
                )
            access.note(detail="summary")
        return out

    # -- series ------------------------------------------------------------------

    def create_stream(
        self,
        doctype_name: str,
        *,
        record_id: str | None = None,
        meta: Mapping[str, Any] | None = None,
        source_id: str | None = None,
    ) -> Stream:
        doctype = self._gate.doctypes.get(doctype_name)
        if doctype.kind != "series":
            raise InvalidInput(f"{doctype_name} is a record doctype, not a series")
        if record_id is not None and self.actor.kind != "citizen":
            # The parent is read through the gate like any record: its doctype must be
            # within what this actor may see, or it answers "not found".
            self.get_record(record_id, doctype=doctype.parent)
        with self._gate.access(self._request("write", doctype.name)) as access:
            if record_id is not None:
                parent = record_store.get_record(access.conn, access.keys, record_id)
                if doctype.parent and parent.doctype != doctype.parent:
                    raise InvalidInput(
                        f"a {doctype.name} series belongs to a {doctype.parent} record, "
                        f"not to {parent.doctype} {record_id}"
                    )
            stream = series_store.create_stream(
                access.conn,
                access.keys,
                doctype.name,
                doctype.columns,
                now_ms=access.now_ms,
                record_id=record_id,
                meta=meta,
                source_id=source_id,
            )
            access.note(target=stream.id)
        return stream

    def _stream_doctype(self, stream_id: str) -> Any:
        return lambda conn: series_store.stream_doctype(conn, self.space_id, stream_id)

    def streams(
        self, doctype_name: str | None = None, record_id: str | None = None
    ) -> list[Stream]:
        if doctype_name is not None:
            self._gate.doctypes.get(doctype_name)
        with self._gate.access(self._request("read", doctype_name)) as access:
            found = series_store.list_streams(access.conn, access.keys, doctype_name, record_id)
            access.note(count=len(found))
        return found

    def stream(self, stream_id: str) -> Stream:
        """One series' description (columns, span, metadata)."""
        with self._gate.access(
            self._request("read"), resolve_doctype=self._stream_doctype(stream_id)
        ) as access:
            found = series_store.get_stream(access.conn, access.keys, stream_id)
            access.note(target=stream_id)
        return found

    def append_points(self, stream_id: str, ts: npt.ArrayLike, values: npt.ArrayLike) -> int:
        with self._gate.access(
            self._request("write"), resolve_doctype=self._stream_doctype(stream_id)
        ) as access:
            stream = series_store.get_stream(access.conn, access.keys, stream_id, for_update=True)
            floor = _floor(None, access)
            if floor is not None and _earliest(ts, floor) < floor:
                raise AccessDenied(
                    "points before the consented data period cannot be written",
                    reason="outside-data-period",
                )
            gained = series_store.append_points(
                access.conn, access.keys, stream, ts, values, now_ms=access.now_ms
            )
            access.note(count=gained, target=stream_id)
        return gained

    def read_points(
        self, stream_id: str, start: datetime | None = None, end: datetime | None = None
    ) -> SeriesFrame:
        with self._gate.access(
            self._request("read", None, start, end), resolve_doctype=self._stream_doctype(stream_id)
        ) as access:
            stream = series_store.get_stream(access.conn, access.keys, stream_id)
            frame = series_store.read_points(
                access.conn, access.keys, stream, _floor(start, access), _epoch(end)
            )
            access.note(count=len(frame), target=stream_id)
        return frame

    def aggregate(
        self,
        stream_id: str,
        every: str,
        how: Aggregate = "sum",
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> SeriesFrame:
        """The series in local calendar buckets (hour, day, month, year)."""
        if every not in ("hour", "day", "month", "year"):
            raise MalformedQuery(f"unknown bucket {every!r}; expected hour, day, month or year")
        with self._gate.access(
            self._request("read", None, start, end), resolve_doctype=self._stream_doctype(stream_id)
        ) as access:
            stream = series_store.get_stream(access.conn, access.keys, stream_id)
            lower = _floor(start, access)
            frame = series_store.read_points(access.conn, access.keys, stream, lower, _epoch(end))
            result = series_store.aggregate(frame, every, how, access.timezone, lower, _epoch(end))
            access.note(count=len(frame), target=stream_id, every=every, how=how)
        return result

    def delete_stream(self, stream_id: str) -> None:
        with self._gate.access(
            self._request("delete"), resolve_doctype=self._stream_doctype(stream_id)
        ) as access:
            if access.decision.not_before is not None:
                stream = series_store.get_stream(access.conn, access.keys, stream_id)
                if stream.first is not None and stream.first < access.decision.not_before:
                    raise AccessDenied(
                        "this series holds data from before the consented period",
                        reason="outside-data-period",
                    )
            series_store.delete_stream(access.conn, self.space_id, stream_id)
            access.note(target=stream_id)

    # -- files -------------------------------------------------------------------

    def put_file(
        self,
        chunks: Iterable[bytes],
        *,
        filename: str,
        media_type: str,
        source_id: str | None = None,
    ) -> FileInfo:
        """Store a file. The content is sealed and written between two short decisions of
        the gate, outside any transaction: a slow upload never holds the write lock."""
        request = self._request("write", "file")
        with self._gate.access(request, audited=False) as access:
            keys, now_ms = access.keys, access.now_ms
        staged = file_store.stage_file(
            keys,
            self._gate.blobs,
            chunks,
            filename=filename,
            now_ms=now_ms,
            max_bytes=self._gate.settings.limits.max_file_bytes,
        )
        try:
            with self._gate.access(request) as access:
                info = file_store.record_file(
                    access.conn,
                    access.keys,
                    self._gate.blobs,
                    staged,
                    filename=filename,
                    media_type=media_type,
                    now_ms=access.now_ms,
                    source_id=source_id,
                )
                access.note(
                    count=1, target=info.id, size=info.size, duplicate=info.duplicate_of_existing
                )
        except BaseException:
            self._gate.blobs.delete(staged.blob_key)
            raise
        return info

    def _service_files(self, access: Access) -> set[str] | None:
        """For a service: the files its consent reaches — those of the papers within its
        consented period. None for the citizen (every file of the space)."""
        if self.actor.kind != "service":
            return None
        reachable: set[str] = set()
        floor = access.decision.not_before
        for record in record_store.scan_records(
            access.conn,
            access.keys,
            "paper.document",
            floor_ms=to_ms(floor) if floor is not None else None,
        ):
            file_id = record.data.get("file_id")
            if isinstance(file_id, str):
                reachable.add(file_id)
        return reachable

    def open_file(self, file_id: str) -> tuple[FileInfo, Iterator[bytes]]:
        with self._gate.access(self._request("read", "file")) as access:
            reachable = self._service_files(access)
            if reachable is not None and file_id not in reachable:
                raise NotFound(f"no file {file_id}")
            info, content = file_store.read_file(
                access.conn, access.keys, self._gate.blobs, file_id
            )
            access.note(count=1, target=file_id)
        return info, content

    def files(self) -> list[FileInfo]:
        with self._gate.access(self._request("read", "file")) as access:
            found = file_store.list_files(access.conn, access.keys)
            reachable = self._service_files(access)
            if reachable is not None:
                found = [f for f in found if f.id in reachable]
            access.note(count=len(found))
        return found

    def delete_file(self, file_id: str) -> None:
        with self._gate.access(self._request("delete", "file")) as access:
            reachable = self._service_files(access)
            if reachable is not None and file_id not in reachable:
                raise NotFound(f"no file {file_id}")
            blob_key = file_store.delete_file(access.conn, self.space_id, file_id)
            access.note(count=1, target=file_id)
        self._gate.blobs.delete(blob_key)

    # -- sources (provenance) --------------------------------------------------------

    def fingerprint_file(self, chunks: Iterable[bytes]) -> bytes:
        """The keyed fingerprint (HMAC-SHA256 with this space's key) of a file's content:
        equal files give equal fingerprints in this space only, and nothing to anyone
        without the key. The key is taken in a short decision; the file is read outside
        any transaction."""
        with self._gate.access(self._request("write", "source"), audited=False) as access:
            mac = access.keys.fingerprint_stream()
        for chunk in chunks:
            mac.update(chunk)
        return mac.digest()

    def register_source(
        self, kind: str, detail: Mapping[str, Any], *, fingerprint: bytes | None = None
    ) -> SourceInfo:
        """Record where data comes from (its description sealed). A source with the same
        ``fingerprint`` (the same file imported again) is returned as it is."""
        with self._gate.access(self._request("write", "source")) as access:
            found = (
                source_store.find_source(access.conn, access.keys, fingerprint)
                if fingerprint is not None
                else None
            )
            if found is not None:
                source_id, stored_kind, created_ms, stored = found
                access.note(target=source_id, existed=True)
                return SourceInfo(source_id, stored_kind, _at(created_ms), stored, existed=True)
            source_id = source_store.insert_source(
                access.conn,
                access.keys,
                kind=kind,
                fingerprint=fingerprint,
                detail=detail,
                now_ms=access.now_ms,
            )
            access.note(target=source_id, kind=kind)
        return SourceInfo(source_id, kind, _at(access.now_ms), dict(detail))

    def source(self, source_id: str) -> SourceInfo:
        with self._gate.access(self._request("read", "source")) as access:
            found = source_store.get_source(access.conn, access.keys, source_id)
            if found is None:
                raise NotFound(f"no source {source_id}")
            access.note(target=source_id)
        return SourceInfo(found[0], found[1], _at(found[2]), found[3])

    # -- the citizen's rights (GDPR art. 15–21; see selfdata.access.rights) ------------

    def rights_summary(self, lang: _rights.Lang = "fr") -> dict[str, Any]:
        """Access: what the space holds, where it came from, who it is shared with."""
        return _rights.access_summary(self, lang)

    def record_history(
        self, record_id: str, *, doctype: str | None = None
    ) -> list[_rights.RecordRevision]:
        """Rectification: a record's past versions, newest first (citizen only)."""
        return _rights.record_history(self, record_id, doctype=doctype)

    def restrict(self, scope: str, note: str | None = None) -> _rights.Restriction:
        """Restriction: no service or connector touches ``scope`` ("*" or a doctype)."""
        return _rights.restrict(self, scope, note)

    def lift_restriction(self, scope: str) -> None:
        return _rights.lift(self, scope)

    def restrictions(self) -> list[_rights.Restriction]:
        return _rights.restrictions(self)

    def withdraw_all_consents(self) -> list[ConsentRecord]:
        """Objection: every active consent withdrawn at once, every token revoked."""
        return _rights.withdraw_all_consents(self)

    def erase_doctype(self, doctype: str) -> _rights.ErasureReport:
        """Erasure of every record and series of a doctype, with a signed certificate."""
        return _rights.erase_doctype(self, doctype)

    def erase_source(self, source_id: str) -> _rights.ErasureReport:
        """Erasure of everything that came from one source, with a signed certificate."""
        return _rights.erase_source(self, source_id)

    def source_holdings(self) -> list[_rights.SourceHolding]:
        """The imports the space still holds data from, with counts (citizen only)."""
        return _rights.source_holdings(self)

    # -- the access log ----------------------------------------------------------

    def access_log(
        self,
        *,
        before_seq: int | None = None,
        limit: int = 100,
        match: Mapping[str, str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[LoggedEvent]:
        """The newest events first, optionally only those matching ``match`` (see
        :func:`selfdata.audit.log.list_events`). The owner reading their own log is
        decided by the gate like any access, but not logged (reading would grow it)."""
        unknown = set(match or {}) - _EVENT_FILTERS
        if unknown:
            raise MalformedQuery(
                f"cannot filter the log by {', '.join(sorted(unknown))}; "
                f"filters: {', '.join(sorted(_EVENT_FILTERS))}"
            )
        with self._gate.access(self._request("read", "audit.event"), audited=False) as access:
            return list_events(
                access.conn,
                access.keys,
                before_seq=before_seq,
                limit=limit,
                match=match,
                since_ms=to_ms(since) if since else None,
                until_ms=to_ms(until) if until else None,
            )

    def export_log(self) -> Iterator[bytes]:
        """The whole log with its signed checkpoints (a fresh one covers the last event),
        as JSON Lines the citizen can verify offline with ``selfdata audit verify``."""
        with self._gate.access(self._request("export", "audit.event")) as access:
            access.note(detail="access log")
        self._gate.checkpoint(self.space_id)
        with self._gate.access(self._request("read", "audit.event"), audited=False) as access:
            events = list(iter_events(access.conn, access.keys))
            checkpoints = list_checkpoints(access.conn, self.space_id)
        exported_at = self._gate.clock.now().isoformat()
        return export_lines(
            self.space_id, exported_at, self._gate.signer.jwks(), events, checkpoints
        )

    def verify_log(self) -> tuple[bool, str, int]:
        with self._gate.access(self._request("read", "audit.event"), audited=False) as access:
            return verify_chain(iter_events(access.conn, access.keys))

    # -- consents (the citizen's decisions about services) -------------------------

    def give_consent(
        self,
        service: ServiceInfo,
        request_ids: Sequence[str] | None = None,
        *,
        duration: str | None = None,
        method: str = "web-form",
        language: str = "fr",
    ) -> ConsentRecord:
        """Grant ``request_ids`` of the service's manifest (all when None) after the
        citizen read the notice. A new consent supersedes the previous one."""
        manifest = service.manifest
        if service.status != "approved":
            raise Conflict(
                f"{manifest.id} is {service.status}; only approved services can be granted"
            )
        wanted = list(request_ids) if request_ids is not None else [r.id for r in manifest.requests]
        known = {r.id for r in manifest.requests}
        unknown = [r for r in wanted if r not in known]
        if unknown or not wanted:
            raise InvalidInput(
                f"unknown request(s) {', '.join(unknown) or '(none chosen)'}; "
                f"{manifest.id} asks for: {', '.join(sorted(known))}"
            )
        missing = [r.id for r in manifest.requests if r.required and r.id not in wanted]
        if missing:
            raise InvalidInput(f"{manifest.id} cannot work without: {', '.join(missing)}")
        length = parse_duration(duration or manifest.consent_duration)
        if length > parse_duration(manifest.consent_duration) or length.days < 1:
            raise InvalidInput(
                f"a consent to {manifest.id} lasts between one day and {manifest.consent_duration}"
            )
        notice = build_notice(manifest, self._gate.doctypes)
        with self._gate.access(self._request("consent", "consent.record")) as access:
            now = self._gate.clock.now()
            for previous in consent_store.active_consents(
                access.conn, access.keys, manifest.id, access.now_ms
            ):
                consent_store.save_consent(
                    access.conn,
                    access.keys,
                    previous.with_state("withdrawn", now, "citizen", note="superseded"),
                    access.now_ms,
                )
                consent_store.revoke_tokens(access.conn, self.space_id, previous.id, access.now_ms)
            record = ConsentRecord(
                id=new_id(access.now_ms),
                space_id=self.space_id,
                service_id=manifest.id,
                service_name={"fr": manifest.name.fr, "en": manifest.name.en},
                controller={
                    "name": manifest.controller.name,
                    "contact": str(manifest.controller.contact),
                },
                notice_id=notice.id,
                notice_hash=notice.hash,
                manifest_version=manifest.version,
                grants=tuple(
                    Grant(
                        r.id,
                        tuple(r.doctypes),
                        tuple(r.operations),
                        r.window.days,
                        tuple(r.purposes),
                        r.legal_basis,
                        r.retention,
                        tuple(r.recipients),
                    )
                    for r in manifest.requests
                    if r.id in wanted
                ),
                given_at=now.isoformat(),
                expires_at=(now + length).isoformat(),
                status="active",
                language=language,
                method=method,
                history=(StateChange("given", now.isoformat(), "citizen"),),
            )
            consent_store.save_consent(access.conn, access.keys, record, access.now_ms)
            access.request = replace(access.request, action="consent.give")  # type: ignore[arg-type]
            access.note(
                target=record.id, service=manifest.id, requests=wanted, notice_hash=notice.hash
            )
        return record

    def _change_consent(self, consent_id: str, state: str, **changes: Any) -> ConsentRecord:
        with self._gate.access(self._request("consent", "consent.record")) as access:
            current = consent_store.get_consent(access.conn, access.keys, consent_id)
            now = self._gate.clock.now()
            if state == "withdrawn" and current.status != "active":
                raise Conflict(f"consent {consent_id} is already {current.status}")
            if state == "renewed" and current.status == "withdrawn":
                raise Conflict(f"consent {consent_id} was withdrawn; give a new consent instead")
            record = current.with_state(state, now, "citizen", **changes)  # type: ignore[arg-type]
            consent_store.save_consent(access.conn, access.keys, record, access.now_ms)
            if state == "withdrawn":
                consent_store.revoke_tokens(access.conn, self.space_id, consent_id, access.now_ms)
            action = {"withdrawn": "consent.withdraw", "renewed": "consent.renew"}[state]
            access.request = replace(access.request, action=action)  # type: ignore[arg-type]
            access.note(target=consent_id, service=record.service_id)
        return record

    def withdraw_consent(self, consent_id: str) -> ConsentRecord:
        """Withdraw at once: the service's next request is refused, its tokens revoked."""
        return self._change_consent(consent_id, "withdrawn")

    def renew_consent(
        self, consent_id: str, service: ServiceInfo, duration: str | None = None
    ) -> ConsentRecord:
        """Extend a consent (active or expired) by the service's consent duration."""
        if service.status != "approved":
            raise Conflict(f"{service.id} is {service.status}; its consents cannot be renewed")
        length = parse_duration(duration or service.manifest.consent_duration)
        if length > parse_duration(service.manifest.consent_duration):
            raise InvalidInput(
                f"a consent to {service.id} lasts at most {service.manifest.consent_duration}"
            )
        return self._change_consent(
            consent_id, "renewed", expires_at=self._gate.clock.now() + length
        )

    def consent(self, consent_id: str) -> ConsentRecord:
        with self._gate.access(self._request("read", "consent.record"), audited=False) as access:
            return consent_store.get_consent(access.conn, access.keys, consent_id)

    def consents(self, service_id: str | None = None) -> list[ConsentRecord]:
        """Every consent, newest first; consents past their end are marked expired."""
        with self._gate.access(self._request("read", "consent.record"), audited=False) as access:
            found = consent_store.list_consents(access.conn, access.keys, service_id)
            now = self._gate.clock.now()
            out = []
            for stored in found:
                record = stored
                if record.status == "active" and record.expires <= now:
                    record = record.with_state("expired", record.expires, "system")
                    consent_store.save_consent(access.conn, access.keys, record, access.now_ms)
                    consent_store.revoke_tokens(
                        access.conn, self.space_id, record.id, access.now_ms, "consent-expired"
                    )
                out.append(record)
            return out

    def own_consent(self) -> ConsentRecord:
        """For a service holding a consent-bound token: the consent it acts under."""
        consent_id = self.actor.consent_id
        if self.actor.kind != "service" or consent_id is None:
            raise InvalidInput("only a service acting under a consent has one")
        with self._gate.access(
            self._request("read", "consent.record"), audited=False, space_only=True
        ) as access:
            record = consent_store.get_consent(access.conn, access.keys, consent_id)
        if record.service_id != self.actor.id:
            raise NotFound("no such consent")
        return record

    # -- portability (export the whole space) ---------------------------------------

    def export_space(
        self,
        out: BinaryIO,
        *,
        passphrase: str | None = None,
        progress: Callable[[int, int], None] | None = None,
        work_factor: int | None = None,
    ) -> Any:
        """Write the whole space as an archive to ``out`` (age-encrypted with
        ``passphrase``); see :func:`selfdata.access.portability.export_space`."""
        from selfdata.access.portability import export_space

        extra = {"work_factor": work_factor} if work_factor is not None else {}
        return export_space(
            self._gate,
            self.actor,
            self.space_id,
            out,
            purpose=self.purpose,
            passphrase=passphrase,
            progress=progress,
            **extra,
        )
