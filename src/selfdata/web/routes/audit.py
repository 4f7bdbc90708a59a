"""The caller's own access log, and its verification."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from selfdata.web.auth import CitizenView, PlatformDep
from selfdata.web.models import AuditPage, VerifyOut
from selfdata.web.params import parse_instant
from selfdata.web.problems import problem_responses
from selfdata.web.responses import JSONResponse

__all__ = ["router"]

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get(
    "/events",
    response_model=AuditPage,
    summary="Who accessed your space, when, why: newest events first",
    responses=problem_responses(400, 401, 403),
)
def events(
    view: CitizenView,
    before_seq: Annotated[
        int | None, Query(ge=1, description="Events before this sequence number (next_before_seq)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    actor_kind: Annotated[str | None, Query(description="citizen, service, operator…")] = None,
    actor_id: Annotated[str | None, Query(description="e.g. a service id")] = None,
    action: Annotated[str | None, Query(description="read, write, consent.give…")] = None,
    doctype: Annotated[str | None, Query()] = None,
    purpose: Annotated[str | None, Query(description="a DPV term")] = None,
    outcome: Annotated[str | None, Query(pattern="^(allowed|denied|failed)$")] = None,
    since: Annotated[str | None, Query(description="ISO 8601 date or date-time")] = None,
    until: Annotated[str | None, Query(description="ISO 8601 date or date-time (excluded)")] = None,
) -> JSONResponse:
    match = {
        k: v
        for k, v in {
            "actor_kind": actor_kind,
            "actor_id": actor_id,
            "action": action,
            "doctype": doctype,
            "purpose": purpose,
            "outcome": outcome,
        }.items()
        if v is not None
    }
    found = view.access_log(
        before_seq=before_seq,
        limit=limit,
        match=match or None,
        since=parse_instant(since, "since"),
        until=parse_instant(until, "until"),
    )
    oldest = found[-1].seq if found else None
    more = oldest is not None and len(found) == limit and oldest > 1
    return JSONResponse(
        {"items": [e.as_dict() for e in found], "next_before_seq": oldest if more else None}
    )


@router.get(
    "/export",
    summary="Download the whole log with its signed checkpoints (JSON Lines)",
    responses=problem_responses(401, 403),
)
def export(view: CitizenView) -> StreamingResponse:
    lines = view.export_log()
    return StreamingResponse(
        lines,
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="access-log.jsonl"'},
    )


@router.post(
    "/checkpoints",
    summary="Ask the operator's key to sign the log's head now",
    responses=problem_responses(401, 403),
)
def checkpoint(view: CitizenView, platform: PlatformDep) -> JSONResponse:
    made = platform.gate.checkpoint(view.space_id)
    return JSONResponse(made.as_dict() if made else {})


@router.get(
    "/verify",
    response_model=VerifyOut,
    summary="Check the log's hash chain from its start",
    responses=problem_responses(401, 403),
)
def verify(view: CitizenView) -> VerifyOut:
    ok, message, count = view.verify_log()
    return VerifyOut(ok=ok, message=message, events=count)
