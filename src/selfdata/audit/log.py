"""Appending to, reading and checking a space's hash chain."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, insert, select, update

from selfdata.audit.events import AuditEvent, LoggedEvent, canonical_bytes
from selfdata.crypto import Associated, SpaceKeys
from selfdata.db.prepared import Prepared
from selfdata.db.tables import audit_events, audit_heads

__all__ = [
    "GENESIS",
    "append_event",
    "chain_hash",
    "iter_events",
    "list_events",
    "restore_events",
    "verify_chain",
]

GENESIS = b"\x00" * 32
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# Built once and run on the driver's cursor (db/prepared.py): every audited access
# appends an event, and SQLAlchemy's per-statement work cost more than SQLite's own.
_HEAD = Prepared(
    select(audit_heads.c.seq, audit_heads.c.head)
    .where(audit_heads.c.space_id == bindparam("space_id"))
    .with_for_update()
)
_INSERT_EVENT = insert(audit_events)
_APPEND_EVENT = Prepared(
    insert(audit_events).values(
        space_id=bindparam("space_id"),
        seq=bindparam("seq"),
        at=bindparam("at"),
        prev_hash=bindparam("prev_hash"),
        hash=bindparam("hash"),
        body=bindparam("body"),
    )
)
_INSERT_HEAD = insert(audit_heads)
_UPDATE_HEAD = Prepared(
    update(audit_heads)
    .where(audit_heads.c.space_id == bindparam("head_space_id"))
    .values(seq=bindparam("seq"), head=bindparam("head"))
)


def chain_hash(prev: bytes, canonical: bytes) -> bytes:
    return hashlib.sha256(prev + canonical).digest()


def _ad(space_id: str, seq: int) -> bytes:
    return Associated(space_id, "audit", "audit.event", str(seq)).encode()


def append_event(conn: Connection, keys: SpaceKeys, event: AuditEvent, at_ms: int) -> LoggedEvent:
    """Append ``event`` in the caller's transaction (it commits or rolls back with the
    access it describes). The head row serialises concurrent appends to one space."""
    space_id = keys.space_id
    # The head is read inside the caller's write transaction: on SQLite that is
    # BEGIN IMMEDIATE, whose lock other processes meet too; on PostgreSQL, FOR UPDATE.
    # So two appends to one space, from any threads or processes, never share a head.
    head = _HEAD.first(conn, {"space_id": space_id})
    seq, prev = (int(head.seq) + 1, bytes(head.head)) if head else (1, GENESIS)
    at = datetime.fromtimestamp(at_ms / 1000, tz=UTC).isoformat(timespec="milliseconds")
    salt = secrets.token_hex(16)
    canonical = canonical_bytes(seq, at, {**event.as_dict(), "salt": salt})
    digest = chain_hash(prev, canonical)
    body = keys.cipher.seal_raw(canonical, _ad(space_id, seq))
    _APPEND_EVENT.run(
        conn,
        {
            "space_id": space_id,
            "seq": seq,
            "at": at_ms,
            "prev_hash": prev,
            "hash": digest,
            "body": body,
        },
    )
    if head:
        _UPDATE_HEAD.run(conn, {"head_space_id": space_id, "seq": seq, "head": digest})
    else:
        conn.execute(_INSERT_HEAD, {"space_id": space_id, "seq": seq, "head": digest})
    return LoggedEvent(seq, at, event, prev.hex(), digest.hex(), salt)


def _decode(keys: SpaceKeys, row: Any) -> LoggedEvent:
    payload = orjson.loads(keys.cipher.open_raw(bytes(row.body), _ad(keys.space_id, int(row.seq))))
    seq = payload.pop("seq")
    at = payload.pop("at")
    salt = payload.pop("salt", "")
    return LoggedEvent(
        seq, at, AuditEvent(**payload), bytes(row.prev_hash).hex(), bytes(row.hash).hex(), salt
    )


def iter_events(
    conn: Connection, keys: SpaceKeys, *, after_seq: int = 0, batch: int = 1000
) -> Iterator[LoggedEvent]:
    while True:
        rows = conn.execute(
            select(audit_events)
            .where(audit_events.c.space_id == keys.space_id, audit_events.c.seq > after_seq)
            .order_by(audit_events.c.seq)
            .limit(batch)
        ).all()
        for row in rows:
            yield _decode(keys, row)
        if len(rows) < batch:
            return
        after_seq = int(rows[-1].seq)


def list_events(
    conn: Connection,
    keys: SpaceKeys,
    *,
    before_seq: int | None = None,
    limit: int = 100,
    match: Mapping[str, str] | None = None,
    since_ms: int | None = None,
    until_ms: int | None = None,
    max_scan: int = 100_000,
) -> list[LoggedEvent]:
    """The newest events first, ``limit`` at a time (``before_seq`` pages back).

    ``match`` keeps events whose fields equal the given values (``actor_kind``,
    ``actor_id``, ``action``, ``doctype``, ``purpose``, ``outcome``, ``reason``,
    ``consent_id``); bodies are sealed, so the filter runs after decryption, over at most
    ``max_scan`` events per call. ``since_ms``/``until_ms`` bound the time in SQL."""
    found: list[LoggedEvent] = []
    scanned = 0
    cursor = before_seq
    while len(found) < limit and scanned < max_scan:
        where = [audit_events.c.space_id == keys.space_id]
        if cursor is not None:
            where.append(audit_events.c.seq < cursor)
        if since_ms is not None:
            where.append(audit_events.c.at >= since_ms)
        if until_ms is not None:
            where.append(audit_events.c.at < until_ms)
        batch = limit if not match else 500
        rows = conn.execute(
            select(audit_events).where(*where).order_by(audit_events.c.seq.desc()).limit(batch)
        ).all()
        for row in rows:
            logged = _decode(keys, row)
            scanned += 1
            if not match or all(
                str(getattr(logged.event, k, "") or "") == v for k, v in match.items()
            ):
                found.append(logged)
                if len(found) == limit:
                    break
        if len(rows) < batch:
            break
        cursor = int(rows[-1].seq)
    return found


def verify_chain(events: Iterator[LoggedEvent] | list[LoggedEvent]) -> tuple[bool, str, int]:
    """Recompute the chain: (ok, message, events checked). The message names the first
    event that does not fit."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for logged in events:
        if logged.seq != expected_seq:
            return (
                False,
                f"event {expected_seq} is missing or out of order (found {logged.seq})",
                count,
            )
        if logged.prev_hash != prev.hex():
            return False, f"event {logged.seq} does not point at the event before it", count
        digest = chain_hash(prev, logged.canonical())
        if digest.hex() != logged.hash:
            return (
                False,
                f"event {logged.seq} was altered (its hash does not match its content)",
                count,
            )
        prev = digest
        expected_seq += 1
        count += 1
    return True, f"{count} events, chain intact", count


