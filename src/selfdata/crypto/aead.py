"""AES-256-GCM sealing bound to where the plaintext belongs.

Every ciphertext carries associated data naming its space, kind (record, series
chunk, file segment, audit event…), doctype and id. Moving a ciphertext to another
row, space or doctype therefore fails authentication instead of decrypting to
someone else's data.

Layout of a sealed value: ``version (1 byte) | nonce (12 bytes) | ciphertext+tag``.
Nonces are random: a space key seals far fewer than the 2**32 messages after which
random 96-bit nonces would need rotating (see docs/threat-model.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from selfdata.errors import CryptoError

__all__ = ["Associated", "SpaceCipher"]

_VERSION = b"\x01"
_NONCE = 12
_OVERHEAD = 1 + _NONCE + 16


@dataclass(frozen=True, slots=True)
class Associated:
    """What a ciphertext is bound to. ``extra`` distinguishes parts of one object."""

    space_id: str
    kind: str
    doctype: str
    object_id: str
    extra: str = ""

    def encode(self) -> bytes:
        return "\x1f".join(
            ("selfdata/1", self.space_id, self.kind, self.doctype, self.object_id, self.extra)
        ).encode()


class SpaceCipher:
    """Seals and opens values with one space's data-encryption key."""

    __slots__ = ("_aead", "space_id")

    def __init__(self, space_id: str, key: bytes) -> None:
        self.space_id = space_id
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, ad: Associated) -> bytes:
        if ad.space_id != self.space_id:
            raise CryptoError("refusing to seal data for another space with this key")
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, ad.encode())

    def seal_raw(self, plaintext: bytes, ad_bytes: bytes) -> bytes:
        """Hot path for bulk writes: associated data already encoded by the caller."""
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, ad_bytes)

    def open(self, sealed: bytes, ad: Associated) -> bytes:
        return self.open_raw(sealed, ad.encode(), ad)

    def open_raw(self, sealed: bytes, ad_bytes: bytes, ad: Associated | None = None) -> bytes:
        if len(sealed) < _OVERHEAD or sealed[:1] != _VERSION:
            raise CryptoError("ciphertext is truncated or of an unknown version")
        try:
            return self._aead.decrypt(sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :], ad_bytes)
        except InvalidTag:
            where = f" ({ad.kind} {ad.object_id})" if ad else ""
            raise CryptoError(
                f"a stored value failed its integrity check{where}: it was altered, "
                "moved from another place, or sealed with another key"
            ) from None
