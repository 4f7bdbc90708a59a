"""Files of the caller's own space: streamed in (raw body or multipart), streamed out.

No upload touches the server's disk in clear: see :mod:`selfdata.web.uploads`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import StreamingResponse

from selfdata.access import FileInfo
from selfdata.web.auth import DataView
from selfdata.web.models import FileOut
from selfdata.web.params import content_disposition, safe_filename, safe_media_type
from selfdata.web.problems import problem_responses
from selfdata.web.responses import JSONResponse
from selfdata.web.uploads import MultipartFile, body_chunks, multipart_boundary

__all__ = ["router"]

router = APIRouter(prefix="/files", tags=["files"])

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "*/*": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
_FORM_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


def _out(info: FileInfo) -> FileOut:
    return FileOut(**info.as_dict(), duplicate=info.duplicate_of_existing)


def _created(info: FileInfo) -> JSONResponse:
    return JSONResponse(
        _out(info).model_dump(mode="json"),
        status_code=status.HTTP_201_CREATED,
        headers={"Location": f"/api/v1/files/{info.id}"},
    )


@router.put(
    "",
    response_model=FileOut,
    status_code=status.HTTP_201_CREATED,
    summary="Upload a file as the raw request body (Content-Type: its media type), streamed",
    responses=problem_responses(400, 401, 403, 413, 422),
    openapi_extra=_UPLOAD_BODY,
)
async def upload_raw(
    request: Request,
    view: DataView,
    filename: Annotated[str, Query(min_length=1, max_length=1024, description="The file's name")],
) -> JSONResponse:
    name = safe_filename(filename)
    media_type = safe_media_type(request.headers.get("content-type"))
    info = await run_in_threadpool(
        view.put_file, body_chunks(request), filename=name, media_type=media_type
    )
    return _created(info)


@router.post(
    "",
    response_model=FileOut,
    status_code=status.HTTP_201_CREATED,
    summary="Upload a file from a multipart/form-data form (first file part), streamed",
    responses=problem_responses(400, 401, 403, 413, 415, 422),
    openapi_extra=_FORM_BODY,
)
async def upload_form(request: Request, view: DataView) -> JSONResponse:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != "multipart/form-data":
        raise HTTPException(
            415, "send a multipart/form-data form, or PUT the raw file with ?filename="
        )
    boundary = multipart_boundary(content_type)

    def store() -> FileInfo:
        filename, media_type, content = MultipartFile(body_chunks(request), boundary).open()
        return view.put_file(content, filename=filename, media_type=media_type)

    return _created(await run_in_threadpool(store))


@router.get(
    "",
    response_model=list[FileOut],
    summary="Your files",
    responses=problem_responses(401, 403),
)
def list_files(view: DataView) -> JSONResponse:
    return JSONResponse([_out(info).model_dump(mode="json") for info in view.files()])


@router.get(
    "/{file_id}",
    summary="Download a file (streamed, as an attachment)",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The content"},
        **problem_responses(401, 403, 404),
    },
)
def download(file_id: str, view: DataView) -> StreamingResponse:
    info, content = view.open_file(file_id)
    return StreamingResponse(
        content,
        media_type=info.media_type,
        headers={
            "Content-Disposition": content_disposition("attachment", info.filename),
            "Content-Length": str(info.size),
            # Whatever the file claims to be, it never runs as a page of this origin.
            "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox",
        },
    )


@router.delete(
    "/{file_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a file",
    responses=problem_responses(401, 403, 404),
)
def delete_file(file_id: str, view: DataView) -> Response:
    view.delete_file(file_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
