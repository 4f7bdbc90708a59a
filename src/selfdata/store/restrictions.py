"""Restrictions of processing (GDPR art. 18): clear metadata the gate reads.

A restriction freezes the whole space (scope ``"*"``) or one doctype: while it holds,
no service and no connector may touch what it covers; the citizen still may. The
scopes and their start are clear (the authorisation point needs them before it
decrypts anything); the citizen's note, if any, is sealed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select

from selfdata.crypto import Associated, SpaceKeys
from selfdata.db.tables import restrictions
from selfdata.errors import Conflict, NotFound
from selfdata.store.types import at_ms

__all__ = [
    "Restriction",
    "add_restriction",
    "list_restrictions",
    "remove_restriction",
    "restricted_scopes",
]


@dataclass(frozen=True, slots=True)
class Restriction:
    scope: str  # "*" or a doctype
    since: datetime
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"scope": self.scope, "since": self.since.isoformat(), "note": self.note}


def _ad(space_id: str, scope: str) -> bytes:
    return Associated(space_id, "restriction", "restriction", scope).encode()


_SCOPES = select(restrictions.c.scope).where(restrictions.c.space_id == bindparam("space_id"))


def restricted_scopes(conn: Connection, space_id: str) -> frozenset[str]:
    """The scopes restricted in a space, for the gate (clear columns, no key needed)."""
    return frozenset(conn.execute(_SCOPES, {"space_id": space_id}).scalars())


def add_restriction(
    conn: Connection, keys: SpaceKeys, scope: str, now_ms: int, note: str | None = None
) -> Restriction:
    exists = conn.execute(
        select(restrictions.c.scope).where(
            restrictions.c.space_id == keys.space_id, restrictions.c.scope == scope
        )
    ).first()
    if exists is not None:
        raise Conflict(f"{'the whole space' if scope == '*' else scope} is already restricted")
    conn.execute(
        insert(restrictions).values(
            space_id=keys.space_id,
            scope=scope,
            since=now_ms,
            note=keys.cipher.seal_raw(note.encode(), _ad(keys.space_id, scope)) if note else None,
        )
    )
    return Restriction(scope, at_ms(now_ms), note)


def remove_restriction(conn: Connection, space_id: str, scope: str) -> None:
    result = conn.execute(
        delete(restrictions).where(
            restrictions.c.space_id == space_id, restrictions.c.scope == scope
        )
    )
    if not result.rowcount:
        raise NotFound(f"{'the whole space' if scope == '*' else scope} is not restricted")


def list_restrictions(conn: Connection, keys: SpaceKeys) -> list[Restriction]:
    rows = conn.execute(
        select(restrictions)
        .where(restrictions.c.space_id == keys.space_id)
        .order_by(restrictions.c.scope)
    ).all()
    return [
        Restriction(
            row.scope,
            at_ms(row.since),
            keys.cipher.open_raw(bytes(row.note), _ad(keys.space_id, row.scope)).decode()
            if row.note is not None
            else None,
        )
        for row in rows
    ]
