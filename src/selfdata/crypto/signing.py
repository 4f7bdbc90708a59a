"""The operator's signing key: Ed25519, used for consent receipts and log checkpoints.

Signatures are compact JWS with the fully-specified ``Ed25519`` algorithm (RFC 9864);
the public key is published as a JWK Set so anyone can verify a receipt or a
checkpoint offline. The private key lives in a PEM file created 0600 beside the master
key (``signing.key``) or comes from ``SELFDATA_SIGNING_KEY``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import orjson
from joserfc import jwk, jws
from joserfc.errors import JoseError

from selfdata.errors import ConfigurationError, CryptoError

__all__ = ["ALGORITHM", "ENV_VAR", "OperatorSigner", "verify_jws"]

ALGORITHM = "Ed25519"
ENV_VAR = "SELFDATA_SIGNING_KEY"


class OperatorSigner:
    def __init__(self, key: jwk.OKPKey) -> None:
        self._key = key
        self.kid = key.thumbprint()

    @classmethod
    def generate(cls) -> OperatorSigner:
        return cls(jwk.OKPKey.generate_key("Ed25519"))

    @classmethod
    def create_file(cls, path: Path) -> OperatorSigner:
        if path.exists():
            raise ConfigurationError(f"{path} already exists; refusing to overwrite a key")
        signer = cls.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, signer._key.as_pem(private=True))
        finally:
            os.close(fd)
        return signer

    @classmethod
    def from_pem(cls, pem: bytes, origin: str) -> OperatorSigner:
        try:
            key = jwk.import_key(pem, "OKP")
        except (JoseError, ValueError, TypeError) as exc:
            raise ConfigurationError(f"{origin} is not an Ed25519 private key: {exc}") from None
        if key.curve_name != "Ed25519" or not key.is_private:
            raise ConfigurationError(f"{origin} must hold an Ed25519 private key")
        return cls(key)

    @classmethod
    def load(cls, path: Path) -> OperatorSigner:
        env = os.environ.get(ENV_VAR)
        if env:
            return cls.from_pem(env.encode(), ENV_VAR)
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise ConfigurationError(
                f"no signing key at {path}; run `selfdata upgrade` to create one"
            ) from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigurationError(f"{path} is readable by other users; run `chmod 600 {path}`")
        return cls.from_pem(path.read_bytes(), str(path))

    def sign(self, payload: dict[str, Any], typ: str) -> str:
        """``payload`` as a compact JWS (canonical JSON: sorted keys)."""
        header = {"alg": ALGORITHM, "kid": self.kid, "typ": typ}
        body = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
        return jws.serialize_compact(header, body, self._key, algorithms=[ALGORITHM])

    def public_jwk(self) -> dict[str, Any]:
        public = dict(self._key.as_dict(private=False))
        public.update({"kid": self.kid, "alg": ALGORITHM, "use": "sig"})
        return public

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk()]}


def verify_jws(token: str, jwks: dict[str, Any], typ: str | None = None) -> dict[str, Any]:
    """The payload of ``token`` if a key of ``jwks`` signed it; CryptoError otherwise."""
    try:
        header = jws.extract_compact(token.encode()).protected
    except (JoseError, ValueError) as exc:
        raise CryptoError(f"not a compact JWS: {exc}") from None
    if header.get("alg") != ALGORITHM:
        raise CryptoError(f"unexpected signature algorithm {header.get('alg')!r}")
    if typ is not None and header.get("typ") != typ:
        raise CryptoError(f"expected a {typ} signature, got {header.get('typ')!r}")
    candidates = [k for k in jwks.get("keys", []) if k.get("kid") == header.get("kid")]
    if not candidates:
        raise CryptoError(f"no published key with id {header.get('kid')!r}")
    try:
        key = jwk.import_key(
            {k: v for k, v in candidates[0].items() if k not in ("alg", "use")}, "OKP"
        )
        verified = jws.deserialize_compact(token, key, algorithms=[ALGORITHM])
    except (JoseError, ValueError) as exc:
        raise CryptoError(f"the signature does not verify: {exc}") from None
    payload: dict[str, Any] = orjson.loads(verified.payload)
    return payload
