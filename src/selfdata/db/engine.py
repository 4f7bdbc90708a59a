"""Engines for the two supported databases, tuned the same way in one place."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from selfdata.errors import ConfigurationError

__all__ = ["create_engine_for", "is_sqlite"]


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def create_engine_for(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for ``url``: SQLite in WAL mode, or PostgreSQL through psycopg 3."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        engine = create_engine(
            parsed,
            # One connection per thread; WAL lets readers proceed beside the writer.
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=NullPool if parsed.database in (None, "", ":memory:") else None,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        _serialise_writers(engine)
        return engine
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(
            parsed, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
        )
    raise ConfigurationError(
        f"unsupported database URL scheme {parsed.drivername!r}; use sqlite:///PATH or "
        "postgresql://USER@HOST/DB"
    )


def _serialise_writers(engine: Engine) -> None:
    """Begin every SQLite transaction IMMEDIATE, taking turns on an in-process lock first.

    IMMEDIATE: nearly every access writes its audit event, and a deferred transaction
    that reads then writes fails at once (SQLITE_BUSY_SNAPSHOT) when another connection
    wrote in between. The lock: SQLite's busy handler waits by sleeping (1, 2, 5 … 100
    ms), so threads of one server queued on it would wake late; a lock hands over at
    once. It is re-entrant so a thread that nests connections behaves as without it
    (SQLite's own timeout answers), and other processes still meet SQLite's lock.
    """
    lock = threading.RLock()

    def begin(conn: Connection) -> None:
        lock.acquire()
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            lock.release()
            raise

    def end(conn: Connection) -> None:
        # RuntimeError: not ours (a transaction that never began), nothing to release.
        with contextlib.suppress(RuntimeError):
            lock.release()

    event.listen(engine, "begin", begin)
    event.listen(engine, "commit", end)
    event.listen(engine, "rollback", end)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" hook issue BEGIN
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: durable against application crashes, and a committed
    # transaction can only be lost on power failure — the usual trade-off for WAL.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # 64 MiB page cache: bulk imports stay in memory until commit instead of spilling.
    cursor.execute("PRAGMA cache_size=-65536")
    # Deleted content is overwritten with zeros, so freed pages keep no ciphertext
    # remnants of erased spaces either.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()
