"""What services learned: every answer a service received to its questions
(compute-to-data), read from the citizen's sealed ``service.answer`` copies, newest
first, with the question's words from the service's manifest and the answer itself
shown readably."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from selfdata.access import Query
from selfdata.errors import NotFound
from selfdata.platform import Platform
from selfdata.services.manifest import Manifest
from selfdata.web.pages.common import PageRoute, page, platform_of, require_citizen
from selfdata.web.pages.i18n import Lang, choose_language

__all__ = ["answer_view", "router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_PAGE_SIZE = 20
# A table wider or longer than this is no longer "small": the answer is shown as JSON.
_MAX_COLUMNS = 12
_MAX_ROWS = 500


def _is_flat(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def answer_view(answer: Any) -> dict[str, Any]:
    """How to show an answer: a table for a list of flat objects, else pretty JSON
    (``text``, always there: the exact answer, also offered under the table)."""
    text = json.dumps(answer, indent=2, ensure_ascii=False)
    if (
        isinstance(answer, list)
        and 0 < len(answer) <= _MAX_ROWS
        and all(isinstance(row, dict) and all(map(_is_flat, row.values())) for row in answer)
    ):
        columns = list(dict.fromkeys(key for row in answer for key in row))
        if 0 < len(columns) <= _MAX_COLUMNS:
            rows = [[row.get(c) for c in columns] for row in answer]
            return {"kind": "table", "columns": columns, "rows": rows, "text": text}
    return {"kind": "json", "text": text}


class _Manifests:
    """Each asking service's manifest, looked up once per page (a service the operator
    removed since keeps its answers, shown with its id)."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform
        self._seen: dict[str, Manifest | None] = {}

    def get(self, service_id: str) -> Manifest | None:
        if service_id not in self._seen:
            try:
                self._seen[service_id] = self._platform.services.get(service_id).manifest
            except NotFound:
                self._seen[service_id] = None
        return self._seen[service_id]


def _item(data: dict[str, Any], manifests: _Manifests, lang: Lang) -> dict[str, Any]:
    manifest = manifests.get(str(data["service_id"]))
    description = None
    if manifest is not None:
        try:
            description = manifest.question(str(data["question"])).description.get(lang)
        except KeyError:  # the service's newer manifest no longer asks it
            description = None
    return {
        "id": data["answer_id"],
        "service_id": data["service_id"],
        "service": manifest.name.get(lang) if manifest else data["service_id"],
        "question": data["question"],
        "description": description,
        "asked_at": data["asked_at"],
        "period_start": data["period_start"],
        "period_end": data["period_end"],
        "bytes": data["answer_bytes"],
        "params": data.get("params") or {},
        "shown": answer_view(data.get("answer")),
    }


@router.get("/services/answers")
def answers(request: Request) -> Response:
    citizen = require_citizen(request)
    platform = platform_of(request)
    lang = choose_language(request)
    params = request.query_params
    service, answer = params.get("service") or "", params.get("answer") or ""
    filters = []
    if service:
        filters.append(f"service_id={service}")
    if answer:
        filters.append(f"answer_id={answer}")
    cursor = params.get("cursor") or None
    # A hand-edited filter or cursor is a MalformedQuery: a 400 page.
    query = Query.build(
        "service.answer", filters=filters, limit=_PAGE_SIZE, cursor=cursor, descending=True
    )
    result = citizen.view.query(query)
    manifests = _Manifests(platform)
    names = {c.service_id: c.service_name.get(lang) for c in citizen.view.consents()}
    keep = {k: v for k, v in (("service", service), ("answer", answer)) if v}
    return page(
        request,
        "answers.html",
        {
            "items": [_item(r.data, manifests, lang) for r in result.items],
            "services": sorted((sid, name or sid) for sid, name in names.items()),
            "filters": keep,
            "next_cursor": result.next_cursor,
            "paged": cursor is not None,
        },
        citizen=citizen,
    )
