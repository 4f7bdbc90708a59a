"""Signed checkpoints: the operator's statement of a space's log head at a moment.

A checkpoint signs (space, sequence number, head hash). The head is clear metadata
(``audit_heads``), so the operator signs without being able to read a single event.
Once a citizen holds a checkpoint, no one — the operator included — can rewrite the
log up to that point without the signature failing to match.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from selfdata.crypto.signing import OperatorSigner, verify_jws
from selfdata.db.tables import audit_checkpoints, audit_heads

__all__ = [
    "CHECKPOINT_TYP",
    "Checkpoint",
    "checkpoint_due_spaces",
    "create_checkpoint",
    "list_checkpoints",
]

CHECKPOINT_TYP = "selfdata-log-checkpoint+jws"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    space_id: str
    seq: int
    head: str  # hex
    at: str
    signature: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "head": self.head, "at": self.at, "signature": self.signature}

    def verify(self, jwks: dict[str, Any]) -> dict[str, Any]:
        """The signed claims, checked against this checkpoint's own fields."""
        claims = verify_jws(self.signature, jwks, CHECKPOINT_TYP)
        if (claims.get("sub"), claims.get("seq"), claims.get("head")) != (
            self.space_id,
            self.seq,
            self.head,
        ):
            from selfdata.errors import CryptoError

            raise CryptoError(
                f"checkpoint {self.seq}: the signed statement does not match its fields"
            )
        return claims


def _row_to_checkpoint(row: Any) -> Checkpoint:
    at = datetime.fromtimestamp(row.at / 1000, tz=UTC).isoformat(timespec="milliseconds")
    return Checkpoint(row.space_id, int(row.seq), bytes(row.head).hex(), at, row.signature)


def create_checkpoint(
    conn: Connection, space_id: str, signer: OperatorSigner, now_ms: int, issuer: str
) -> Checkpoint | None:
    """Sign the current head of ``space_id`` (None when the space has no log). Signing
    the same head twice returns the existing checkpoint."""
    head = conn.execute(
        select(audit_heads.c.seq, audit_heads.c.head).where(audit_heads.c.space_id == space_id)
    ).first()
    if head is None:
        return None
    existing = conn.execute(
        select(audit_checkpoints).where(
            audit_checkpoints.c.space_id == space_id, audit_checkpoints.c.seq == head.seq
        )
    ).first()
    if existing is not None:
        return _row_to_checkpoint(existing)
    claims = {
        "iss": issuer,
        "sub": space_id,
        "seq": int(head.seq),
        "head": bytes(head.head).hex(),
        "iat": now_ms // 1000,
    }
    signature = signer.sign(claims, CHECKPOINT_TYP)
    try:
        # A savepoint: if another worker signed the same head meanwhile, keep theirs.
        with conn.begin_nested():
            conn.execute(
                insert(audit_checkpoints).values(
                    space_id=space_id,
                    seq=int(head.seq),
                    head=bytes(head.head),
                    at=now_ms,
                    signature=signature,
                )
            )
    except IntegrityError:
        pass
    return _row_to_checkpoint(
        conn.execute(
            select(audit_checkpoints).where(
                audit_checkpoints.c.space_id == space_id, audit_checkpoints.c.seq == head.seq
            )
        ).one()
    )


def list_checkpoints(conn: Connection, space_id: str) -> list[Checkpoint]:
    rows = conn.execute(
        select(audit_checkpoints)
        .where(audit_checkpoints.c.space_id == space_id)
        .order_by(audit_checkpoints.c.seq)
    ).all()
    return [_row_to_checkpoint(row) for row in rows]


def checkpoint_due_spaces(engine: Engine) -> list[str]:
    """Spaces whose log grew since their last checkpoint (or never had one)."""
    last = (
        select(audit_checkpoints.c.space_id, func.max(audit_checkpoints.c.seq).label("seq"))
        .group_by(audit_checkpoints.c.space_id)
        .subquery()
    )
    query = (
        select(audit_heads.c.space_id)
        .outerjoin(last, last.c.space_id == audit_heads.c.space_id)
        .where((last.c.seq.is_(None)) | (last.c.seq < audit_heads.c.seq))
    )
    with engine.connect() as conn:
        return [row.space_id for row in conn.execute(query)]
