"""Records of the caller's own space: query, write, read, replace, delete."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Query, Response, status

from selfdata.access import Query as RecordQuery
from selfdata.errors import FieldError, PayloadTooLarge, ValidationFailed
from selfdata.web.auth import DataView, DeferredDataView, PlatformDep
from selfdata.web.models import RecordOut, RecordPage, WriteReportOut
from selfdata.web.params import etag, parse_if_match, parse_instant, require_json
from selfdata.web.problems import problem_responses
from selfdata.web.responses import JSONResponse

__all__ = ["router"]

router = APIRouter(prefix="/records", tags=["records"])

_EXAMPLES = {
    "one": {
        "summary": "One record",
        "value": {
            "account_id": "FR76****0189",
            "booked_on": "2024-03-28",
            "amount": "-42.50",
            "currency": "EUR",
            "label": "CB CARREFOUR LYON 27/03",
        },
    },
    "batch": {
        "summary": "A batch (all or nothing)",
        "value": {
            "items": [
                {
                    "account_id": "FR76****0189",
                    "booked_on": "2024-03-28",
                    "amount": "-42.50",
                    "currency": "EUR",
                    "label": "CB CARREFOUR LYON 27/03",
                }
            ]
        },
    },
}


_START = (
    "ISO 8601 date or date-time (inclusive); a date is midnight UTC, a time without offset is UTC"
)
_END = "ISO 8601 date or date-time (exclusive)"
_FILTER = (
    "Repeatable, all must match: `amount<-50`, `label~bakery`, `category=groceries`, "
    "`counterparty?` (see docs/api.md)"
)
_ON_EXISTING = (
    "When a record with the same identity fields exists: keep it (`skip`), replace "
    "its data (`update`) or refuse the whole request (`error`, 409)"
)


@router.get(
    "/{doctype}",
    response_model=RecordPage,
    summary="Query records of one doctype (paginated)",
    responses=problem_responses(400, 401, 403, 404),
)
def query_records(
    doctype: str,
    view: DataView,
    platform: PlatformDep,
    start: Annotated[str | None, Query(description=_START)] = None,
    end: Annotated[str | None, Query(description=_END)] = None,
    filters: Annotated[list[str] | None, Query(alias="filter", description=_FILTER)] = None,
    limit: Annotated[
        int, Query(description="Records per page (at most the instance's max_page_size)")
    ] = 100,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
    order: Literal["asc", "desc"] = "asc",
) -> JSONResponse:
    query = RecordQuery.build(
        doctype,
        start=parse_instant(start, "start"),
        end=parse_instant(end, "end"),
        filters=filters or (),
        limit=limit,
        cursor=cursor,
        descending=order == "desc",
        max_limit=platform.settings.limits.max_page_size,
    )
    page = view.query(query)
    return JSONResponse(
        {
            "items": [r.as_dict() for r in page.items],
            "next_cursor": page.next_cursor,
            "scanned": page.scanned,
        }
    )


@router.post(
    "/{doctype}",
    response_model=WriteReportOut,
    status_code=status.HTTP_201_CREATED,
    summary='Store one record, or a batch {"items": [...]} (all or nothing)',
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
    dependencies=[Depends(require_json)],
)
def write_records(
    doctype: str,
    body: Annotated[dict[str, Any], Body(openapi_examples=_EXAMPLES)],
    view: DataView,
    platform: PlatformDep,
    response: Response,
    on_existing: Annotated[
        Literal["skip", "update", "error"], Query(description=_ON_EXISTING)
    ] = "skip",
) -> WriteReportOut:
    single = not (set(body) == {"items"} and isinstance(body["items"], list))
    items: list[Any] = [body] if single else body["items"]
    bound = platform.settings.limits.max_batch_records
    if len(items) > bound:
        raise PayloadTooLarge(
            f"at most {bound} records per request ({len(items)} sent); split the batch", limit=bound
        )
    if not items:
        raise ValidationFailed(
            "the batch is empty",
            [FieldError(("items",), "expected at least one record", kind="too_short")],
        )
    try:
        report = view.put_records(doctype, items, on_existing=on_existing)
    except ValidationFailed as exc:
        # The view locates errors by position; the caller knows its body's shape.
        raise ValidationFailed(
            exc.detail,
            [
                FieldError(e.loc[1:] if single else ("items", *e.loc), e.message, kind=e.kind)
                for e in exc.errors
            ],
            **exc.extra,
        ) from None
    if single and report.ids:
        response.headers["Location"] = f"/api/v1/records/{doctype}/{report.ids[0]}"
    return WriteReportOut(
        created=report.created, updated=report.updated, unchanged=report.unchanged, ids=report.ids
    )


@router.get(
    "/{doctype}/{record_id}",
    response_model=RecordOut,
    summary="One record (ETag: its revision)",
    responses=problem_responses(401, 403, 404),
)
def get_record(
    doctype: str, record_id: str, open_view: DeferredDataView, platform: PlatformDep
) -> JSONResponse:
    view = open_view()  # authentication first, on this thread (see DeferredDataView)
    platform.doctypes.get(doctype)
    record = view.get_record(record_id, doctype=doctype)
    return JSONResponse(record.as_dict(), headers={"ETag": etag(record.revision)})


@router.put(
    "/{doctype}/{record_id}",
    response_model=RecordOut,
    summary="Replace a record's data (If-Match: its ETag, to refuse lost updates)",
    responses=problem_responses(400, 401, 403, 404, 409, 415, 422),
    dependencies=[Depends(require_json)],
)
def replace_record(
    doctype: str,
    record_id: str,
    body: Annotated[dict[str, Any], Body(openapi_examples={"one": _EXAMPLES["one"]})],
    view: DataView,
    platform: PlatformDep,
    if_match: Annotated[str | None, Header(description='The ETag read, such as "3"')] = None,
) -> JSONResponse:
    expected = parse_if_match(if_match)
    platform.doctypes.get(doctype)
    record = view.update_record(record_id, body, expected_revision=expected, doctype=doctype)
    return JSONResponse(record.as_dict(), headers={"ETag": etag(record.revision)})


@router.delete(
    "/{doctype}/{record_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a record",
    responses=problem_responses(401, 403, 404),
)
def delete_record(doctype: str, record_id: str, view: DataView, platform: PlatformDep) -> Response:
    platform.doctypes.get(doctype)
    view.delete_record(record_id, doctype=doctype)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
