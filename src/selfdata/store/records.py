"""Records: one sealed JSON document per row, de-duplicated by keyed fingerprint."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import orjson
from sqlalchemy import Connection, bindparam, delete, func, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from selfdata.crypto import Associated, SpaceKeys
from selfdata.db.prepared import Prepared
from selfdata.db.tables import records
from selfdata.errors import Conflict, MalformedQuery, NotFound
from selfdata.ids import new_ids
from selfdata.store.query import Cursor, Query, decode_cursor, encode_cursor
from selfdata.store.revisions import RevisionAuthor, delete_revisions, keep_revision
from selfdata.store.types import NO_TIME, Page, Record, WriteReport, at_ms, from_ms, to_ms

if TYPE_CHECKING:
    from selfdata.doctypes import Doctype

__all__ = [
    "OnExisting",
    "count_by_doctype",
    "count_by_source",
    "delete_record",
    "erase_records",
    "get_record",
    "insert_records",
    "query_records",
    "scan_records",
    "update_record",
]

OnExisting = Literal["skip", "update", "error"]
_LOOKUP_BATCH = 500
_SCAN_BATCH = 500


def _ad(space_id: str, doctype: str, record_id: str) -> bytes:
    return Associated(space_id, "record", doctype, record_id).encode()


def _bounds(doctype: Doctype, data: Mapping[str, Any]) -> tuple[int, int | None]:
    start, end = doctype.time_bounds(data)
    return (to_ms(start) if start else NO_TIME), (to_ms(end) if end else None)


def _fingerprint(
    keys: SpaceKeys, doctype: Doctype, data: Mapping[str, Any], namespace: str | None = None
) -> bytes | None:
    values = doctype.natural_key_values(data)
    if values is None:
        return None
    if namespace is not None:
        return keys.fingerprint("record", doctype.name, namespace, *values)
    return keys.fingerprint("record", doctype.name, *values)


def insert_records(
    conn: Connection,
    keys: SpaceKeys,
    doctype: Doctype,
    items: Sequence[Mapping[str, Any]],
    *,
    now_ms: int,
    source_id: str | None = None,
    on_existing: OnExisting = "skip",
    only_source: str | None = None,
    author: RevisionAuthor | None = None,
) -> WriteReport:
    """Store validated, JSON-ready ``items``; a record whose natural key is already
    stored is left as is when identical, else updated or refused per ``on_existing``.
    ``only_source`` keeps a writer's records apart (a service's writes are matched only
    against its own, by fingerprints in their own namespace). A record that is updated
    keeps its previous version in its history (``author`` replaced it)."""
    space_id = keys.space_id
    report = WriteReport()
    prepared: list[tuple[bytes | None, Mapping[str, Any]]] = []
    by_fp: dict[bytes, int] = {}
    for item in items:
        fp = _fingerprint(keys, doctype, item, only_source)
        if fp is not None:
            # A natural key repeated inside one batch: the later item wins.
            seen = by_fp.get(fp)
            if seen is not None:
                prepared[seen] = (fp, item)
                report.unchanged += 1
                continue
            by_fp[fp] = len(prepared)
        prepared.append((fp, item))

    existing = _existing_by_fingerprint(conn, space_id, doctype.name, list(by_fp))
    rows = _new_rows(keys, doctype, prepared, existing, now_ms, source_id)
    for fp, item in prepared:
        if fp is None or fp not in existing:
            continue
        record_id = _apply_existing(
            conn, keys, doctype, item, existing[fp], now_ms, source_id, on_existing, author
        )
        if record_id is None:
            report.unchanged += 1
        else:
            report.updated += 1
    # Ids in the order of the items, whatever happened to each.
    fresh = iter(row[1] for row in rows)
    report.ids.extend(
        existing[fp][0] if fp is not None and fp in existing else next(fresh)
        for fp, _item in prepared
    )
    if rows:
        try:
            _insert_rows(conn, rows)
        except IntegrityError:
            raise Conflict(
                f"another write of the same {doctype.name} records happened at the same time; "
                "retry (nothing was written)"
            ) from None
    report.created += len(rows)
    starts = [row[4] for row in rows if row[4] != NO_TIME]
    if starts:
        report.first_ms, report.last_ms = min(starts), max(starts)
    return report


def _new_rows(
    keys: SpaceKeys,
    doctype: Doctype,
    prepared: Sequence[tuple[bytes | None, Mapping[str, Any]]],
    existing: Mapping[bytes, Any],
    now_ms: int,
    source_id: str | None,
) -> list[tuple[Any, ...]]:
    """The insert rows of the items not stored yet: the bulk import's hot loop, so the
    per-record work is a dict look-up, a JSON dump and a seal."""
    fresh = [item for fp, item in prepared if fp is None or fp not in existing]
    # Ascending ids (they share one timestamp): the primary-key index is appended to
    # instead of split at random places, ~10 % of the SQLite insert.
    ids = sorted(new_ids(len(fresh), now_ms))
    space_id, name, version = keys.space_id, doctype.name, doctype.version
    head, tail = _ad_parts(space_id, name)
    seal = keys.cipher.seal_raw
    dumps = orjson.dumps
    bounds = _bounds_memo(doctype)
    fps = [fp for fp, _item in prepared if fp is None or fp not in existing]
    return [
        (
            space_id,
            record_id,
            name,
            version,
            *bounds(item),
            fp,
            source_id,
            1,
            now_ms,
            now_ms,
            seal(dumps(item), head + record_id.encode() + tail),
        )
        for record_id, fp, item in zip(ids, fps, fresh, strict=True)
    ]


def _apply_existing(
    conn: Connection,
    keys: SpaceKeys,
    doctype: Doctype,
    item: Mapping[str, Any],
    stored: tuple[str, bytes, int, Any],
    now_ms: int,
    source_id: str | None,
    on_existing: OnExisting,
    author: RevisionAuthor | None,
) -> str | None:
    """Compare ``item`` with the record stored under its natural key; update it (its
    id returned) or leave it (``None``), or refuse per ``on_existing``."""
    space_id = keys.space_id
    record_id, old_body, revision, previous = stored
    old = orjson.loads(keys.cipher.open_raw(old_body, _ad(space_id, doctype.name, record_id)))
    if old == item or on_existing == "skip":
        return None
    if on_existing == "error":
        raise Conflict(
            f"a {doctype.name} record with the same identity already exists ({record_id})",
            record_id=record_id,
        )
    start, end = _bounds(doctype, item)
    keep_revision(
        conn,
        keys,
        doctype=doctype.name,
        record_id=record_id,
        revision=revision,
        data=old,
        time_start=previous.time_start,
        time_end=previous.time_end,
        source_id=previous.source_id,
        updated_at=previous.updated_at,
        changed_at=now_ms,
        author=author or RevisionAuthor(),
    )
    conn.execute(
        update(records)
        .where(records.c.space_id == space_id, records.c.id == record_id)
        .values(
            body=keys.cipher.seal_raw(orjson.dumps(item), _ad(space_id, doctype.name, record_id)),
            time_start=start,
            time_end=end,
            revision=revision + 1,
            updated_at=now_ms,
            source_id=source_id,
        )
    )
    return record_id


def _ad_parts(space_id: str, doctype: str) -> tuple[bytes, bytes]:
    """The associated data of this doctype's records around the record id, so a batch
    builds each record's as ``head + id + tail`` (the same bytes as :func:`_ad`)."""
    head, tail = _ad(space_id, doctype, "\x00").split(b"\x00")
    return head, tail


