"""Removing everything a space holds (after its key has been destroyed)."""

from __future__ import annotations

from sqlalchemy import Connection, delete

from selfdata.blobs import BlobStore
from selfdata.db.tables import (
    audit_checkpoints,
    audit_events,
    audit_heads,
    connector_accounts,
    consents,
    files,
    oauth_codes,
    oauth_tokens,
    record_revisions,
    records,
    restrictions,
    series_chunks,
    series_streams,
    sources,
)

# Every table holding rows of a space, so erasure cannot forget one (a test checks
# this list against the schema).
SPACE_TABLES = (
    records,
    record_revisions,
    series_chunks,
    series_streams,
    files,
    sources,
    consents,
    oauth_codes,
    oauth_tokens,
    audit_events,
    audit_heads,
    audit_checkpoints,
    restrictions,
    connector_accounts,
)

__all__ = ["purge_space"]


def purge_space(conn: Connection, blobs: BlobStore, space_id: str) -> dict[str, int]:
    """Delete every row and blob of ``space_id``; returns counts per kind."""
    counts: dict[str, int] = {}
    for table in SPACE_TABLES:
        counts[table.name] = conn.execute(
            delete(table).where(table.c.space_id == space_id)
        ).rowcount
    counts["blobs"] = blobs.delete_prefix(space_id)
    return counts
