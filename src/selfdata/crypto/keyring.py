"""The operator's master keyring (key-encryption keys, KEKs).

The master key never enters the database. It lives in a key file created by
``selfdata init`` with mode 0600, or comes from the ``SELFDATA_MASTER_KEY``
environment variable (for container deployments and KMS-fed secrets). A keyring holds
one *active* key that wraps new space keys, and older keys kept only until every space
key has been re-wrapped (rotation).

File format (JSON, so operators can inspect it without tools)::

    {"format": "selfdata-keyring/1", "active": "k-…", "keys": {"k-…": "<base64 32 bytes>"}}

The environment variable holds either that same JSON or a bare base64 key.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path

from selfdata.errors import ConfigurationError

__all__ = [
    "ENV_VAR",
    "EnvKeyProvider",
    "KeyFileProvider",
    "KeyProvider",
    "MasterKeyring",
    "StaticKeyProvider",
]

ENV_VAR = "SELFDATA_MASTER_KEY"
_FORMAT = "selfdata-keyring/1"
KEY_BYTES = 32


class MasterKeyring:
    """The master keys in memory: the active one and any still needed to unwrap."""

    def __init__(self, keys: Mapping[str, bytes], active: str) -> None:
        if active not in keys:
            raise ConfigurationError(f"the active master key {active!r} is not in the keyring")
        for key_id, key in keys.items():
            if len(key) != KEY_BYTES:
                raise ConfigurationError(
                    f"master key {key_id!r} has {len(key)} bytes; expected {KEY_BYTES}"
                )
        self._keys = dict(keys)
        self.active_id = active

    @classmethod
    def generate(cls) -> MasterKeyring:
        key_id = _new_key_id()
        return cls({key_id: secrets.token_bytes(KEY_BYTES)}, key_id)

    @property
    def active_key(self) -> bytes:
        return self._keys[self.active_id]

    @property
    def key_ids(self) -> list[str]:
        return sorted(self._keys)

    def key(self, key_id: str) -> bytes:
        try:
            return self._keys[key_id]
        except KeyError:
            raise ConfigurationError(
                f"master key {key_id!r} is needed but not in the keyring; "
                "restore the key file that was in use before the last rotation"
            ) from None

    def with_new_active(self) -> MasterKeyring:
        """A keyring with a fresh active key, keeping the old ones for unwrapping."""
        key_id = _new_key_id()
        return MasterKeyring({**self._keys, key_id: secrets.token_bytes(KEY_BYTES)}, key_id)

    def without(self, key_ids: set[str]) -> MasterKeyring:
        """The keyring minus retired keys (never the active one)."""
        if self.active_id in key_ids:
            raise ConfigurationError("the active master key cannot be retired")
        return MasterKeyring(
            {k: v for k, v in self._keys.items() if k not in key_ids}, self.active_id
        )

    def to_json(self) -> str:
        payload = {
            "format": _FORMAT,
            "active": self.active_id,
            "keys": {k: base64.b64encode(v).decode() for k, v in sorted(self._keys.items())},
        }
        return json.dumps(payload, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, origin: str) -> MasterKeyring:
        try:
            payload = json.loads(text)
            if payload.get("format") != _FORMAT:
                raise ValueError(f"format is {payload.get('format')!r}, expected {_FORMAT!r}")
            keys = {str(k): base64.b64decode(v, validate=True) for k, v in payload["keys"].items()}
            return cls(keys, str(payload["active"]))
        except ConfigurationError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigurationError(f"{origin} is not a valid selfdata keyring: {exc}") from None

    def __repr__(self) -> str:  # never print key material
        return f"MasterKeyring(active={self.active_id!r}, keys={self.key_ids!r})"


class KeyProvider(ABC):
    """Where the master keyring comes from. A KMS-backed provider would subclass this."""

    @abstractmethod
    def load(self) -> MasterKeyring: ...

    @abstractmethod
    def store(self, keyring: MasterKeyring) -> None:
        """Persist a new keyring (rotation). Read-only providers raise ConfigurationError."""

    @property
    @abstractmethod
    def description(self) -> str: ...

    def version(self) -> object:
        """Changes whenever the keyring may have changed (another process rotated)."""
        return None


class KeyFileProvider(KeyProvider):
    """A key file readable by the operator's account only (mode 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def description(self) -> str:
        return f"key file {self.path}"

    def version(self) -> object:
        try:
            stat_result = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat_result.st_mtime_ns, stat_result.st_size, stat_result.st_ino)

    def create(self) -> MasterKeyring:
        if self.path.exists():
            raise ConfigurationError(f"{self.path} already exists; refusing to overwrite a key")
        keyring = MasterKeyring.generate()
        self.store(keyring)
        return keyring

    def load(self) -> MasterKeyring:
        try:
            mode = self.path.stat().st_mode
        except FileNotFoundError:
            raise ConfigurationError(
                f"no master key at {self.path}; run `selfdata init` or set {ENV_VAR}"
            ) from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigurationError(
                f"{self.path} is readable by other users (mode {stat.S_IMODE(mode):o}); "
                f"run `chmod 600 {self.path}`"
            )
        return MasterKeyring.from_json(self.path.read_text(encoding="utf-8"), str(self.path))

    def store(self, keyring: MasterKeyring) -> None:
        # Write a sibling created 0600 from the start, then rename: no window where the
        # key is world-readable, and never a half-written key file.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.unlink(missing_ok=True)  # a leftover could carry looser permissions
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, keyring.to_json().encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        folder = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)  # the rename itself survives a crash
        finally:
            os.close(folder)


class EnvKeyProvider(KeyProvider):
    """The keyring from an environment variable (a bare base64 key or keyring JSON)."""

    def __init__(self, value: str, name: str = ENV_VAR) -> None:
        self._value = value.strip()
        self._name = name

    @property
    def description(self) -> str:
        return f"environment variable {self._name}"

    def load(self) -> MasterKeyring:
        if self._value.startswith("{"):
            return MasterKeyring.from_json(self._value, self._name)
        try:
            key = base64.b64decode(self._value, validate=True)
        except ValueError:
            raise ConfigurationError(f"{self._name} is neither base64 nor keyring JSON") from None
        return MasterKeyring({"env": key}, "env")

    def store(self, keyring: MasterKeyring) -> None:
        raise ConfigurationError(
            f"the master key comes from {self._name}; rotate it where that secret is managed "
            "and pass the new keyring JSON (old and new keys) through the variable"
        )


class StaticKeyProvider(KeyProvider):
    """An in-memory keyring (tests, benchmarks)."""

    def __init__(self, keyring: MasterKeyring | None = None) -> None:
        self.keyring = keyring or MasterKeyring.generate()

    @property
    def description(self) -> str:
        return "in-memory keyring"

    def load(self) -> MasterKeyring:
        return self.keyring

    def store(self, keyring: MasterKeyring) -> None:
        self.keyring = keyring

    def version(self) -> object:
        return id(self.keyring)


def _new_key_id() -> str:
    return "k-" + secrets.token_hex(6)
