"""The interface of built-in questions: code shipped with selfdata (or a plugin
distribution) that answers one precise question about a citizen's data.

A built-in question is registered under the entry point group ``selfdata.questions``
(``name = "package.module:QuestionClass"``). It never sees the store, the keys or the
gate: it gets a :class:`QuestionData`, a read-only window already limited to the
doctypes and data period the citizen consented to, and returns a JSON-able answer
that the runner validates against ``answer_schema`` and ``max_answer_bytes`` before
anything leaves.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

import numpy as np
import numpy.typing as npt

__all__ = ["ENTRY_POINT_GROUP", "BuiltinQuestion", "QuestionData", "SeriesData"]

ENTRY_POINT_GROUP = "selfdata.questions"


@dataclass(frozen=True)
class SeriesData:
    """One stream of a series doctype within the consented period."""

    stream_id: str
    record: dict[str, Any]  # the stream's descriptive record (meter, unit…)
    columns: tuple[str, ...]
    ts: npt.NDArray[np.int64]  # epoch seconds UTC, sorted
    values: npt.NDArray[np.float64]  # shape (n, len(columns))


class QuestionData(Protocol):
    """Read-only, already limited to the consented doctypes and period. Asking for
    another doctype raises ``AccessDenied`` (and the attempt is logged)."""

    timezone: str  # the citizen's time zone (IANA name), for calendar buckets

    def now(self) -> datetime: ...

    def records(self, doctype: str) -> Iterator[dict[str, Any]]: ...  # each: {"id":…, **data}

    def series(self, doctype: str) -> list[SeriesData]: ...  # one per stream


class BuiltinQuestion(ABC):
    """A question answered by code. Subclasses set every class attribute."""

    name: ClassVar[str]
    version: ClassVar[str]
    description: ClassVar[Mapping[str, str]]  # fr, en
    doctypes: ClassVar[tuple[str, ...]]
    params_schema: ClassVar[dict[str, Any]]
    answer_schema: ClassVar[dict[str, Any]]
    max_answer_bytes: ClassVar[int]

    @abstractmethod
    def answer(self, data: QuestionData, params: Mapping[str, Any]) -> Any: ...
