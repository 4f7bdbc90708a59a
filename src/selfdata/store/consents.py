"""Consent records, sealed with the space key like any personal data.

Which services a citizen uses says a lot about them, so the record itself is sealed;
the clear columns are only what the authorisation point filters on (service, status,
expiry).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, insert, select, update

from selfdata.consent.record import ConsentRecord
from selfdata.crypto import Associated, SpaceKeys
from selfdata.db.tables import consents, oauth_tokens
from selfdata.errors import NotFound
from selfdata.store.types import to_ms

__all__ = [
    "active_consents",
    "consent_states",
    "get_consent",
    "list_consents",
    "revoke_tokens",
    "save_consent",
]


def _ad(space_id: str, consent_id: str) -> bytes:
    return Associated(space_id, "consent", "consent.record", consent_id).encode()


def _decode(keys: SpaceKeys, row: Any) -> ConsentRecord:
    plain = keys.cipher.open_raw(bytes(row.body), _ad(keys.space_id, row.id))
    return ConsentRecord.from_json(orjson.loads(plain))


def save_consent(conn: Connection, keys: SpaceKeys, record: ConsentRecord, now_ms: int) -> None:
    body = keys.cipher.seal_raw(orjson.dumps(record.to_json()), _ad(keys.space_id, record.id))
    values = {
        "service_id": record.service_id,
        "status": record.status,
        "given_at": to_ms(datetime.fromisoformat(record.given_at)),
        "expires_at": to_ms(record.expires),
        "updated_at": now_ms,
        "body": body,
    }
    exists = conn.execute(
        select(consents.c.id).where(
            consents.c.space_id == keys.space_id, consents.c.id == record.id
        )
    ).first()
    if exists:
        conn.execute(
            update(consents)
            .where(consents.c.space_id == keys.space_id, consents.c.id == record.id)
            .values(**values)
        )
    else:
        conn.execute(insert(consents).values(space_id=keys.space_id, id=record.id, **values))


def get_consent(conn: Connection, keys: SpaceKeys, consent_id: str) -> ConsentRecord:
    row = conn.execute(
        select(consents).where(consents.c.space_id == keys.space_id, consents.c.id == consent_id)
    ).first()
    if row is None:
        raise NotFound(f"no consent {consent_id}")
    return _decode(keys, row)


def list_consents(
    conn: Connection, keys: SpaceKeys, service_id: str | None = None
) -> list[ConsentRecord]:
    query = select(consents).where(consents.c.space_id == keys.space_id)
    if service_id is not None:
        query = query.where(consents.c.service_id == service_id)
    rows = conn.execute(query.order_by(consents.c.given_at.desc(), consents.c.id.desc())).all()
    return [_decode(keys, row) for row in rows]


def consent_states(conn: Connection, space_id: str, service_id: str) -> list[tuple[str, str, int]]:
    """(id, status, expires_at) of a service's consents in a space: clear columns only."""
    rows = conn.execute(
        select(consents.c.id, consents.c.status, consents.c.expires_at).where(
            consents.c.space_id == space_id, consents.c.service_id == service_id
        )
    ).all()
    return [(r.id, r.status, int(r.expires_at)) for r in rows]


def active_consents(
    conn: Connection, keys: SpaceKeys, service_id: str, now_ms: int
) -> list[ConsentRecord]:
    rows = conn.execute(
        select(consents).where(
            consents.c.space_id == keys.space_id,
            consents.c.service_id == service_id,
            consents.c.status == "active",
            consents.c.expires_at > now_ms,
        )
    ).all()
    return [_decode(keys, row) for row in rows]


_SERVICE_CONSENTS = select(consents).where(
    consents.c.space_id == bindparam("space_id"), consents.c.service_id == bindparam("service_id")
)


def consent_facts(
    conn: Connection, keys: SpaceKeys, service_id: str, now_ms: int, only: str | None = None
) -> tuple[list[ConsentRecord], list[str]]:
    """For the authorisation point, in one query: a service's active consents in the
    space (decrypted) and the states of its lapsed ones (clear columns). ``only``
    restricts both to one consent (a token is bound to one)."""
    active: list[ConsentRecord] = []
    lapsed: list[str] = []
    for row in conn.execute(
        _SERVICE_CONSENTS, {"space_id": keys.space_id, "service_id": service_id}
    ):
        if only is not None and row.id != only:
            continue
        if row.status == "withdrawn":
            lapsed.append("withdrawn")
        elif row.status == "expired" or row.expires_at <= now_ms:
            lapsed.append("expired")
        else:
            active.append(_decode(keys, row))
    return active, lapsed


def revoke_tokens(
    conn: Connection, space_id: str, consent_id: str, now_ms: int, reason: str = "consent-withdrawn"
) -> int:
    """Revoke every OAuth token bound to a consent (in the withdrawal's transaction)."""
    return conn.execute(
        update(oauth_tokens)
        .where(
            oauth_tokens.c.space_id == space_id,
            oauth_tokens.c.consent_id == consent_id,
            oauth_tokens.c.revoked_at.is_(None),
        )
        .values(revoked_at=now_ms, revoked_reason=reason)
    ).rowcount
