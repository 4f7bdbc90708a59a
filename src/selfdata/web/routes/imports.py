"""Imports over HTTP: upload export files, follow the import jobs, list the formats.

``POST /imports`` spools each uploaded file encrypted (see
:mod:`selfdata.web.import_form`), checks what can be checked at once (the format is
known or recognised, the options exist) and answers ``202`` with one job per file; the
jobs run in the background (:class:`selfdata.importers.jobs.ImportJobs`) as the citizen.

Citizens only: a service's token is refused (``citizen-only``) — importing writes to
the space and creates provenance, which no consent grants today.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from typing import Any

import anyio
import orjson
from fastapi import APIRouter, Request, status
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State
from starlette.exceptions import HTTPException
from starlette.responses import StreamingResponse

from selfdata.errors import InvalidInput
from selfdata.importers import Importer, ImporterRegistry, UnknownFormat
from selfdata.importers.jobs import FINISHED, ImportJob, ImportJobs
from selfdata.importers.runner import HEAD
from selfdata.web.auth import CitizenView
from selfdata.web.import_form import ImportForm, read_import_form
from selfdata.web.problems import problem_responses
from selfdata.web.responses import JSONResponse
from selfdata.web.uploads import body_chunks, multipart_boundary

__all__ = ["formats_router", "import_jobs", "router", "stop_import_jobs"]

router = APIRouter(prefix="/imports", tags=["imports"])
formats_router = APIRouter(prefix="/import-formats", tags=["imports"])

URL = "/api/v1/imports"
_POLL = 0.1  # seconds between looks at a job while streaming its events
_KEEPALIVE = 15.0
_lock = threading.Lock()

_FORM_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "One or more export files (one job each).",
                        },
                        "format": {
                            "type": "string",
                            "description": "The format (GET /import-formats); detected if absent.",
                        },
                        "skip_invalid": {
                            "type": "boolean",
                            "description": "Import the valid rows, report the others.",
                        },
                        "option": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "An importer option, key=value (repeatable).",
                        },
                    },
                }
            }
        },
    }
}


def import_jobs(state: State) -> ImportJobs:
    """The app's job manager, made on first use."""
    with _lock:
        jobs: ImportJobs | None = getattr(state, "import_jobs", None)
        if jobs is None:
            jobs = ImportJobs()
            state.import_jobs = jobs
        return jobs


def stop_import_jobs(state: State) -> None:
    """At shutdown: stop the running imports (they stay consistent) and the workers."""
    with _lock:
        jobs: ImportJobs | None = getattr(state, "import_jobs", None)
        state.import_jobs = None
    if jobs is not None:
        jobs.shutdown()


def _job_out(job: ImportJob, snapshot: dict[str, Any]) -> dict[str, Any]:
    return {**snapshot, "href": f"{URL}/{job.id}", "events": f"{URL}/{job.id}/events"}


def _flag(value: str | None, name: str) -> bool:
    if value is None or value.lower() in ("", "false", "0", "no", "off"):
        return False
    if value.lower() in ("true", "1", "yes", "on"):
        return True
    raise InvalidInput(f"the form field {name!r} must be true or false, not {value!r}")


