"""Connector accounts through the gate: every operation one decided, audited access.

The citizen links, lists and deletes accounts (actor ``citizen``); a sync runs as the
account itself (actor ``connector``, id = the account id), which the gate lets read
and write only its connector's doctypes, its sources and its own state
(``access/policy.py``, reason ``linked-account``). Tokens are sealed by the store with
the space's key; what leaves this module for display (:class:`AccountState`) never
holds them.

Audit actions: ``connector.authorize`` (consent started at the provider),
``connector.link`` (account created), ``connector.sync.start``, ``connector.tokens``
(refreshed tokens stored), ``connector.cursor`` (a chunk written, the cursor
advanced), ``connector.sync`` (end of a sync: outcome, counts, failure code),
``connector.delete``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Engine

from selfdata.errors import Conflict, NotFound
from selfdata.store import connectors as store
from selfdata.store.connectors import AccountRow
from selfdata.store.types import at_ms

if TYPE_CHECKING:
    from selfdata.access.gate import Access
    from selfdata.access.view import SpaceView

__all__ = [
    "DOCTYPE",
    "AccountState",
    "Status",
    "begin_link",
    "delete_account",
    "due_accounts",
    "finish_link",
    "get_account",
    "list_accounts",
    "load_for_sync",
    "pending_link",
    "record_sync",
    "save_cursor",
    "save_tokens",
]

DOCTYPE = "connector.account"
"""The name the gate and the access log use for connector accounts."""

Status = Literal["ok", "syncing", "failing", "needs_reauthorization"]
PENDING_MINUTES = 30  # an authorisation not finished by then is forgotten


@dataclass(frozen=True, slots=True)
class AccountState:
    """An account as the citizen sees it: its state, never its tokens."""

    id: str
    connector: str
    status: str
    label: str | None
    reason: str | None
    message: dict[str, str] | None
    attempts: int
    created_at: datetime
    last_sync_at: datetime | None
    next_sync_at: datetime | None
    cursor: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "connector": self.connector,
            "status": self.status,
            "label": self.label,
            "reason": self.reason,
            "message": self.message,
            "attempts": self.attempts,
            "created_at": self.created_at.isoformat(),
            "last_sync_at": self.last_sync_at.isoformat() if self.last_sync_at else None,
            "next_sync_at": self.next_sync_at.isoformat() if self.next_sync_at else None,
            "next_retry_at": (
                self.next_sync_at.isoformat()
                if self.next_sync_at and self.status == "failing"
                else None
            ),
            "cursor": self.cursor,
        }


def _state(row: AccountRow) -> AccountState:
    secret = row.secret
    return AccountState(
        id=row.id,
        connector=row.connector,
        status=row.status,
        label=secret.get("label"),
        reason=row.reason,
        message=secret.get("message"),
        attempts=row.attempts,
        created_at=at_ms(row.created_at),
        last_sync_at=at_ms(row.last_sync_at) if row.last_sync_at is not None else None,
        next_sync_at=at_ms(row.next_sync_at) if row.next_sync_at is not None else None,
        cursor=dict(secret.get("cursor") or {}),
    )


def _named(access: Access, action: str, **detail: Any) -> None:
    access.request = replace(access.request, action=action)  # type: ignore[arg-type]
    access.note(**detail)


# -- the citizen ----------------------------------------------------------------------


def begin_link(
    view: SpaceView,
    connector: str,
    doctypes: tuple[str, ...],
    state_hash: bytes,
    pending: Mapping[str, Any],
) -> str:
    """Remember an authorisation started at the provider (the PKCE verifier and the
    redirect URI are sealed); returns the pending account's id."""
    with view._gate.access(view._request("write", DOCTYPE)) as access:
        store.delete_stale_pending(
            access.conn, view.space_id, access.now_ms - PENDING_MINUTES * 60_000
        )
        account_id = store.insert_account(
            access.conn,
            access.keys,
            connector=connector,
            doctypes=doctypes,
            status="pending",
            secret={"pending": dict(pending)},
            now_ms=access.now_ms,
            state_hash=state_hash,
        )
        _named(access, "connector.authorize", connector=connector)
        access.note(target=account_id)
    return account_id


def pending_link(view: SpaceView, connector: str, state_hash: bytes) -> tuple[str, dict[str, Any]]:
    """The pending authorisation this ``state`` names, in this space: its id and what
    was sealed when it began. A state of another space, another connector or too old
    is not found."""
    with view._gate.access(view._request("read", DOCTYPE), audited=False) as access:
        row = store.find_pending(access.conn, access.keys, state_hash)
        too_old = access.now_ms - PENDING_MINUTES * 60_000
    if row is None or row.connector != connector or row.created_at < too_old:
        raise NotFound(
            "this authorisation is unknown or expired: start again from the connectors page"
        )
    return row.id, dict(row.secret.get("pending") or {})


