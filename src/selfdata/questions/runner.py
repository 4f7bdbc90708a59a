"""Answering a service's question: consent, data, computation, checks, release.

``QuestionRunner.run`` is the only way a question is answered:

1. the question must be in the service's approved manifest, its params must match
   its ``params_schema`` (422 otherwise);
2. its data is read through the gate, one decided, audited access per doctype, limited
   to the token's consent, the question's doctypes and its period (a withdrawn
   consent, a doctype or a period outside the consent: refused, and logged);
3. a built-in question runs in-process on that data; an SQL question runs in an
   isolated worker process (:mod:`selfdata.questions.worker`);
4. the answer must be JSON, within ``max_answer_bytes`` and valid against
   ``answer_schema``; a question that breaks any of these, times out, or tries to
   reach a file or the network is stopped, logged, and nothing leaves;
5. the answer is released in one more decided access, which logs the question, the
   data period and the answer's size, and keeps the citizen's sealed copy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from jsonschema import Draft202012Validator

from selfdata.access import SpaceView
from selfdata.access.questions import QuestionAccess, QuestionScope
from selfdata.consent import Grant
from selfdata.errors import AccessDenied, FieldError, NotFound, ValidationFailed
from selfdata.questions.builtins import BuiltinRegistry
from selfdata.questions.data import LoadedData, view_name
from selfdata.questions.plugin import BuiltinQuestion
from selfdata.questions.pool import SqlJob, WorkerError, WorkerPool
from selfdata.services.manifest import Manifest, Question
from selfdata.services.registry import ServiceRegistry

__all__ = ["Answer", "QuestionRunner", "QuestionSpec"]

# What the citizen's log and the service read when the worker stops a question.
_WORKER_REASONS = {
    "forbidden": "question-forbidden-operation",
    "timeout": "question-timeout",
    "resources": "question-resources-exceeded",
    "crashed": "question-resources-exceeded",
    "too-large": "answer-too-large",
    "sql": "question-failed",
}


@dataclass(frozen=True, slots=True)
class Answer:
    answer_id: str
    service_id: str
    question: str
    value: Any
    answer_bytes: int
    asked_at: datetime
    period_start: datetime
    period_end: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "answer_id": self.answer_id,
            "question": self.question,
            "answer": self.value,
            "answer_bytes": self.answer_bytes,
            "asked_at": self.asked_at.isoformat(),
            "period": {"start": self.period_start.isoformat(), "end": self.period_end.isoformat()},
        }


@dataclass(frozen=True, slots=True)
class QuestionSpec:
    """A question as a service may ask it: the manifest's declaration, completed by
    the built-in plugin's when it names one."""

    question: Question
    version: str
    params_schema: dict[str, Any]
    answer_schemas: tuple[dict[str, Any], ...]
    max_answer_bytes: int
    plugin: type[BuiltinQuestion] | None

    @property
    def name(self) -> str:
        return self.question.name

    def as_dict(self, lang: str | None = None) -> dict[str, Any]:
        q = self.question
        return {
            "name": q.name,
            "description": q.description.get(lang) if lang else q.description.model_dump(),
            "doctypes": q.doctypes,
            "period": q.period,
            "kind": "builtin" if q.builtin else "sql",
            "params_schema": self.params_schema,
            "answer_schema": self.answer_schemas[0] if self.answer_schemas else None,
            "max_answer_bytes": self.max_answer_bytes,
        }


_NO_PARAMS: dict[str, Any] = {"type": "object", "additionalProperties": False}


def _purpose(manifest: Manifest, question: Question) -> str | None:
    """The question's declared purpose, else the first purpose of a request covering
    all its doctypes."""
    if question.purpose:
        return question.purpose
    for request in manifest.requests:
        if set(question.doctypes) <= set(request.doctypes):
            return request.purposes[0]
    return None


