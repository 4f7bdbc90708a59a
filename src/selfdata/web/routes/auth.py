"""Sign in and out; personal bearer tokens."""

from __future__ import annotations

from typing import Any, cast

from fastapi import APIRouter, Depends, Request, Response, status

from selfdata.errors import AuthenticationFailed, FieldError, ValidationFailed
from selfdata.web.auth import (
    CallerDep,
    PlatformDep,
    clear_session_cookie,
    resolve_caller,
    start_session,
)
from selfdata.web.models import AccountOut, LoginIn, LoginOut, TokenCreated, TokenIn, TokenOut
from selfdata.web.params import from_ms, require_json
from selfdata.web.problems import problem_responses

__all__ = ["router"]

router = APIRouter(prefix="/auth", tags=["authentication"])


@router.post(
    "/login",
    response_model=LoginOut,
    summary="Sign in: sets the session cookie",
    responses=problem_responses(401, 415, 422, 429),
    dependencies=[Depends(require_json)],
)
def login(body: LoginIn, request: Request, response: Response, platform: PlatformDep) -> LoginOut:
    account = platform.directory.login(body.username, body.password)
    csrf, expires_ms = start_session(platform, request, response, account.id)
    return LoginOut(
        account=AccountOut(username=account.username, role=account.role),
        csrf_token=csrf,
        expires_at=from_ms(expires_ms),
    )


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Sign out: revokes this session (or the bearer token used) and clears the cookie",
    responses=problem_responses(403),
)
def logout(request: Request, platform: PlatformDep) -> Response:
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    try:
        caller = resolve_caller(request, platform)
    except AuthenticationFailed:
        caller = None  # nothing valid to revoke: signing out is already done
    if caller is not None:
        platform.sessions.revoke(caller.principal.session_id, caller.principal.account_id)
    clear_session_cookie(response, request)
    return response


@router.post(
    "/tokens",
    response_model=TokenCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Create a personal bearer token (its secret is shown once)",
    responses=problem_responses(401, 403, 415, 422),
    dependencies=[Depends(require_json)],
)
def create_token(body: TokenIn, caller: CallerDep, platform: PlatformDep) -> TokenCreated:
    longest = platform.settings.token_days
    days = body.days if body.days is not None else longest
    if days > longest:
        raise ValidationFailed(
            f"a token lives at most {longest} days on this instance",
            [FieldError(("days",), f"expected at most {longest}", kind="less_than_equal")],
        )
    issued = platform.sessions.issue(caller.principal.account_id, "token", days * 86400, body.label)
    return TokenCreated(
        id=issued.id, token=issued.secret, label=body.label, expires_at=from_ms(issued.expires_at)
    )


@router.get(
    "/tokens",
    response_model=list[TokenOut],
    summary="Your personal tokens (never their secrets)",
    responses=problem_responses(401, 403),
)
def list_tokens(caller: CallerDep, platform: PlatformDep) -> list[TokenOut]:
    return [
        _token_out(cast(dict[str, Any], t))
        for t in platform.sessions.list_tokens(caller.principal.account_id)
        if t["kind"] == "token"
    ]


def _token_out(t: dict[str, Any]) -> TokenOut:
    return TokenOut(
        id=t["id"],
        label=t["label"],
        created_at=from_ms(t["created_at"]),
        expires_at=from_ms(t["expires_at"]),
        last_used_at=from_ms(t["last_used_at"]) if t["last_used_at"] is not None else None,
    )


@router.delete(
    "/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Revoke one of your tokens or sessions",
    responses=problem_responses(401, 403, 404),
)
def revoke_token(token_id: str, caller: CallerDep, platform: PlatformDep) -> Response:
    platform.sessions.revoke(token_id, caller.principal.account_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
