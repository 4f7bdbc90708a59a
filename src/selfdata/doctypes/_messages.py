"""Turn pydantic's validation errors into ``FieldError``\\ s a person can act on.

Every message says what was expected and what was found ("expected a decimal number such
as '-12.50', got 'abc'"), because the reader is usually someone fixing a spreadsheet
export, not a Python developer. Only this module knows pydantic's error vocabulary.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from selfdata.errors import FieldError

from .fields import PATTERN_HINTS

__all__ = ["field_errors", "show_value"]

_DATE = "a date as YYYY-MM-DD, such as '2024-03-31'"
_DATETIME = (
    "a date and time with a timezone, such as '2024-03-31T08:30:00+02:00' or '2024-03-31T06:30:00Z'"
)
_DECIMAL = "a decimal number with a dot as separator, such as '-12.50'"

# Error type -> what was expected. Types not listed fall back to pydantic's own message.
_EXPECTED: dict[str, str] = {
    "string_type": "text",
    "string_unicode": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number (no decimals)",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number (not NaN or infinity)",
    "decimal_type": _DECIMAL,
    "decimal_parsing": _DECIMAL,
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": "a date without a time of day, as YYYY-MM-DD",
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "datetime_object_invalid": _DATETIME,
    "timezone_aware": "a timezone offset after the time (such as +02:00 or Z)",
    "list_type": "a list",
    "dict_type": "an object (a set of named fields)",
    "model_type": "an object (a set of named fields)",
    "model_attributes_type": "an object (a set of named fields)",
}


def _describe(error: ErrorDetails) -> str:
    """What was expected, in words, from one pydantic error."""
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}"
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected', '?')}"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        return f"expected {PATTERN_HINTS.get(pattern, f'text matching {pattern}')}"
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return "expected non-empty text (leave the field out when there is no value)"
        return f"expected text of at least {ctx.get('min_length')} characters"
    if kind == "string_too_long":
        return f"expected text of at most {ctx.get('max_length')} characters"
    if kind in ("too_short", "too_long"):
        bound = "at least" if kind == "too_short" else "at most"
        limit = ctx.get("min_length" if kind == "too_short" else "max_length")
        return f"expected {bound} {limit} items"
    if kind in _BOUNDS:
        words, key = _BOUNDS[kind]
        return f"expected a number {words} {ctx.get(key)}"
    if kind == "decimal_max_digits":
        return f"expected a decimal number with at most {ctx.get('max_digits')} digits"
    if kind == "decimal_max_places":
        return f"expected at most {ctx.get('decimal_places')} digits after the decimal point"
    if kind == "decimal_whole_digits":
        return f"expected at most {ctx.get('whole_digits')} digits before the decimal point"
    if kind in ("value_error", "assertion_error"):
        # Our own validators phrase their ValueError as "expected ...".
        return str(ctx.get("error", error["msg"]))
    message = error["msg"]
    return message[:1].lower() + message[1:]


_BOUNDS: dict[str, tuple[str, str]] = {
    "greater_than": ("greater than", "gt"),
    "greater_than_equal": ("greater than or equal to", "ge"),
    "less_than": ("less than", "lt"),
    "less_than_equal": ("less than or equal to", "le"),
}


def show_value(value: Any) -> str:
    """A short rendering of the offending input, JSON-flavoured, never very long."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return repr(text)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def _fields_at(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The field names of the (nested) model found at ``loc``, for "did you mean"."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        info = current.model_fields.get(part)
        if info is None:
            return []
        current = _model_in(info.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _model_in(annotation: Any) -> Any:
    """The model class inside ``X | None``, ``list[X]`` and the like, else the annotation."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, tuple, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if isinstance(found, type) and issubclass(found, BaseModel):
                return found
    return annotation


def _unknown_field(model: type[BaseModel], loc: Sequence[str | int]) -> str:
    name = str(loc[-1]) if loc else ""
    known = _fields_at(model, loc[:-1])
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"unknown field; did you mean '{close[0]}'?"
    if known:
        return f"unknown field; expected one of: {', '.join(known)}"
    return "unknown field"


def field_errors(
    exc: ValidationError,
    model: type[BaseModel],
    *,
    source: str | None,
    line: int | None,
) -> list[FieldError]:
    """One ``FieldError`` per pydantic error, each with an "expected ..." message."""
    out: list[FieldError] = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        kind = error["type"]
        if kind == "missing":
            message = "this field is required"
        elif kind == "extra_forbidden":
            message = _unknown_field(model, loc)
        else:
            message = f"{_describe(error)}, got {show_value(error.get('input'))}"
        out.append(FieldError(loc=loc, message=message, line=line, source=source, kind=kind))
    return out
