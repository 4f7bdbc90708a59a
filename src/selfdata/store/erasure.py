"""Partial erasure: every row of one doctype, or from one source, in one transaction.

There is no key per record to destroy, so a partial erasure is a deletion: the rows
(records, their past versions, series and their chunks, file rows, the source) are
deleted in the caller's transaction, and the caller deletes the returned blobs once
that transaction has committed. On SQLite ``secure_delete`` overwrites the freed
pages; on PostgreSQL the dead tuples stay on disk until VACUUM (docs/rights.md).
Only the erasure of a whole space destroys a key (``purge.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, delete, or_, select

from selfdata.crypto import SpaceKeys
from selfdata.db.tables import files, records, series_chunks, series_streams, sources
from selfdata.store.records import erase_records, scan_records

__all__ = ["PartialErasure", "erase_doctype", "erase_source", "source_exists"]

_BATCH = 500


@dataclass(slots=True)
class PartialErasure:
    """Rows deleted per table, and the blobs to delete after the commit."""

    counts: dict[str, int] = field(default_factory=dict)
    blob_keys: list[str] = field(default_factory=list)


def _delete_streams(conn: Connection, space_id: str, stream_ids: list[str]) -> tuple[int, int]:
    chunks = streams = 0
    for i in range(0, len(stream_ids), _BATCH):
        batch = stream_ids[i : i + _BATCH]
        chunks += conn.execute(
            delete(series_chunks).where(
                series_chunks.c.space_id == space_id, series_chunks.c.stream_id.in_(batch)
            )
        ).rowcount
        streams += conn.execute(
            delete(series_streams).where(
                series_streams.c.space_id == space_id, series_streams.c.id.in_(batch)
            )
        ).rowcount
    return streams, chunks


def _delete_files(conn: Connection, space_id: str, file_ids: list[str]) -> tuple[int, list[str]]:
    keys: list[str] = []
    count = 0
    for i in range(0, len(file_ids), _BATCH):
        batch = file_ids[i : i + _BATCH]
        where = (files.c.space_id == space_id, files.c.id.in_(batch))
        keys += list(conn.execute(select(files.c.blob_key).where(*where)).scalars())
        count += conn.execute(delete(files).where(*where)).rowcount
    return count, keys


def erase_doctype(conn: Connection, keys: SpaceKeys, doctype: str) -> PartialErasure:
    """Every record of ``doctype`` with its history, every series of ``doctype`` and
    every series belonging to one of those records (a meter's readings go with the
    meter); for papers, the files they hold."""
    space_id = keys.space_id
    out = PartialErasure()
    file_ids: list[str] = []
    if doctype == "paper.document":
        for record in scan_records(conn, keys, doctype):
            file_id = record.data.get("file_id")
            if isinstance(file_id, str):
                file_ids.append(file_id)
    parents = select(records.c.id).where(
        records.c.space_id == space_id, records.c.doctype == doctype
    )
    stream_ids = list(
        conn.execute(
            select(series_streams.c.id).where(
                series_streams.c.space_id == space_id,
                or_(series_streams.c.doctype == doctype, series_streams.c.record_id.in_(parents)),
            )
        ).scalars()
    )
    streams, chunks = _delete_streams(conn, space_id, stream_ids)
    count, revisions = erase_records(conn, space_id, doctype=doctype)
    file_count, out.blob_keys = _delete_files(conn, space_id, file_ids)
    out.counts = {
        "records": count,
        "record_revisions": revisions,
        "series_streams": streams,
        "series_chunks": chunks,
        "files": file_count,
    }
    return out


def source_exists(conn: Connection, space_id: str, source_id: str) -> bool:
    for table in (records, series_streams, files, sources):
        column = table.c.id if table is sources else table.c.source_id
        found = conn.execute(
            select(column).where(table.c.space_id == space_id, column == source_id).limit(1)
        ).first()
        if found is not None:
            return True
    return False


def erase_source(conn: Connection, keys: SpaceKeys, source_id: str) -> PartialErasure:
    """Everything that came from one source: its records (with their history), series,
    files, and the source's own description."""
    space_id = keys.space_id
    out = PartialErasure()
    stream_ids = list(
        conn.execute(
            select(series_streams.c.id).where(
                series_streams.c.space_id == space_id, series_streams.c.source_id == source_id
            )
        ).scalars()
    )
    streams, chunks = _delete_streams(conn, space_id, stream_ids)
    count, revisions = erase_records(conn, space_id, source_id=source_id)
    file_ids = list(
        conn.execute(
            select(files.c.id).where(files.c.space_id == space_id, files.c.source_id == source_id)
        ).scalars()
    )
    file_count, out.blob_keys = _delete_files(conn, space_id, file_ids)
    described = conn.execute(
        delete(sources).where(sources.c.space_id == space_id, sources.c.id == source_id)
    ).rowcount
    out.counts = {
        "records": count,
        "record_revisions": revisions,
        "series_streams": streams,
        "series_chunks": chunks,
        "files": file_count,
        "sources": described,
    }
    return out
