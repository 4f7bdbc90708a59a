"""Operators register, approve, suspend and retire services."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, status

from selfdata.services.manifest import validate_manifest
from selfdata.web.auth import OperatorActor, PlatformDep
from selfdata.web.params import require_json
from selfdata.web.problems import problem_responses
from selfdata.web.responses import JSONResponse

__all__ = ["router"]

router = APIRouter(prefix="/admin/services", tags=["administration"])


@router.get("", summary="Every registered service", responses=problem_responses(401, 403))
def list_services(actor: OperatorActor, platform: PlatformDep) -> JSONResponse:
    return JSONResponse({"items": [s.as_dict() for s in platform.services.list()]})


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register a service from its manifest (pending until approved)",
    responses=problem_responses(401, 403, 409, 415, 422),
    dependencies=[Depends(require_json)],
)
def register(
    actor: OperatorActor, platform: PlatformDep, manifest: Annotated[dict[str, Any], Body()]
) -> JSONResponse:
    info = platform.services.register(validate_manifest(manifest, "manifest"))
    return JSONResponse(info.as_dict(), status_code=status.HTTP_201_CREATED)


def _transition(action: str) -> Any:
    def handler(service_id: str, actor: OperatorActor, platform: PlatformDep) -> JSONResponse:
        return JSONResponse(getattr(platform.services, action)(service_id).as_dict())

    handler.__name__ = f"{action}_service"
    return handler


for _action, _summary in (
    ("approve", "Approve a vetted service"),
    ("suspend", "Suspend a service: it loses access everywhere at its next request"),
    ("retire", "Retire a service for good"),
):
    router.add_api_route(
        f"/{{service_id}}/{_action}",
        _transition(_action),
        methods=["POST"],
        summary=_summary,
        responses=problem_responses(401, 403, 404, 409),
    )
