"""Signed consent receipts: a compact JWS over the ISO/IEC TS 27560 record.

The citizen and the service get the same receipt; anyone can check it with the
operator's published JWK Set (``/.well-known/jwks.json``) without asking selfdata.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from selfdata.consent.record import ConsentRecord
from selfdata.crypto.signing import OperatorSigner, verify_jws

__all__ = ["RECEIPT_TYP", "make_receipt", "verify_receipt"]

RECEIPT_TYP = "selfdata-consent-receipt+jws"


def make_receipt(
    record: ConsentRecord, signer: OperatorSigner, issued_at: datetime, issuer: str
) -> str:
    payload = {
        "iss": issuer,
        "iat": int(issued_at.timestamp()),
        "sub": record.space_id,
        "aud": record.service_id,
        "consent": record.iso27560(),
    }
    return signer.sign(payload, RECEIPT_TYP)


def verify_receipt(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """The receipt's claims if the operator's key signed it (CryptoError otherwise)."""
    return verify_jws(token, jwks, RECEIPT_TYP)
