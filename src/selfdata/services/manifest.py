"""Service manifests: who a service is and exactly what it asks of a citizen.

A manifest is YAML or JSON validated against :class:`Manifest` (its JSON Schema is
published: ``selfdata services schema``). Each *request* names doctypes, operations,
the data period it may see, DPV purposes with a plain-language explanation, the legal
basis, retention at the recipient, recipients and any compensation. The citizen
consents request by request.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    HttpUrl,
    ValidationError,
    field_validator,
    model_validator,
)

from selfdata.errors import FieldError, ValidationFailed
from selfdata.services.purposes import LEGAL_BASES, PURPOSES

__all__ = [
    "Compensation",
    "Controller",
    "DataRequest",
    "Manifest",
    "Question",
    "Text",
    "load_manifest",
    "parse_duration",
]

_SLUG = r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$"
_DURATION = re.compile(r"^P(?:(?P<y>\d+)Y)?(?:(?P<m>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?$")


def parse_duration(value: str) -> timedelta:
    """An ISO 8601 period of years, months, weeks and days (P12M, P1Y, P30D) as days;
    a month counts 31 days and a year 366 so a window is never shorter than said."""
    match = _DURATION.match(value)
    if not match or value == "P":
        raise ValueError(f"expected an ISO 8601 period such as P12M or P30D, got {value!r}")
    y, m, w, d = (int(match[g] or 0) for g in "ymwd")
    return timedelta(days=366 * y + 31 * m + 7 * w + d)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    """The same words in French and English (both required: the web app is bilingual)."""

    fr: Annotated[str, Field(min_length=1, max_length=4000)]
    en: Annotated[str, Field(min_length=1, max_length=4000)]

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.fr


class Controller(_Strict):
    """The organisation responsible for the processing (GDPR controller)."""

    name: Annotated[str, Field(min_length=2, max_length=200)]
    contact: EmailStr
    url: HttpUrl | None = None
    address: Annotated[str, Field(max_length=400)] | None = None
    dpo_contact: EmailStr | None = None


class Compensation(_Strict):
    """What the citizen gets in return; shown before consent. No selling of data."""

    kind: Literal["none", "monetary", "in-kind"] = "none"
    amount: Decimal | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    description: Text | None = None

    @model_validator(mode="after")
    def _complete(self) -> Compensation:
        if self.kind == "monetary" and (self.amount is None or self.currency is None):
            raise ValueError("a monetary compensation needs an amount and a currency")
        if self.kind == "monetary" and self.amount is not None and self.amount <= 0:
            raise ValueError("a monetary compensation must be a positive amount")
        if self.kind == "in-kind" and self.description is None:
            raise ValueError("an in-kind compensation needs a description")
        return self


Operation = Literal["read", "write", "derive"]


class DataRequest(_Strict):
    """One thing the service asks for; the citizen grants or refuses each one."""

    id: Annotated[str, Field(pattern=_SLUG)]
    doctypes: Annotated[list[str], Field(min_length=1, max_length=20)]
    operations: Annotated[list[Operation], Field(min_length=1)]
    period: Annotated[str, Field(description="ISO 8601 period of past data visible, e.g. P12M")] = (
        "P12M"
    )
    purposes: Annotated[list[str], Field(min_length=1)]
    explanation: Text
    legal_basis: str = "dpv:Consent"
    retention: Annotated[
        str, Field(description="ISO 8601 period the recipient keeps what it gets")
    ] = "P0D"
    recipients: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list
    )
    required: bool = False

    @field_validator("period", "retention")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("purposes")
    @classmethod
    def _purposes(cls, value: list[str]) -> list[str]:
        unknown = [p for p in value if p not in PURPOSES]
        if unknown:
            raise ValueError(
                f"unknown purpose(s) {', '.join(unknown)}; use DPV terms such as "
                + ", ".join(list(PURPOSES)[:4])
                + " (see `selfdata services purposes`)"
            )
        if "dpv:SellDataToThirdParties" in value:
            raise ValueError("selling citizens' data is not allowed on selfdata")
        return value

    @field_validator("legal_basis")
    @classmethod
    def _legal_basis(cls, value: str) -> str:
        if value not in LEGAL_BASES:
            raise ValueError(
                f"unknown legal basis {value!r}; expected one of {', '.join(LEGAL_BASES)}"
            )
        return value

    @property
    def window(self) -> timedelta:
        return parse_duration(self.period)


_QUESTION_NAME = r"^[a-z][a-z0-9_-]{1,62}$"
_SQL_START = re.compile(r"^\s*(?:select|with|from)\b", re.IGNORECASE)
MAX_ANSWER_BYTES = 1_048_576


class Question(_Strict):
    """A precise question a service may ask (compute-to-data): the citizen's data
    stays on the platform and only the answer, checked against ``answer_schema`` and
    ``max_answer_bytes``, reaches the service. Answered either by a built-in plugin
    (``builtin``, entry point group ``selfdata.questions``) or by one declarative
    read-only ``sql`` query run in an isolated worker over views named after the
    doctypes (``energy_reading`` for ``energy.reading``)."""

    name: Annotated[str, Field(pattern=_QUESTION_NAME)]
    description: Text
    doctypes: Annotated[list[str], Field(min_length=1, max_length=10)]
    period: Annotated[str, Field(description="ISO 8601 period of past data used, e.g. P12M")] = (
        "P12M"
    )
    purpose: str | None = None
    params_schema: dict[str, Any] | None = None
    answer_schema: dict[str, Any] | None = None
    max_answer_bytes: Annotated[int, Field(ge=2, le=MAX_ANSWER_BYTES)] = 65_536
    builtin: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    sql: Annotated[str, Field(min_length=1, max_length=20_000)] | None = None

    @field_validator("period")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("params_schema", "answer_schema")
    @classmethod
    def _schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            from jsonschema import Draft202012Validator
            from jsonschema.exceptions import SchemaError

            try:
                Draft202012Validator.check_schema(value)
            except SchemaError as exc:
                raise ValueError(f"not a valid JSON Schema: {exc.message}") from None
        return value

    @field_validator("sql")
    @classmethod
    def _select(cls, value: str | None) -> str | None:
        if value is not None:
            if not _SQL_START.match(value):
                raise ValueError("a question's sql is one SELECT (or WITH … SELECT) query")
            if ";" in value.strip().rstrip(";"):
                raise ValueError("a question's sql is one statement: no ';' inside it")
        return value

    @model_validator(mode="after")
    def _one_way(self) -> Question:
        if (self.builtin is None) == (self.sql is None):
            raise ValueError("a question is answered either by `builtin` or by `sql` (one)")
        if self.sql is not None and self.answer_schema is None:
            raise ValueError("an sql question needs an answer_schema")
        return self

    @property
    def window(self) -> timedelta:
        return parse_duration(self.period)


class Manifest(_Strict):
    """A service as the operator registers it and the citizen reads it."""

    id: Annotated[
        str, Field(pattern=_SLUG, description="Stable identifier; also the OAuth client_id")
    ]
    version: Annotated[str, Field(pattern=r"^\d+(\.\d+){0,2}$")]
    name: Text
    description: Text
    controller: Controller
    mode: Literal["api", "questions", "builtin"]
    redirect_uris: list[HttpUrl] = Field(default_factory=list)
    requests: Annotated[list[DataRequest], Field(min_length=1, max_length=20)]
    compensation: Compensation = Field(default_factory=Compensation)
    consent_duration: Annotated[str, Field(description="Default consent duration, ISO 8601")] = (
        "P12M"
    )
    homepage: HttpUrl | None = None
    privacy_policy: HttpUrl | None = None
    questions: Annotated[list[Question], Field(max_length=50)] = Field(default_factory=list)

    @field_validator("consent_duration")
    @classmethod
    def _duration(cls, value: str) -> str:
        if parse_duration(value) > timedelta(days=3 * 366):
            raise ValueError("a consent lasts at most three years (P3Y); renewals are prompted")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        ids = [r.id for r in self.requests]
        if len(ids) != len(set(ids)):
            raise ValueError("request ids must be unique within a manifest")
        if self.mode == "api" and not self.redirect_uris:
            raise ValueError("an api service needs at least one redirect_uri for OAuth")
        for uri in self.redirect_uris:
            loopback = uri.host in ("127.0.0.1", "::1", "[::1]", "localhost")
            if uri.scheme != "https" and not (uri.scheme == "http" and loopback):
                raise ValueError(
                    f"redirect_uri {uri} must use https (plain http only on loopback, RFC 8252)"
                )
        self._check_questions()
        return self

    def _check_questions(self) -> None:
        names = [q.name for q in self.questions]
        if len(names) != len(set(names)):
            raise ValueError("question names must be unique within a manifest")
        requested = {d for r in self.requests for d in r.doctypes}
        for q in self.questions:
            outside = [d for d in q.doctypes if d not in requested]
            if outside:
                raise ValueError(
                    f"question {q.name} uses {', '.join(outside)}, which no request asks for"
                )
            if q.purpose is not None and not any(
                q.purpose in r.purposes and set(q.doctypes) <= set(r.doctypes)
                for r in self.requests
            ):
                raise ValueError(
                    f"question {q.name}: purpose {q.purpose} is not a purpose of a request "
                    "covering its doctypes"
                )

    def question(self, name: str) -> Question:
        for q in self.questions:
            if q.name == name:
                return q
        raise KeyError(name)

    def request(self, request_id: str) -> DataRequest:
        for request in self.requests:
            if request.id == request_id:
                return request
        raise KeyError(request_id)

    def canonical(self) -> bytes:
        data = self.model_dump(mode="json")
        if not data["questions"]:
            # Manifests without questions keep the digest they had before questions existed.
            del data["questions"]
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)

    def digest(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()

    @classmethod
    def json_schema_document(cls) -> dict[str, Any]:
        schema = cls.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = "https://selfdata.org/schemas/service-manifest/v1.json"
        return schema


def validate_manifest(data: Any, source: str) -> Manifest:
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        errors = [
            FieldError(
                tuple(e["loc"]),
                e["msg"].removeprefix("Value error, "),
                source=source,
                kind=e["type"],
            )
            for e in exc.errors(include_url=False)
        ]
        raise ValidationFailed(f"{source} is not a valid service manifest", errors) from None


def load_manifest(path: Path) -> Manifest:
    """Read a manifest from a YAML or JSON file, with precise errors."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            f"cannot read {path}", [FieldError((), str(exc), source=str(path))]
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ValidationFailed(
            f"{path} is not valid YAML or JSON",
            [FieldError((), str(getattr(exc, "problem", exc)), line=line, source=str(path))],
        ) from None
    return validate_manifest(data, str(path))
