"""OAuth 2.0 for external services (Authlib): authorization code with PKCE, refresh,
revocation (RFC 7009) and introspection (RFC 7662), with every token bound to one consent.

Framework-agnostic: the web layer turns an HTTP request into :class:`HttpRequest` and an
:class:`OAuthResponse` back into a response.
"""

from selfdata.oauth.server import (
    CitizenGrant,
    HttpRequest,
    OAuthResponse,
    OAuthServer,
    ServiceToken,
)

__all__ = ["CitizenGrant", "HttpRequest", "OAuthResponse", "OAuthServer", "ServiceToken"]
