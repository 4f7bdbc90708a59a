"""Login sessions (browser cookie) and personal bearer tokens, stored as hashes only."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Engine, insert, select, update

from selfdata.clock import Clock
from selfdata.db.tables import accounts, auth_sessions, spaces
from selfdata.errors import AuthenticationFailed, NotFound
from selfdata.ids import new_id
from selfdata.spaces.accounts import Role

__all__ = ["IssuedToken", "Principal", "SessionKind", "SessionStore"]

SessionKind = Literal["session", "token"]
_PREFIX = {"session": "sds_", "token": "sdt_"}
_TOUCH_MS = 60_000


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a valid session or token belongs to."""

    account_id: str
    username: str
    role: Role
    space_id: str | None
    session_id: str
    kind: SessionKind


@dataclass(frozen=True, slots=True)
class IssuedToken:
    id: str
    secret: str  # shown once; only its hash is stored
    expires_at: int


def _digest(secret: str) -> bytes:
    # The secret has 256 random bits: a fast hash is enough (no dictionary to fear).
    return hashlib.sha256(secret.encode()).digest()


class SessionStore:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def _now(self) -> int:
        return int(self._clock.now().timestamp() * 1000)

    def issue(
        self, account_id: str, kind: SessionKind, ttl_seconds: int, label: str | None = None
    ) -> IssuedToken:
        secret = _PREFIX[kind] + secrets.token_urlsafe(32)
        now = self._now()
        token = IssuedToken(new_id(now), secret, now + ttl_seconds * 1000)
        with self._engine.begin() as conn:
            conn.execute(
                insert(auth_sessions).values(
                    id=token.id,
                    token_hash=_digest(secret),
                    account_id=account_id,
                    kind=kind,
                    label=label,
                    created_at=now,
                    expires_at=token.expires_at,
                )
            )
        return token

    def authenticate(self, secret: str) -> Principal:
        if not secret or len(secret) > 200:
            raise AuthenticationFailed("missing or malformed credentials")
        now = self._now()
        with self._engine.begin() as conn:
            row = conn.execute(
                select(
                    auth_sessions.c.id,
                    auth_sessions.c.kind,
                    auth_sessions.c.expires_at,
                    auth_sessions.c.revoked_at,
                    auth_sessions.c.last_used_at,
                    accounts.c.id.label("account_id"),
                    accounts.c.username,
                    accounts.c.role,
                    accounts.c.space_id,
                    accounts.c.status,
                    spaces.c.status.label("space_status"),
                )
                .join(accounts, accounts.c.id == auth_sessions.c.account_id)
                .outerjoin(spaces, spaces.c.id == accounts.c.space_id)
                .where(auth_sessions.c.token_hash == _digest(secret))
            ).first()
            if row is None or row.revoked_at is not None:
                raise AuthenticationFailed("the session or token is not valid; sign in again")
            if row.expires_at <= now:
                raise AuthenticationFailed("the session or token has expired; sign in again")
            if row.status != "active" or (row.space_status not in (None, "active")):
                raise AuthenticationFailed("this account is not active")
            if row.last_used_at is None or now - row.last_used_at > _TOUCH_MS:
                # Recording use at most once a minute keeps reads from taking the write lock.
                conn.execute(
                    update(auth_sessions)
                    .where(auth_sessions.c.id == row.id)
                    .values(last_used_at=now)
                )
        return Principal(row.account_id, row.username, row.role, row.space_id, row.id, row.kind)

    def revoke(self, session_id: str, account_id: str) -> None:
        with self._engine.begin() as conn:
            result = conn.execute(
                update(auth_sessions)
                .where(
                    auth_sessions.c.id == session_id,
                    auth_sessions.c.account_id == account_id,
                    auth_sessions.c.revoked_at.is_(None),
                )
                .values(revoked_at=self._now())
            )
            if not result.rowcount:
                raise NotFound(f"no active session or token {session_id}")

    def revoke_all(self, account_id: str) -> int:
        with self._engine.begin() as conn:
            return conn.execute(
                update(auth_sessions)
                .where(
                    auth_sessions.c.account_id == account_id, auth_sessions.c.revoked_at.is_(None)
                )
                .values(revoked_at=self._now())
            ).rowcount

    def list_tokens(self, account_id: str) -> list[dict[str, object]]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(auth_sessions)
                .where(
                    auth_sessions.c.account_id == account_id,
                    auth_sessions.c.revoked_at.is_(None),
                    auth_sessions.c.expires_at > self._now(),
                )
                .order_by(auth_sessions.c.created_at)
            ).all()
        return [
            {
                "id": r.id,
                "kind": r.kind,
                "label": r.label,
                "created_at": r.created_at,
                "expires_at": r.expires_at,
                "last_used_at": r.last_used_at,
            }
            for r in rows
        ]
