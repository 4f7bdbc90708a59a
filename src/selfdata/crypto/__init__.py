"""Keys and ciphers: the operator's master keyring, per-space keys, AEAD, fingerprints.

* :mod:`.keyring` — the master key (KEK) outside the database, its providers and rotation;
* :mod:`.space_keys` — one data key (DEK) per space, wrapped by the KEK, and the
  sub-keys derived from it;
* :mod:`.aead` — AES-256-GCM sealing with associated data that binds a ciphertext to
  its place (space, kind, doctype, id).
"""

from selfdata.crypto.aead import Associated, SpaceCipher
from selfdata.crypto.keyring import (
    EnvKeyProvider,
    KeyFileProvider,
    KeyProvider,
    MasterKeyring,
    StaticKeyProvider,
)
from selfdata.crypto.space_keys import SpaceKeys, WrappedKey

__all__ = [
    "Associated",
    "EnvKeyProvider",
    "KeyFileProvider",
    "KeyProvider",
    "MasterKeyring",
    "SpaceCipher",
    "SpaceKeys",
    "StaticKeyProvider",
    "WrappedKey",
]
