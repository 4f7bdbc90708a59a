"""Moving a space directly to another instance (docs/move.md).

On the source: the citizen creates a one-time code (``POST /move/offers``); the
destination fetches the archive with it (``POST /move/archive``) and confirms what it
imported (``POST /move/confirm``) — those two carry the code as their only credential.
On the destination: the operator pulls (``POST /admin/moves``).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, status
from fastapi.responses import StreamingResponse
from pydantic import Field

from selfdata.web.auth import CitizenView, OperatorActor, PlatformDep
from selfdata.web.models import _In
from selfdata.web.params import require_json
from selfdata.web.problems import problem_responses
from selfdata.web.responses import JSONResponse
from selfdata.web.routes.portability import stream_from

__all__ = ["router"]

router = APIRouter(tags=["move"])

_CODE = Field(min_length=1, max_length=100, description="The one-time move code (`sdm_…`)")


class CodeIn(_In):
    code: str = _CODE


class DestinationIn(_In):
    instance: str = Field(min_length=1, max_length=500, description="The destination's URL")
    space_id: str = Field(min_length=1, max_length=26, description="The new space's id there")


class ConfirmIn(_In):
    code: str = _CODE
    archive_sha256: str = Field(
        pattern="^[0-9a-fA-F]{64}$", description="SHA-256 (hex) of the archive bytes imported"
    )
    destination: DestinationIn


class PullIn(_In):
    source_url: str = Field(min_length=1, max_length=500, description="The source instance")
    code: str = _CODE
    name: str = Field(min_length=1, max_length=64, description="Name of the new space here")
    password: str = Field(min_length=1, max_length=1024, description="Its citizen's password")


@router.post(
    "/move/offers",
    status_code=status.HTTP_201_CREATED,
    summary="Authorise moving your whole space to another instance: a one-time code",
    responses=problem_responses(401, 403),
)
def offer(view: CitizenView, platform: PlatformDep) -> JSONResponse:
    made = platform.moves.offer(view.actor, view.space_id)
    return JSONResponse(made.as_dict(), status_code=status.HTTP_201_CREATED)


@router.post(
    "/move/archive",
    summary="(Destination instance) Fetch the space's archive with the code, once",
    responses={
        200: {"content": {"application/octet-stream": {}}},
        **problem_responses(400, 401, 409, 415, 422),
    },
    dependencies=[Depends(require_json)],
)
def archive(body: CodeIn, platform: PlatformDep) -> StreamingResponse:
    moves = platform.moves
    claimed = moves.claim(body.code)  # errors are answered before the body starts
    return StreamingResponse(
        stream_from(lambda out: moves.send_archive(claimed, out)),
        media_type="application/octet-stream",
        headers={"Content-Disposition": 'attachment; filename="space.zip.age"'},
    )


@router.post(
    "/move/confirm",
    summary="(Destination instance) Confirm the import: the space is erased here",
    responses=problem_responses(400, 401, 409, 415, 422),
    dependencies=[Depends(require_json)],
)
def confirm(body: ConfirmIn, platform: PlatformDep) -> JSONResponse:
    done = platform.moves.confirm(
        body.code,
        body.archive_sha256.lower(),
        body.destination.instance,
        body.destination.space_id,
    )
    return JSONResponse(done)


@router.post(
    "/admin/moves",
    status_code=status.HTTP_201_CREATED,
    summary="Move a space in from another instance with the citizen's one-time code",
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
    dependencies=[Depends(require_json)],
)
def pull(body: PullIn, actor: OperatorActor, platform: PlatformDep) -> JSONResponse:
    report = platform.moves.pull(
        actor, body.source_url, body.code, name=body.name, password=body.password
    )
    return JSONResponse(report.as_dict(), status_code=status.HTTP_201_CREATED)
