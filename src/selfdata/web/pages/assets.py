"""The app's own script and stylesheet, shipped in the package (no build step)."""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter
from starlette.responses import Response

from selfdata.errors import NotFound

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_TYPES = {"app.css": "text/css", "app.js": "text/javascript"}


@cache
def _asset(name: str) -> bytes:
    return resources.files("selfdata.web").joinpath(f"static/{name}").read_bytes()


@router.get("/static/{name}")
def asset(name: str) -> Response:
    if name not in _TYPES:
        raise NotFound(f"no asset {name}")
    return Response(
        _asset(name),
        media_type=_TYPES[name],
        headers={"Cache-Control": "public, max-age=3600"},
    )
