"""Identifiers: time-ordered, random, URL-safe.

A ULID-style id (48-bit millisecond timestamp + 80 random bits, Crockford base32,
26 characters) sorts by creation time, which gives stable keyset pagination, and
reveals nothing but its creation time.
"""

from __future__ import annotations

import base64
import os
import time

__all__ = ["is_valid_id", "new_id", "new_ids"]

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALID = frozenset(_ALPHABET)
# base64's RFC 4648 base32 alphabet, mapped onto Crockford's.
_TO_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET)


def _time_part(ms: int) -> str:
    value = ms & ((1 << 48) - 1)
    return "".join(_ALPHABET[(value >> shift) & 31] for shift in range(45, -5, -5))


def _random_part(raw: bytes) -> str:
    # 80 random bits are exactly two base32 groups: 16 characters, no padding.
    return base64.b32encode(raw).decode("ascii").translate(_TO_CROCKFORD)


def new_id(now_ms: int | None = None) -> str:
    """A new 26-character id; ``now_ms`` fixes the time part (tests, imports)."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    return _time_part(ms) + _random_part(os.urandom(10))


def new_ids(count: int, now_ms: int | None = None) -> list[str]:
    """``count`` ids sharing one timestamp, for bulk writes (one call for randomness)."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    prefix = _time_part(ms)
    random = _random_part(os.urandom(10 * count))
    return [prefix + random[i : i + 16] for i in range(0, 16 * count, 16)]


def is_valid_id(value: str) -> bool:
    """True when ``value`` has the shape of an id made by :func:`new_id`."""
    return len(value) == 26 and value[0] in "01234567" and set(value) <= _VALID
