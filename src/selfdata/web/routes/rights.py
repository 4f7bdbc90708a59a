"""The citizen's rights over their own space: access, rectification history, restriction,
withdrawal of every consent, erasure (docs/rights.md).

Every route serves the citizen themself (a session or a personal token); a service's
token is refused at the edge (``citizen-only``) and the gate refuses the ``rights``
action to anyone but the owner.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import Field

from selfdata.errors import InvalidInput
from selfdata.web.auth import (
    CallerDep,
    CitizenView,
    PlatformDep,
    citizen_view,
    clear_session_cookie,
)
from selfdata.web.models import _In
from selfdata.web.params import require_json
from selfdata.web.problems import problem_responses
from selfdata.web.responses import JSONResponse

__all__ = ["router"]

router = APIRouter(tags=["rights"])


class RestrictionIn(_In):
    scope: str = Field(
        min_length=1,
        max_length=64,
        description='"*" for the whole space, or one doctype such as `health.observation`',
    )
    note: str | None = Field(default=None, max_length=500, description="Your own words (sealed)")


class SpaceErasureIn(_In):
    confirm: str = Field(
        min_length=1, max_length=200, description="Your username, to confirm (nothing is undone)"
    )


@router.get(
    "/rights/summary",
    summary="Right of access: what your space holds, where it came from, who sees it",
    responses=problem_responses(401, 403),
)
def summary(
    view: CitizenView, lang: Annotated[str, Query(pattern="^(fr|en)$")] = "fr"
) -> JSONResponse:
    return JSONResponse(view.rights_summary("en" if lang == "en" else "fr"))


@router.get(
    "/records/{doctype}/{record_id}/history",
    summary="Right to rectification: a record's past versions, newest first",
    responses=problem_responses(401, 403, 404),
)
def history(doctype: str, record_id: str, view: CitizenView, platform: PlatformDep) -> JSONResponse:
    platform.doctypes.get(doctype)
    current = view.get_record(record_id, doctype=doctype)
    past = view.record_history(record_id, doctype=doctype)
    return JSONResponse(
        {
            "record_id": record_id,
            "doctype": doctype,
            "current_revision": current.revision,
            "items": [r.as_dict() for r in past],
        }
    )


@router.get(
    "/rights/restrictions",
    summary="Right to restriction: what services may not touch now",
    responses=problem_responses(401, 403),
)
def list_restrictions(view: CitizenView) -> JSONResponse:
    return JSONResponse({"items": [r.as_dict() for r in view.restrictions()]})


@router.post(
    "/rights/restrictions",
    status_code=status.HTTP_201_CREATED,
    summary="Restrict the processing of the whole space or one doctype by every service",
    responses=problem_responses(400, 401, 403, 409, 415, 422),
    dependencies=[Depends(require_json)],
)
def restrict(body: RestrictionIn, view: CitizenView) -> JSONResponse:
    made = view.restrict(body.scope, body.note)
    return JSONResponse(made.as_dict(), status_code=status.HTTP_201_CREATED)


@router.delete(
    "/rights/restrictions/{scope}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Lift a restriction (scope `*` or a doctype)",
    responses=problem_responses(400, 401, 403, 404),
)
def lift(scope: str, view: CitizenView) -> Response:
    view.lift_restriction(scope)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/rights/withdraw-all",
    summary="Right to object: withdraw every active consent at once (tokens revoked)",
    responses=problem_responses(401, 403),
)
def withdraw_all(view: CitizenView) -> JSONResponse:
    withdrawn = view.withdraw_all_consents()
    return JSONResponse(
        {
            "withdrawn": len(withdrawn),
            "items": [
                {"id": r.id, "service_id": r.service_id, "status": r.status} for r in withdrawn
            ],
        }
    )


@router.delete(
    "/rights/doctypes/{doctype}",
    summary="Right to erasure: every record and series of a doctype (signed certificate)",
    responses=problem_responses(401, 403, 404),
)
def erase_doctype(doctype: str, view: CitizenView) -> JSONResponse:
    return JSONResponse(view.erase_doctype(doctype).as_dict())


@router.delete(
    "/rights/sources/{source_id}",
    summary="Right to erasure: everything that came from one source (signed certificate)",
    responses=problem_responses(400, 401, 403, 404),
)
def erase_source(source_id: str, view: CitizenView) -> JSONResponse:
    return JSONResponse(view.erase_source(source_id).as_dict())


@router.delete(
    "/rights/space",
    summary="Right to erasure: your whole space, for good (key destroyed, then data purged)",
    responses=problem_responses(400, 401, 403, 415, 422),
    dependencies=[Depends(require_json)],
)
def erase_space(
    body: SpaceErasureIn, caller: CallerDep, platform: PlatformDep, request: Request
) -> JSONResponse:
    view = citizen_view(caller, platform)  # citizens only
    username = caller.principal.username
    if body.confirm.strip().lower() != username.lower():
        raise InvalidInput(
            "to erase your space, send your username in `confirm`; nothing was erased"
        )
    done = platform.directory.erase_certified(view.space_id, view.actor)
    response = JSONResponse({"erased": True, **done.as_dict()})
    clear_session_cookie(response, request)
    return response
