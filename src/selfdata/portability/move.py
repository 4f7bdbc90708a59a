"""Moving a space directly from one instance to another: the protocol's pure pieces.

Pure: no store, no database, no network. The one-time code, its stored hash, the
source URL rule (HTTPS, or plain HTTP to a loopback address only) and the protocol's
paths and constants. The exchange itself is in :mod:`selfdata.spaces.move`; the
protocol is documented in docs/move.md.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from urllib.parse import urlsplit

from selfdata.errors import InvalidInput

__all__ = [
    "ARCHIVE_PATH",
    "CODE_PREFIX",
    "CONFIRM_PATH",
    "OFFER_TTL_SECONDS",
    "WORK_FACTOR",
    "code_hash",
    "destination_name",
    "is_code",
    "new_code",
    "same_digest",
    "source_base",
]

CODE_PREFIX = "sdm_"
_CODE_BYTES = 32  # 256 bits of randomness
_CODE = re.compile(r"^sdm_[A-Za-z0-9_-]{43}$")
OFFER_TTL_SECONDS = 30 * 60
# The archive is age-encrypted with the code as passphrase. The code has 256 bits of
# randomness: scrypt's cost would add nothing against guessing it, so the work factor
# is low (and moving a space does not wait a second per side for nothing).
WORK_FACTOR = 10
ARCHIVE_PATH = "/api/v1/move/archive"
CONFIRM_PATH = "/api/v1/move/confirm"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def new_code() -> str:
    """A fresh one-time move code: ``sdm_`` and 43 base64url characters (256 bits)."""
    return CODE_PREFIX + secrets.token_urlsafe(_CODE_BYTES)


def is_code(code: str) -> bool:
    return bool(_CODE.match(code))


def code_hash(code: str) -> bytes:
    """What the source stores: the SHA-256 of the code (the code is random and long,
    so a plain hash cannot be reversed by guessing)."""
    return hashlib.sha256(code.encode("ascii", "replace")).digest()


def same_digest(a: str | None, b: str | None) -> bool:
    """Two hex SHA-256 digests are equal (in constant time)."""
    if a is None or b is None or not _SHA256.match(a) or not _SHA256.match(b):
        return False
    return hmac.compare_digest(a, b)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def source_base(url: str) -> str:
    """The source instance's base URL, checked: HTTPS, or HTTP to a loopback address
    (labs and tests, as RFC 8252 allows for native apps); no credentials, query or
    fragment. Returned without a trailing slash."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidInput(f"{url!r} is not a valid URL") from None
    host = (parts.hostname or "").lower()
    if not host or parts.scheme not in ("https", "http"):
        raise InvalidInput(f"the source must be an https:// URL, not {url!r}")
    if parts.scheme == "http" and not _loopback(host):
        raise InvalidInput(
            "the source must be reached over HTTPS (plain http:// is accepted only for "
            "localhost and loopback addresses)"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InvalidInput("the source URL must not carry credentials, a query or a fragment")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def destination_name(instance: str, space_id: str) -> str:
    """How the source's erasure certificate names where the space went."""
    return f"{instance.rstrip('/')}#{space_id}"
