"""OAuth 2.0 authorization code with PKCE (RFC 6749, RFC 7636) against a selfdata
instance: the authorization URL, the code exchange and the refresh."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from selfdata_sdk.errors import OAuthError

__all__ = ["AuthorizationRequest", "OAuthClient", "Tokens", "pkce_pair"]


def pkce_pair() -> tuple[str, str]:
    """A fresh PKCE ``(verifier, S256 challenge)``."""
    verifier = secrets.token_urlsafe(64)[:96]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """Where to send the citizen, and what to keep (server side) until the callback."""

    url: str
    state: str
    verifier: str


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    refresh_token: str | None
    expires_in: int
    scope: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme's name, not a secret


class OAuthClient:
    """A service as an OAuth client of one selfdata instance. ``client_secret`` only for
    confidential clients (``selfdata services secret``); public clients rely on PKCE."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        redirect_uri: str,
        *,
        client_secret: str | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.client_secret = client_secret
        self._http = http or httpx.Client(timeout=30.0)

    def authorization_request(self, scopes: list[str]) -> AuthorizationRequest:
        """The URL of the consent screen for the manifest requests in ``scopes``."""
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(24)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": self.redirect_uri,
                "scope": " ".join(scopes),
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        return AuthorizationRequest(f"{self.base_url}/oauth/authorize?{query}", state, verifier)

    def _token(self, form: dict[str, str]) -> Tokens:
        form["client_id"] = self.client_id
        if self.client_secret:
            auth = httpx.BasicAuth(self.client_id, self.client_secret)
            response = self._http.post(f"{self.base_url}/oauth/token", data=form, auth=auth)
        else:
            response = self._http.post(f"{self.base_url}/oauth/token", data=form)
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or "access_token" not in body:
            raise OAuthError(
                str(body.get("error", f"http-{response.status_code}")),
                body.get("error_description"),
            )
        return Tokens(
            body["access_token"],
            body.get("refresh_token"),
            int(body.get("expires_in", 0)),
            str(body.get("scope", "")),
            str(body.get("token_type", "Bearer")),
        )

    def exchange_code(self, code: str, verifier: str) -> Tokens:
        """Trade the code of the callback (and the request's PKCE verifier) for tokens."""
        return self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri,
                "code_verifier": verifier,
            }
        )

    def refresh(self, refresh_token: str) -> Tokens:
        """New tokens (the refresh token rotates: keep the new one)."""
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def close(self) -> None:
        self._http.close()