def _bounds_memo(doctype: Doctype) -> Callable[[Mapping[str, Any]], tuple[int, int | None]]:
    """:func:`_bounds`, computed once per distinct time value of a batch (ten years of
    bank transactions share 3,652 dates): parsing the date is most of its cost."""
    start_field, end_field = doctype.time_field, doctype.time_end_field
    if start_field is None:
        return lambda _item: (NO_TIME, None)
    memo: dict[Any, tuple[int, int | None]] = {}

    def bounds(item: Mapping[str, Any]) -> tuple[int, int | None]:
        key = (item.get(start_field), item.get(end_field)) if end_field else item.get(start_field)
        try:
            return memo[key]
        except KeyError:
            value = memo[key] = _bounds(doctype, item)
            return value
        except TypeError:  # an unhashable value: not canonical JSON, let _bounds judge
            return _bounds(doctype, item)

    return bounds


_INSERT_COLUMNS = (
    "space_id",
    "id",
    "doctype",
    "doctype_version",
    "time_start",
    "time_end",
    "fingerprint",
    "source_id",
    "revision",
    "created_at",
    "updated_at",
    "body",
)


def _insert_sql(conn: Connection) -> str:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    # Column names are constants and values are bound parameters: no injection path.
    columns = ", ".join(_INSERT_COLUMNS)
    marks = ", ".join([mark] * len(_INSERT_COLUMNS))
    return f"INSERT INTO records ({columns}) VALUES ({marks})"  # noqa: S608


