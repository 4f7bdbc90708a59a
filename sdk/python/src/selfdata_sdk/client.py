"""The data API as a service sees it: records, series and questions, with a token bound
to one citizen's consent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from selfdata_sdk.errors import raise_for_problem

__all__ = ["Answer", "Page", "Question", "SelfdataClient"]


@dataclass(frozen=True, slots=True)
class Question:
    name: str
    description: str
    doctypes: list[str]
    period: str
    kind: str
    params_schema: dict[str, Any]
    answer_schema: dict[str, Any] | None
    max_answer_bytes: int


@dataclass(frozen=True, slots=True)
class Answer:
    answer_id: str
    question: str
    value: Any
    answer_bytes: int
    asked_at: str
    period_start: str
    period_end: str


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class SelfdataClient:
    """``purpose``: the DPV purpose sent with data reads (``Selfdata-Purpose``); questions
    carry their own."""

    def __init__(
        self,
        base_url: str,
        access_token: str,
        *,
        purpose: str | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        if purpose:
            headers["Selfdata-Purpose"] = purpose
        self._headers = headers
        self._http = http or httpx.Client(timeout=60.0)

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        response = self._http.get(f"{self.base_url}{path}", params=params, headers=self._headers)
        raise_for_problem(response)
        return response.json()

    # -- questions (compute-to-data) -----------------------------------------------------

    def questions(self, lang: str = "en") -> list[Question]:
        """The questions this token may ask."""
        body = self._get("/api/v1/questions", {"lang": lang})
        return [
            Question(
                q["name"],
                q["description"],
                list(q["doctypes"]),
                q["period"],
                q["kind"],
                q["params_schema"],
                q.get("answer_schema"),
                int(q["max_answer_bytes"]),
            )
            for q in body["items"]
        ]

    def ask(self, name: str, params: dict[str, Any] | None = None) -> Answer:
        """Ask question ``name``; only its checked answer comes back."""
        response = self._http.post(
            f"{self.base_url}/api/v1/questions/{name}", json=params or {}, headers=self._headers
        )
        raise_for_problem(response)
        body = response.json()
        return Answer(
            body["answer_id"],
            body["question"],
            body["answer"],
            int(body["answer_bytes"]),
            body["asked_at"],
            body["period"]["start"],
            body["period"]["end"],
        )

    # -- direct reads (services in "api" mode) -------------------------------------------

    def records(
        self, doctype: str, *, limit: int = 100, cursor: str | None = None, **params: Any
    ) -> Page:
        query: dict[str, Any] = {"limit": limit, **params}
        if cursor:
            query["cursor"] = cursor
        body = self._get(f"/api/v1/records/{doctype}", query)
        return Page(list(body.get("items", [])), body.get("next_cursor"), body)

    def series_points(self, stream_id: str, *, every: str | None = None) -> dict[str, Any]:
        params = {"every": every} if every else None
        result: dict[str, Any] = self._get(f"/api/v1/series/{stream_id}/points", params)
        return result

    def consent(self) -> dict[str, Any]:
        """The consent this token acts under (status, grants, signed receipt)."""
        result: dict[str, Any] = self._get("/api/v1/service/consent")
        return result

    def close(self) -> None:
        self._http.close()
