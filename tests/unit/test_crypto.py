"""Keys and ciphers, with published test vectors where they exist."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from selfdata.crypto import (
    Associated,
    EnvKeyProvider,
    KeyFileProvider,
    MasterKeyring,
    SpaceCipher,
    SpaceKeys,
)
from selfdata.errors import ConfigurationError, CryptoError


def test_aes_gcm_matches_the_nist_test_vector() -> None:
    # NIST GCM test case 14 (AES-256, 96-bit IV, 16-byte plaintext, no AAD).
    key = bytes(32)
    iv = bytes(12)
    ct = AESGCM(key).encrypt(iv, bytes(16), None)
    assert ct.hex() == "cea7403d4d606b6e074ec5d3baf39d18" + "d0d1c8a799996bf0265b98b5d48ab919"


def test_sealed_values_are_bound_to_their_place() -> None:
    cipher = SpaceCipher("space-a", os.urandom(32))
    here = Associated("space-a", "record", "bank.transaction", "r1")
    sealed = cipher.seal(b"secret", here)
    assert cipher.open(sealed, here) == b"secret"
    for elsewhere in (
        Associated("space-a", "record", "bank.transaction", "r2"),
        Associated("space-a", "record", "health.condition", "r1"),
        Associated("space-a", "chunk", "bank.transaction", "r1"),
    ):
        with pytest.raises(CryptoError):
            cipher.open(sealed, elsewhere)
    with pytest.raises(CryptoError):
        cipher.seal(b"x", Associated("space-b", "record", "t", "1"))
    tampered = bytearray(sealed)
    tampered[-1] ^= 1
    with pytest.raises(CryptoError):
        cipher.open(bytes(tampered), here)
    with pytest.raises(CryptoError, match="truncated"):
        cipher.open(sealed[:10], here)


def test_the_same_plaintext_seals_differently_each_time() -> None:
    cipher = SpaceCipher("s", os.urandom(32))
    ad = Associated("s", "record", "t", "1")
    assert cipher.seal(b"same", ad) != cipher.seal(b"same", ad)


def test_space_keys_wrap_per_space_and_per_master_key() -> None:
    keyring = MasterKeyring.generate()
    root = SpaceKeys.new_root()
    wrapped = SpaceKeys.wrap("space-a", root, keyring)
    assert SpaceKeys.unwrap("space-a", wrapped, keyring) == root
    with pytest.raises(CryptoError):
        SpaceKeys.unwrap("space-b", wrapped, keyring)  # a wrapped key copied to another space
    rotated = keyring.with_new_active()
    rewrapped = SpaceKeys.wrap("space-a", root, rotated)
    assert rewrapped.kek_id == rotated.active_id != wrapped.kek_id
    assert SpaceKeys.unwrap("space-a", wrapped, rotated) == root  # old key kept for unwrapping
    with pytest.raises(ConfigurationError, match="needed but not in the keyring"):
        SpaceKeys.unwrap("space-a", wrapped, rotated.without({keyring.active_id}))


def test_fingerprints_are_keyed() -> None:
    a, b = SpaceKeys("a", SpaceKeys.new_root()), SpaceKeys("b", SpaceKeys.new_root())
    assert a.fingerprint("x", "1") == a.fingerprint("x", "1")
    assert a.fingerprint("x", "1") != b.fingerprint("x", "1")
    assert a.fingerprint("x", "1") != a.fingerprint("x1")  # parts are separated, not concatenated


def test_key_file_round_trip_and_permissions(tmp_path: Path) -> None:
    provider = KeyFileProvider(tmp_path / "master.key")
    created = provider.create()
    assert (tmp_path / "master.key").stat().st_mode & 0o777 == 0o600
    assert provider.load().active_key == created.active_key
    assert "key" not in repr(created).replace("keys=", "").replace("MasterKeyring", "")
    with pytest.raises(ConfigurationError, match="refusing to overwrite"):
        provider.create()
    (tmp_path / "master.key").chmod(0o640)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        provider.load()


def test_env_provider_accepts_a_bare_key_or_a_keyring() -> None:
    bare = EnvKeyProvider("A" * 43 + "=")
    assert len(bare.load().active_key) == 32
    keyring = MasterKeyring.generate()
    assert EnvKeyProvider(keyring.to_json()).load().active_id == keyring.active_id
    with pytest.raises(ConfigurationError):
        EnvKeyProvider("not base64!").load()
    with pytest.raises(ConfigurationError, match="bytes"):
        EnvKeyProvider("AAAA").load()
    with pytest.raises(ConfigurationError, match="rotate it where"):
        bare.store(keyring)


def test_malformed_key_file(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    path.write_text(json.dumps({"format": "something-else"}))
    path.chmod(0o600)
    with pytest.raises(ConfigurationError, match="not a valid selfdata keyring"):
        KeyFileProvider(path).load()
