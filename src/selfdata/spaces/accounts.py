"""Accounts and passwords (Argon2id)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import argon2

from selfdata.errors import FieldError, ValidationFailed

__all__ = ["Account", "PasswordHasher", "Role", "validate_password", "validate_username"]

Role = Literal["citizen", "operator"]
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}[a-z0-9]$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    username: str
    role: Role
    space_id: str | None
    status: str


def validate_username(name: str) -> str:
    """Lower-case the name and check its shape (3–64 of a-z 0-9 . _ -)."""
    normal = name.strip().lower()
    if not _USERNAME.match(normal):
        raise ValidationFailed(
            f"{name!r} cannot be a username",
            [
                FieldError(
                    ("username",),
                    "expected 3 to 64 characters among a-z, 0-9, '.', '_' "
                    "and '-', starting and ending with a letter or digit",
                )
            ],
        )
    return normal


def validate_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValidationFailed(
            "the password is not acceptable",
            [
                FieldError(
                    ("password",),
                    f"expected at least {MIN_PASSWORD} characters "
                    f"(and at most {MAX_PASSWORD}); a passphrase of several words is best",
                )
            ],
        )
    return password


class PasswordHasher:
    """Argon2id. ``default`` follows RFC 9106's second recommended profile (64 MiB, t=3);
    ``test`` keeps Argon2id with small parameters so test suites stay fast."""

    def __init__(self, profile: str = "default") -> None:
        if profile == "test":
            self._hasher = argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
        else:
            self._hasher = argon2.PasswordHasher.from_parameters(
                argon2.profiles.RFC_9106_LOW_MEMORY
            )
        # Verifying against this when the username is unknown takes as long as a real
        # check, so timing does not reveal which usernames exist.
        self._dummy = self._hasher.hash("selfdata-dummy-password")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)
