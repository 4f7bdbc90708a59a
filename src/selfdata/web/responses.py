"""Response classes shared by the routes: fast JSON, problem JSON, media types."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

__all__ = ["ARROW_STREAM", "JSON_SCHEMA", "PROBLEM_JSON", "JSONResponse", "ProblemJSONResponse"]

PROBLEM_JSON = "application/problem+json"
ARROW_STREAM = "application/vnd.apache.arrow.stream"
JSON_SCHEMA = "application/schema+json"


class JSONResponse(Response):
    """JSON rendered by orjson (datetimes, NumPy scalars and non-string keys allowed)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)


class ProblemJSONResponse(JSONResponse):
    """An RFC 9457 problem document."""

    media_type = PROBLEM_JSON
