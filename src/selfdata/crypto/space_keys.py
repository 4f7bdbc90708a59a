"""One data key per space, wrapped by the master key, and the sub-keys derived from it.

The space's root key (32 random bytes) is the only secret stored per space, wrapped
(AES-256-GCM) by the active master key with associated data naming the space, so a
wrapped key copied onto another space does not unwrap. Destroying that single wrapped
value makes everything the space ever sealed unreadable (crypto-shredding).

Sub-keys are derived with HKDF-SHA256 so each use has its own key:
``enc`` seals data, ``fingerprint`` keys the HMAC used for de-duplication,
``index`` is reserved for blind indexes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from selfdata.crypto.aead import SpaceCipher
from selfdata.crypto.keyring import MasterKeyring
from selfdata.errors import CryptoError

__all__ = ["SpaceKeys", "WrappedKey"]


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A space root key sealed by master key ``kek_id``."""

    kek_id: str
    blob: bytes


def _wrap_ad(space_id: str, kek_id: str) -> bytes:
    return f"selfdata/space-key/1\x1f{space_id}\x1f{kek_id}".encode()


def _derive(root: bytes, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"selfdata/{purpose}/1".encode()
    ).derive(root)


class SpaceKeys:
    """The unwrapped keys of one space, held in memory only while needed."""

    __slots__ = ("_fp_key", "cipher", "space_id")

    def __init__(self, space_id: str, root: bytes) -> None:
        self.space_id = space_id
        self.cipher = SpaceCipher(space_id, _derive(root, "enc"))
        self._fp_key = _derive(root, "fingerprint")

    @staticmethod
    def new_root() -> bytes:
        return secrets.token_bytes(32)

    @staticmethod
    def wrap(space_id: str, root: bytes, keyring: MasterKeyring) -> WrappedKey:
        kek_id = keyring.active_id
        nonce = os.urandom(12)
        blob = nonce + AESGCM(keyring.key(kek_id)).encrypt(nonce, root, _wrap_ad(space_id, kek_id))
        return WrappedKey(kek_id, blob)

    @staticmethod
    def unwrap(space_id: str, wrapped: WrappedKey, keyring: MasterKeyring) -> bytes:
        key = keyring.key(wrapped.kek_id)
        try:
            return AESGCM(key).decrypt(
                wrapped.blob[:12], wrapped.blob[12:], _wrap_ad(space_id, wrapped.kek_id)
            )
        except InvalidTag:
            raise CryptoError(
                f"the key of space {space_id} does not unwrap with master key {wrapped.kek_id}"
            ) from None

    def fingerprint(self, *parts: str) -> bytes:
        """A keyed fingerprint (HMAC-SHA256) of ``parts``: equal inputs, equal outputs,
        but useless to anyone without this space's key (no dictionary attacks)."""
        # JSON of the list: unambiguous whatever the parts contain (no separator to forge).
        return hmac.digest(self._fp_key, orjson.dumps(parts), "sha256")

    def fingerprint_bytes(self, data: bytes) -> bytes:
        return hmac.digest(self._fp_key, data, "sha256")

    def fingerprint_stream(self) -> hmac.HMAC:
        """An HMAC object to feed a large input (a file) chunk by chunk."""
        return hmac.new(self._fp_key, digestmod=hashlib.sha256)
