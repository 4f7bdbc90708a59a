"""The API's request and response bodies, as pydantic models (they make the OpenAPI)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AccountOut",
    "AuditPage",
    "DoctypeOut",
    "DoctypeSummaryOut",
    "EraseOut",
    "FileOut",
    "Health",
    "LoginIn",
    "LoginOut",
    "MeOut",
    "PasswordIn",
    "PointsAdded",
    "RecordOut",
    "RecordPage",
    "SeriesPoints",
    "SpaceCreate",
    "SpaceList",
    "SpaceOut",
    "StreamIn",
    "StreamOut",
    "TokenCreated",
    "TokenIn",
    "TokenOut",
    "VerifyOut",
    "VersionOut",
    "WriteReportOut",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- authentication ---------------------------------------------------------------------


class LoginIn(_In):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


class AccountOut(BaseModel):
    username: str
    role: Literal["citizen", "operator"]


class LoginOut(BaseModel):
    account: AccountOut
    csrf_token: str = Field(
        description="Send it as `X-CSRF-Token` with every unsafe request "
        "authenticated by the session cookie."
    )
    expires_at: datetime


class TokenIn(_In):
    label: str = Field(min_length=1, max_length=200, description="What the token is for.")
    days: int | None = Field(
        None,
        ge=1,
        description="Lifetime in days (default and maximum: the instance's `token_days`).",
    )


class TokenCreated(BaseModel):
    id: str
    token: str = Field(description="The secret, shown this once: store it now.")
    label: str
    expires_at: datetime


class TokenOut(BaseModel):
    id: str
    label: str | None
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None


class PasswordIn(_In):
    current: str = Field(min_length=1, max_length=1024)
    new: str = Field(min_length=1, max_length=1024)


# --- me -----------------------------------------------------------------------------------


class DoctypeSummaryOut(BaseModel):
    doctype: str
    kind: str
    count: int
    first: datetime | None
    last: datetime | None


class SpaceOut(BaseModel):
    id: str
    name: str
    status: str
    created_at: datetime
    timezone: str


class MeSpace(SpaceOut):
    doctypes: list[DoctypeSummaryOut]


class MeOut(BaseModel):
    account: AccountOut
    space: MeSpace | None = Field(description="The citizen's space (operators have none).")
    csrf_token: str | None = Field(description="For cookie sessions; null with a bearer token.")


# --- doctypes -------------------------------------------------------------------------------


class DoctypeOut(BaseModel):
    name: str
    version: int
    kind: Literal["record", "series"]
    category: str
    title: dict[str, str]
    description: dict[str, str]
    schema_id: str = Field(description="The `$id` of the doctype's JSON Schema.")
    schema_url: str = Field(description="Where this API serves that schema.")


# --- records --------------------------------------------------------------------------------


class RecordOut(BaseModel):
    id: str
    doctype: str
    revision: int
    created_at: datetime
    updated_at: datetime
    time_start: datetime | None
    time_end: datetime | None
    source_id: str | None
    data: dict[str, Any]


class RecordPage(BaseModel):
    items: list[RecordOut]
    next_cursor: str | None = Field(
        description="Pass it as `cursor` for the next page; null on the last page."
    )
    scanned: int = Field(description="Records examined (more than returned when filtering).")


class WriteReportOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    ids: list[str] = Field(
        description="The ids of the records created, updated or found "
        "unchanged (a key repeated in one batch counts once)."
    )


# --- series ---------------------------------------------------------------------------------


class StreamIn(_In):
    doctype: str = Field(examples=["energy.reading"])
    record_id: str | None = Field(
        None, description="The record the series belongs to (an energy.meter for energy.reading)."
    )
    meta: dict[str, Any] = Field(default_factory=dict)


class StreamOut(BaseModel):
    id: str
    doctype: str
    record_id: str | None
    columns: list[str]
    points: int
    first: datetime | None
    last: datetime | None
    meta: dict[str, Any]


class PointsAdded(BaseModel):
    received: int = Field(description="Points in the request.")
    gained: int = Field(description="Points the series gained (a known time takes the new value).")


class SeriesPoints(BaseModel):
    series: str
    every: Literal["raw", "hour", "day", "month", "year"]
    how: Literal["sum", "mean", "min", "max", "count"] | None
    columns: list[str]
    points: list[dict[str, Any]] = Field(
        description='Rows: {"time": ISO 8601 UTC, "<column>": number or null[, "count": n]}.'
    )


# --- files ----------------------------------------------------------------------------------


class FileOut(BaseModel):
    id: str
    size: int
    filename: str
    media_type: str
    created_at: datetime
    source_id: str | None
    duplicate: bool = Field(
        False,
        description="True when the same content was already "
        "stored: `id` is then the existing file.",
    )


# --- audit ----------------------------------------------------------------------------------


class AuditPage(BaseModel):
    items: list[dict[str, Any]] = Field(description="Events, newest first (see docs/api.md).")
    next_before_seq: int | None = Field(description="Pass it as `before_seq` for older events.")


class VerifyOut(BaseModel):
    ok: bool
    message: str
    events: int


# --- admin ----------------------------------------------------------------------------------


class SpaceCreate(_In):
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


class SpaceList(BaseModel):
    spaces: list[SpaceOut]
    counts: dict[str, int] = Field(description="Number of spaces by status.")


class EraseOut(BaseModel):
    erased: str
    counts: dict[str, int]


# --- meta -----------------------------------------------------------------------------------


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]


class VersionOut(BaseModel):
    name: str
    version: str
    api: str