# The columns whose values differ between the rows of one batch from _new_rows; it
# gives all of them the same space, doctype, version, source, revision and times.
_VARYING = frozenset({"id", "time_start", "time_end", "fingerprint", "body"})
# What may be written into the statement as a literal: ids, doctype names, "service:x".
_PLAIN = re.compile(r"[A-Za-z0-9_.:-]*")


def _insert_rows(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Straight to the driver's executemany: bulk imports are the hot path and the rows
    (from :func:`_new_rows`) are already plain tuples of bytes, ints and strings. The
    values every row of the batch shares are written once into the statement instead of
    bound per row (SQLite binds each parameter of each row: 12 → 5 saves ~10 % of the
    insert)."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    first = rows[0]
    values: list[str] = []
    for i, column in enumerate(_INSERT_COLUMNS):
        value = first[i]
        if column in _VARYING:
            values.append(mark)
        elif value is None:
            values.append("NULL")
        elif type(value) is int:
            values.append(str(value))
        elif isinstance(value, str) and _PLAIN.fullmatch(value):
            values.append(f"'{value}'")
        else:  # anything else is bound per row, as usual
            values.append(mark)
    bound = [i for i, v in enumerate(values) if v == mark]
    columns = ", ".join(_INSERT_COLUMNS)
    # Column names are constants; shared values are ints, NULL or strings of
    # [A-Za-z0-9_.:-] (no quote can appear); the rest are bound parameters.
    sql = f"INSERT INTO records ({columns}) VALUES ({', '.join(values)})"  # noqa: S608
    conn.exec_driver_sql(sql, [tuple([row[i] for i in bound]) for row in rows])


def _existing_by_fingerprint(
    conn: Connection, space_id: str, doctype: str, fps: list[bytes]
) -> dict[bytes, tuple[str, bytes, int, Any]]:
    """Stored records by fingerprint: id, sealed body, revision, and the row (its time
    bounds, source and update time, kept in the history if it is replaced)."""
    found: dict[bytes, tuple[str, bytes, int, Any]] = {}
    if not fps or _ANY_OF_DOCTYPE.first(conn, {"space_id": space_id, "doctype": doctype}) is None:
        # A first import of this doctype (the common bulk case): nothing to look up,
        # instead of one IN query per 500 fingerprints. A concurrent writer of the same
        # records still meets the unique index (Conflict), as after a look-up.
        return found
    for i in range(0, len(fps), _LOOKUP_BATCH):
        batch = fps[i : i + _LOOKUP_BATCH]
        result = conn.execute(
            select(
                records.c.fingerprint,
                records.c.id,
                records.c.body,
                records.c.revision,
                records.c.time_start,
                records.c.time_end,
                records.c.source_id,
                records.c.updated_at,
            )
            .where(
                records.c.space_id == space_id,
                records.c.doctype == doctype,
                records.c.fingerprint.in_(batch),
            )
            # Locked (PostgreSQL) so a concurrent update of the same records waits.
            .with_for_update()
        )
        for row in result:
            found[bytes(row.fingerprint)] = (row.id, bytes(row.body), row.revision, row)
    return found


def _to_record(keys: SpaceKeys, row: Any) -> Record:
    plain = keys.cipher.open_raw(bytes(row.body), _ad(keys.space_id, row.doctype, row.id))
    return Record(
        id=row.id,
        doctype=row.doctype,
        data=orjson.loads(plain),
        revision=row.revision,
        created_at=at_ms(row.created_at),
        updated_at=at_ms(row.updated_at),
        time_start=from_ms(row.time_start),
        time_end=from_ms(row.time_end),
        source_id=row.source_id,
    )


def get_record(
    conn: Connection, keys: SpaceKeys, record_id: str, doctype: str | None = None
) -> Record:
    row = stored_record(conn, keys.space_id, record_id)
    if row is None or (doctype is not None and row.doctype != doctype):
        raise NotFound(f"no record {record_id}" + (f" of doctype {doctype}" if doctype else ""))
    return _to_record(keys, row)


def stored_record(conn: Connection, space_id: str, record_id: str) -> Any | None:
    """A record's row as stored: clear metadata (``row.doctype``…) and the sealed body,
    so the gate can decide on the doctype before anything is decrypted, and the read
    then needs no second look-up (:func:`open_record`)."""
    return _RECORD.first(conn, {"space_id": space_id, "record_id": record_id})


def open_record(keys: SpaceKeys, row: Any) -> Record:
    """The record of a row from :func:`stored_record`, decrypted."""
    return _to_record(keys, row)


_ANY_OF_DOCTYPE = Prepared(
    select(records.c.id)
    .where(records.c.space_id == bindparam("space_id"), records.c.doctype == bindparam("doctype"))
    .limit(1)
)
# Prepared (db/prepared.py): single-record reads are the API's hot path.
_DOCTYPE = Prepared(
    select(records.c.doctype).where(
        records.c.space_id == bindparam("space_id"), records.c.id == bindparam("record_id")
    )
)
_RECORD = Prepared(
    select(records).where(
        records.c.space_id == bindparam("space_id"), records.c.id == bindparam("record_id")
    )
)


def record_doctype(conn: Connection, space_id: str, record_id: str) -> str:
    """The doctype of a record (clear metadata), to authorise before decrypting."""
    value = _DOCTYPE.scalar(conn, {"space_id": space_id, "record_id": record_id})
    if value is None:
        raise NotFound(f"no record {record_id}")
    return str(value)


def scan_records(
    conn: Connection,
    keys: SpaceKeys,
    doctype: str,
    *,
    start_ms: int | None = None,
    end_ms: int | None = None,
    after: Cursor | None = None,
    descending: bool = False,
    batch: int = _SCAN_BATCH,
    floor_ms: int | None = None,
) -> Iterator[Record]:
    """Every record of ``doctype`` in time order, decrypted batch by batch."""
    cursor = after
    while True:
        where = [records.c.space_id == keys.space_id, records.c.doctype == doctype]
        if start_ms is not None:
            where.append(records.c.time_start >= start_ms)
        if end_ms is not None:
            where.append(records.c.time_start < end_ms)
        if floor_ms is not None:
            # A consented data period: dated records from its start on, and records
            # with no date at all (a meter, a contact), which no period excludes.
            where.append(or_(records.c.time_start >= floor_ms, records.c.time_start == NO_TIME))
        if cursor is not None:
            # A row-value comparison is an index range on both engines, so each batch
            # starts where the last one ended (the equivalent OR form re-walks the index).
            key = tuple_(records.c.time_start, records.c.id)
            mark = tuple_(cursor.time_start, cursor.id)
            where.append(key < mark if descending else key > mark)
        order = (
            (records.c.time_start.desc(), records.c.id.desc())
            if descending
            else (records.c.time_start.asc(), records.c.id.asc())
        )
        rows = conn.execute(select(records).where(*where).order_by(*order).limit(batch)).all()
        for row in rows:
            yield _to_record(keys, row)
        if len(rows) < batch:
            return
        last = rows[-1]
        cursor = Cursor(last.time_start, last.id, descending)


def query_records(
    conn: Connection,
    keys: SpaceKeys,
    query: Query,
    *,
    max_scan: int = 200_000,
    floor_ms: int | None = None,
) -> Page:
    after = decode_cursor(query.cursor) if query.cursor else None
    if after is not None and after.descending != query.descending:
        raise MalformedQuery("the cursor was made for the other sort order")
    items: list[Record] = []
    scanned = 0
    last: Record | None = None
    batch = min(max(query.limit + 1, 50), _SCAN_BATCH) if not query.filters else _SCAN_BATCH
    for record in scan_records(
        conn,
        keys,
        query.doctype,
        start_ms=to_ms(query.start) if query.start else None,
        floor_ms=floor_ms,
        end_ms=to_ms(query.end) if query.end else None,
        after=after,
        descending=query.descending,
        batch=batch,
    ):
        scanned += 1
        if all(f.matches(record.data) for f in query.filters):
            if len(items) == query.limit:
                # One more match exists: the page is full and a next page is owed.
                return Page(items, _cursor_after(items[-1], query.descending), scanned)
            items.append(record)
        last = record
        if scanned >= max_scan:
            # Bound the work of one request; the caller continues from here.
            return Page(items, _cursor_after(last, query.descending), scanned)
    return Page(items, None, scanned)


def _cursor_after(record: Record, descending: bool) -> str:
    ts = to_ms(record.time_start) if record.time_start else NO_TIME
    return encode_cursor(Cursor(ts, record.id, descending))


def update_record(
    conn: Connection,
    keys: SpaceKeys,
    doctype: Doctype,
    record_id: str,
    data: Mapping[str, Any],
    *,
    now_ms: int,
    expected_revision: int | None = None,
    author: RevisionAuthor | None = None,
) -> Record:
    """Replace a record's data; the version it replaces is kept, sealed, in its history
    (rectification keeps the trace of what the record said before)."""
    current = get_record(conn, keys, record_id, doctype.name)
    if expected_revision is not None and current.revision != expected_revision:
        raise Conflict(
            f"record {record_id} is at revision {current.revision}, not {expected_revision}; "
            "reload it and apply your change again",
            revision=current.revision,
        )
    start, end = _bounds(doctype, data)
    # A service's record keeps its fingerprint namespace (see insert_records).
    source = current.source_id
    fp = _fingerprint(
        keys, doctype, data, source if source and source.startswith("service:") else None
    )
    keep_revision(
        conn,
        keys,
        doctype=doctype.name,
        record_id=record_id,
        revision=current.revision,
        data=current.data,
        time_start=to_ms(current.time_start) if current.time_start else NO_TIME,
        time_end=to_ms(current.time_end) if current.time_end else None,
        source_id=current.source_id,
        updated_at=to_ms(current.updated_at),
        changed_at=now_ms,
        author=author or RevisionAuthor(),
    )
    try:
        conn.execute(
            update(records)
            .where(records.c.space_id == keys.space_id, records.c.id == record_id)
            .values(
                body=keys.cipher.seal_raw(
                    orjson.dumps(data), _ad(keys.space_id, doctype.name, record_id)
                ),
                time_start=start,
                time_end=end,
                fingerprint=fp,
                revision=current.revision + 1,
                updated_at=now_ms,
            )
        )
    except IntegrityError:
        raise Conflict(
            f"another {doctype.name} record already has the same identity fields"
        ) from None
    return get_record(conn, keys, record_id, doctype.name)


def delete_record(conn: Connection, space_id: str, record_id: str) -> bool:
    """Delete a record and its past versions."""
    result = conn.execute(
        delete(records).where(records.c.space_id == space_id, records.c.id == record_id)
    )
    delete_revisions(conn, space_id, record_id=record_id)
    return bool(result.rowcount)


def erase_records(
    conn: Connection, space_id: str, *, doctype: str | None = None, source_id: str | None = None
) -> tuple[int, int]:
    """Delete every record of a doctype, or from a source, with their past versions.
    Returns (records, revisions) deleted."""
    if doctype is None and source_id is None:
        raise ValueError("erase_records needs a doctype or a source")
    where = [records.c.space_id == space_id]
    if doctype is not None:
        where.append(records.c.doctype == doctype)
    if source_id is not None:
        where.append(records.c.source_id == source_id)
    if source_id is None:
        revisions = delete_revisions(conn, space_id, doctype=doctype)
    else:
        ids = list(conn.execute(select(records.c.id).where(*where)).scalars())
        revisions = delete_revisions(conn, space_id, record_ids=ids)
    count = conn.execute(delete(records).where(*where)).rowcount
    return count, revisions


def count_by_source(conn: Connection, space_id: str) -> list[tuple[str | None, str, int]]:
    """Per source and doctype: how many records (clear metadata only)."""
    rows = conn.execute(
        select(records.c.source_id, records.c.doctype, func.count())
        .where(records.c.space_id == space_id)
        .group_by(records.c.source_id, records.c.doctype)
        .order_by(records.c.source_id, records.c.doctype)
    ).all()
    return [(r[0], r[1], int(r[2])) for r in rows]


def count_by_doctype(
    conn: Connection, space_id: str
) -> list[tuple[str, int, int | None, int | None]]:
    """Per doctype: count, earliest and latest record time (epoch ms)."""
    starts = func.nullif(records.c.time_start, NO_TIME)
    rows = conn.execute(
        select(records.c.doctype, func.count(), func.min(starts), func.max(starts))
        .where(records.c.space_id == space_id)
        .group_by(records.c.doctype)
        .order_by(records.c.doctype)
    ).all()
    return [(r[0], int(r[1]), r[2], r[3]) for r in rows]
