"""Reads of the latest committed state outside any transaction (db/prepared.py).

The OAuth token look-up runs this way so it does not queue behind the writers; what it
must keep is seeing a revocation as soon as it is committed, and never an uncommitted
write."""

from __future__ import annotations

import threading
import time

from sqlalchemy import bindparam, insert, select, update

from selfdata.db.prepared import Prepared
from selfdata.db.tables import oauth_tokens
from selfdata.platform import Platform

_BY_ID = Prepared(select(oauth_tokens).where(oauth_tokens.c.id == bindparam("id")))


def _token_row(platform: Platform) -> None:
    with platform.engine.begin() as conn:
        conn.execute(
            insert(oauth_tokens).values(
                id="01TOKEN0000000000000000000",
                access_hash=b"a" * 32,
                client_id="svc",
                space_id="01SPACE0000000000000000000",
                consent_id="01CONSENT00000000000000000",
                scope="read",
                issued_at=1,
                access_expires_at=2,
            )
        )


def _read(platform: Platform) -> object:
    with platform.engine.connect() as conn:
        return _BY_ID.first_committed(conn, {"id": "01TOKEN0000000000000000000"})


def test_a_committed_revocation_is_seen_at_once_and_an_open_write_never(
    platform: Platform,
) -> None:
    _token_row(platform)
    assert _read(platform).revoked_at is None  # type: ignore[attr-defined]

    writing, release = threading.Event(), threading.Event()

    def revoke_slowly() -> None:
        with platform.engine.begin() as conn:  # SQLite: BEGIN IMMEDIATE, the writers' lock
            conn.execute(
                update(oauth_tokens)
                .where(oauth_tokens.c.id == "01TOKEN0000000000000000000")
                .values(revoked_at=5, revoked_reason="revoked")
            )
            writing.set()
            release.wait(10)

    writer = threading.Thread(target=revoke_slowly)
    writer.start()
    try:
        assert writing.wait(10)
        started = time.perf_counter()
        row = _read(platform)
        # Not queued behind the open write transaction, and not seeing its change.
        assert time.perf_counter() - started < 1.0
        assert row.revoked_at is None  # type: ignore[attr-defined]
    finally:
        release.set()
        writer.join(10)
    assert _read(platform).revoked_at == 5  # type: ignore[attr-defined]