def restore_events(
    conn: Connection, keys: SpaceKeys, events: Iterator[LoggedEvent] | list[LoggedEvent]
) -> tuple[int, bytes]:
    """Write the events of a log exported from another space, as they were (``seq``,
    ``at``, ``salt``, ``prev_hash``, ``hash``), sealed with this space's key, into a log
    that must still be empty. The chain is checked while writing: an event that does
    not follow its predecessor raises ``CryptoError`` (the caller's transaction then
    rolls back). Returns (last seq, head hash); later events chain from there."""
    from selfdata.errors import CryptoError

    space_id = keys.space_id
    prev, seq = GENESIS, 0
    for logged in events:
        digest = chain_hash(prev, logged.canonical())
        if logged.seq != seq + 1 or logged.prev_hash != prev.hex() or digest.hex() != logged.hash:
            raise CryptoError(f"event {logged.seq} of the imported log does not fit its chain")
        at_ms = (datetime.fromisoformat(logged.at) - _EPOCH) // timedelta(milliseconds=1)
        conn.execute(
            _INSERT_EVENT,
            {
                "space_id": space_id,
                "seq": logged.seq,
                "at": at_ms,
                "prev_hash": prev,
                "hash": digest,
                "body": keys.cipher.seal_raw(logged.canonical(), _ad(space_id, logged.seq)),
            },
        )
        prev, seq = digest, logged.seq
    if seq:
        conn.execute(_INSERT_HEAD, {"space_id": space_id, "seq": seq, "head": prev})
    return seq, prev