def _options(values: list[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    for pair in values:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"option {pair!r}: expected key=value")
        options[key.strip()] = value
    return options


def _check(
    registry: ImporterRegistry, form: ImportForm, format_name: str | None, options: dict[str, str]
) -> None:
    """Refuse now what no job could do: an unknown format, an unreadable file, an option
    the importer does not have."""
    if format_name is not None and format_name not in registry.names():
        raise UnknownFormat(
            f"no import format {format_name!r}; known formats: {', '.join(registry.names())}"
        )
    for filename, spool in form.files:
        importer: Importer
        if format_name is not None:
            importer = registry.get(format_name)
        else:
            with spool.open() as stream:
                importer = registry.detect(stream.read(HEAD), filename)
        unknown = set(options) - set(importer.options)
        if unknown:
            raise InvalidInput(
                f"{filename}: {importer.name} has no option {', '.join(sorted(unknown))}; "
                f"its options: {', '.join(sorted(importer.options)) or 'none'}"
            )


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Import export files (multipart/form-data): one background job per file",
    responses=problem_responses(400, 401, 403, 409, 413, 415),
    openapi_extra=_FORM_BODY,
)
async def start_imports(request: Request, view: CitizenView) -> JSONResponse:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != "multipart/form-data":
        raise HTTPException(415, "send the files in a multipart/form-data form")
    boundary = multipart_boundary(content_type)
    jobs = import_jobs(request.app.state)

    def receive() -> list[ImportJob]:
        form = read_import_form(body_chunks(request), boundary)
        try:
            format_name = form.one("format") or None
            skip_invalid = _flag(form.one("skip_invalid"), "skip_invalid")
            options = _options(form.fields.get("option", []))
            _check(jobs.registry, form, format_name, options)
        except BaseException:
            form.close()
            raise
        submitted: list[ImportJob] = []
        for index, (filename, spool) in enumerate(form.files):
            try:
                submitted.append(
                    jobs.submit(
                        view,
                        spool,
                        filename,
                        format_name=format_name,
                        skip_invalid=skip_invalid,
                        options=options,
                    )
                )
            except BaseException:
                for _, left in form.files[index + 1 :]:
                    left.close()
                raise
        return submitted

    submitted = await run_in_threadpool(receive)
    items = [_job_out(job, jobs.snapshot(job)[1]) for job in submitted]
    return JSONResponse(
        {"items": items},
        status_code=status.HTTP_202_ACCEPTED,
        headers={"Location": f"{URL}/{submitted[0].id}"},
    )


@router.get("", summary="Your import jobs (newest first)", responses=problem_responses(401, 403))
def list_imports(request: Request, view: CitizenView) -> JSONResponse:
    jobs = import_jobs(request.app.state)
    return JSONResponse({"items": [_job_out(j, jobs.snapshot(j)[1]) for j in jobs.jobs(view)]})


@router.get(
    "/{job_id}",
    summary="One import job: its state, progress and, at the end, its report",
    responses=problem_responses(401, 403, 404),
)
def get_import(job_id: str, request: Request, view: CitizenView) -> JSONResponse:
    jobs = import_jobs(request.app.state)
    job = jobs.get(view, job_id)
    return JSONResponse(_job_out(job, jobs.snapshot(job)[1]))


def _event(name: str, version: int, data: dict[str, Any]) -> bytes:
    return f"event: {name}\nid: {version}\ndata: ".encode() + orjson.dumps(data) + b"\n\n"


@router.get(
    "/{job_id}/events",
    summary="Server-Sent Events: the job's progress until it ends",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "`progress` events (the job without its report), then one "
            "`end` event (the job with its report); then the stream closes.",
        },
        **problem_responses(401, 403, 404),
    },
)
def import_events(job_id: str, request: Request, view: CitizenView) -> StreamingResponse:
    jobs = import_jobs(request.app.state)
    job = jobs.get(view, job_id)
    return StreamingResponse(
        _events(jobs, job),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no"},
    )


async def _events(jobs: ImportJobs, job: ImportJob) -> AsyncIterator[bytes]:
    # Polled from the event loop rather than waited on in a thread: the server has
    # few threads (2 on SQLite) and an open stream must not hold one. Starlette ends
    # the generator when the client goes away.
    sent = -1
    quiet = 0.0
    while True:
        version, snapshot = jobs.snapshot(job)
        if version != sent:
            sent, quiet = version, 0.0
            if snapshot["state"] in FINISHED:
                yield _event("end", version, _job_out(job, snapshot))
                return
            yield _event("progress", version, _job_out(job, {**snapshot, "report": None}))
        elif quiet >= _KEEPALIVE:
            quiet = 0.0
            yield b": still working\n\n"
        await anyio.sleep(_POLL)
        quiet += _POLL


@formats_router.get("", summary="The formats this instance imports (public)")
def list_formats(request: Request) -> JSONResponse:
    registry = import_jobs(request.app.state).registry
    return JSONResponse(
        {
            "items": [
                {
                    "name": name,
                    "version": importer.version,
                    "description": dict(importer.description),
                    "doctypes": list(importer.doctypes),
                    "options": dict(importer.options),
                }
                for name in registry.names()
                for importer in (registry.get(name),)
            ]
        },
        headers={"Cache-Control": "public, max-age=300"},
    )
