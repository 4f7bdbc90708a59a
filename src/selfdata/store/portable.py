"""Whole-space reads and exact restores, for moving a space (export / import).

Like the rest of the store, these trust their caller (``access.portability``) to have
decided and audited the access. Restores write rows *as they were* — same ids,
revisions and times — sealed with the receiving space's key; fingerprints are
recomputed with that key (they are keyed, so the source's are useless here).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Connection, insert, select

from selfdata.crypto import Associated, SpaceKeys
from selfdata.db.tables import record_revisions, restrictions, series_streams, sources, spaces
from selfdata.db.tables import records as records_table
from selfdata.errors import NotFound
from selfdata.store.records import _ad as _record_ad
from selfdata.store.records import _bounds, _fingerprint, _insert_sql
from selfdata.store.restrictions import _ad as _restriction_ad
from selfdata.store.revisions import _ad as _revision_ad
from selfdata.store.series import _stream_ad
from selfdata.store.types import NO_TIME, Record, Stream, at_ms, from_ms, to_ms

if TYPE_CHECKING:
    from selfdata.doctypes import Doctype

__all__ = [
    "insert_space_row",
    "iter_all_records",
    "iter_restrictions",
    "iter_revisions",
    "iter_sources",
    "restore_records",
    "restore_restrictions",
    "restore_revisions",
    "restore_sources",
    "restore_stream",
    "space_row",
]

_BATCH = 500


def space_row(conn: Connection, space_id: str) -> dict[str, Any]:
    row = conn.execute(select(spaces).where(spaces.c.id == space_id)).first()
    if row is None:
        raise NotFound("no such space")
    return {
        "id": row.id,
        "name": row.name,
        "timezone": row.timezone,
        "created_at": at_ms(int(row.created_at)).isoformat(timespec="milliseconds"),
    }


def insert_space_row(
    conn: Connection, space_id: str, name: str, timezone: str, now_ms: int
) -> None:
    conn.execute(
        insert(spaces).values(
            id=space_id,
            name=name,
            status="active",
            timezone=timezone,
            created_at=now_ms,
            status_changed_at=now_ms,
        )
    )


def iter_all_records(conn: Connection, keys: SpaceKeys) -> Iterator[tuple[Record, int]]:
    """Every record of the space with its doctype version, by (doctype, id), decrypted
    ``_BATCH`` rows at a time (keyset pagination: memory stays bounded)."""
    after: tuple[str, str] | None = None
    t = records_table
    while True:
        query = select(t).where(t.c.space_id == keys.space_id)
        if after is not None:
            query = query.where(
                (t.c.doctype > after[0]) | ((t.c.doctype == after[0]) & (t.c.id > after[1]))
            )
        rows = conn.execute(query.order_by(t.c.doctype, t.c.id).limit(_BATCH)).all()
        for row in rows:
            plain = keys.cipher.open_raw(
                bytes(row.body), _record_ad(keys.space_id, row.doctype, row.id)
            )
            yield (
                Record(
                    id=row.id,
                    doctype=row.doctype,
                    data=orjson.loads(plain),
                    revision=int(row.revision),
                    created_at=at_ms(int(row.created_at)),
                    updated_at=at_ms(int(row.updated_at)),
                    time_start=from_ms(row.time_start),
                    time_end=from_ms(row.time_end),
                    source_id=row.source_id,
                ),
                int(row.doctype_version),
            )
        if len(rows) < _BATCH:
            return
        after = (rows[-1].doctype, rows[-1].id)


def _ms(value: str) -> int:
    return to_ms(datetime.fromisoformat(value))


def restore_records(
    conn: Connection, keys: SpaceKeys, doctype: Doctype, items: Sequence[Mapping[str, Any]]
) -> int:
    """Insert exported records of one doctype exactly (id, version, revision, times,
    source, data). ``items`` are lines of ``records/<doctype>.jsonl``."""
    rows: list[tuple[Any, ...]] = []
    for item in items:
        data = item["data"]
        source = item.get("source_id")
        namespace = source if isinstance(source, str) and source.startswith("service:") else None
        start, end = _bounds(doctype, data)
        rows.append(
            (
                keys.space_id,
                item["id"],
                doctype.name,
                int(item["doctype_version"]),
                start,
                end,
                _fingerprint(keys, doctype, data, namespace),
                source,
                int(item["revision"]),
                _ms(item["created_at"]),
                _ms(item["updated_at"]),
                keys.cipher.seal_raw(
                    orjson.dumps(data), _record_ad(keys.space_id, doctype.name, item["id"])
                ),
            )
        )
    if rows:
        conn.exec_driver_sql(_insert_sql(conn), rows)
    return len(rows)


def restore_stream(
    conn: Connection, keys: SpaceKeys, item: Mapping[str, Any], now_ms: int
) -> Stream:
    """Create an exported stream with its own id (points are appended after)."""
    created = _ms(item["created_at"]) if item.get("created_at") else now_ms
    updated = _ms(item["updated_at"]) if item.get("updated_at") else now_ms
    meta = dict(item.get("meta") or {})
    conn.execute(
        insert(series_streams).values(
            space_id=keys.space_id,
            id=item["id"],
            doctype=item["doctype"],
            record_id=item.get("record_id"),
            columns=",".join(item["columns"]),
            points=0,
            first_ts=None,
            last_ts=None,
            source_id=item.get("source_id"),
            created_at=created,
            updated_at=updated,
            body=keys.cipher.seal_raw(
                orjson.dumps(meta), _stream_ad(keys.space_id, item["doctype"], item["id"])
            ),
        )
    )
    return Stream(
        item["id"],
        item["doctype"],
        item.get("record_id"),
        tuple(item["columns"]),
        0,
        None,
        None,
        meta,
        item.get("source_id"),
    )


def stream_times(conn: Connection, space_id: str) -> dict[str, tuple[int, int]]:
    """(created_at, updated_at) in epoch ms of every stream of the space."""
    rows = conn.execute(
        select(series_streams.c.id, series_streams.c.created_at, series_streams.c.updated_at).where(
            series_streams.c.space_id == space_id
        )
    ).all()
    return {r.id: (int(r.created_at), int(r.updated_at)) for r in rows}


def fix_stream_updated(conn: Connection, space_id: str, stream_id: str, updated_ms: int) -> None:
    """Put back a restored stream's ``updated_at`` (appending its points moved it)."""
    conn.execute(
        series_streams.update()
        .where(series_streams.c.space_id == space_id, series_streams.c.id == stream_id)
        .values(updated_at=updated_ms)
    )


