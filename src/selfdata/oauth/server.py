"""The authorisation server, built from Authlib's generic RFC 6749/7636/7009/7662 parts.

Design decisions:

* Clients are the approved services of the registry (``client_id`` = service id);
  a service with a client secret is confidential, others are public clients.
* PKCE with S256 is required of every client (OAuth 2.1 / RFC 9700).
* Scopes are the ids of the manifest's requests; the token's scope is what the citizen
  actually granted on the consent screen, and the token names that consent.
* Codes and tokens are stored as SHA-256 hashes of 256-bit secrets; a code is usable
  once and for ten minutes; refresh tokens rotate on use.
* The consent, not the token, is the source of truth: a withdrawn consent refuses
  access at the authorisation point even before its tokens are revoked.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Payload, OAuth2Request, TokenMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from sqlalchemy import Engine, bindparam, insert, select, update

from selfdata.clock import Clock
from selfdata.db.prepared import Prepared
from selfdata.db.tables import consents, oauth_codes, oauth_tokens
from selfdata.errors import AuthenticationFailed
from selfdata.ids import new_id
from selfdata.services.registry import ServiceInfo, ServiceRegistry

__all__ = ["CitizenGrant", "HttpRequest", "OAuthResponse", "OAuthServer", "ServiceToken"]

CODE_TTL = 600
ACCESS_TTL = 3600
REFRESH_TTL = 30 * 86400
_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


# Built once: every service request looks its token up. Read outside any transaction
# (db/prepared.py): one SELECT sees the latest committed revocation without queueing
# behind the writers; the gate then re-checks the consent inside its own transaction.
_BY_ACCESS = Prepared(select(oauth_tokens).where(oauth_tokens.c.access_hash == bindparam("digest")))
_BY_REFRESH = Prepared(
    select(oauth_tokens).where(oauth_tokens.c.refresh_hash == bindparam("digest"))
)


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    url: str
    query: Mapping[str, list[str]]
    form: Mapping[str, list[str]]
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class OAuthResponse:
    status: int
    body: dict[str, Any] | str
    headers: list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class CitizenGrant:
    """The resource owner's decision: who, which space, which consent, which scope."""

    account_id: str
    space_id: str
    consent_id: str
    scope: str


@dataclass(frozen=True, slots=True)
class ServiceToken:
    """A valid access token, as the resource server sees it."""

    service_id: str
    space_id: str
    consent_id: str
    scope: tuple[str, ...]


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, values: Mapping[str, list[str]]) -> None:
        self._values = values

    @property
    def data(self) -> dict[str, str]:
        return {k: v[0] for k, v in self._values.items() if v}

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return defaultdict(list, {k: list(v) for k, v in self._values.items()})


class _Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, http: HttpRequest) -> None:
        super().__init__(method=http.method, uri=http.url, headers=http.headers)
        self._http = http
        merged: dict[str, list[str]] = {k: list(v) for k, v in http.query.items()}
        for k, v in http.form.items():
            merged.setdefault(k, []).extend(v)
        self.payload = _Payload(merged)

    @property
    def args(self) -> dict[str, str]:
        return {k: v[0] for k, v in self._http.query.items() if v}

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in self._http.form.items() if v}


