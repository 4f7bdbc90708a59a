"""Sources: where data came from (an imported file, a connector account).

One row per source; its description (file name, importer, version, import time…) is
sealed like every other body, bound to the space and the source's id. The file's keyed
fingerprint (HMAC with the space's key, never a plain hash) is the clear column that
makes a re-import of the same file find its source again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select

from selfdata.crypto import Associated, SpaceKeys
from selfdata.db.tables import sources
from selfdata.ids import new_id

__all__ = ["SourceRow", "find_source", "get_source", "insert_source"]


SourceRow = tuple[str, str, int, dict[str, Any]]
"""A source as stored: id, kind, creation time (epoch ms), decrypted description."""


def _ad(space_id: str, source_id: str) -> bytes:
    # The same binding as the portable archive's restore (store.portable._source_ad).
    return Associated(space_id, "source", "source", source_id).encode()


def _row(keys: SpaceKeys, row: Any) -> SourceRow:
    detail = orjson.loads(keys.cipher.open_raw(bytes(row.body), _ad(keys.space_id, row.id)))
    return row.id, row.kind, int(row.created_at), detail


def find_source(conn: Connection, keys: SpaceKeys, fingerprint: bytes) -> SourceRow | None:
    """The source whose file has this keyed fingerprint, if any."""
    row = conn.execute(
        select(sources).where(
            sources.c.space_id == keys.space_id, sources.c.fingerprint == fingerprint
        )
    ).first()
    return _row(keys, row) if row is not None else None


def get_source(conn: Connection, keys: SpaceKeys, source_id: str) -> SourceRow | None:
    row = conn.execute(
        select(sources).where(sources.c.space_id == keys.space_id, sources.c.id == source_id)
    ).first()
    return _row(keys, row) if row is not None else None


def insert_source(
    conn: Connection,
    keys: SpaceKeys,
    *,
    kind: str,
    fingerprint: bytes | None,
    detail: Mapping[str, Any],
    now_ms: int,
) -> str:
    source_id = new_id(now_ms)
    conn.execute(
        insert(sources).values(
            space_id=keys.space_id,
            id=source_id,
            kind=kind,
            fingerprint=fingerprint,
            created_at=now_ms,
            body=keys.cipher.seal_raw(orjson.dumps(dict(detail)), _ad(keys.space_id, source_id)),
        )
    )
    return source_id
