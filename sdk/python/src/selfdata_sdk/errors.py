"""Typed errors built from the server's problem documents (RFC 9457)."""

from __future__ import annotations

from typing import Any

import httpx

__all__ = [
    "AccessDenied",
    "AuthenticationFailed",
    "InvalidParams",
    "NotFound",
    "OAuthError",
    "SelfdataError",
    "raise_for_problem",
]


class SelfdataError(Exception):
    """An error answer of the selfdata API."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.type: str = str(problem.get("type", ""))
        self.title: str = str(problem.get("title", ""))
        self.detail: str = str(problem.get("detail", "")) or self.title or f"HTTP {status}"
        self.reason: str | None = problem.get("reason")
        super().__init__(f"{status} {self.detail}" + (f" [{self.reason}]" if self.reason else ""))


class AuthenticationFailed(SelfdataError):
    """401: the token is missing, expired or revoked (refresh it, or ask for consent again)."""


class AccessDenied(SelfdataError):
    """403: the authorisation point said no; ``reason`` says which rule (``consent-withdrawn``,
    ``doctype-not-consented``, ``answer-schema-violation``…)."""


class NotFound(SelfdataError):
    """404: no such question, record or series (or not within what you may see)."""


class InvalidParams(SelfdataError):
    """400 or 422: the request is malformed; ``errors`` lists each field problem."""

    @property
    def errors(self) -> list[dict[str, Any]]:
        found = self.problem.get("errors")
        return list(found) if isinstance(found, list) else []


class OAuthError(Exception):
    """The OAuth endpoint refused (``error`` as RFC 6749 §5.2 names it)."""

    def __init__(self, error: str, description: str | None = None) -> None:
        self.error = error
        self.description = description
        super().__init__(f"{error}: {description}" if description else error)


_BY_STATUS: dict[int, type[SelfdataError]] = {
    400: InvalidParams,
    401: AuthenticationFailed,
    403: AccessDenied,
    404: NotFound,
    422: InvalidParams,
}


def raise_for_problem(response: httpx.Response) -> None:
    """Raise the typed error an error answer stands for; do nothing on success."""
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    problem = body if isinstance(body, dict) else {"detail": response.text[:500]}
    raise _BY_STATUS.get(response.status_code, SelfdataError)(response.status_code, problem)
