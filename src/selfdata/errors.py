"""The errors selfdata raises, as one small tree.

Every interface (CLI, HTTP API, web app) maps these categories to its own way of
telling people what went wrong; nothing below the interfaces knows about HTTP.
The web edge has exactly one table from class to status (``selfdata.web.problems``).

::

    SelfdataError
    ├── InvalidInput              the caller sent something we cannot accept
    │   ├── ValidationFailed      a record does not match its doctype (field-level details)
    │   ├── UnknownDoctype        no doctype of that name is registered
    │   ├── MalformedQuery        a query, filter, cursor or range cannot be understood
    │   └── PayloadTooLarge       the input is over a configured size bound
    ├── AuthenticationFailed      who you are could not be established
    ├── AccessDenied              who you are is known, and the answer is no (with a reason)
    ├── NotFound                  no such thing *that you may see*
    ├── Conflict                  the request clashes with the current state
    ├── SpaceUnavailable          the space is suspended, restricted or erased
    ├── CryptoError               a ciphertext failed authentication, a key is missing
    └── ConfigurationError        the instance is not set up as the command needs
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = [
    "AccessDenied",
    "AuthenticationFailed",
    "ConfigurationError",
    "Conflict",
    "CryptoError",
    "FieldError",
    "InvalidInput",
    "MalformedQuery",
    "NotFound",
    "PayloadTooLarge",
    "SelfdataError",
    "SpaceUnavailable",
    "UnknownDoctype",
    "ValidationFailed",
]


class SelfdataError(Exception):
    """Base of every error selfdata raises on purpose.

    ``code`` is a stable, machine-readable slug (used as the problem ``type`` suffix);
    ``detail`` is a sentence a person can act on; ``extra`` carries structured context
    that is safe to show to the caller (never personal data of someone else).
    """

    code: ClassVar[str] = "error"
    title: ClassVar[str] = "Error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra: dict[str, Any] = extra

    def __str__(self) -> str:
        return self.detail


class InvalidInput(SelfdataError):
    code = "invalid-input"
    title = "Invalid input"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field: where (``loc``), what was wrong, what was expected."""

    loc: tuple[str | int, ...]
    message: str
    line: int | None = None
    source: str | None = None
    kind: str = "invalid"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """The field's location as ``a.b[2].c``."""
        out = ""
        for part in self.loc:
            if isinstance(part, int):
                out += f"[{part}]"
            else:
                out += f".{part}" if out else str(part)
        return out or "(record)"

    def describe(self) -> str:
        where = []
        if self.source:
            where.append(self.source)
        if self.line is not None:
            where.append(f"line {self.line}")
        where.append(f"field {self.path}")
        return f"{', '.join(where)}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.path, "message": self.message, "kind": self.kind}
        if self.line is not None:
            out["line"] = self.line
        if self.source is not None:
            out["source"] = self.source
        return out


class ValidationFailed(InvalidInput):
    code = "validation-failed"
    title = "The data does not match its doctype"

    def __init__(self, detail: str, errors: Sequence[FieldError], **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.errors: tuple[FieldError, ...] = tuple(errors)

    def __str__(self) -> str:
        lines = [self.detail, *("  - " + e.describe() for e in self.errors[:20])]
        if len(self.errors) > 20:
            lines.append(f"  … and {len(self.errors) - 20} more")
        return "\n".join(lines)


class UnknownDoctype(InvalidInput):
    code = "unknown-doctype"
    title = "Unknown doctype"


class MalformedQuery(InvalidInput):
    code = "malformed-query"
    title = "Malformed query"


class PayloadTooLarge(InvalidInput):
    code = "payload-too-large"
    title = "Payload too large"


class AuthenticationFailed(SelfdataError):
    code = "authentication-failed"
    title = "Authentication failed"


class AccessDenied(SelfdataError):
    """Refused by the authorisation point; ``reason`` says which rule refused."""

    code = "access-denied"
    title = "Access denied"

    def __init__(self, detail: str, reason: str = "denied", **extra: Any) -> None:
        super().__init__(detail, reason=reason, **extra)
        self.reason = reason


class NotFound(SelfdataError):
    code = "not-found"
    title = "Not found"


class Conflict(SelfdataError):
    code = "conflict"
    title = "Conflict"


class SpaceUnavailable(SelfdataError):
    code = "space-unavailable"
    title = "Space unavailable"


class CryptoError(SelfdataError):
    code = "crypto-error"
    title = "Cryptographic check failed"


class ConfigurationError(SelfdataError):
    code = "configuration-error"
    title = "Configuration error"
