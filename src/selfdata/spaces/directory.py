"""The directory of spaces and accounts: create, list, suspend, resume, erase, log in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from selfdata.access import Actor, Gate
from selfdata.access.portability import ImportReport, import_space
from selfdata.audit import AuditEvent
from selfdata.clock import Clock
from selfdata.db.tables import accounts, auth_sessions, spaces
from selfdata.errors import AuthenticationFailed, Conflict, NotFound
from selfdata.ids import new_id
from selfdata.rights.certificate import ErasureStatement
from selfdata.settings import Settings
from selfdata.spaces.accounts import (
    Account,
    PasswordHasher,
    Role,
    validate_password,
    validate_username,
)

__all__ = ["CertifiedErasure", "SpaceDirectory", "SpaceInfo"]


@dataclass(frozen=True, slots=True)
class SpaceInfo:
    id: str
    name: str
    status: str
    created_at: datetime
    timezone: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "timezone": self.timezone,
        }


@dataclass(frozen=True, slots=True)
class CertifiedErasure:
    """A whole space erased, and the operator's signed certificate of it (the only
    trace left: the space's own log is destroyed with it)."""

    statement: ErasureStatement
    certificate: str

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.statement.counts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "space_id": self.statement.space_id,
            "erased_at": self.statement.erased_at.isoformat(),
            "counts": self.counts,
            "key_destroyed": self.statement.key_destroyed,
            "certificate": self.certificate,
        }


def _ms(clock: Clock) -> int:
    return int(clock.now().timestamp() * 1000)


