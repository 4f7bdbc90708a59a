"""Removing everything a space holds (after its key has been destroyed)."""

from __future__ import annotations

from sqlalchemy import Connection, delete

from selfdata.blobs import BlobStore
from selfdata.db.tables import (
    audit_events,
    audit_heads,
    files,
    records,
    series_chunks,
    series_streams,
    sources,
)

__all__ = ["purge_space"]


def purge_space(conn: Connection, blobs: BlobStore, space_id: str) -> dict[str, int]:
    """Delete every row and blob of ``space_id``; returns counts per kind."""
    counts: dict[str, int] = {}
    for table in (
        records,
        series_chunks,
        series_streams,
        files,
        sources,
        audit_events,
        audit_heads,
    ):
        counts[table.name] = conn.execute(
            delete(table).where(table.c.space_id == space_id)
        ).rowcount
    counts["blobs"] = blobs.delete_prefix(space_id)
    return counts
