"""Moving a space: export it whole to an archive, import an archive as a new space.

Both go through the authorisation point. An export is decided and logged as one
``export`` event in the space's log (like downloading the access log), then the whole
space is read in one transaction — a consistent snapshot — and streamed into the
archive (:mod:`selfdata.portability`), encrypted with the citizen's passphrase when one
is given. An import first checks the whole archive (manifest, format version, the
SHA-256 of every member, every record against its doctype, every past version against
its record, every restriction's scope, the log's hash chain), then writes the new space
in **one** transaction: all of it or nothing. The archive's log is restored event by
event as it was (same seq, times, salts and hashes), sealed with the new space's key,
and a ``space.import`` event is chained after it. The rectification history and the
restrictions are restored as they were too, so a restriction holds on the new space from
the moment the import commits.

The receiving space does not exist before the import commits, so the gate cannot
decide an access to it: the import is an operator action, like creating a space, and
runs in the same way as :meth:`Gate.provision_space` (the new key is created in the
transaction and the log records the import).
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError

import selfdata
from selfdata.access.actors import Actor
from selfdata.access.gate import Gate
from selfdata.access.policy import AccessRequest
from selfdata.audit import AuditEvent, LoggedEvent, append_event
from selfdata.audit.checkpoints import list_checkpoints
from selfdata.audit.export import export_lines, verify_lines
from selfdata.audit.log import iter_events, restore_events
from selfdata.consent import ConsentRecord, make_receipt
from selfdata.db.tables import record_revisions, spaces
from selfdata.errors import Conflict, CryptoError, InvalidInput, SelfdataError
from selfdata.ids import new_id
from selfdata.portability import (
    FORMAT,
    FORMAT_VERSION,
    AgeReader,
    AgeWriter,
    ArchiveReader,
    ArchiveWriter,
    is_age,
)
from selfdata.portability.age import DEFAULT_WORK_FACTOR
from selfdata.store import consents as consent_store
from selfdata.store import files as file_store
from selfdata.store import portable
from selfdata.store import series as series_store
from selfdata.store.records import count_by_doctype
from selfdata.store.types import Record, Stream

__all__ = [
    "ExportReport",
    "ImportReport",
    "Progress",
    "export_space",
    "import_space",
    "open_archive",
]

Progress = Callable[[int, int], None]
"""Called as work advances with (items done, items in all); an item is a record, a
series, a file, a consent or a log event."""

_RECORD_BATCH = 1000
_FILE_BLOCK = 1024 * 1024
LOG_MEMBER = "audit/access-log.jsonl"
REVISIONS_MEMBER = "history/revisions.jsonl"
RESTRICTIONS_MEMBER = "restrictions/restrictions.jsonl"
_ACTOR_KIND_MAX = 16  # record_revisions.actor_kind
_SCOPE_MAX = 64  # restrictions.scope


@dataclass
class ExportReport:
    manifest: dict[str, Any]
    bytes_written: int = 0
    encrypted: bool = False


@dataclass
class ImportReport:
    space_id: str
    name: str
    source_space_id: str
    counts: dict[str, Any] = field(default_factory=dict)


class _Counter:
    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.done, self._progress = total, 0, progress

    def step(self, n: int = 1) -> None:
        self.done += n
        if self._progress is not None:
            self._progress(self.done, self.total)


class _CountingSink(io.RawIOBase):
    """Counts what goes to the real output (an unseekable stream for the zip)."""

    def __init__(self, out: BinaryIO) -> None:
        super().__init__()
        self._out = out
        self.count = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        n = len(data)
        self._out.write(bytes(data))
        self.count += n
        return n

    def flush(self) -> None:
        self._out.flush()


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="milliseconds") if value else None


def _record_line(record: Record, version: int) -> dict[str, Any]:
    return {
        "id": record.id,
        "doctype": record.doctype,
        "doctype_version": version,
        "revision": record.revision,
        "created_at": _iso(record.created_at),
        "updated_at": _iso(record.updated_at),
        "time_start": _iso(record.time_start),
        "time_end": _iso(record.time_end),
        "source_id": record.source_id,
        "data": record.data,
    }


# -- export ---------------------------------------------------------------------------


def export_space(
    gate: Gate,
    actor: Actor,
    space_id: str,
    out: BinaryIO,
    *,
    purpose: str | None = None,
    passphrase: str | None = None,
    progress: Progress | None = None,
    work_factor: int = DEFAULT_WORK_FACTOR,
) -> ExportReport:
    """Write the whole space to ``out`` (a zip; an age file around it with
    ``passphrase``). Only the citizen may export their space."""
    purpose = purpose or ("own-use" if actor.kind == "citizen" else None)
    with gate.access(AccessRequest(actor, space_id, "export", None, purpose)) as access:
        access.note(detail="space archive")
    # A fresh signed checkpoint covers the export event: the archive's log ends signed.
    gate.checkpoint(space_id)
    sink = _CountingSink(out)
    target: Any = sink
    if passphrase:
        target = AgeWriter(sink, passphrase, work_factor=work_factor)  # type: ignore[arg-type]
    writer = ArchiveWriter(target)
    read = AccessRequest(actor, space_id, "read", "audit.event", purpose)
    try:
        with gate.access(read, audited=False) as access:
            manifest = _write_space(gate, access.conn, access.keys, writer, progress)
    except BaseException:
        writer.abort()
        raise
    if passphrase:
        target.close()
    out.flush()
    return ExportReport(manifest, sink.count, bool(passphrase))


def _write_space(
    gate: Gate, conn: Connection, keys: Any, writer: ArchiveWriter, progress: Progress | None
) -> dict[str, Any]:
    space_id = keys.space_id
    space = portable.space_row(conn, space_id)
    per_doctype = {name: n for name, n, _, _ in count_by_doctype(conn, space_id)}
    streams = series_store.list_streams(conn, keys)
    files = file_store.list_files(conn, keys)
    stored_consents = consent_store.list_consents(conn, keys)
    head = conn.execute(
        select(spaces.c.id).where(spaces.c.id == space_id)
    ).scalar()  # the space row is read in this transaction (a consistent snapshot)
    assert head is not None
    events_total = _event_count(conn, space_id)
    revisions_total = int(
        conn.execute(
            select(func.count())
            .select_from(record_revisions)
            .where(record_revisions.c.space_id == space_id)
        ).scalar_one()
    )
    counter = _Counter(
        sum(per_doctype.values())
        + revisions_total
        + len(streams)
        + len(files)
        + len(stored_consents)
        + events_total,
        progress,
    )
    exported_at = gate.clock.now()

    # Records, one JSON Lines member per doctype, read in pages.
    record_counts: dict[str, int] = {}
    for doctype, group in itertools.groupby(
        portable.iter_all_records(conn, keys), key=lambda pair: pair[0].doctype
    ):
        with writer.member(f"records/{doctype}.jsonl") as member:
            for record, version in group:
                member.line(_record_line(record, version))
                counter.step()
            record_counts[doctype] = member.count or 0

    # Rectification history: every past version of every record, as stored.
    with writer.member(REVISIONS_MEMBER) as member:
        member.count = 0
        for line in portable.iter_revisions(conn, keys):
            member.line(line)
            counter.step()
        revisions_written = member.count

    # Restrictions of processing (GDPR art. 18): they hold again after an import.
    with writer.member(RESTRICTIONS_MEMBER) as member:
        member.count = 0
        for line in portable.iter_restrictions(conn, keys):
            member.line(line)
        restrictions_written = member.count

    # Provenance: the sources table (what exists; records carry their source_id).
    with writer.member("provenance/sources.jsonl") as member:
        member.count = 0
        for source in portable.iter_sources(conn, keys):
            member.line(source)

    # Series: metadata, then each stream as Parquet (exact) and CSV (for people).
    times = portable.stream_times(conn, space_id)
    points_total = 0
    with writer.member("series/streams.jsonl") as member:
        member.count = 0
        for stream in streams:
            created, updated = times.get(stream.id, (0, 0))
            member.line(
                {
                    **stream.as_dict(),
                    "source_id": stream.source_id,
                    "created_at": _iso(datetime.fromtimestamp(created / 1000, tz=UTC)),
                    "updated_at": _iso(datetime.fromtimestamp(updated / 1000, tz=UTC)),
                    "parquet": f"series/{stream.id}.parquet",
                    "csv": f"series/{stream.id}.csv",
                }
            )
    for stream in streams:
        frame = series_store.read_points(conn, keys, stream)
        points_total += len(frame)
        _write_series(writer, stream, frame.ts, frame.columns)
        counter.step()

    # Files: decrypted content, streamed, and a line of metadata each.
    file_lines: list[dict[str, Any]] = []
    for info in files:
        path = f"files/content/{info.id}"
        _, content = file_store.read_file(conn, keys, gate.blobs, info.id)
        with writer.member(
            path, compress=not info.media_type.startswith(("image/", "video/"))
        ) as m:
            for piece in content:
                m.write(piece)
            sha = m.sha.hexdigest()
        file_lines.append({**info.as_dict(), "path": path, "sha256": sha})
        counter.step()
    with writer.member("files/files.jsonl") as member:
        member.count = 0
        for line in file_lines:
            member.line(line)

    # Consents with their full history, as ISO/IEC TS 27560 and with a signed receipt.
    with writer.member("consents/consents.jsonl") as member:
        member.count = 0
        for consent in sorted(stored_consents, key=lambda r: r.id):
            member.line(
                {
                    "record": consent.to_json(),
                    "iso27560": consent.iso27560(),
                    "receipt": make_receipt(
                        consent, gate.signer, exported_at, gate.settings.public_url
                    ),
                }
            )
            counter.step()

    # The access log with its signed checkpoints (verifiable with `selfdata audit verify`).
    events = 0

    def counted(source: Iterator[LoggedEvent]) -> Iterator[LoggedEvent]:
        nonlocal events
        for logged in source:
            events += 1
            counter.step()
            yield logged

    checkpoints = list_checkpoints(conn, space_id)
    with writer.member(LOG_MEMBER) as member:
        for raw in export_lines(
            space_id,
            exported_at.isoformat(),
            gate.signer.jwks(),
            counted(iter_events(conn, keys)),
            checkpoints,
        ):
            member.write(raw)
        member.count = events

    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generator": f"selfdata {selfdata.__version__}",
        "exported_at": exported_at.isoformat(),
        "source": {"instance": gate.settings.public_url, "jwks": gate.signer.jwks()},
        "space": space,
        "doctypes": {
            d.name: {"version": d.version, "kind": d.kind, "schema": d.json_schema()}
            for d in gate.doctypes
        },
        "counts": {
            "records": record_counts,
            "revisions": revisions_written,
            "restrictions": restrictions_written,
            "series": len(streams),
            "points": points_total,
            "files": len(files),
            "consents": len(stored_consents),
            "events": events,
            "checkpoints": len(checkpoints),
        },
    }
    return writer.finish(manifest)


def _event_count(conn: Connection, space_id: str) -> int:
    from selfdata.db.tables import audit_heads

    seq = conn.execute(select(audit_heads.c.seq).where(audit_heads.c.space_id == space_id)).scalar()
    return int(seq or 0)


def _write_series(
    writer: ArchiveWriter,
    stream: Stream,
    ts: np.ndarray[Any, Any],
    columns: dict[str, np.ndarray[Any, Any]],
) -> None:
    time = pa.array(ts.astype("datetime64[s]"), type=pa.timestamp("s", "UTC"))
    exact = pa.table({"time": time, **{name: pa.array(v) for name, v in columns.items()}})
    buffer = io.BytesIO()
    pq.write_table(exact, buffer, compression="zstd")
    writer.add(f"series/{stream.id}.parquet", buffer.getvalue(), count=len(ts))
    with writer.member(f"series/{stream.id}.csv") as member:
        text = io.TextIOWrapper(_MemberText(member), encoding="utf-8", newline="")  # type: ignore[type-var]
        out = csv.writer(text)
        out.writerow(["time", *columns])
        stamps = np.datetime_as_string(ts.astype("datetime64[s]"), unit="s")
        values = [
            np.where(np.isnan(v), "", np.char.mod("%r", v).astype(object)) for v in columns.values()
        ]
        for i in range(len(ts)):
            out.writerow([f"{stamps[i]}Z", *(col[i] for col in values)])
        text.flush()
        text.detach()
        member.count = len(ts)


class _MemberText(io.RawIOBase):
    def __init__(self, member: Any) -> None:
        super().__init__()
        self._member = member

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return int(self._member.write(bytes(data)))


# -- import ---------------------------------------------------------------------------


def open_archive(source: BinaryIO, passphrase: str | None) -> ArchiveReader:
    """The archive in ``source`` (a seekable file), decrypted on the fly when it is an
    age file; the manifest and format version are checked here."""
    source.seek(0)
    head = source.read(64)
    source.seek(0)
    if is_age(head):
        if not passphrase:
            raise InvalidInput("this archive is encrypted: give its passphrase")
        return ArchiveReader(AgeReader(source, passphrase))  # type: ignore[arg-type]
    if passphrase:
        raise InvalidInput("this archive is not encrypted, but a passphrase was given")
    return ArchiveReader(source)


def _logged(item: dict[str, Any]) -> LoggedEvent:
    body = {
        k: v for k, v in item.items() if k not in ("type", "seq", "at", "salt", "prev_hash", "hash")
    }
    try:
        return LoggedEvent(
            int(item["seq"]),
            str(item["at"]),
            AuditEvent(**body),
            str(item["prev_hash"]),
            str(item["hash"]),
            str(item.get("salt", "")),
        )
    except (KeyError, TypeError, ValueError):
        raise InvalidInput(
            f"the archive's log has a malformed event ({item.get('seq')!r})"
        ) from None


def _events(reader: ArchiveReader) -> Iterator[LoggedEvent]:
    for item in reader.lines(LOG_MEMBER):
        if item.get("type") == "event":
            yield _logged(item)


def _check(reader: ArchiveReader, gate: Gate) -> None:
    """Everything an import needs to be true, checked before anything is written."""
    reader.verify()
    manifest = reader.manifest
    space = manifest.get("space")
    if not isinstance(space, dict) or not isinstance(space.get("id"), str):
        raise InvalidInput("the archive's manifest does not describe a space")
    members = reader.members
    for required in (
        "series/streams.jsonl",
        "files/files.jsonl",
        "consents/consents.jsonl",
        LOG_MEMBER,
    ):
        if required not in members:
            raise InvalidInput(f"the archive has no {required}")
    # Past versions are checked first: each must belong to a record of the archive, of
    # the same doctype, at an older revision (checked as the records are read below).
    history = _check_revisions(reader, gate)
    # Records: known doctypes, versions this instance reads, data valid for the doctype.
    for path in members:
        if not path.startswith("records/"):
            continue
        name = path.removeprefix("records/").removesuffix(".jsonl")
        doctype = gate.doctypes.get(name)  # UnknownDoctype, clearly, if not known here
        if doctype.kind != "record":
            raise InvalidInput(f"{path}: {name} is not a record doctype")
        for number, item in enumerate(reader.lines(path), start=1):
            if item.get("doctype") != name or not isinstance(item.get("id"), str):
                raise InvalidInput(f"{path} line {number}: not a {name} record")
            version = item.get("doctype_version")
            if not isinstance(version, int) or version > doctype.version:
                raise InvalidInput(
                    f"{path} line {number}: {name} version {version!r} is newer than this "
                    f"selfdata knows ({doctype.version})"
                )
            for key in ("revision", "created_at", "updated_at", "data"):
                if key not in item:
                    raise InvalidInput(f"{path} line {number}: no {key}")
            doctype.validate(item["data"], source=path, line=number)  # ValidationFailed
            past = history.pop(item["id"], None)
            if past is not None and (past[0] != name or past[1] >= _int(item["revision"])):
                raise InvalidInput(
                    f"{REVISIONS_MEMBER}: the history of record {item['id']} does not match it "
                    f"(doctype {past[0]}, revision {past[1]})"
                )
    if history:
        raise InvalidInput(
            f"{REVISIONS_MEMBER}: past versions of records the archive does not hold: "
            f"{sorted(history)[:5]}"
        )
    _check_restrictions(reader, gate)
    for number, item in enumerate(reader.lines("series/streams.jsonl"), start=1):
        gate.doctypes.get(str(item.get("doctype")))  # UnknownDoctype if not known here
        for key in ("id", "columns"):
            if key not in item:
                raise InvalidInput(f"series/streams.jsonl line {number}: no {key}")
        if f"series/{item['id']}.parquet" not in members:
            raise InvalidInput(f"the archive has no points for series {item['id']}")
    for number, item in enumerate(reader.lines("files/files.jsonl"), start=1):
        if item.get("path") not in members or not isinstance(item.get("id"), str):
            raise InvalidInput(f"files/files.jsonl line {number}: its content is missing")
        entry = members[item["path"]]
        if entry.get("sha256") != item.get("sha256") or entry.get("size") != item.get("size"):
            raise InvalidInput(f"files/files.jsonl line {number}: size or checksum disagree")
    for number, item in enumerate(reader.lines("consents/consents.jsonl"), start=1):
        try:
            ConsentRecord.from_json(item["record"])
        except (KeyError, TypeError, ValueError):
            raise InvalidInput(
                f"consents/consents.jsonl line {number}: not a consent record"
            ) from None
    with reader.open(LOG_MEMBER) as raw:
        result = verify_lines(raw)
    if not result.ok:
        raise CryptoError(f"the archive's access log does not verify: {'; '.join(result.problems)}")


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def _check_time(item: dict[str, Any], key: str, where: str, *, nullable: bool) -> None:
    value = item.get(key)
    if value is None and nullable:
        return
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise InvalidInput(f"{where}: {key} is not an ISO 8601 time with an offset")


def _check_revisions(reader: ArchiveReader, gate: Gate) -> dict[str, tuple[str, int]]:
    """Check ``history/revisions.jsonl`` (absent from older archives: no history) and
    return, per record id, its doctype and newest past revision."""
    out: dict[str, tuple[str, int]] = {}
    if not reader.has(REVISIONS_MEMBER):
        return out
    seen: set[tuple[str, int]] = set()
    for number, item in enumerate(reader.lines(REVISIONS_MEMBER), start=1):
        where = f"{REVISIONS_MEMBER} line {number}"
        record_id, name = item.get("record_id"), item.get("doctype")
        revision = _int(item.get("revision"))
        if not isinstance(record_id, str) or not isinstance(name, str) or revision < 1:
            raise InvalidInput(f"{where}: not a past version of a record")
        if gate.doctypes.get(name).kind != "record":  # UnknownDoctype if not known here
            raise InvalidInput(f"{where}: {name} is not a record doctype")
        if (record_id, revision) in seen:
            raise InvalidInput(f"{where}: revision {revision} of {record_id} appears twice")
        seen.add((record_id, revision))
        by = item.get("replaced_by")
        if (
            not isinstance(by, dict)
            or not isinstance(by.get("kind"), str)
            or not 0 < len(by["kind"]) <= _ACTOR_KIND_MAX
            or not all(by.get(k) is None or isinstance(by.get(k), str) for k in ("id", "label"))
        ):
            raise InvalidInput(f"{where}: replaced_by is not {{kind, id, label}}")
        if not isinstance(item.get("data"), dict):
            raise InvalidInput(f"{where}: data is not a JSON object")
        if item.get("source_id") is not None and not isinstance(item.get("source_id"), str):
            raise InvalidInput(f"{where}: source_id is not a string")
        _check_time(item, "replaced_at", where, nullable=False)
        for key in ("written_at", "time_start", "time_end"):
            _check_time(item, key, where, nullable=True)
        known = out.get(record_id)
        if known is not None and known[0] != name:
            raise InvalidInput(f"{where}: {record_id} has past versions of two doctypes")
        out[record_id] = (name, max(revision, known[1] if known else 0))
    return out


def _check_restrictions(reader: ArchiveReader, gate: Gate) -> None:
    """Check ``restrictions/restrictions.jsonl`` (absent from older archives: none)."""
    if not reader.has(RESTRICTIONS_MEMBER):
        return
    scopes: set[str] = set()
    for number, item in enumerate(reader.lines(RESTRICTIONS_MEMBER), start=1):
        where = f"{RESTRICTIONS_MEMBER} line {number}"
        scope = item.get("scope")
        if not isinstance(scope, str) or not 0 < len(scope) <= _SCOPE_MAX:
            raise InvalidInput(f"{where}: no scope")
        if scope != "*":
            gate.doctypes.get(scope)  # UnknownDoctype if not known here
        if scope in scopes:
            raise InvalidInput(f"{where}: {scope} is restricted twice")
        scopes.add(scope)
        _check_time(item, "since", where, nullable=False)
        if item.get("note") is not None and not isinstance(item.get("note"), str):
            raise InvalidInput(f"{where}: the note is not text")


CreateAccount = Callable[[Connection, str, int], None]
"""Creates the citizen account of the new space (in the import's transaction)."""


def import_space(
    gate: Gate,
    actor: Actor,
    source: BinaryIO,
    *,
    name: str | None,
    create_account: CreateAccount,
    passphrase: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Restore the archive in ``source`` as a new space (new id, new key), all or
    nothing. ``name`` defaults to the exported space's name."""
    reader = open_archive(source, passphrase)
    try:
        _check(reader, gate)
        return _restore(gate, actor, reader, name, create_account, progress)
    finally:
        reader.close()


def _taken(conn: Connection, name: str) -> bool:
    return conn.execute(select(spaces.c.id).where(spaces.c.name == name)).first() is not None


def _restore(
    gate: Gate,
    actor: Actor,
    reader: ArchiveReader,
    name: str | None,
    create_account: CreateAccount,
    progress: Progress | None,
) -> ImportReport:
    manifest = reader.manifest
    source_space = manifest["space"]
    username = (name or str(source_space.get("name", ""))).strip().lower()
    counts = manifest.get("counts", {})
    records_total = sum((counts.get("records") or {}).values())
    counter = _Counter(
        records_total
        + int(counts.get("revisions", 0))
        + int(counts.get("series", 0))
        + int(counts.get("files", 0))
        + int(counts.get("consents", 0))
        + int(counts.get("events", 0)),
        progress,
    )
    now_ms = gate.now_ms()
    space_id = new_id(now_ms)
    staged: list[str] = []
    written: dict[str, Any] = {}
    try:
        with gate.engine.begin() as conn:
            if _taken(conn, username):
                raise Conflict(
                    f"the name {username!r} is already taken; choose another with --name"
                )
            portable.insert_space_row(
                conn, space_id, username, str(source_space.get("timezone") or "UTC"), now_ms
            )
            create_account(conn, space_id, now_ms)
            keys = gate.keys.create(conn, space_id, now_ms)

            def events() -> Iterator[LoggedEvent]:
                for logged in _events(reader):
                    counter.step()
                    yield logged

            last_seq, _ = restore_events(conn, keys, events())
            written["events"] = last_seq

            records: dict[str, int] = {}
            for path in sorted(p for p in reader.members if p.startswith("records/")):
                doctype = gate.doctypes.get(path.removeprefix("records/").removesuffix(".jsonl"))
                n = 0
                lines = reader.lines(path)
                while batch := list(itertools.islice(lines, _RECORD_BATCH)):
                    n += portable.restore_records(conn, keys, doctype, batch)
                    counter.step(len(batch))
                records[doctype.name] = n
            written["records"] = records

            # History and restrictions (members that older archives do not have).
            n_revisions = 0
            if reader.has(REVISIONS_MEMBER):
                lines = reader.lines(REVISIONS_MEMBER)
                while batch := list(itertools.islice(lines, _RECORD_BATCH)):
                    n_revisions += portable.restore_revisions(conn, keys, batch)
                    counter.step(len(batch))
            written["revisions"] = n_revisions
            written["restrictions"] = (
                portable.restore_restrictions(conn, keys, list(reader.lines(RESTRICTIONS_MEMBER)))
                if reader.has(RESTRICTIONS_MEMBER)
                else 0
            )

            if reader.has("provenance/sources.jsonl"):
                written["sources"] = portable.restore_sources(
                    conn, keys, list(reader.lines("provenance/sources.jsonl"))
                )

            points = 0
            streams = 0
            for item in reader.lines("series/streams.jsonl"):
                stream = portable.restore_stream(conn, keys, item, now_ms)
                table = pq.read_table(io.BytesIO(reader.read(f"series/{stream.id}.parquet")))
                ts = table.column("time").to_numpy().astype("datetime64[s]").astype(np.int64)
                if len(ts):
                    values = np.column_stack(
                        [table.column(c).to_numpy().astype(np.float64) for c in stream.columns]
                    )
                    points += series_store.append_points(
                        conn, keys, stream, ts, values, now_ms=now_ms
                    )
                if item.get("updated_at"):
                    portable.fix_stream_updated(
                        conn, space_id, stream.id, portable._ms(item["updated_at"])
                    )
                streams += 1
                counter.step()
            written["series"], written["points"] = streams, points

            n_files = 0
            for item in reader.lines("files/files.jsonl"):
                created_ms = portable._ms(item["created_at"])
                with reader.open(item["path"]) as content:
                    staged_file = file_store.stage_file(
                        keys,
                        gate.blobs,
                        iter(lambda c=content: c.read(_FILE_BLOCK), b""),  # type: ignore[misc]
                        filename=str(item["filename"]),
                        now_ms=created_ms,
                        max_bytes=gate.settings.limits.max_file_bytes,
                        file_id=str(item["id"]),
                    )
                staged.append(staged_file.blob_key)
                file_store.record_file(
                    conn,
                    keys,
                    gate.blobs,
                    staged_file,
                    filename=str(item["filename"]),
                    media_type=str(item["media_type"]),
                    now_ms=created_ms,
                    source_id=item.get("source_id"),
                )
                n_files += 1
                counter.step()
            written["files"] = n_files

            n_consents = 0
            for item in reader.lines("consents/consents.jsonl"):
                record = replace(ConsentRecord.from_json(item["record"]), space_id=space_id)
                consent_store.save_consent(conn, keys, record, now_ms)
                n_consents += 1
                counter.step()
            written["consents"] = n_consents

            append_event(
                conn,
                keys,
                AuditEvent(
                    action="space.import",
                    actor_kind=actor.kind,
                    actor_id=actor.id,
                    outcome="allowed",
                    reason="operator-administration",
                    detail={
                        **actor.log_detail(),
                        "from_instance": manifest.get("source", {}).get("instance"),
                        "from_space_id": source_space["id"],
                        "exported_at": manifest.get("exported_at"),
                        "format": f"{FORMAT}/{manifest.get('format_version')}",
                        "imported_events": last_seq,
                    },
                ),
                gate.now_ms(),
            )
    except IntegrityError:
        _cleanup(gate, space_id, staged)
        raise InvalidInput(
            "the archive holds duplicate ids, or the name is already taken; nothing was imported"
        ) from None
    except BaseException:
        _cleanup(gate, space_id, staged)
        raise
    gate.checkpoint(space_id)
    return ImportReport(space_id, username, str(source_space["id"]), written)


def _cleanup(gate: Gate, space_id: str, staged: Iterable[str]) -> None:
    gate.keys.forget(space_id)
    for key in staged:
        with contextlib.suppress(OSError):
            gate.blobs.delete(key)
    with contextlib.suppress(OSError, ValueError, SelfdataError):
        gate.blobs.delete_prefix(space_id)
