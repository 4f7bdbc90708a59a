"""The gate's side of compute-to-data: reading a question's inputs and releasing its
answer, each a decided, audited access of the asking service.

A question never gets the store, the keys or a connection: :class:`QuestionAccess`
loads, one decided access per doctype, exactly the data the service's consent and the
question's period allow (action ``derive``: the consent must grant *compute results
from*), and releases the answer in one more decided access. That last access is the
one event the citizen reads as "service X asked question Q over period P; N bytes
left", and it stores the citizen's sealed copy of the answer (doctype
``service.answer``) in the same transaction: an answer is never sent without its copy
and its log line, and a consent withdrawn while the question ran stops it there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt

from selfdata.access.policy import AccessRequest
from selfdata.access.view import SpaceView
from selfdata.audit import AuditEvent
from selfdata.errors import AccessDenied
from selfdata.ids import new_id
from selfdata.store import records as record_store
from selfdata.store import series as series_store
from selfdata.store.types import to_ms

__all__ = ["LoadedRecord", "LoadedSeries", "QuestionAccess", "QuestionScope"]

ANSWER_DOCTYPE = "service.answer"
_CLOCK_TOLERANCE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class QuestionScope:
    """What one run of a question may touch."""

    question: str
    version: str
    doctypes: tuple[str, ...]
    start: datetime  # the data period: [start, end)
    end: datetime


@dataclass(frozen=True, slots=True)
class LoadedRecord:
    id: str
    time_start: datetime | None
    time_end: datetime | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LoadedSeries:
    stream_id: str
    record_id: str | None
    columns: tuple[str, ...]
    ts: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]  # (n, len(columns))


class QuestionAccess:
    """One run of a question by the service ``view`` acts for."""

    def __init__(self, view: SpaceView, scope: QuestionScope, purpose: str | None = None) -> None:
        if view.actor.kind != "service":
            raise AccessDenied("questions are asked by services", reason="action-not-for-services")
        self._view = view
        self._gate = view._gate  # same package: the view's gate is the one road to the data
        self.scope = scope
        self.purpose = view.purpose or purpose
        self.timezone = self._gate.settings.timezone
        self.consent_id: str | None = None

    def _request(self, doctype: str, *, with_period: bool = True) -> AccessRequest:
        # The gate's clock runs on while the question does: its consent window starts a
        # little later than when the scope was set. The data read is clipped to that
        # window anyway (``not_before``); the tolerance only keeps a question whose
        # period equals the consent's from being refused for those seconds.
        start = self.scope.start + _CLOCK_TOLERANCE if with_period else None
        return AccessRequest(
            self._view.actor,
            self._view.space_id,
            "derive",
            doctype,
            self.purpose,
            start,
            self.scope.end if with_period else None,
        )

    def _declared(self, doctype: str) -> None:
        if doctype not in self.scope.doctypes:
            self.refuse(
                "doctype-not-declared",
                f"question {self.scope.question} reads only "
                f"{', '.join(self.scope.doctypes)}, not {doctype}",
                doctype=doctype,
            )

    def records(self, doctype: str) -> list[LoadedRecord]:
        """Every record of ``doctype`` dated within the period (and undated ones);
        one audited access."""
        self._declared(doctype)
        start_ms, end_ms = to_ms(self.scope.start), to_ms(self.scope.end)
        with self._gate.access(self._request(doctype)) as access:
            floor = access.decision.not_before
            floor_ms = max(start_ms, to_ms(floor)) if floor is not None else start_ms
            out = [
                LoadedRecord(r.id, r.time_start, r.time_end, r.data)
                for r in record_store.scan_records(
                    access.conn, access.keys, doctype, floor_ms=floor_ms
                )
                if r.time_start is None or to_ms(r.time_start) < end_ms
            ]
            self.timezone = access.timezone
            self.consent_id = access.decision.consent_id
            access.note(count=len(out), question=self.scope.question)
        return out

    def series(self, doctype: str) -> list[LoadedSeries]:
        """Every stream of ``doctype`` with its points within the period; one audited access."""
        self._declared(doctype)
        start_s = int(self.scope.start.timestamp())
        end_s = int(self.scope.end.timestamp())
        out: list[LoadedSeries] = []
        with self._gate.access(self._request(doctype)) as access:
            floor = access.decision.not_before
            lower = max(start_s, int(floor.timestamp())) if floor is not None else start_s
            points = 0
            for stream in series_store.list_streams(access.conn, access.keys, doctype):
                frame = series_store.read_points(access.conn, access.keys, stream, lower, end_s)
                n = len(frame)
                values = np.empty((n, len(stream.columns)), dtype=np.float64)
                for i, column in enumerate(stream.columns):
                    values[:, i] = frame.columns[column]
                out.append(
                    LoadedSeries(
                        stream.id,
                        stream.record_id,
                        stream.columns,
                        frame.ts.astype(np.int64),
                        values,
                    )
                )
                points += n
            self.timezone = access.timezone
            self.consent_id = access.decision.consent_id
            access.note(count=points, question=self.scope.question, streams=len(out))
        return out

    def release(
        self, params: Mapping[str, Any], answer: Any, answer_bytes: int
    ) -> tuple[str, datetime]:
        """Let the answer leave: decided once more (a consent withdrawn meanwhile stops
        it), logged as action ``question`` with the question, period and size, and
        copied, sealed, into the citizen's ``service.answer`` records — all in one
        transaction. Returns the answer's id and when it left."""
        gate = self._gate
        doctype = gate.doctypes.get(ANSWER_DOCTYPE)
        # Decided without the period (the reads were, and the computation took time);
        # the period is logged all the same.
        with gate.access(self._request(self.scope.doctypes[0], with_period=False)) as access:
            asked_at = datetime.fromtimestamp(access.now_ms / 1000, UTC)
            answer_id = new_id(access.now_ms)
            copy = doctype.validate(
                {
                    "answer_id": answer_id,
                    "service_id": self._view.actor.id,
                    "consent_id": access.decision.consent_id or "",
                    "question": self.scope.question,
                    "question_version": self.scope.version,
                    "asked_at": asked_at.isoformat(),
                    "period_start": self.scope.start.isoformat(),
                    "period_end": self.scope.end.isoformat(),
                    "doctypes": list(self.scope.doctypes),
                    "params": dict(params),
                    "answer": answer,
                    "answer_bytes": answer_bytes,
                }
            )
            record_store.insert_records(
                access.conn,
                access.keys,
                doctype,
                [copy],
                now_ms=access.now_ms,
                source_id=f"service:{self._view.actor.id}",
            )
            access.request = replace(
                access.request,
                action="question",  # type: ignore[arg-type]
                period_start=self.scope.start,
                period_end=self.scope.end,
            )
            access.note(
                target=answer_id,
                question=self.scope.question,
                doctypes=list(self.scope.doctypes),
                answer_bytes=answer_bytes,
            )
        return answer_id, asked_at

    def refuse(
        self, reason: str, message: str, *, outcome: str = "denied", **detail: Any
    ) -> NoReturn:
        """Log a stopped question in the citizen's log, then raise ``AccessDenied``:
        nothing of the answer leaves."""
        self.log_stopped(reason, outcome=outcome, **detail)
        raise AccessDenied(message, reason=reason)

    def log_stopped(self, reason: str, *, outcome: str = "denied", **detail: Any) -> None:
        actor = self._view.actor
        event = AuditEvent(
            action="question",
            actor_kind=actor.kind,
            actor_id=actor.id,
            outcome=outcome,  # type: ignore[arg-type]
            doctype=self.scope.doctypes[0],
            period_start=self.scope.start.isoformat(),
            period_end=self.scope.end.isoformat(),
            purpose=self.purpose,
            consent_id=self.consent_id or actor.consent_id,
            reason=reason,
            detail={**actor.log_detail(), "question": self.scope.question, **detail},
        )
        self._gate.log_event(self._view.space_id, event)


def question_scope(
    question: str, version: str, doctypes: Sequence[str], start: datetime, end: datetime
) -> QuestionScope:
    return QuestionScope(question, version, tuple(doctypes), start, end)