class QuestionRunner:
    def __init__(
        self,
        services: ServiceRegistry,
        builtins: BuiltinRegistry | None = None,
        pool: WorkerPool | None = None,
    ) -> None:
        self.services = services
        self.builtins = builtins if builtins is not None else BuiltinRegistry.installed()
        self.pool = pool if pool is not None else WorkerPool()

    def close(self) -> None:
        self.pool.close()

    # -- what a service may ask ------------------------------------------------------

    def spec(self, manifest: Manifest, question: Question) -> QuestionSpec:
        plugin = self.builtins.get(question.builtin) if question.builtin else None
        schemas = tuple(
            s
            for s in (question.answer_schema, plugin.answer_schema if plugin else None)
            if s is not None
        )
        bound = question.max_answer_bytes
        if plugin is not None:
            bound = min(bound, plugin.max_answer_bytes)
        # A built-in's own params schema is what its code was written against.
        params = plugin.params_schema if plugin is not None else question.params_schema
        return QuestionSpec(
            question,
            plugin.version if plugin else manifest.version,
            params or _NO_PARAMS,
            schemas,
            bound,
            plugin,
        )

    def questions(
        self, service_id: str, grants: Sequence[Grant] | None = None
    ) -> list[QuestionSpec]:
        """The questions of a service's manifest (built-ins not installed left out); with
        ``grants``, only those a consent with these grants lets it ask."""
        manifest = self.services.get(service_id).manifest
        return [
            self.spec(manifest, q)
            for q in manifest.questions
            if (q.builtin is None or q.builtin in self.builtins)
            and (grants is None or _granted(q, grants))
        ]

    def askable(self, view: SpaceView) -> list[QuestionSpec]:
        """What the service ``view`` acts for may ask under the consent of its token."""
        if view.actor.kind != "service":
            raise AccessDenied("only services ask questions", reason="action-not-for-services")
        return self.questions(view.actor.id, view.own_consent().grants)

    def _find(self, service_id: str, name: str) -> tuple[Manifest, QuestionSpec]:
        manifest = self.services.get(service_id).manifest
        try:
            question = manifest.question(name)
        except KeyError:
            raise NotFound(f"{service_id} declares no question {name!r}") from None
        return manifest, self.spec(manifest, question)

    # -- asking ------------------------------------------------------------------------

    def run(self, view: SpaceView, name: str, params: Mapping[str, Any] | None = None) -> Answer:
        """Answer question ``name`` of the service ``view`` acts for (see module doc)."""
        if view.actor.kind != "service":
            raise AccessDenied("only services ask questions", reason="action-not-for-services")
        params = dict(params or {})
        manifest, spec = self._find(view.actor.id, name)
        _check_params(spec, params)
        question = spec.question
        now = view.now()
        scope = QuestionScope(
            question.name, spec.version, tuple(question.doctypes), now - question.window, now
        )
        access = QuestionAccess(view, scope, _purpose(manifest, question))
        doctypes = [view.doctype(d) for d in question.doctypes]
        data = LoadedData(access, doctypes, now)  # gate refusals are logged by the gate
        value = self._compute(access, spec, data, params)
        value, size = _check_answer(access, spec, value)
        answer_id, asked_at = access.release(params, value, size)
        return Answer(
            answer_id, view.actor.id, question.name, value, size, asked_at, scope.start, scope.end
        )

    def _compute(
        self, access: QuestionAccess, spec: QuestionSpec, data: LoadedData, params: dict[str, Any]
    ) -> Any:
        if spec.plugin is not None:
            try:
                return spec.plugin().answer(data, params)
            except AccessDenied:
                raise
            except Exception as exc:
                # The plugin's message may quote data: the log keeps only its kind.
                access.refuse(
                    "question-failed",
                    f"the question {spec.name} failed ({type(exc).__name__})",
                    outcome="failed",
                    error=type(exc).__name__,
                )
        sql = spec.question.sql or ""
        job = SqlJob(sql, params, data.arrow_tables(), spec.max_answer_bytes, data.timezone)
        try:
            return self.pool.run(job)
        except WorkerError as exc:
            reason = _WORKER_REASONS.get(exc.kind, "question-failed")
            outcome = "failed" if exc.kind == "sql" else "denied"
            access.refuse(
                reason,
                f"question {spec.name} was stopped: {exc.message}",
                outcome=outcome,
                error=exc.kind,
                worker_message=exc.message[:300],
            )


def _granted(question: Question, grants: Sequence[Grant]) -> bool:
    """Whether every doctype of the question is granted for ``derive`` over a data
    period at least as long as the question's."""
    days = question.window.days
    return all(
        any(
            g.covers_doctype(d) and "derive" in g.operations and g.window_days >= days
            for g in grants
        )
        for d in question.doctypes
    )


def _check_params(spec: QuestionSpec, params: dict[str, Any]) -> None:
    errors = [
        FieldError(("params", *e.absolute_path), e.message, kind="params")
        for e in Draft202012Validator(spec.params_schema).iter_errors(params)
    ]
    if errors:
        raise ValidationFailed(f"invalid params for question {spec.name}", errors)


def _check_answer(access: QuestionAccess, spec: QuestionSpec, value: Any) -> tuple[Any, int]:
    """The answer as the JSON that will leave, and its size in bytes, if it may leave;
    otherwise refused and logged."""
    try:
        # NumPy scalars and arrays (what built-ins compute with) become plain JSON here;
        # what is checked, sent and kept is that JSON.
        body = orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)
    except TypeError:
        access.refuse("answer-not-json", f"question {spec.name} did not answer plain JSON")
    value = orjson.loads(body)
    size = len(body)
    if size > spec.max_answer_bytes:
        access.refuse(
            "answer-too-large",
            f"the answer to {spec.name} ({size} bytes) exceeds its bound of "
            f"{spec.max_answer_bytes} bytes",
            answer_bytes=size,
        )
    for schema in spec.answer_schemas:
        error = next(iter(Draft202012Validator(schema).iter_errors(value)), None)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "the answer"
            # The log and the service get where and which rule, never the offending value.
            access.refuse(
                "answer-schema-violation",
                f"the answer to {spec.name} does not match its answer_schema at {where} "
                f"(rule {error.validator!r})",
                at=where,
                rule=str(error.validator),
            )
    return value, size


def sql_view_names(question: Question) -> list[str]:
    return [view_name(d) for d in question.doctypes]
