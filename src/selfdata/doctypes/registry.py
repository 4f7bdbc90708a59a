"""``Doctype`` — a named, versioned kind of data — and the registry that holds them.

A doctype pairs a pydantic model (the shape of one record, or of one point of a series)
with what the rest of selfdata needs to know without reading the model: which field
gives the record's time (for range queries and consent periods), which fields identify
the same real-world item across re-imports (de-duplication), and, for series, the value
columns. ``Doctype.validate`` is on the import hot path, so it does as little as it can
beyond pydantic's own (compiled) validation and serialisation.
"""

from __future__ import annotations

import difflib
import json
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import orjson
import pydantic

from selfdata.errors import FieldError, UnknownDoctype, ValidationFailed

from ._messages import field_errors
from .fields import to_utc

__all__ = ["Category", "Doctype", "DoctypeRegistry", "Kind"]

Category = Literal[
    "energy", "bank", "mobility", "health", "calendar", "contacts", "papers", "service", "other"
]
Kind = Literal["record", "series"]

_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_SCHEMA_BASE = "https://selfdata.org/schemas"
_LANGUAGES = ("fr", "en")


@dataclass(frozen=True, slots=True)
class Doctype:
    """A named, versioned kind of data, described by a pydantic model.

    ``natural_key`` names the fields that identify the same real-world item across
    re-imports (the store keeps a keyed fingerprint of their values to de-duplicate).
    ``fallback_key`` is used when a natural-key field is absent — for instance a bank
    transaction without a bank-given id is recognised by its account, date, amount,
    label and occurrence number instead.
    ``labels`` gives each field its words for people, ``{"amount": ("Montant",
    "Amount")}`` (French, English): the web app's column headers and the JSON Schema's
    property titles. A field without one is shown by its name, made readable.
    ``choices`` does the same for the coded values of a field (``{"payment_method":
    {"card": ("Carte", "Card"), …}}``); an unknown code is shown as it is.
    ``summary`` names the few fields that say what a record is, in order (the columns
    of the web app's list of records).
    """

    name: str
    version: int
    kind: Kind
    model: type[pydantic.BaseModel]
    category: Category
    title: Mapping[str, str] = field(compare=False)
    description: Mapping[str, str] = field(compare=False)
    time_field: str | None = None
    time_end_field: str | None = None
    natural_key: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    parent: str | None = None
    fallback_key: tuple[str, ...] = ()
    labels: Mapping[str, tuple[str, str]] = field(default_factory=dict, compare=False)
    choices: Mapping[str, Mapping[str, tuple[str, str]]] = field(
        default_factory=dict, compare=False
    )
    summary: tuple[str, ...] = field(default=(), compare=False)
    # Hot-path callables and per-field key canonicalisers, resolved once.
    _validate: Callable[..., Any] = field(init=False, repr=False, compare=False)
    _dump: Callable[..., Any] = field(init=False, repr=False, compare=False)
    _key_canon: Mapping[str, Callable[[Any], str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._check()
        set_ = object.__setattr__  # frozen dataclass: derived fields are set once, here
        set_(self, "title", types.MappingProxyType(dict(self.title)))
        set_(self, "description", types.MappingProxyType(dict(self.description)))
        set_(self, "labels", types.MappingProxyType(dict(self.labels)))
        set_(self, "choices", types.MappingProxyType(dict(self.choices)))
        set_(self, "_validate", self.model.__pydantic_validator__.validate_python)
        set_(self, "_dump", self.model.__pydantic_serializer__.to_python)
        keys = {*self.natural_key, *self.fallback_key}
        set_(self, "_key_canon", {k: _canonicaliser(self.model, k) for k in keys})

    def _check(self) -> None:
        """Refuse a malformed declaration at import time rather than at first use."""
        problem = _declaration_problem(self)
        if problem:
            raise ValueError(f"doctype {self.name!r}: {problem}")

    def field_label(self, name: str, lang: str) -> str:
        """The words for field ``name`` in ``lang`` ("fr" or "en"); a field without a
        label is shown by its name with spaces (``booked_on`` → "booked on")."""
        pair = self.labels.get(name)
        if pair is None:
            return name.replace("_", " ")
        return pair[1] if lang == "en" else pair[0]

    def value_label(self, name: str, value: str, lang: str) -> str:
        """The words for the coded ``value`` of field ``name`` (the code if none)."""
        pair = self.choices.get(name, {}).get(value)
        if pair is None:
            return value
        return pair[1] if lang == "en" else pair[0]

    # --- schema ------------------------------------------------------------------------

    @property
    def schema_id(self) -> str:
        """The ``$id`` of this doctype's JSON Schema."""
        return f"{_SCHEMA_BASE}/{self.name}/v{self.version}.json"

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema (2020-12) of what ``validate`` accepts, with selfdata metadata.

        Canonical output of ``validate`` always satisfies it (money is then a string).
        """
        body = self.model.model_json_schema(mode="validation")
        body.pop("title", None)
        body.pop("description", None)
        for name, spec in body.get("properties", {}).items():
            if name in self.labels:  # pydantic's "Booked On" becomes the English label
                spec["title"] = self.labels[name][1]
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": self.schema_id,
            "title": self.title["en"],
            "description": self.description["en"],
            **body,
            "x-selfdata": {
                "name": self.name,
                "version": self.version,
                "kind": self.kind,
                "category": self.category,
                "time_field": self.time_field,
                "time_end_field": self.time_end_field,
                "natural_key": list(self.natural_key),
                "fallback_key": list(self.fallback_key),
                "columns": list(self.columns),
                "parent": self.parent,
                "title_fr": self.title["fr"],
                "description_fr": self.description["fr"],
                "labels_fr": {name: pair[0] for name, pair in self.labels.items()},
            },
        }

    # --- validation --------------------------------------------------------------------

    def validate(
        self, data: Mapping[str, Any], *, source: str | None = None, line: int | None = None
    ) -> dict[str, Any]:
        """Check ``data`` against the model; return the canonical JSON-ready dict.

        Absent optional fields stay absent (``exclude_none``); money is a decimal string;
        datetimes are ISO 8601 strings. Raises ``ValidationFailed`` listing every
        problem, each located by field (and by ``source``/``line`` when given).
        """
        try:
            obj = self._validate(data)
        except pydantic.ValidationError as exc:
            raise self._failure(exc, source, line) from None
        out: dict[str, Any] = self._dump(obj, mode="json", exclude_none=True)
        return out

    def _failure(
        self, exc: pydantic.ValidationError, source: str | None, line: int | None
    ) -> ValidationFailed:
        errors = field_errors(exc, self.model, source=source, line=line)
        where = f" in {source}" if source else ""
        if line is not None:
            where += f" at line {line}"
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        detail = f"Invalid {self.name} record{where}: {first.path}: {first.message}{more}"
        return ValidationFailed(detail, errors=errors, doctype=self.name)

    # --- what the store needs ------------------------------------------------------------

    def time_bounds(self, data: Mapping[str, Any]) -> tuple[datetime | None, datetime | None]:
        """The record's (start, end) as aware UTC datetimes, from a validated dict."""
        start = _as_utc(self, self.time_field, data) if self.time_field else None
        end = _as_utc(self, self.time_end_field, data) if self.time_end_field else None
        return start, end

    def natural_key_values(self, data: Mapping[str, Any]) -> tuple[str, ...] | None:
        """The values identifying the real-world item, as canonical strings.

        The natural key is tried first, then the fallback key; ``None`` when neither has
        all its fields present (the record is then never merged with another).
        Canonical means the same item gives the same strings whatever the input's
        spelling: ``-42.5`` and ``-42.50`` agree, and so do one instant written
        with two timezone offsets.
        """
        for key in (self.natural_key, self.fallback_key):
            if key:
                values = self._key_values(key, data)
                if values is not None:
                    return values
        return None

    def _key_values(self, key: tuple[str, ...], data: Mapping[str, Any]) -> tuple[str, ...] | None:
        out = []
        for name in key:
            value = data.get(name)
            if value is None or value == "":
                return None
            out.append(self._key_canon[name](value))
        return tuple(out)


# --- helpers (module-level to keep the dataclass small) -----------------------------------


def _declaration_problem(d: Doctype) -> str | None:
    fields = d.model.model_fields
    if not _NAME.match(d.name):
        return "name must be dotted lower case, such as 'bank.transaction'"
    if d.version < 1:
        return "version starts at 1"
    for label, mapping in (("title", d.title), ("description", d.description)):
        missing = [lang for lang in _LANGUAGES if not mapping.get(lang)]
        if missing:
            return f"{label} needs text for {', '.join(missing)}"
    stray = [n for n in d.labels if n not in fields]
    if stray:
        return f"labels name unknown field(s) {stray}"
    stray = [n for n in d.choices if n not in fields]
    if stray:
        return f"choices name unknown field(s) {stray}"
    pairs = [*d.labels.items(), *((n, p) for c in d.choices.values() for n, p in c.items())]
    blank = [n for n, pair in pairs if len(pair) != 2 or not all(pair)]
    if blank:
        return f"labels need French and English words for {blank}"
    named = [d.time_field, d.time_end_field, *d.natural_key, *d.fallback_key, *d.columns]
    named += d.summary
    unknown = [n for n in named if n is not None and n not in fields]
    if unknown:
        return f"unknown field(s) {unknown} in time_field/natural_key/columns/summary"
    if d.fallback_key and not d.natural_key:
        return "a fallback_key needs a natural_key"
    if d.time_end_field and not d.time_field:
        return "time_end_field needs a time_field"
    if d.kind == "series" and (not d.columns or not d.time_field):
        return "a series doctype needs columns and a time_field"
    if d.kind == "record" and d.columns:
        return "only series doctypes have columns"
    return None


def _leaf_types(annotation: Any) -> set[Any]:
    """The plain types inside ``Annotated``/``Union`` wrappers of an annotation."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _leaf_types(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_leaf_types(a) for a in typing.get_args(annotation)))
    return {annotation}


# pydantic's AwareDatetime & co are marker classes at run time, not date subclasses.
_TIME_TYPES = frozenset(
    {
        pydantic.AwareDatetime,
        pydantic.NaiveDatetime,
        pydantic.PastDatetime,
        pydantic.FutureDatetime,
        pydantic.PastDate,
        pydantic.FutureDate,
    }
)


def _is_date_type(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, date)


def _canonicaliser(model: type[pydantic.BaseModel], name: str) -> Callable[[Any], str]:
    leaves = _leaf_types(model.model_fields[name].annotation)
    if Decimal in leaves:
        return _canon_decimal
    if any(leaf in _TIME_TYPES or _is_date_type(leaf) for leaf in leaves):
        return _canon_time
    return _canon_scalar


def _canon_scalar(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _canon_decimal(value: Any) -> str:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return _canon_scalar(value)
    return "0" if number.is_zero() else format(number.normalize(), "f")


def _canon_time(value: Any) -> str:
    # Dates stay dates ("2024-03-31"); instants become UTC so offsets do not matter.
    if isinstance(value, str) and len(value) == 10:
        return value
    try:
        instant = _parse_time(value)
    except ValueError:
        return _canon_scalar(value)
    return instant.isoformat().replace("+00:00", "Z")


def _parse_time(value: Any) -> datetime:
    if isinstance(value, date):
        return to_utc(value)
    if not isinstance(value, str):
        raise ValueError(f"not a date or time: {value!r}")
    if len(value) == 10:
        return to_utc(date.fromisoformat(value))
    return to_utc(datetime.fromisoformat(value))


def _as_utc(doctype: Doctype, name: str, data: Mapping[str, Any]) -> datetime | None:
    value = data.get(name)
    if value is None:
        return None
    try:
        return _parse_time(value)
    except ValueError:
        error = FieldError(
            loc=(name,), message=f"expected a date or a date and time, got {value!r}"
        )
        raise ValidationFailed(
            f"{doctype.name}: {name} is not a date or time; validate the record first",
            errors=[error],
            doctype=doctype.name,
        ) from None


class DoctypeRegistry:
    """The doctypes known to an instance, by name.

    Built-in doctypes register exactly like plugin ones (see ``builtin``), so that an
    instance can add its own without special cases.
    """

    __slots__ = ("_by_name",)

    def __init__(self, doctypes: Iterable[Doctype] = ()) -> None:
        self._by_name: dict[str, Doctype] = {}
        for doctype in doctypes:
            self.register(doctype)

    def register(self, doctype: Doctype) -> None:
        """Add ``doctype``; a second doctype of the same name is a programming error."""
        if doctype.name in self._by_name:
            raise ValueError(f"doctype {doctype.name!r} is already registered")
        self._by_name[doctype.name] = doctype

    def get(self, name: str) -> Doctype:
        """The doctype called ``name``; ``UnknownDoctype`` suggests near names if none."""
        try:
            return self._by_name[name]
        except KeyError:
            pass
        suggestions = self.suggest(name)
        hint = f" Did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        known = ", ".join(self.names())
        raise UnknownDoctype(
            f"Unknown doctype {name!r}.{hint} Known doctypes: {known}.",
            doctype=name,
            suggestions=suggestions,
        )

    def suggest(self, name: str) -> list[str]:
        """Registered names close to ``name`` (spelling, or the same last part)."""
        names = self.names()
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        tail = name.rsplit(".", 1)[-1]
        close += [n for n in names if n.rsplit(".", 1)[-1] == tail and n not in close]
        return close[:3]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[Doctype]:
        return iter([self._by_name[n] for n in sorted(self._by_name)])

    def __len__(self) -> int:
        return len(self._by_name)

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        return sorted(self._by_name)

    def by_category(self, category: str) -> list[Doctype]:
        """The doctypes of one category, sorted by name."""
        return [d for d in self if d.category == category]

    def export_schemas(self, directory: Path) -> list[Path]:
        """Write ``<name>.v<version>.schema.json`` for every doctype; return the paths."""
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for doctype in self:
            path = directory / f"{doctype.name}.v{doctype.version}.schema.json"
            text = json.dumps(doctype.json_schema(), indent=2, sort_keys=True, ensure_ascii=False)
            path.write_text(text + "\n", encoding="utf-8")
            paths.append(path)
        return paths
