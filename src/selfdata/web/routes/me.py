"""The signed-in account: who am I, what is in my space, change my password."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from selfdata.access import Actor
from selfdata.errors import AuthenticationFailed, FieldError, ValidationFailed
from selfdata.web.auth import CallerDep, PlatformDep, start_session
from selfdata.web.models import AccountOut, DoctypeSummaryOut, LoginOut, MeOut, MeSpace, PasswordIn
from selfdata.web.params import from_ms, require_json
from selfdata.web.problems import problem_responses

__all__ = ["router"]

router = APIRouter(prefix="/me", tags=["me"])


@router.get(
    "",
    response_model=MeOut,
    summary="The signed-in account and a summary of its space",
    responses=problem_responses(401),
)
def me(caller: CallerDep, platform: PlatformDep) -> MeOut:
    p = caller.principal
    space = None
    if p.role == "citizen" and p.space_id is not None:
        info = platform.directory.get_space(p.space_id)
        actor = Actor.citizen(p.account_id, p.space_id, p.username)
        summary = platform.view(actor, p.space_id).summary()
        space = MeSpace(
            **info.as_dict(), doctypes=[DoctypeSummaryOut(**s.as_dict()) for s in summary]
        )
    return MeOut(
        account=AccountOut(username=p.username, role=p.role),
        space=space,
        csrf_token=caller.csrf_token,
    )


@router.post(
    "/password",
    response_model=LoginOut,
    summary="Change your password: signs out every other session and token",
    description="On success every session and personal token of the account is revoked and a "
    "new session cookie is set: the response carries its `csrf_token`. Programs "
    "using a bearer token must create a new token.",
    responses=problem_responses(401, 403, 415, 422),
    dependencies=[Depends(require_json)],
)
def change_password(
    body: PasswordIn, caller: CallerDep, request: Request, response: Response, platform: PlatformDep
) -> LoginOut:
    p = caller.principal
    try:
        platform.directory.change_password(p.account_id, body.current, body.new)
    except ValidationFailed as exc:
        raise ValidationFailed(
            exc.detail, [FieldError(("new",), e.message, kind=e.kind) for e in exc.errors]
        ) from None
    except AuthenticationFailed as exc:
        # Not a 401: the caller is signed in; one field of the form is wrong.
        raise ValidationFailed(
            exc.detail, [FieldError(("current",), exc.detail, kind="wrong_password")]
        ) from None
    platform.sessions.revoke_all(p.account_id)
    csrf, expires_ms = start_session(platform, request, response, p.account_id)
    return LoginOut(
        account=AccountOut(username=p.username, role=p.role),
        csrf_token=csrf,
        expires_at=from_ms(expires_ms),
    )
