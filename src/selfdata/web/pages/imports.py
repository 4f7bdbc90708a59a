"""Add data: upload one or several export files, then follow the import jobs.

The upload is the import job manager of the HTTP API (:mod:`selfdata.importers.jobs`,
shared with ``POST /api/v1/imports``): the page posts the files, then shows a result
page that follows the jobs. Without JavaScript it reloads itself every two seconds
(``<meta http-equiv=refresh>``) until every job has ended; with JavaScript, app.js
follows ``/api/v1/imports/{id}/events`` (Server-Sent Events) instead.

The form is multipart, and the import form parser accepts only the import's own fields:
its CSRF token travels in the action's query string (the usual answer for multipart
forms; the pages send no Referer, and the token dies with the session).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from selfdata.errors import InvalidInput
from selfdata.importers.jobs import FINISHED, ImportJob
from selfdata.web.import_form import read_import_form
from selfdata.web.pages.common import (
    Citizen,
    CsrfRefused,
    PageRoute,
    check_csrf,
    page,
    platform_of,
    read_form,
    redirect,
    require_citizen,
)
from selfdata.web.pages.i18n import choose_language
from selfdata.web.routes.imports import import_jobs
from selfdata.web.uploads import body_chunks, multipart_boundary

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_MAX_SHOWN = 20


@router.get("/add")
def add_form(request: Request) -> Response:
    citizen = require_citizen(request)
    lang = choose_language(request)
    registry = import_jobs(request.app.state).registry
    formats = [(name, registry.get(name).description.get(lang, name)) for name in registry.names()]
    jobs = import_jobs(request.app.state)
    recent = [_job_view(j, jobs.snapshot(j)[1]) for j in jobs.jobs(citizen.view)]
    return page(
        request,
        "add.html",
        {
            "formats": formats,
            "recent": recent[:_MAX_SHOWN],
            "connectors": _connectors(request, citizen),
        },
        citizen=citizen,
    )


def _connectors(request: Request, citizen: Citizen) -> dict[str, Any]:
    """The "connect a provider" section: the connectors, and the citizen's accounts with
    their sync state (docs/connectors.md)."""
    lang = choose_language(request)
    connectors = platform_of(request).connectors
    return {
        "available": [
            {
                "name": c.name,
                "description": c.description.get(lang, c.name),
                "doctypes": c.doctypes,
                "configured": c.configured,
            }
            for c in connectors.available()
        ],
        "accounts": [
            {
                "id": a.id,
                "connector": a.connector,
                "label": a.label,
                "status": a.status,
                "message": (a.message or {}).get(lang),
                "last_sync_at": a.last_sync_at,
                "next_sync_at": a.next_sync_at,
            }
            for a in connectors.accounts(citizen.view)
        ],
    }


@router.post("/add/connectors/{name}")
async def connect(name: str, request: Request) -> Response:
    """Start linking an account; the page then links to the provider's consent page (a
    link, not a redirect of this form: the CSP lets forms reach only this site)."""
    form = await read_form(request)
    citizen = require_citizen(request)
    check_csrf(citizen, form)
    connectors = platform_of(request).connectors
    url = await run_in_threadpool(connectors.begin_authorization, citizen.view, name)
    lang = choose_language(request)
    found = [c for c in connectors.available() if c.name == name]
    label = found[0].description.get(lang, name) if found else name
    return page(request, "connect.html", {"url": url, "label": label}, citizen=citizen)


@router.post("/add/accounts/{account_id}/sync")
async def sync(account_id: str, request: Request) -> Response:
    form = await read_form(request)
    citizen = require_citizen(request)
    check_csrf(citizen, form)
    connectors = platform_of(request).connectors
    await run_in_threadpool(connectors.sync_for, citizen.view, account_id)
    return redirect("/add#connect")


@router.post("/add/accounts/{account_id}/unlink")
async def unlink(account_id: str, request: Request) -> Response:
    form = await read_form(request)
    citizen = require_citizen(request)
    check_csrf(citizen, form)
    connectors = platform_of(request).connectors
    await run_in_threadpool(connectors.delete, citizen.view, account_id)
    return redirect("/add#connect")


@router.post("/add")
async def upload(request: Request) -> Response:
    citizen = require_citizen(request)
    token = request.query_params.get("csrf_token", "")
    if token != citizen.csrf:
        raise CsrfRefused
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != "multipart/form-data":
        raise InvalidInput("send the files with the form of this page")
    boundary = multipart_boundary(content_type)
    jobs = import_jobs(request.app.state)

    def receive() -> list[ImportJob]:
        form = read_import_form(body_chunks(request), boundary)
        try:
            if not form.files or all(spool.size == 0 for _, spool in form.files):
                raise InvalidInput("choose at least one file to add")
            format_name = form.one("format") or None
            skip_invalid = (form.one("skip_invalid") or "") == "true"
            if format_name is not None and format_name not in jobs.registry.names():
                raise InvalidInput(f"no import format {format_name!r}")
        except BaseException:
            form.close()
            raise
        submitted = []
        for index, (filename, spool) in enumerate(form.files):
            try:
                submitted.append(
                    jobs.submit(
                        citizen.view,
                        spool,
                        filename,
                        format_name=format_name,
                        skip_invalid=skip_invalid,
                    )
                )
            except BaseException:
                for _, left in form.files[index + 1 :]:
                    left.close()
                raise
        return submitted

    submitted = await run_in_threadpool(receive)
    return redirect("/add/jobs?" + "&".join(f"id={job.id}" for job in submitted))


def _job_view(job: ImportJob, snapshot: dict[str, Any]) -> dict[str, Any]:
    report = snapshot.get("report") or {}
    return {
        "id": job.id,
        "filename": snapshot["filename"],
        "state": snapshot["state"],
        "percent": round(100 * float(snapshot["progress"])),
        "finished": snapshot["state"] in FINISHED,
        "importer": snapshot.get("importer"),
        "report": report,
        "counts": sorted((report.get("counts") or {}).items()),
        "rejected": (report.get("rejected") or [])[:20],
        "error": snapshot.get("error"),
    }


@router.get("/add/jobs")
def job_results(request: Request) -> Response:
    citizen = require_citizen(request)
    jobs = import_jobs(request.app.state)
    ids = request.query_params.getlist("id")[:_MAX_SHOWN]
    shown = []
    for job_id in ids:
        job = jobs.get(citizen.view, job_id)  # another citizen's job: 404
        shown.append(_job_view(job, jobs.snapshot(job)[1]))
    return page(
        request,
        "jobs.html",
        {"jobs": shown, "running": any(not j["finished"] for j in shown)},
        citizen=citizen,
    )
