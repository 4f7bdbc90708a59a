"""Time series of the caller's own space: streams, appending points, reading them back."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Response, status
from starlette.responses import StreamingResponse

from selfdata.access import SpaceView, Stream
from selfdata.errors import MalformedQuery
from selfdata.web.auth import DataView, PlatformDep
from selfdata.web.models import PointsAdded, SeriesPoints, StreamIn, StreamOut
from selfdata.web.params import content_disposition, parse_instant, require_json
from selfdata.web.points import arrow_bytes, csv_chunks, json_chunks, parse_points
from selfdata.web.problems import problem_responses
from selfdata.web.responses import ARROW_STREAM, JSONResponse

__all__ = ["router"]

router = APIRouter(prefix="/series", tags=["series"])


@router.get(
    "",
    response_model=list[StreamOut],
    summary="Your series (optionally of one doctype or record)",
    responses=problem_responses(401, 403, 404),
)
def list_streams(
    view: DataView, doctype: str | None = None, record_id: str | None = None
) -> JSONResponse:
    return JSONResponse([s.as_dict() for s in view.streams(doctype, record_id)])


@router.post(
    "",
    response_model=StreamOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a series",
    responses=problem_responses(400, 401, 403, 404, 415, 422),
    dependencies=[Depends(require_json)],
)
def create_stream(body: StreamIn, view: DataView) -> JSONResponse:
    stream = view.create_stream(body.doctype, record_id=body.record_id, meta=body.meta)
    return JSONResponse(
        stream.as_dict(),
        status_code=status.HTTP_201_CREATED,
        headers={"Location": f"/api/v1/series/{stream.id}"},
    )


def _stream(view: SpaceView, stream_id: str) -> Stream:
    return view.stream(stream_id)


@router.post(
    "/{stream_id}/points",
    response_model=PointsAdded,
    summary="Add points (rows or columns); a time already stored takes the new value",
    responses=problem_responses(400, 401, 403, 404, 413, 415, 422),
    dependencies=[Depends(require_json)],
)
def append_points(
    stream_id: str,
    body: Annotated[
        dict[str, Any],
        Body(
            openapi_examples={
                "rows": {
                    "summary": "Rows",
                    "value": {
                        "points": [
                            {"time": "2024-03-31T00:30:00+01:00", "value": 412.0},
                            {"time": "2024-03-31T01:00:00+01:00", "value": 398.5},
                        ]
                    },
                },
                "columns": {
                    "summary": "Columns",
                    "value": {
                        "time": ["2024-03-31T00:30:00+01:00", "2024-03-31T01:00:00+01:00"],
                        "value": [412.0, 398.5],
                    },
                },
            }
        ),
    ],
    view: DataView,
) -> PointsAdded:
    stream = _stream(view, stream_id)
    ts, values = parse_points(body, stream.columns)
    gained = view.append_points(stream_id, ts, values)
    return PointsAdded(received=int(ts.shape[0]), gained=gained)


@router.get(
    "/{stream_id}/points",
    response_model=SeriesPoints,
    summary="Read points, raw or aggregated by hour, day, month or year (JSON, CSV or Arrow)",
    responses={
        200: {"content": {"text/csv": {}, ARROW_STREAM: {}}},
        **problem_responses(400, 401, 403, 404),
    },
)
def read_points(
    stream_id: str,
    view: DataView,
    platform: PlatformDep,
    start: Annotated[str | None, Query(description="ISO 8601 date or date-time, inclusive")] = None,
    end: Annotated[str | None, Query(description="ISO 8601 date or date-time, exclusive")] = None,
    every: Annotated[
        Literal["raw", "hour", "day", "month", "year"],
        Query(description="`raw` points, or buckets of the space's local calendar (its time zone)"),
    ] = "raw",
    how: Annotated[
        Literal["sum", "mean", "min", "max", "count"],
        Query(description="How a bucket combines its points (ignored for raw)"),
    ] = "sum",
    fmt: Annotated[Literal["json", "csv", "arrow"], Query(alias="format")] = "json",
) -> Response:
    first, last = parse_instant(start, "start"), parse_instant(end, "end")
    if first and last and first >= last:
        raise MalformedQuery(
            f"the start ({first.isoformat()}) must be before the end ({last.isoformat()})"
        )
    if every == "raw":
        frame = view.read_points(stream_id, first, last)
        bound = platform.settings.limits.max_series_points
        if len(frame) > bound:
            raise MalformedQuery(
                f"this range holds {len(frame)} points, more than the {bound} a raw read returns; "
                "narrow start/end or aggregate with every=hour, day, month or year",
                limit=bound,
            )
    else:
        frame = view.aggregate(stream_id, every, how, first, last)
    if fmt == "arrow":
        return Response(arrow_bytes(frame), media_type=ARROW_STREAM)
    if fmt == "csv":
        return StreamingResponse(
            csv_chunks(frame),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": content_disposition("attachment", f"{stream_id}.csv")},
        )
    head = {
        "series": stream_id,
        "every": every,
        "how": None if every == "raw" else how,
        "columns": list(frame.columns),
    }
    return StreamingResponse(json_chunks(frame, head), media_type="application/json")


@router.delete(
    "/{stream_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a series and all its points",
    responses=problem_responses(401, 403, 404),
)
def delete_stream(stream_id: str, view: DataView) -> Response:
    view.delete_stream(stream_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