class SpaceDirectory:
    def __init__(
        self, engine: Engine, gate: Gate, hasher: PasswordHasher, clock: Clock, settings: Settings
    ) -> None:
        self._engine = engine
        self._gate = gate
        self._hasher = hasher
        self._clock = clock
        self._settings = settings

    # -- spaces ------------------------------------------------------------------

    def create_space(self, name: str, password: str, actor: Actor) -> SpaceInfo:
        """A space with its citizen account (same name) and its own key."""
        username = validate_username(name)
        validate_password(password)
        password_hash = self._hasher.hash(password)
        now = _ms(self._clock)
        space_id, account_id = new_id(now), new_id(now)
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(spaces).values(
                        id=space_id,
                        name=username,
                        status="active",
                        timezone=self._settings.timezone,
                        created_at=now,
                        status_changed_at=now,
                    )
                )
                conn.execute(
                    insert(accounts).values(
                        id=account_id,
                        username=username,
                        password_hash=password_hash,
                        role="citizen",
                        space_id=space_id,
                        status="active",
                        created_at=now,
                        failed_logins=0,
                    )
                )
                self._gate.provision_space(conn, space_id, actor)
        except IntegrityError:
            raise Conflict(f"the name {username!r} is already taken") from None
        return self.get_space(username)

    def create_operator(self, username: str, password: str) -> Account:
        username = validate_username(username)
        validate_password(password)
        now = _ms(self._clock)
        account_id = new_id(now)
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(accounts).values(
                        id=account_id,
                        username=username,
                        password_hash=self._hasher.hash(password),
                        role="operator",
                        space_id=None,
                        status="active",
                        created_at=now,
                        failed_logins=0,
                    )
                )
        except IntegrityError:
            raise Conflict(f"the name {username!r} is already taken") from None
        return Account(account_id, username, "operator", None, "active")

    def _info(self, row: Any) -> SpaceInfo:
        return SpaceInfo(
            row.id,
            row.name,
            row.status,
            datetime.fromtimestamp(row.created_at / 1000).astimezone(),
            row.timezone,
        )

    def get_space(self, name_or_id: str) -> SpaceInfo:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(spaces).where(
                    (spaces.c.name == name_or_id.lower()) | (spaces.c.id == name_or_id)
                )
            ).first()
        if row is None or row.status == "erased":
            raise NotFound(f"no space named {name_or_id!r}")
        return self._info(row)

    def list_spaces(self, *, include_erased: bool = False) -> list[SpaceInfo]:
        query = select(spaces).order_by(spaces.c.name)
        if not include_erased:
            query = query.where(spaces.c.status != "erased")
        with self._engine.connect() as conn:
            return [self._info(row) for row in conn.execute(query)]

    def count_spaces(self) -> dict[str, int]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(spaces.c.status, func.count()).group_by(spaces.c.status)
            ).all()
        return {status: int(n) for status, n in rows}

    def _set_status(self, name: str, status: str, actor: Actor, action: str) -> SpaceInfo:
        space = self.get_space(name)
        self._gate.record_admin_event(actor, space.id, action)
        with self._engine.begin() as conn:
            conn.execute(
                update(spaces)
                .where(spaces.c.id == space.id)
                .values(status=status, status_changed_at=_ms(self._clock))
            )
            if status == "suspended":
                # A suspended citizen is signed out everywhere at once.
                ids = select(accounts.c.id).where(accounts.c.space_id == space.id).scalar_subquery()
                conn.execute(
                    update(auth_sessions)
                    .where(auth_sessions.c.account_id.in_(ids))
                    .values(revoked_at=_ms(self._clock))
                )
        return self.get_space(space.id)

    def suspend(self, name: str, actor: Actor) -> SpaceInfo:
        return self._set_status(name, "suspended", actor, "space.suspend")

    def resume(self, name: str, actor: Actor) -> SpaceInfo:
        return self._set_status(name, "active", actor, "space.resume")

    def erase(self, name: str, actor: Actor) -> dict[str, int]:
        """Crypto-shred the space, purge its data, remove its account and sessions.
        The space row stays as an anonymous tombstone (its name is freed)."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(spaces).where((spaces.c.name == name.lower()) | (spaces.c.id == name))
            ).first()
        if row is None:
            raise NotFound(f"no space named {name!r}")
        counts = self._gate.erase_space(actor, row.id)
        with self._engine.begin() as conn:
            ids = select(accounts.c.id).where(accounts.c.space_id == row.id).scalar_subquery()
            conn.execute(delete(auth_sessions).where(auth_sessions.c.account_id.in_(ids)))
            counts["accounts"] = conn.execute(
                delete(accounts).where(accounts.c.space_id == row.id)
            ).rowcount
            conn.execute(
                update(spaces).where(spaces.c.id == row.id).values(name=f"erased:{row.id}")
            )
        return counts

    def erase_certified(self, name: str, actor: Actor) -> CertifiedErasure:
        """:meth:`erase`, then the operator's signed certificate of it: what was erased
        (rows per table, blobs, the account), that the key was destroyed first, when,
        and the head of the space's log just before it was destroyed."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(spaces.c.id).where((spaces.c.name == name.lower()) | (spaces.c.id == name))
            ).first()
        head = self._gate.log_head(row.id) if row is not None else None
        # Plain str keys (table names are SQLAlchemy's quoted_name) for JSON and JWS.
        counts = {str(k): int(v) for k, v in self.erase(name, actor).items()}
        assert row is not None  # erase raised NotFound otherwise
        # The key is gone whether this call or an interrupted earlier one destroyed it.
        counts["space_keys"] = counts.pop("key_destroyed", 0)
        statement = ErasureStatement(
            space_id=row.id,
            scope="space",
            target=None,
            erased_at=self._clock.now(),
            counts=counts,
            key_destroyed=True,
            log_seq=head[0] if head else None,
            log_head=head[1] if head else None,
        )
        return CertifiedErasure(statement, self._gate.certify_erasure(statement))

    # -- login -------------------------------------------------------------------

    def login(self, username: str, password: str) -> Account:
        """Check a password; repeated failures lock the account for a while."""
        limits = self._settings.limits
        now = _ms(self._clock)
        with self._engine.connect() as conn:
            row = conn.execute(
                select(accounts).where(accounts.c.username == username.strip().lower())
            ).first()
        if row is not None and row.locked_until and row.locked_until > now:
            # Take as long as a real check: a quick answer would reveal that the
            # username exists.
            self._hasher.verify(None, password)
            raise AuthenticationFailed(
                "too many failed sign-in attempts; try again in a few minutes",
                retry_after=(row.locked_until - now) // 1000 + 1,
            )
        ok = self._hasher.verify(row.password_hash if row else None, password)
        if row is None or not ok:
            if row is not None:
                self._failed_login(
                    row, now, limits.login_attempts_before_lock, limits.login_lock_seconds
                )
            raise AuthenticationFailed("wrong username or password")
        if row.status != "active":
            raise AuthenticationFailed("this account is not active")
        space_status = None
        with self._engine.begin() as conn:
            if row.space_id:
                space_status = conn.execute(
                    select(spaces.c.status).where(spaces.c.id == row.space_id)
                ).scalar()
            values: dict[str, Any] = {
                "failed_logins": 0,
                "locked_until": None,
                "last_login_at": now,
            }
            if self._hasher.needs_rehash(row.password_hash):
                values["password_hash"] = self._hasher.hash(password)
            conn.execute(update(accounts).where(accounts.c.id == row.id).values(**values))
        if row.space_id and space_status != "active":
            raise AuthenticationFailed("this space is suspended; contact the operator")
        if row.space_id:
            self._gate.log_event(
                row.space_id,
                AuditEvent(
                    action="login",
                    actor_kind="citizen",
                    actor_id=row.id,
                    outcome="allowed",
                    detail={"actor": row.username},
                ),
            )
        return Account(row.id, row.username, row.role, row.space_id, row.status)

    def _failed_login(self, row: Any, now: int, attempts: int, lock_seconds: int) -> None:
        with self._engine.begin() as conn:
            # Counted in the database, so parallel guesses cannot share one count.
            conn.execute(
                update(accounts)
                .where(accounts.c.id == row.id)
                .values(failed_logins=accounts.c.failed_logins + 1)
            )
            failures = int(
                conn.execute(
                    select(accounts.c.failed_logins).where(accounts.c.id == row.id)
                ).scalar_one()
            )
            locked = now + lock_seconds * 1000 if failures >= attempts else None
            if locked:
                conn.execute(
                    update(accounts)
                    .where(accounts.c.id == row.id)
                    .values(failed_logins=0, locked_until=locked)
                )
        if row.space_id:
            self._gate.log_event(
                row.space_id,
                AuditEvent(
                    action="login",
                    actor_kind="anonymous",
                    actor_id="-",
                    outcome="denied",
                    reason="wrong-password",
                    detail={"locked": bool(locked)},
                ),
            )

    def change_password(self, account_id: str, current: str, new: str) -> None:
        validate_password(new)
        with self._engine.connect() as conn:
            row = conn.execute(select(accounts).where(accounts.c.id == account_id)).first()
        limits = self._settings.limits
        now = _ms(self._clock)
        if row is not None and row.locked_until and row.locked_until > now:
            raise AuthenticationFailed("too many failed attempts; try again in a few minutes")
        if row is None or not self._hasher.verify(row.password_hash, current):
            if row is not None:
                self._failed_login(
                    row, now, limits.login_attempts_before_lock, limits.login_lock_seconds
                )
            raise AuthenticationFailed("the current password is wrong")
        with self._engine.begin() as conn:
            conn.execute(
                update(accounts)
                .where(accounts.c.id == account_id)
                .values(password_hash=self._hasher.hash(new))
            )

    def account_for_space(self, space_id: str) -> Account:
        with self._engine.connect() as conn:
            row = conn.execute(select(accounts).where(accounts.c.space_id == space_id)).first()
        if row is None:
            raise NotFound("this space has no account")
        return Account(row.id, row.username, row.role, row.space_id, row.status)

    def account(self, account_id: str) -> Account:
        with self._engine.connect() as conn:
            row = conn.execute(select(accounts).where(accounts.c.id == account_id)).first()
        if row is None:
            raise NotFound("no such account")
        role: Role = row.role
        return Account(row.id, row.username, role, row.space_id, row.status)

    # -- moving a space in --------------------------------------------------------

    def import_space(
        self,
        source: BinaryIO,
        password: str,
        actor: Actor,
        *,
        name: str | None = None,
        passphrase: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportReport:
        """Restore an exported space as a new space with a new key and a new citizen
        account (named ``name``, or as in the archive), all or nothing."""
        if name is not None:
            name = validate_username(name)
        validate_password(password)
        password_hash = self._hasher.hash(password)

        def create_account(conn: Connection, space_id: str, now_ms: int) -> None:
            username = conn.execute(
                select(spaces.c.name).where(spaces.c.id == space_id)
            ).scalar_one()
            validate_username(username)
            conn.execute(
                insert(accounts).values(
                    id=new_id(now_ms),
                    username=username,
                    password_hash=password_hash,
                    role="citizen",
                    space_id=space_id,
                    status="active",
                    created_at=now_ms,
                    failed_logins=0,
                )
            )

        return import_space(
            self._gate,
            actor,
            source,
            name=name,
            create_account=create_account,
            passphrase=passphrase,
            progress=progress,
        )
