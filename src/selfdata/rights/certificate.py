"""Signed erasure certificates: the operator's statement of what was erased, and when.

A certificate is a compact JWS (``typ selfdata-erasure-certificate+jws``) signed with
the operator's Ed25519 key, so the citizen can check it offline against the published
JWK Set (``/.well-known/jwks.json``) — for a whole space it is the only trace left,
since the space's log is destroyed with it. Claims::

    {"iss": <instance URL>, "iat": <epoch s>, "jti": <certificate id>, "sub": <space id>,
     "erasure": {"scope": "space" | "doctype" | "source" | "record",
                 "target": <doctype, source id or record id; null for a space>,
                 "erased_at": <ISO 8601>, "method": "crypto-shredding+purge" | "deletion",
                 "key_destroyed": true | false,
                 "counts": {<table>: <rows deleted>, "blobs": <files removed>},
                 "log": {"seq": <n>, "head": <hex>} | null}}

``log`` is the head of the space's access log after the erasure was logged (partial
erasures: the event that records it is covered) or just before the log was destroyed
(a whole space).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast

from selfdata.crypto.signing import OperatorSigner, verify_jws
from selfdata.errors import CryptoError

__all__ = [
    "ERASURE_TYP",
    "ErasureScope",
    "ErasureStatement",
    "make_certificate",
    "verify_certificate",
]

ERASURE_TYP = "selfdata-erasure-certificate+jws"
ErasureScope = Literal["space", "doctype", "source", "record"]
_SCOPES: frozenset[str] = frozenset({"space", "doctype", "source", "record"})


@dataclass(frozen=True, slots=True)
class ErasureStatement:
    """What an erasure did, as the certificate states it."""

    space_id: str
    scope: ErasureScope
    target: str | None
    erased_at: datetime
    counts: Mapping[str, int] = field(default_factory=dict)
    key_destroyed: bool = False
    log_seq: int | None = None
    log_head: str | None = None

    @property
    def method(self) -> str:
        return "crypto-shredding+purge" if self.key_destroyed else "deletion"

    def claims(self, issuer: str, certificate_id: str) -> dict[str, Any]:
        log = (
            {"seq": self.log_seq, "head": self.log_head}
            if self.log_seq is not None and self.log_head is not None
            else None
        )
        return {
            "iss": issuer,
            "iat": int(self.erased_at.timestamp()),
            "jti": certificate_id,
            "sub": self.space_id,
            "erasure": {
                "scope": self.scope,
                "target": self.target,
                "erased_at": self.erased_at.isoformat(),
                "method": self.method,
                "key_destroyed": self.key_destroyed,
                "counts": {str(k): int(v) for k, v in sorted(self.counts.items())},
                "log": log,
            },
        }

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> ErasureStatement:
        """The statement of verified ``claims``; CryptoError if they are not one."""
        try:
            erasure = claims["erasure"]
            scope = erasure["scope"]
            if scope not in _SCOPES or not isinstance(claims["sub"], str):
                raise ValueError(scope)
            log = erasure.get("log") or {}
            counts = erasure.get("counts") or {}
            return cls(
                space_id=claims["sub"],
                scope=cast(ErasureScope, scope),
                target=erasure.get("target"),
                erased_at=datetime.fromisoformat(erasure["erased_at"]),
                counts={str(k): int(v) for k, v in counts.items()},
                key_destroyed=bool(erasure["key_destroyed"]),
                log_seq=int(log["seq"]) if "seq" in log else None,
                log_head=str(log["head"]) if "head" in log else None,
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise CryptoError("the signed statement is not an erasure certificate") from None

    def describe(self) -> str:
        """One sentence in English (the CLI prints it)."""
        what = {
            "space": f"the whole space {self.space_id}",
            "doctype": f"every {self.target} of space {self.space_id}",
            "source": f"everything from source {self.target} in space {self.space_id}",
            "record": f"record {self.target} of space {self.space_id}",
        }[self.scope]
        total = sum(v for k, v in self.counts.items() if k != "blobs")
        key = "its key destroyed, then " if self.key_destroyed else ""
        return f"{what} erased at {self.erased_at.isoformat()}: {key}{total} row(s) deleted"


def make_certificate(
    statement: ErasureStatement, signer: OperatorSigner, issuer: str, certificate_id: str
) -> str:
    """Sign ``statement`` with the operator's key."""
    return signer.sign(statement.claims(issuer, certificate_id), ERASURE_TYP)


def verify_certificate(token: str, jwks: dict[str, Any]) -> ErasureStatement:
    """The statement of ``token`` if a key of ``jwks`` signed it as an erasure
    certificate; CryptoError otherwise (bad signature, another kind of JWS, bad claims)."""
    return ErasureStatement.from_claims(verify_jws(token.strip(), jwks, ERASURE_TYP))
