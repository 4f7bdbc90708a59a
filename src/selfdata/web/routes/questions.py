"""Compute-to-data over HTTP: a service asks a question with its consent-bound token and
gets only the answer; the citizen reads every answer services received."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request

from selfdata.access import Query as RecordQuery
from selfdata.errors import AccessDenied, FieldError, ValidationFailed
from selfdata.web.auth import CitizenView, DataView, PlatformDep
from selfdata.web.params import require_json
from selfdata.web.problems import problem_responses
from selfdata.web.responses import JSONResponse

__all__ = ["router"]

router = APIRouter(tags=["questions"])


def _lang(request: Request, lang: str | None) -> str:
    if lang in ("fr", "en"):
        return lang
    return "en" if request.headers.get("accept-language", "").startswith("en") else "fr"


def _service_only(view: DataView) -> DataView:
    if view.actor.kind != "service":
        raise AccessDenied(
            "questions are asked by services, with the OAuth token of a citizen's consent; "
            "your own answers are at GET /api/v1/answers",
            reason="action-not-for-services",
        )
    return view


@router.get(
    "/questions",
    summary="For a service: the questions its token's consent lets it ask",
    responses=problem_responses(401, 403),
)
def list_questions(
    request: Request,
    view: DataView,
    platform: PlatformDep,
    lang: Annotated[str | None, Query(description="fr or en")] = None,
) -> JSONResponse:
    view = _service_only(view)
    chosen = _lang(request, lang)
    return JSONResponse({"items": [q.as_dict(chosen) for q in platform.questions.askable(view)]})


@router.post(
    "/questions/{name}",
    summary="For a service: ask a question; only the checked answer comes back",
    responses=problem_responses(400, 401, 403, 404, 415, 422),
    dependencies=[Depends(require_json)],
)
def ask(
    name: str,
    view: DataView,
    platform: PlatformDep,
    body: Annotated[
        Any,
        Body(
            description="The question's params (an object; may be omitted when it has none)",
            openapi_examples={"none": {"summary": "No params", "value": {}}},
        ),
    ] = None,
) -> JSONResponse:
    view = _service_only(view)
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise ValidationFailed(
            "the body must be a JSON object of params",
            [FieldError(("body",), "expected an object")],
        )
    answer = platform.questions.run(view, name, body)
    return JSONResponse(answer.as_dict())


@router.get(
    "/answers",
    summary="Your copy of every answer services received, newest first",
    responses=problem_responses(400, 401, 403),
)
def answers(
    view: CitizenView,
    service_id: Annotated[str | None, Query(description="only this service's")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query()] = None,
) -> JSONResponse:
    filters = [f"service_id={service_id}"] if service_id else []
    page = view.query(
        RecordQuery.build(
            "service.answer", filters=filters, limit=limit, cursor=cursor, descending=True
        )
    )
    return JSONResponse(
        {
            "items": [{"id": r.id, **r.data} for r in page.items],
            "next_cursor": page.next_cursor,
        }
    )
