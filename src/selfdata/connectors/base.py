"""The connector plugin interface: what a connector is and what it yields.

A connector syncs a citizen's data from a provider's API, with the citizen's
authorisation at that provider (OAuth 2.0). It is stateless: everything it needs for
one account — the tokens, the provider's id of the account, the cursor — is given to
it, and what it learns (new tokens, a new cursor) it returns. The framework keeps
that state sealed in the space (``selfdata.access.connectors``), writes what
:meth:`Connector.sync` yields through the gate, and decides the account's status.

Errors a connector raises (all :class:`ProviderError`, each with a stable ``reason``
and a message in French and English)::

    ProviderError
    ├── ReauthorizationNeeded   the provider refused the refresh token (invalid_grant):
    │                           the citizen must consent again
    ├── ProviderUnavailable     5xx, network errors or rate limits, after retries:
    │                           retried later with exponential backoff
    └── ProviderRefused         the provider refused the request itself (a 4xx)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from selfdata.connectors.http import ProviderHttp
from selfdata.errors import Conflict
from selfdata.importers.base import RecordBatch, SeriesChunk

__all__ = [
    "Connector",
    "ConnectorConfig",
    "Grant",
    "ProviderError",
    "ProviderRefused",
    "ProviderUnavailable",
    "ReauthorizationNeeded",
    "SyncAccount",
    "SyncBatch",
    "Tokens",
]


class ProviderError(Conflict):
    """The provider did not give what was asked."""

    code = "provider-error"
    title = "The provider refused or failed"
    reason: ClassVar[str] = "provider-error"

    def __init__(
        self,
        detail: str,
        *,
        fr: str | None = None,
        reason: str | None = None,
        retry_after: float | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail, **extra)
        if reason is not None:
            self.reason = reason  # type: ignore[misc]
        self.message = {"fr": fr or detail, "en": detail}
        self.retry_after = retry_after


class ReauthorizationNeeded(ProviderError):
    reason = "authorization-revoked"


class ProviderUnavailable(ProviderError):
    reason = "provider-unavailable"


class ProviderRefused(ProviderError):
    reason = "provider-refused"


@dataclass(frozen=True, slots=True)
class ConnectorConfig:
    """The operator's configuration of one connector (``[connectors."<name>"]`` in
    selfdata.toml): the client registered at the provider, and where the provider is
    (tests point these at a local simulator)."""

    client_id: str = ""
    client_secret: str = ""
    redirect_uri: str = ""
    urls: Mapping[str, str] = field(default_factory=dict)
    """Base URLs by role (``authorize``, ``api``…), each with the connector's default."""
    options: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = 30.0
    retries: int = 3
    backoff_s: float = 1.0
    max_wait_s: float = 60.0
    """A ``Retry-After`` longer than this ends the sync (retried later) instead of waiting."""

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret)


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    refresh_token: str | None
    expires_at: float
    """Epoch seconds."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Tokens:
        return cls(str(data["access_token"]), data.get("refresh_token"), float(data["expires_at"]))


@dataclass(frozen=True, slots=True)
class Grant:
    """What the code exchange gives: the tokens and the provider's id of the account."""

    tokens: Tokens
    external_id: str
    label: str | None = None


@dataclass(frozen=True, slots=True)
class SyncBatch:
    """Items to write, then the cursor to keep once they are written."""

    items: list[RecordBatch | SeriesChunk]
    cursor: dict[str, Any]


@dataclass
class SyncAccount:
    """One account during one sync: its provider id, tokens (the framework refreshes
    them) and the time the sync runs at (the platform clock)."""

    id: str
    external_id: str
    tokens: Tokens
    now: datetime
    renewer: Callable[[], Tokens] | None = None
    """Refreshes and stores the tokens (set by the framework)."""

    def token(self) -> str:
        return self.tokens.access_token

    def renew(self) -> None:
        """The provider refused the access token before its expiry: renew it once."""
        if self.renewer is None:
            raise ReauthorizationNeeded("the access token was refused and cannot be renewed")
        self.tokens = self.renewer()


class Connector(ABC):
    """One provider. Subclass it, and declare the class in your distribution's entry
    points (group ``selfdata.connectors``); built-ins are declared the same way."""

    name: ClassVar[str]
    """Stable identifier (``enedis.dataconnect``)."""
    version: ClassVar[str]
    description: ClassVar[Mapping[str, str]]
    """``{"fr": …, "en": …}``."""
    doctypes: ClassVar[tuple[str, ...]] = ()
    """The doctypes it writes: the gate lets its accounts write only these."""
    supports_pkce: ClassVar[bool] = False
    """Whether the provider's authorize endpoint takes a PKCE challenge (S256)."""
    default_urls: ClassVar[Mapping[str, str]] = {}

    def __init__(self, config: ConnectorConfig, http: ProviderHttp | None = None) -> None:
        self.config = config
        self.http = http or ProviderHttp(
            timeout_s=config.timeout_s,
            retries=config.retries,
            backoff_s=config.backoff_s,
            max_wait_s=config.max_wait_s,
        )

    def url(self, role: str) -> str:
        return (self.config.urls.get(role) or self.default_urls[role]).rstrip("/")

    @abstractmethod
    def authorization_url(self, state: str, code_challenge: str | None) -> str:
        """Where to send the citizen to consent (``code_challenge``: PKCE S256, given
        only when :attr:`supports_pkce`)."""

    @abstractmethod
    def exchange_code(
        self, code: str, params: Mapping[str, str], code_verifier: str | None
    ) -> Grant:
        """Exchange the code the provider sent back (``params``: the other query
        parameters of the redirect, such as Enedis' ``usage_point_id``)."""

    @abstractmethod
    def refresh(self, tokens: Tokens) -> Tokens:
        """New tokens; raises :class:`ReauthorizationNeeded` when refused."""

    @abstractmethod
    def sync(self, account: SyncAccount, cursor: Mapping[str, Any]) -> Iterator[SyncBatch]:
        """Fetch what is new since ``cursor`` ({} the first time), in batches; each
        batch's cursor is kept only once its items are written, so a sync stopped
        halfway resumes where it stopped."""
