"""Operators administer spaces; they never see the data inside them."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from selfdata.web.auth import OperatorActor, PlatformDep
from selfdata.web.models import EraseOut, SpaceCreate, SpaceList, SpaceOut
from selfdata.web.params import require_json
from selfdata.web.problems import problem_responses

__all__ = ["router"]

router = APIRouter(prefix="/admin/spaces", tags=["administration"])


@router.get(
    "",
    response_model=SpaceList,
    summary="Every space (not erased), and counts by status",
    responses=problem_responses(401, 403),
)
def list_spaces(actor: OperatorActor, platform: PlatformDep) -> SpaceList:
    return SpaceList(
        spaces=[SpaceOut(**s.as_dict()) for s in platform.directory.list_spaces()],
        counts=platform.directory.count_spaces(),
    )


@router.post(
    "",
    response_model=SpaceOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a space and its citizen account (same name)",
    responses=problem_responses(401, 403, 409, 415, 422),
    dependencies=[Depends(require_json)],
)
def create_space(body: SpaceCreate, actor: OperatorActor, platform: PlatformDep) -> SpaceOut:
    return SpaceOut(**platform.directory.create_space(body.name, body.password, actor).as_dict())


@router.post(
    "/{name}/suspend",
    response_model=SpaceOut,
    summary="Suspend a space: its citizen is signed out at once and cannot sign in",
    responses=problem_responses(401, 403, 404),
)
def suspend_space(name: str, actor: OperatorActor, platform: PlatformDep) -> SpaceOut:
    return SpaceOut(**platform.directory.suspend(name, actor).as_dict())


@router.post(
    "/{name}/resume",
    response_model=SpaceOut,
    summary="Resume a suspended space",
    responses=problem_responses(401, 403, 404),
)
def resume_space(name: str, actor: OperatorActor, platform: PlatformDep) -> SpaceOut:
    return SpaceOut(**platform.directory.resume(name, actor).as_dict())


@router.delete(
    "/{name}",
    response_model=EraseOut,
    summary="Erase a space for good: its key is destroyed, then its data purged",
    responses=problem_responses(401, 403, 404),
)
def erase_space(name: str, actor: OperatorActor, platform: PlatformDep) -> EraseOut:
    return EraseOut(erased=name, counts=platform.directory.erase(name, actor))