class _Client(ClientMixin):  # type: ignore[misc]
    def __init__(self, info: ServiceInfo, registry: ServiceRegistry) -> None:
        self.info = info
        self._registry = registry

    def get_client_id(self) -> str:
        return self.info.id

    def get_default_redirect_uri(self) -> str | None:
        uris = self.info.manifest.redirect_uris
        return str(uris[0]) if uris else None

    def get_allowed_scope(self, scope: str) -> str:
        known = {r.id for r in self.info.manifest.requests}
        return " ".join(s for s in (scope or "").split() if s in known)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in {str(u) for u in self.info.manifest.redirect_uris}

    def check_client_secret(self, client_secret: str) -> bool:
        return self._registry.check_client_secret(self.info.id, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.info.confidential:
            return method in ("client_secret_basic", "client_secret_post")
        return method == "none"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    scope: str
    code_challenge: str
    code_challenge_method: str
    user: CitizenGrant
    code_hash: bytes

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


class _Token(TokenMixin):  # type: ignore[misc]
    def __init__(self, row: Any, now_ms: int) -> None:
        self.row = row
        self._now_ms = now_ms
        self.user = CitizenGrant("", row.space_id, row.consent_id, row.scope)

    def check_client(self, client: _Client) -> bool:
        return bool(self.row.client_id == client.get_client_id())

    def get_scope(self) -> str:
        return str(self.row.scope)

    def get_expires_in(self) -> int:
        return max(0, (int(self.row.access_expires_at) - int(self.row.issued_at)) // 1000)

    def is_expired(self) -> bool:
        return int(self.row.access_expires_at) <= self._now_ms

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None


class _StrictCodeChallenge(CodeChallenge):  # type: ignore[misc]
    """PKCE with S256 for every client, public or confidential."""

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError(
                "PKCE is required: send code_challenge with code_challenge_method=S256"
            )
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier' (PKCE is required)")
        super().validate_code_verifier(grant, result)


class OAuthServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, engine: Engine, registry: ServiceRegistry, clock: Clock) -> None:
        super().__init__(scopes_supported=None)
        self._engine = engine
        self._registry = registry
        self._clock = clock
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=lambda **_: "sdo_" + secrets.token_urlsafe(32),
                refresh_token_generator=lambda **_: "sdr_" + secrets.token_urlsafe(32),
                expires_generator=lambda client, grant_type: ACCESS_TTL,
            ),
        )
        server = self

        class CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
            TOKEN_ENDPOINT_AUTH_METHODS = _AUTH_METHODS

            def save_authorization_code(self, code: str, request: Any) -> None:
                user: CitizenGrant = request.user
                data = request.payload.data
                with server._engine.begin() as conn:
                    conn.execute(
                        insert(oauth_codes).values(
                            code_hash=_hash(code),
                            client_id=request.client.get_client_id(),
                            space_id=user.space_id,
                            account_id=user.account_id,
                            consent_id=user.consent_id,
                            redirect_uri=data.get("redirect_uri") or "",
                            scope=user.scope,
                            code_challenge=data["code_challenge"],
                            code_challenge_method=data.get("code_challenge_method", "S256"),
                            nonce=data.get("nonce"),
                            expires_at=server._now_ms() + CODE_TTL * 1000,
                        )
                    )

            def query_authorization_code(self, code: str, client: _Client) -> _Code | None:
                # Looking the code up spends it, atomically: two workers given the same
                # code cannot both get past this point.
                digest, now = _hash(code), server._now_ms()
                with server._engine.begin() as conn:
                    row = conn.execute(
                        select(oauth_codes).where(oauth_codes.c.code_hash == digest)
                    ).first()
                    if row is None or row.used_at is not None or row.expires_at <= now:
                        return None
                    if row.client_id != client.get_client_id():
                        return None
                    claimed = conn.execute(
                        update(oauth_codes)
                        .where(oauth_codes.c.code_hash == digest, oauth_codes.c.used_at.is_(None))
                        .values(used_at=now)
                    ).rowcount
                if claimed != 1:
                    return None
                return _Code(
                    row.client_id,
                    row.redirect_uri,
                    row.scope,
                    row.code_challenge,
                    row.code_challenge_method,
                    CitizenGrant(row.account_id, row.space_id, row.consent_id, row.scope),
                    bytes(row.code_hash),
                )

            def delete_authorization_code(self, authorization_code: _Code) -> None:
                return None  # already spent when it was looked up

            def authenticate_user(self, authorization_code: _Code) -> CitizenGrant:
                return authorization_code.user

        class RefreshGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
            TOKEN_ENDPOINT_AUTH_METHODS = _AUTH_METHODS
            INCLUDE_NEW_REFRESH_TOKEN = True

            def authenticate_refresh_token(self, refresh_token: str) -> _Token | None:
                token = server._find_token(refresh=refresh_token)
                if token is None or token.is_revoked():
                    return None
                expires = token.row.refresh_expires_at
                if expires is None or expires <= server._now_ms():
                    return None
                # Rotation: the old token is revoked here, atomically, so a refresh token
                # replayed in parallel yields at most one new token.
                with server._engine.begin() as conn:
                    claimed = conn.execute(
                        update(oauth_tokens)
                        .where(
                            oauth_tokens.c.id == token.row.id, oauth_tokens.c.revoked_at.is_(None)
                        )
                        .values(revoked_at=server._now_ms(), revoked_reason="rotated")
                    ).rowcount
                return token if claimed == 1 else None

            def authenticate_user(self, credential: _Token) -> CitizenGrant:
                return credential.user

            def revoke_old_credential(self, credential: _Token) -> None:
                return None  # revoked when it was claimed

        class Revocation(RevocationEndpoint):  # type: ignore[misc]
            CLIENT_AUTH_METHODS = _AUTH_METHODS

            def query_token(self, token_string: str, token_type_hint: str | None) -> _Token | None:
                return server._find_token(access=token_string) or server._find_token(
                    refresh=token_string
                )

            def revoke_token(self, token: _Token, request: Any) -> None:
                server._revoke(token)

        class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
            CLIENT_AUTH_METHODS = _AUTH_METHODS

            def query_token(self, token_string: str, token_type_hint: str | None) -> _Token | None:
                return server._find_token(access=token_string) or server._find_token(
                    refresh=token_string
                )

            def introspect_token(self, token: _Token) -> dict[str, Any]:
                row = token.row
                return {
                    "active": True,
                    "client_id": row.client_id,
                    "scope": row.scope,
                    "token_type": "Bearer",
                    "sub": row.space_id,
                    "aud": row.client_id,
                    "iat": int(row.issued_at) // 1000,
                    "exp": int(row.access_expires_at) // 1000,
                    "consent_id": row.consent_id,
                }

            def check_permission(self, token: _Token, client: _Client, request: Any) -> bool:
                return token.check_client(client)

        self.register_grant(CodeGrant, [_StrictCodeChallenge(required=True)])
        self.register_grant(RefreshGrant)
        self.register_endpoint(Revocation)
        self.register_endpoint(Introspection)

    # -- storage ---------------------------------------------------------------------

    def _now_ms(self) -> int:
        return int(self._clock.now().timestamp() * 1000)

    def _find_token(
        self, *, access: str | None = None, refresh: str | None = None
    ) -> _Token | None:
        query = _BY_ACCESS if access else _BY_REFRESH
        secret = access or refresh
        if not secret:
            return None
        with self._engine.connect() as conn:
            row = query.first_committed(conn, {"digest": _hash(secret)})
        return _Token(row, self._now_ms()) if row is not None else None

    def _revoke(self, token: _Token, reason: str = "revoked") -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(oauth_tokens)
                .where(oauth_tokens.c.id == token.row.id)
                .values(revoked_at=self._now_ms(), revoked_reason=reason)
            )

    # -- Authlib hooks ---------------------------------------------------------------

    def query_client(self, client_id: str) -> _Client | None:
        try:
            info = self._registry.get(client_id)
        except Exception:
            return None
        return _Client(info, self._registry) if info.status == "approved" else None

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        user: CitizenGrant = request.user
        now = self._now_ms()
        refresh = token.get("refresh_token")
        with self._engine.begin() as conn:
            conn.execute(
                insert(oauth_tokens).values(
                    id=new_id(now),
                    access_hash=_hash(token["access_token"]),
                    refresh_hash=_hash(refresh) if refresh else None,
                    client_id=request.client.get_client_id(),
                    space_id=user.space_id,
                    consent_id=user.consent_id,
                    scope=token.get("scope") or user.scope,
                    issued_at=now,
                    access_expires_at=now + int(token.get("expires_in", ACCESS_TTL)) * 1000,
                    refresh_expires_at=now + REFRESH_TTL * 1000 if refresh else None,
                )
            )

    def create_oauth2_request(self, request: Any) -> _Request:
        return request if isinstance(request, _Request) else _Request(request)

    def handle_response(self, status: int, body: Any, headers: Any) -> OAuthResponse:
        return OAuthResponse(status, body, list(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    # -- what the web layer calls --------------------------------------------------

    def validate_authorization(
        self, http: HttpRequest
    ) -> tuple[ServiceInfo, list[str], dict[str, str]]:
        """Check an authorization request before showing the consent screen: the
        service, the request ids it asks for, and the parameters to carry along."""
        grant = self.get_consent_grant(http)
        client: _Client = grant.client
        requested = client.get_allowed_scope(grant.request.payload.scope or "").split()
        if not requested:
            requested = [r.id for r in client.info.manifest.requests]
        return client.info, requested, dict(grant.request.payload.data)

    def authorize(self, http: HttpRequest, grant_user: CitizenGrant | None) -> OAuthResponse:
        """Redirect back to the service with a code (or with access_denied)."""
        try:
            grant = self.get_consent_grant(http)
        except OAuth2Error as error:
            return self.handle_error_response(None, error)  # type: ignore[no-any-return]
        return self.create_authorization_response(grant.request, grant_user, grant)  # type: ignore[no-any-return]

    def token(self, http: HttpRequest) -> OAuthResponse:
        return self.create_token_response(http)  # type: ignore[no-any-return]

    def revoke(self, http: HttpRequest) -> OAuthResponse:
        return self.create_endpoint_response(RevocationEndpoint.ENDPOINT_NAME, http)  # type: ignore[no-any-return]

    def introspect(self, http: HttpRequest) -> OAuthResponse:
        return self.create_endpoint_response(IntrospectionEndpoint.ENDPOINT_NAME, http)  # type: ignore[no-any-return]

    def _ended_with_its_consent(self, token: _Token) -> bool:
        """A token revoked because its consent ended, while that consent is still over:
        such a token goes on to the gate, which refuses it with the reason (403) and logs
        the attempt. Once the consent is active again (renewed), the token stays dead."""
        if token.row.revoked_reason not in ("consent-withdrawn", "consent-expired"):
            return False
        with self._engine.connect() as conn:
            consent = conn.execute(
                select(consents.c.status, consents.c.expires_at).where(
                    consents.c.space_id == token.row.space_id,
                    consents.c.id == token.row.consent_id,
                )
            ).first()
        return consent is None or consent.status != "active" or consent.expires_at <= self._now_ms()

    def resource_token(self, secret: str) -> ServiceToken:
        """The service behind an access token, for the resource endpoints."""
        token = self._find_token(access=secret)
        if token is None:
            raise AuthenticationFailed("the access token is not valid")
        if token.is_revoked() and not self._ended_with_its_consent(token):
            raise AuthenticationFailed("the access token was revoked")
        # A token revoked with its consent goes on to the authorisation point, which
        # refuses it (403, consent-withdrawn) and records the attempt in the citizen's log.
        if token.is_expired():
            raise AuthenticationFailed("the access token has expired; refresh it")
        row = token.row
        return ServiceToken(row.client_id, row.space_id, row.consent_id, tuple(row.scope.split()))