def _source_ad(space_id: str, source_id: str) -> bytes:
    return Associated(space_id, "source", "source", source_id).encode()


def iter_sources(conn: Connection, keys: SpaceKeys) -> Iterator[dict[str, Any]]:
    """The space's provenance rows (``sources``), decrypted."""
    rows = conn.execute(
        select(sources).where(sources.c.space_id == keys.space_id).order_by(sources.c.id)
    ).all()
    for row in rows:
        body = orjson.loads(
            keys.cipher.open_raw(bytes(row.body), _source_ad(keys.space_id, row.id))
        )
        yield {
            "id": row.id,
            "kind": row.kind,
            "created_at": at_ms(int(row.created_at)).isoformat(timespec="milliseconds"),
            "detail": body,
        }


def restore_sources(conn: Connection, keys: SpaceKeys, items: Sequence[Mapping[str, Any]]) -> int:
    for item in items:
        detail = item.get("detail") or {}
        conn.execute(
            insert(sources).values(
                space_id=keys.space_id,
                id=item["id"],
                kind=item["kind"],
                fingerprint=None,
                created_at=_ms(item["created_at"]),
                body=keys.cipher.seal_raw(
                    orjson.dumps(detail), _source_ad(keys.space_id, item["id"])
                ),
            )
        )
    return len(items)


# -- rectification history and restrictions -------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso_ms(value: int | None) -> str | None:
    """An epoch-millisecond value as ISO 8601 (UTC, milliseconds), in integer arithmetic
    so it reads back to the same millisecond; ``None`` and the ``NO_TIME`` sentinel give
    ``None``."""
    if value is None or value == NO_TIME:
        return None
    return (_EPOCH + timedelta(milliseconds=int(value))).isoformat(timespec="milliseconds")


def _opt_ms(value: Any) -> int | None:
    return _ms(value) if isinstance(value, str) and value else None


