"""Spaces, the accounts that log into them, and login sessions."""

from selfdata.spaces.accounts import Account, PasswordHasher, validate_password, validate_username
from selfdata.spaces.directory import SpaceDirectory, SpaceInfo
from selfdata.spaces.sessions import Principal, SessionStore

__all__ = [
    "Account",
    "PasswordHasher",
    "Principal",
    "SessionStore",
    "SpaceDirectory",
    "SpaceInfo",
    "validate_password",
    "validate_username",
]
