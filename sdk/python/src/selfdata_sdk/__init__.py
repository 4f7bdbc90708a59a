"""Python SDK for services of a selfdata instance (depends only on httpx)."""

from selfdata_sdk.client import Answer, Page, Question, SelfdataClient
from selfdata_sdk.errors import (
    AccessDenied,
    AuthenticationFailed,
    InvalidParams,
    NotFound,
    OAuthError,
    SelfdataError,
)
from selfdata_sdk.oauth import AuthorizationRequest, OAuthClient, Tokens, pkce_pair

__all__ = [
    "AccessDenied",
    "Answer",
    "AuthenticationFailed",
    "AuthorizationRequest",
    "InvalidParams",
    "NotFound",
    "OAuthClient",
    "OAuthError",
    "Page",
    "Question",
    "SelfdataClient",
    "SelfdataError",
    "Tokens",
    "pkce_pair",
]

__version__ = "0.1.0"
