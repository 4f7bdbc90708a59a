"""Record queries: doctype, time range, simple field filters, keyset pagination.

Filters are evaluated after decryption, inside the process holding the space key,
because field values are sealed. The time range and ordering run in SQL on the clear
``time_start`` column, so a filtered query only decrypts the time window it needs.

Filter syntax (API query strings and the CLI)::

    field=value   field!=value   field<value   field<=value   field>value   field>=value
    field~text    (contains, case-insensitive)      field?      (is present)
    a.b=value     (dotted path into nested objects)
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import orjson

from selfdata.errors import MalformedQuery

__all__ = ["Cursor", "Filter", "Query", "decode_cursor", "encode_cursor"]

Op = Literal["eq", "ne", "lt", "le", "gt", "ge", "contains", "exists"]
_SYNTAX = re.compile(
    r"^(?P<field>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*(?P<op>!=|<=|>=|=|<|>|~|\?)\s*(?P<value>.*)$",
    re.S,
)
_OPS: dict[str, Op] = {
    "=": "eq",
    "!=": "ne",
    "<": "lt",
    "<=": "le",
    ">": "gt",
    ">=": "ge",
    "~": "contains",
    "?": "exists",
}
_MAX_FILTERS = 20


@dataclass(frozen=True, slots=True)
class Filter:
    field: str
    op: Op
    value: str = ""
    _number: Decimal | None = None

    @classmethod
    def parse(cls, text: str) -> Filter:
        match = _SYNTAX.match(text.strip())
        if not match:
            raise MalformedQuery(
                f"filter {text!r} is not understood; expected FIELD OP VALUE with OP one of "
                "= != < <= > >= ~ (contains) ? (present), e.g. amount<-50 or label~bakery"
            )
        op = _OPS[match["op"]]
        value = match["value"]
        if op == "exists" and value:
            raise MalformedQuery(f"filter {text!r}: '?' takes no value (write {match['field']}?)")
        if op != "exists" and value == "" and op not in ("eq", "ne"):
            raise MalformedQuery(f"filter {text!r} has no value after {match['op']!r}")
        return cls.make(match["field"], op, value)

    @classmethod
    def make(cls, field_path: str, op: Op, value: str) -> Filter:
        number: Decimal | None = None
        try:
            number = Decimal(value) if value.strip() else None
            if number is not None and not number.is_finite():
                number = None
        except InvalidOperation:
            number = None
        if op in ("lt", "le", "gt", "ge") and number is None and not _is_isoish(value):
            raise MalformedQuery(
                f"filter {field_path} {op} {value!r}: ordering needs a number or an ISO date"
            )
        return cls(field_path, op, value, number)

    @property
    def root(self) -> str:
        return self.field.split(".", 1)[0]

    def matches(self, data: Mapping[str, Any]) -> bool:
        present, actual = _lookup(data, self.field)
        if self.op == "exists":
            return present and actual is not None
        if not present or actual is None:
            return self.op == "ne"
        if self.op == "contains":
            if isinstance(actual, list):
                return any(self.value.casefold() in str(item).casefold() for item in actual)
            return self.value.casefold() in str(actual).casefold()
        cmp = self._compare(actual)
        if cmp is None:
            return self.op == "ne"
        return {
            "eq": cmp == 0,
            "ne": cmp != 0,
            "lt": cmp < 0,
            "le": cmp <= 0,
            "gt": cmp > 0,
            "ge": cmp >= 0,
        }[self.op]

    def _compare(self, actual: Any) -> int | None:
        if isinstance(actual, bool):
            want = self.value.strip().lower()
            if want not in ("true", "false"):
                return None
            return (actual > (want == "true")) - (actual < (want == "true"))
        if self._number is not None and isinstance(actual, int | float | str):
            try:
                number = Decimal(str(actual))
            except InvalidOperation:
                number = None
            if number is not None and number.is_finite():
                return (number > self._number) - (number < self._number)
        if isinstance(actual, list | dict):
            return None
        text = str(actual)
        return (text > self.value) - (text < self.value)

    def as_text(self) -> str:
        symbol = {v: k for k, v in _OPS.items()}[self.op]
        return f"{self.field}{symbol}{self.value}"


def _lookup(data: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    current: Any = data
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            return False, None
    return True, current


def _is_isoish(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Cursor:
    time_start: int
    id: str
    descending: bool


def encode_cursor(cursor: Cursor) -> str:
    raw = orjson.dumps([cursor.time_start, cursor.id, cursor.descending])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        time_start, record_id, descending = orjson.loads(raw)
        if not isinstance(time_start, int) or not isinstance(record_id, str):
            raise ValueError
        return Cursor(time_start, record_id, bool(descending))
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise MalformedQuery(
            "the pagination cursor is not valid; use the next_cursor value of the previous page"
        ) from None


@dataclass(frozen=True, slots=True)
class Query:
    """What to read from one doctype. Times are UTC; ``end`` is exclusive."""

    doctype: str
    start: datetime | None = None
    end: datetime | None = None
    filters: tuple[Filter, ...] = field(default_factory=tuple)
    limit: int = 100
    cursor: str | None = None
    descending: bool = False

    @classmethod
    def build(
        cls,
        doctype: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        filters: Iterable[str | Filter] = (),
        limit: int = 100,
        cursor: str | None = None,
        descending: bool = False,
        max_limit: int = 1000,
    ) -> Query:
        parsed = tuple(f if isinstance(f, Filter) else Filter.parse(f) for f in filters)
        if len(parsed) > _MAX_FILTERS:
            raise MalformedQuery(f"at most {_MAX_FILTERS} filters per query ({len(parsed)} given)")
        if not 1 <= limit <= max_limit:
            raise MalformedQuery(f"limit must be between 1 and {max_limit} (got {limit})")
        if start and end and start >= end:
            raise MalformedQuery(
                f"the start ({start.isoformat()}) must be before the end ({end.isoformat()})"
            )
        if cursor is not None:
            decode_cursor(cursor)
        return cls(doctype, start, end, parsed, limit, cursor, descending)
