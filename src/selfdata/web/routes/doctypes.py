"""The doctypes this instance knows, and their JSON Schemas (public)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from selfdata.web.auth import PlatformDep
from selfdata.web.models import DoctypeOut
from selfdata.web.problems import problem_responses
from selfdata.web.responses import JSON_SCHEMA, JSONResponse

__all__ = ["router"]

router = APIRouter(prefix="/doctypes", tags=["doctypes"])

_PUBLIC = {"Cache-Control": "public, max-age=300"}  # no personal data here


@router.get("", response_model=list[DoctypeOut], summary="Every doctype, with a link to its schema")
def list_doctypes(platform: PlatformDep) -> JSONResponse:
    out = [
        DoctypeOut(
            name=d.name,
            version=d.version,
            kind=d.kind,
            category=d.category,
            title=dict(d.title),
            description=dict(d.description),
            schema_id=d.schema_id,
            schema_url=f"/api/v1/doctypes/{d.name}/schema",
        ).model_dump(mode="json")
        for d in platform.doctypes
    ]
    return JSONResponse(out, headers=_PUBLIC)


@router.get(
    "/{name}/schema",
    summary="The JSON Schema (2020-12) of one doctype",
    response_model=dict[str, Any],
    responses=problem_responses(404),
)
def doctype_schema(name: str, platform: PlatformDep) -> JSONResponse:
    schema = platform.doctypes.get(name).json_schema()
    return JSONResponse(schema, media_type=JSON_SCHEMA, headers=_PUBLIC)
