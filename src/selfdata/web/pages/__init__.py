"""The citizen's web app: server-rendered pages over the core, one module per area.

Pages call the core (:class:`~selfdata.access.SpaceView` through the gate, as the
signed-in citizen), never the HTTP API; see docs/web.md.
"""

from __future__ import annotations

from fastapi import APIRouter

from selfdata.web.pages import (
    account,
    answers,
    assets,
    data,
    energy,
    erasure,
    imports,
    log,
    rights,
    services,
)

__all__ = ["pages_router"]


def pages_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    # answers before services: /services/answers is not a service's consent screen.
    modules = (assets, account, data, imports, answers, services, energy, log, rights, erasure)
    for module in modules:
        router.include_router(module.router)
    return router