def finish_link(
    view: SpaceView, account_id: str, secret: Mapping[str, Any], label: str | None
) -> AccountState:
    """The provider gave tokens: the pending account becomes linked and due at once.
    When the space already links the same account at the provider (the citizen
    consents again after a revocation), that account takes the new tokens and keeps
    its cursor; the pending one is dropped."""
    with view._gate.access(view._request("write", DOCTYPE)) as access:
        row = store.find_by_id_any(access.conn, access.keys, account_id)
        if row is None or row.status != "pending":
            raise Conflict("this authorisation was already used")
        same = [
            other
            for other in store.list_accounts(access.conn, access.keys)
            if other.connector == row.connector
            and other.secret.get("external_id") == secret.get("external_id")
        ]
        if same:
            store.delete_account(access.conn, view.space_id, row.id)
            row, account_id = same[0], same[0].id
            secret = {**secret, "cursor": row.secret.get("cursor") or {}}
        else:
            secret = {**secret, "cursor": {}}
        store.update_account(
            access.conn,
            access.keys,
            row,
            now_ms=access.now_ms,
            secret={**secret, "label": label},
            status="ok",
            state_hash=None,
            reason=None,
            attempts=0,
            next_sync_at=access.now_ms,
        )
        _named(access, "connector.link", connector=row.connector)
        access.note(target=account_id)
        linked = store.get_account(access.conn, access.keys, account_id)
    return _state(linked)


def list_accounts(view: SpaceView) -> list[AccountState]:
    with view._gate.access(view._request("read", DOCTYPE), audited=False) as access:
        rows = store.list_accounts(access.conn, access.keys)
        access.note(count=len(rows))
    return [_state(row) for row in rows]


def get_account(view: SpaceView, account_id: str) -> AccountState:
    with view._gate.access(view._request("read", DOCTYPE), audited=False) as access:
        row = store.get_account(access.conn, access.keys, account_id)
    return _state(row)


def delete_account(view: SpaceView, account_id: str) -> None:
    """Forget the account and its tokens (the data it synced stays, with its source)."""
    with view._gate.access(view._request("delete", DOCTYPE)) as access:
        store.delete_account(access.conn, view.space_id, account_id)
        _named(access, "connector.delete")
        access.note(target=account_id)


# -- the account itself, while it syncs -------------------------------------------------


def load_for_sync(view: SpaceView, stale_ms: int) -> tuple[AccountState, dict[str, Any]] | None:
    """Mark the account ``syncing`` and return it with its secret; None when another
    sync holds it (``syncing`` since after ``stale_ms``)."""
    with view._gate.access(view._request("update", DOCTYPE)) as access:
        row = store.get_account(access.conn, access.keys, view.actor.id, for_update=True)
        if row.status == "syncing" and row.updated_at >= stale_ms:
            access.audited = False
            return None
        store.update_account(access.conn, access.keys, row, now_ms=access.now_ms, status="syncing")
        _named(access, "connector.sync.start", connector=row.connector)
        access.note(target=row.id)
    return _state(row), dict(row.secret)


def _update_secret(view: SpaceView, action: str, change: Mapping[str, Any], **detail: Any) -> None:
    with view._gate.access(view._request("update", DOCTYPE)) as access:
        row = store.get_account(access.conn, access.keys, view.actor.id, for_update=True)
        store.update_account(
            access.conn, access.keys, row, now_ms=access.now_ms, secret={**row.secret, **change}
        )
        _named(access, action, **detail)
        access.note(target=row.id)


def save_tokens(view: SpaceView, tokens: Mapping[str, Any]) -> None:
    """Store refreshed tokens at once (a provider may rotate the refresh token)."""
    _update_secret(view, "connector.tokens", {"tokens": dict(tokens)})


def save_cursor(view: SpaceView, cursor: Mapping[str, Any], **counts: int) -> None:
    """Advance the cursor, once the chunk it covers is written."""
    _update_secret(view, "connector.cursor", {"cursor": dict(cursor)}, **counts)


def record_sync(
    view: SpaceView,
    *,
    status: Status,
    next_sync_ms: int | None,
    reason: str | None = None,
    message: Mapping[str, str] | None = None,
    succeeded: bool,
    counts: Mapping[str, int] | None = None,
) -> AccountState:
    """The end of a sync: its outcome in the account's state and in the log."""
    with view._gate.access(view._request("update", DOCTYPE)) as access:
        row = store.get_account(access.conn, access.keys, view.actor.id, for_update=True)
        attempts = 0 if succeeded else row.attempts + 1
        clear: dict[str, Any] = {
            "status": status,
            "reason": reason,
            "attempts": attempts,
            "next_sync_at": next_sync_ms,
        }
        if succeeded:
            clear["last_sync_at"] = access.now_ms
        secret = {**row.secret, "message": dict(message) if message else None}
        store.update_account(
            access.conn, access.keys, row, now_ms=access.now_ms, secret=secret, **clear
        )
        _named(access, "connector.sync", outcome=status, **dict(counts or {}))
        if reason:
            access.note(error=reason)
        access.note(target=row.id)
        updated = store.get_account(access.conn, access.keys, row.id)
    return _state(updated)


# -- the scheduler (clear columns, no key) -----------------------------------------------


def due_accounts(engine: Engine, now_ms: int, stale_ms: int) -> list[tuple[str, str]]:
    """(space id, account id) of the accounts whose sync is due, across spaces."""
    with engine.connect() as conn:
        return store.due_accounts(conn, now_ms, stale_ms)
