"""Connector accounts: a space's links to a provider (Enedis Data Connect…).

One row per account. What the scheduler and the gate need before any key is used is
clear: the connector's name, the status, the doctypes it may write, the failure code,
counts and times. Everything else is sealed in ``body``, bound to the space, the
connector and the account id: the provider's tokens, the provider's id of the
account (a PRM is personal data), the sync cursor and the failure message. No token
is ever written in clear.

A ``pending`` row is an authorisation under way: its ``state_hash`` (SHA-256 of the
OAuth ``state`` sent to the provider) finds it again when the citizen comes back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, and_, delete, insert, or_, select, update

from selfdata.crypto import Associated, SpaceKeys
from selfdata.db.tables import connector_accounts
from selfdata.errors import NotFound
from selfdata.ids import new_id

__all__ = [
    "AccountRow",
    "delete_account",
    "delete_stale_pending",
    "due_accounts",
    "find_by_id_any",
    "find_pending",
    "get_account",
    "insert_account",
    "linked_doctypes",
    "list_accounts",
    "update_account",
]

_T = connector_accounts


@dataclass(frozen=True, slots=True)
class AccountRow:
    id: str
    connector: str
    status: str
    doctypes: tuple[str, ...]
    reason: str | None
    attempts: int
    created_at: int
    updated_at: int
    last_sync_at: int | None
    next_sync_at: int | None
    secret: dict[str, Any]
    """The sealed part, opened: tokens, external id, cursor, messages."""


def _ad(space_id: str, connector: str, account_id: str) -> bytes:
    return Associated(space_id, "connector-account", connector, account_id).encode()


def _seal(keys: SpaceKeys, connector: str, account_id: str, secret: Mapping[str, Any]) -> bytes:
    return keys.cipher.seal_raw(
        orjson.dumps(dict(secret)), _ad(keys.space_id, connector, account_id)
    )


def _row(keys: SpaceKeys, row: Any) -> AccountRow:
    secret = orjson.loads(
        keys.cipher.open_raw(bytes(row.body), _ad(keys.space_id, row.connector, row.id))
    )
    return AccountRow(
        id=row.id,
        connector=row.connector,
        status=row.status,
        doctypes=tuple(d for d in str(row.doctypes).split(",") if d),
        reason=row.reason,
        attempts=int(row.attempts),
        created_at=int(row.created_at),
        updated_at=int(row.updated_at),
        last_sync_at=None if row.last_sync_at is None else int(row.last_sync_at),
        next_sync_at=None if row.next_sync_at is None else int(row.next_sync_at),
        secret=secret,
    )


def insert_account(
    conn: Connection,
    keys: SpaceKeys,
    *,
    connector: str,
    doctypes: tuple[str, ...],
    status: str,
    secret: Mapping[str, Any],
    now_ms: int,
    state_hash: bytes | None = None,
) -> str:
    account_id = new_id(now_ms)
    conn.execute(
        insert(_T).values(
            space_id=keys.space_id,
            id=account_id,
            connector=connector,
            status=status,
            doctypes=",".join(doctypes),
            reason=None,
            attempts=0,
            created_at=now_ms,
            updated_at=now_ms,
            last_sync_at=None,
            next_sync_at=None,
            state_hash=state_hash,
            body=_seal(keys, connector, account_id, secret),
        )
    )
    return account_id


def get_account(
    conn: Connection, keys: SpaceKeys, account_id: str, *, for_update: bool = False
) -> AccountRow:
    query = select(_T).where(_T.c.space_id == keys.space_id, _T.c.id == account_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None or row.status == "pending":
        raise NotFound(f"no connector account {account_id}")
    return _row(keys, row)


def find_by_id_any(conn: Connection, keys: SpaceKeys, account_id: str) -> AccountRow | None:
    """An account by id, pending ones included."""
    row = conn.execute(
        select(_T).where(_T.c.space_id == keys.space_id, _T.c.id == account_id)
    ).first()
    return _row(keys, row) if row is not None else None


def find_pending(conn: Connection, keys: SpaceKeys, state_hash: bytes) -> AccountRow | None:
    row = conn.execute(
        select(_T).where(
            _T.c.space_id == keys.space_id,
            _T.c.state_hash == state_hash,
            _T.c.status == "pending",
        )
    ).first()
    return _row(keys, row) if row is not None else None


def list_accounts(conn: Connection, keys: SpaceKeys) -> list[AccountRow]:
    rows = conn.execute(
        select(_T)
        .where(_T.c.space_id == keys.space_id, _T.c.status != "pending")
        .order_by(_T.c.created_at, _T.c.id)
    ).all()
    return [_row(keys, row) for row in rows]


def update_account(
    conn: Connection,
    keys: SpaceKeys,
    account: AccountRow,
    *,
    now_ms: int,
    secret: Mapping[str, Any] | None = None,
    **clear: Any,
) -> None:
    """Change clear columns (``status``, ``reason``, ``attempts``, ``last_sync_at``,
    ``next_sync_at``, ``state_hash``) and, with ``secret``, the sealed part."""
    values: dict[str, Any] = {"updated_at": now_ms, **clear}
    if secret is not None:
        values["body"] = _seal(keys, account.connector, account.id, secret)
    conn.execute(
        update(_T).where(_T.c.space_id == keys.space_id, _T.c.id == account.id).values(**values)
    )


def delete_account(conn: Connection, space_id: str, account_id: str) -> None:
    result = conn.execute(delete(_T).where(_T.c.space_id == space_id, _T.c.id == account_id))
    if not result.rowcount:
        raise NotFound(f"no connector account {account_id}")


def delete_stale_pending(conn: Connection, space_id: str, before_ms: int) -> int:
    """Forget authorisations the citizen never finished."""
    return int(
        conn.execute(
            delete(_T).where(
                _T.c.space_id == space_id, _T.c.status == "pending", _T.c.created_at < before_ms
            )
        ).rowcount
    )


def linked_doctypes(conn: Connection, space_id: str, account_id: str) -> frozenset[str] | None:
    """For the gate: the doctypes a linked (not pending) account may write, or None."""
    row = conn.execute(
        select(_T.c.doctypes, _T.c.status).where(_T.c.space_id == space_id, _T.c.id == account_id)
    ).first()
    if row is None or row.status == "pending":
        return None
    return frozenset(d for d in str(row.doctypes).split(",") if d)


def due_accounts(conn: Connection, now_ms: int, stale_ms: int) -> list[tuple[str, str]]:
    """Accounts (space id, account id) whose next sync time has come, across spaces
    (clear columns only), plus those stuck in ``syncing`` since before ``stale_ms``
    (a process that died mid-sync)."""
    rows = conn.execute(
        select(_T.c.space_id, _T.c.id)
        .where(
            or_(
                and_(
                    _T.c.next_sync_at <= now_ms,
                    _T.c.status.in_(("ok", "failing")),
                ),
                and_(_T.c.status == "syncing", _T.c.updated_at < stale_ms),
            )
        )
        .order_by(_T.c.next_sync_at)
    ).all()
    return [(str(r.space_id), str(r.id)) for r in rows]