def iter_revisions(conn: Connection, keys: SpaceKeys) -> Iterator[dict[str, Any]]:
    """Every past version of every record of the space, by (record id, revision),
    decrypted ``_BATCH`` rows at a time, as lines of ``history/revisions.jsonl``:
    exactly what is stored (who replaced it: the clear ``actor_kind`` and the sealed
    id and label)."""
    t = record_revisions
    after: tuple[str, int] | None = None
    while True:
        query = select(t).where(t.c.space_id == keys.space_id)
        if after is not None:
            query = query.where(
                (t.c.record_id > after[0])
                | ((t.c.record_id == after[0]) & (t.c.revision > after[1]))
            )
        rows = conn.execute(query.order_by(t.c.record_id, t.c.revision).limit(_BATCH)).all()
        for row in rows:
            body = orjson.loads(
                keys.cipher.open_raw(
                    bytes(row.body),
                    _revision_ad(keys.space_id, row.doctype, row.record_id, int(row.revision)),
                )
            )
            by = body.get("by") or {}
            yield {
                "record_id": row.record_id,
                "doctype": row.doctype,
                "revision": int(row.revision),
                "written_at": iso_ms(body.get("updated_at")),
                "replaced_at": iso_ms(int(row.changed_at)),
                "replaced_by": {
                    "kind": row.actor_kind,
                    "id": by.get("id"),
                    "label": by.get("label"),
                },
                "time_start": iso_ms(body.get("time_start")),
                "time_end": iso_ms(body.get("time_end")),
                "source_id": body.get("source_id"),
                "data": body["data"],
            }
        if len(rows) < _BATCH:
            return
        after = (rows[-1].record_id, int(rows[-1].revision))


def restore_revisions(conn: Connection, keys: SpaceKeys, items: Sequence[Mapping[str, Any]]) -> int:
    """Insert exported past versions exactly, sealed with the receiving space's key and
    the associated data of :mod:`selfdata.store.revisions` (space, record, doctype,
    revision). The sealed body has the shape ``keep_revision`` writes."""
    rows: list[dict[str, Any]] = []
    for item in items:
        by = item.get("replaced_by") or {}
        start = _opt_ms(item.get("time_start"))
        body = {
            "data": item["data"],
            "time_start": NO_TIME if start is None else start,
            "time_end": _opt_ms(item.get("time_end")),
            "source_id": item.get("source_id"),
            "updated_at": _opt_ms(item.get("written_at")),
            "by": {"id": by.get("id"), "label": by.get("label")},
        }
        record_id, doctype, revision = (
            str(item["record_id"]),
            str(item["doctype"]),
            int(item["revision"]),
        )
        rows.append(
            {
                "space_id": keys.space_id,
                "record_id": record_id,
                "revision": revision,
                "doctype": doctype,
                "changed_at": _ms(item["replaced_at"]),
                "actor_kind": str(by["kind"]),
                "body": keys.cipher.seal_raw(
                    orjson.dumps(body), _revision_ad(keys.space_id, doctype, record_id, revision)
                ),
            }
        )
    if rows:
        conn.execute(insert(record_revisions), rows)
    return len(rows)


def iter_restrictions(conn: Connection, keys: SpaceKeys) -> Iterator[dict[str, Any]]:
    """The space's restrictions, by scope, as lines of ``restrictions/restrictions.jsonl``
    (the note decrypted; ``null`` when there is none)."""
    rows = conn.execute(
        select(restrictions)
        .where(restrictions.c.space_id == keys.space_id)
        .order_by(restrictions.c.scope)
    ).all()
    for row in rows:
        note = (
            keys.cipher.open_raw(bytes(row.note), _restriction_ad(keys.space_id, row.scope))
            if row.note is not None
            else None
        )
        yield {
            "scope": row.scope,
            "since": iso_ms(int(row.since)),
            "note": note.decode() if note is not None else None,
        }


def restore_restrictions(
    conn: Connection, keys: SpaceKeys, items: Sequence[Mapping[str, Any]]
) -> int:
    """Insert exported restrictions exactly (scope, start, note sealed with the
    receiving space's key): they hold from the moment the import commits."""
    for item in items:
        scope, note = str(item["scope"]), item.get("note")
        conn.execute(
            insert(restrictions).values(
                space_id=keys.space_id,
                scope=scope,
                since=_ms(item["since"]),
                note=keys.cipher.seal_raw(note.encode(), _restriction_ad(keys.space_id, scope))
                if isinstance(note, str)
                else None,
            )
        )
    return len(items)
