"""Past versions of records: every update keeps the version it replaces, sealed.

The right to rectification (GDPR art. 16) lets the citizen correct a record; the
history of what it said before stays in the space, readable only by the citizen, and
goes away with the record (deleting or erasing a record erases its past versions).

Each past version is sealed with associated data naming the space, the record, its
doctype and the revision number, so a version moved to another record or relabelled
with another revision number fails to open.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert, select

from selfdata.crypto import Associated, SpaceKeys
from selfdata.db.tables import record_revisions
from selfdata.store.types import at_ms, from_ms

__all__ = [
    "RecordRevision",
    "RevisionAuthor",
    "delete_revisions",
    "keep_revision",
    "list_revisions",
]


@dataclass(frozen=True, slots=True)
class RevisionAuthor:
    """Who replaced a version: the kind is clear metadata, the rest is sealed."""

    kind: str = "system"
    id: str = "-"
    label: str = ""


@dataclass(frozen=True, slots=True)
class RecordRevision:
    """One past version of a record, as it was before ``changed_at``."""

    record_id: str
    doctype: str
    revision: int
    data: dict[str, Any]
    updated_at: datetime | None  # when this version had been written
    changed_at: datetime  # when it was replaced
    changed_by: RevisionAuthor
    time_start: datetime | None = None
    time_end: datetime | None = None
    source_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "doctype": self.doctype,
            "revision": self.revision,
            "written_at": self.updated_at.isoformat() if self.updated_at else None,
            "replaced_at": self.changed_at.isoformat(),
            "replaced_by": {
                "kind": self.changed_by.kind,
                "id": self.changed_by.id,
                "label": self.changed_by.label,
            },
            "time_start": self.time_start.isoformat() if self.time_start else None,
            "time_end": self.time_end.isoformat() if self.time_end else None,
            "source_id": self.source_id,
            "data": self.data,
        }


def _ad(space_id: str, doctype: str, record_id: str, revision: int) -> bytes:
    return Associated(space_id, "record-revision", doctype, record_id, str(revision)).encode()


def keep_revision(
    conn: Connection,
    keys: SpaceKeys,
    *,
    doctype: str,
    record_id: str,
    revision: int,
    data: Mapping[str, Any],
    time_start: int | None,
    time_end: int | None,
    source_id: str | None,
    updated_at: int,
    changed_at: int,
    author: RevisionAuthor,
) -> None:
    """Seal the version ``revision`` of a record that is being replaced (in the caller's
    transaction, so the update and its history commit together)."""
    body = {
        "data": dict(data),
        "time_start": time_start,
        "time_end": time_end,
        "source_id": source_id,
        "updated_at": updated_at,
        "by": {"id": author.id, "label": author.label},
    }
    conn.execute(
        insert(record_revisions).values(
            space_id=keys.space_id,
            record_id=record_id,
            revision=revision,
            doctype=doctype,
            changed_at=changed_at,
            actor_kind=author.kind,
            body=keys.cipher.seal_raw(
                orjson.dumps(body), _ad(keys.space_id, doctype, record_id, revision)
            ),
        )
    )


def list_revisions(conn: Connection, keys: SpaceKeys, record_id: str) -> list[RecordRevision]:
    """Every kept version of a record, newest first."""
    rows = conn.execute(
        select(record_revisions)
        .where(
            record_revisions.c.space_id == keys.space_id,
            record_revisions.c.record_id == record_id,
        )
        .order_by(record_revisions.c.revision.desc())
    ).all()
    out = []
    for row in rows:
        plain = orjson.loads(
            keys.cipher.open_raw(
                bytes(row.body), _ad(keys.space_id, row.doctype, row.record_id, row.revision)
            )
        )
        by = plain.get("by") or {}
        out.append(
            RecordRevision(
                record_id=row.record_id,
                doctype=row.doctype,
                revision=int(row.revision),
                data=plain["data"],
                updated_at=from_ms(plain.get("updated_at")),
                changed_at=at_ms(row.changed_at),
                changed_by=RevisionAuthor(
                    row.actor_kind, str(by.get("id", "-")), str(by.get("label", ""))
                ),
                time_start=from_ms(plain.get("time_start")),
                time_end=from_ms(plain.get("time_end")),
                source_id=plain.get("source_id"),
            )
        )
    return out


def delete_revisions(
    conn: Connection,
    space_id: str,
    *,
    record_id: str | None = None,
    doctype: str | None = None,
    record_ids: list[str] | None = None,
) -> int:
    """Delete the past versions of one record, of a doctype, or of the listed records."""
    where = [record_revisions.c.space_id == space_id]
    if record_id is not None:
        where.append(record_revisions.c.record_id == record_id)
    if doctype is not None:
        where.append(record_revisions.c.doctype == doctype)
    if record_ids is not None:
        total = 0
        for i in range(0, len(record_ids), 500):
            batch = record_ids[i : i + 500]
            total += conn.execute(
                delete(record_revisions).where(*where, record_revisions.c.record_id.in_(batch))
            ).rowcount
        return total
    return conn.execute(delete(record_revisions).where(*where)).rowcount
