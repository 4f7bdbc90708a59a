"""The API's routes, one module per area."""

from __future__ import annotations

from fastapi import APIRouter

from selfdata.web.pages import pages_router
from selfdata.web.routes import (
    admin,
    admin_services,
    audit,
    auth,
    connectors,
    consents,
    doctypes,
    files,
    imports,
    me,
    meta,
    move,
    oauth,
    portability,
    questions,
    records,
    rights,
    series,
)

__all__ = ["API_PREFIX", "api_router", "root_router"]

API_PREFIX = "/api/v1"


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for module in (
        auth,
        me,
        doctypes,
        records,
        series,
        files,
        imports,
        audit,
        portability,
        move,
        consents,
        connectors,
        questions,
        rights,
        admin,
        admin_services,
    ):
        router.include_router(module.router)
    router.include_router(imports.formats_router)
    router.include_router(meta.api_router)
    return router


def root_router() -> APIRouter:
    router = APIRouter()
    router.include_router(meta.root_router)
    router.include_router(oauth.router)
    router.include_router(pages_router())  # the citizen's web app (docs/web.md)
    return router
