"""Import jobs: imports that run in the background, for the HTTP API.

A job is one file to import into one space, as one actor: the :class:`ImportRunner`
runs it in a worker thread through the actor's :class:`~selfdata.access.SpaceView`, so
every write goes through the gate and is audited as that actor's. The file waits in an
:class:`~selfdata.crypto.spool.EncryptedSpool` (the runner reads it twice; no plaintext
on disk) which is deleted when the job ends, whatever the outcome.

States::

    queued → validating → writing → done
                        ↘ refused      (rows were invalid; nothing written)
           ↘ failed                    (the file could not be read at all, or the server
                                        stopped; what was written is consistent and an
                                        import of the same file completes it)

A job is visible only to the actor that submitted it, in its space: to anyone else it
does not exist (:class:`NotFound`). Finished jobs are kept ``keep_seconds``, then
forgotten. ``workers`` threads run jobs for the whole instance; at most
``running_per_space`` of them work for the same space (a big import does not starve
the other citizens), and a space has at most ``pending_per_space`` unfinished jobs.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from selfdata.access import SpaceView
from selfdata.crypto.spool import EncryptedSpool
from selfdata.errors import Conflict, NotFound, SelfdataError
from selfdata.ids import new_id
from selfdata.importers.registry import ImporterRegistry
from selfdata.importers.runner import ImportReport, ImportRunner

__all__ = ["FINISHED", "ImportJob", "ImportJobs", "JobState", "TooManyImports"]

log = logging.getLogger(__name__)

JobState = Literal["queued", "validating", "writing", "done", "refused", "failed"]
FINISHED: frozenset[str] = frozenset({"done", "refused", "failed"})


class TooManyImports(Conflict):
    code = "too-many-imports"
    title = "Too many imports in progress"


class _Stopped(Exception):
    """Raised from the progress callback to stop a running import at shutdown."""


@dataclass(eq=False)
class ImportJob:
    """One file being imported. Read its fields under the manager's lock, or take a
    :meth:`snapshot`."""

    id: str
    space_id: str
    actor_id: str
    filename: str
    size: int
    format_name: str | None
    skip_invalid: bool
    options: Mapping[str, str]
    created_at: datetime
    view: SpaceView = field(repr=False)
    spool: EncryptedSpool = field(repr=False)
    state: JobState = "queued"
    bytes_done: int = 0
    """Bytes of the file the current pass has read."""
    importer: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    finished_monotonic: float | None = None
    report: ImportReport | None = None
    error: dict[str, Any] | None = None
    version: int = 0
    """Bumped on every change (the event stream sends a snapshot when it moves)."""

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def progress(self) -> float:
        """0 to 1: the validation pass is the first half, the writing pass the second."""
        if self.finished:
            return 1.0
        part = self.bytes_done / self.size if self.size else 1.0
        if self.state == "validating":
            return round(0.5 * part, 4)
        if self.state == "writing":
            return round(0.5 + 0.5 * part, 4)
        return 0.0

    def snapshot(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "filename": self.filename,
            "state": self.state,
            "progress": self.progress,
            "bytes_done": self.bytes_done,
            "bytes_total": self.size,
            "format": self.format_name,
            "importer": self.importer,
            "skip_invalid": self.skip_invalid,
            "options": dict(self.options),
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "report": self.report.as_dict() if self.report is not None else None,
            "error": self.error,
        }


def _iso(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at is not None else None


def _error_document(exc: SelfdataError) -> dict[str, Any]:
    errors = getattr(exc, "errors", ())
    return {
        "code": exc.code,
        "title": exc.title,
        "detail": exc.detail,
        "errors": [
            {"line": e.line, "field": e.path, "message": e.message, "source": e.source}
            for e in errors
        ],
    }


class ImportJobs:
    """The instance's import jobs and the threads that run them."""

    def __init__(
        self,
        *,
        workers: int = 2,
        running_per_space: int = 1,
        pending_per_space: int = 20,
        keep_seconds: float = 3600.0,
        registry: ImporterRegistry | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = registry or ImporterRegistry.discover()
        self._workers_wanted = workers
        self._running_per_space = running_per_space
        self._pending_per_space = pending_per_space
        self._keep = keep_seconds
        self._monotonic = monotonic
        self._jobs: dict[str, ImportJob] = {}
        self._queue: list[ImportJob] = []
        self._running: Counter[str] = Counter()
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._stopping = False

    # -- submitting and looking ------------------------------------------------------

    def submit(
        self,
        view: SpaceView,
        spool: EncryptedSpool,
        filename: str,
        *,
        format_name: str | None = None,
        skip_invalid: bool = False,
        options: Mapping[str, str] | None = None,
    ) -> ImportJob:
        """Queue the import of ``spool`` (finished; the job owns it from now on)."""
        with self._cond:
            if self._stopping:
                spool.close()
                raise Conflict("the server is stopping; send the file again in a moment")
            self._forget_expired()
            pending = sum(
                1 for j in self._jobs.values() if j.space_id == view.space_id and not j.finished
            )
            if pending >= self._pending_per_space:
                spool.close()
                raise TooManyImports(
                    f"{pending} imports of this space are still running or queued (at most "
                    f"{self._pending_per_space}); wait for them to end",
                    limit=self._pending_per_space,
                )
            job = ImportJob(
                id=new_id(),
                space_id=view.space_id,
                actor_id=view.actor.id,
                filename=filename,
                size=spool.size,
                format_name=format_name,
                skip_invalid=skip_invalid,
                options=dict(options or {}),
                created_at=view.now(),
                view=view,
                spool=spool,
            )
            self._jobs[job.id] = job
            self._queue.append(job)
            self._start_workers()
            self._cond.notify_all()
        return job

    def get(self, view: SpaceView, job_id: str) -> ImportJob:
        """The job, if ``view``'s actor submitted it in ``view``'s space."""
        with self._cond:
            self._forget_expired()
            job = self._jobs.get(job_id)
            if job is None or (job.space_id, job.actor_id) != (view.space_id, view.actor.id):
                raise NotFound(f"no import job {job_id!r} (finished jobs are kept for a while)")
            return job

    def jobs(self, view: SpaceView) -> list[ImportJob]:
        """``view``'s actor's jobs in its space, newest first."""
        with self._cond:
            self._forget_expired()
            mine = [
                j
                for j in self._jobs.values()
                if (j.space_id, j.actor_id) == (view.space_id, view.actor.id)
            ]
        return sorted(mine, key=lambda j: j.id, reverse=True)

    def snapshot(self, job: ImportJob) -> tuple[int, dict[str, Any]]:
        """A consistent copy of the job and its version."""
        with self._cond:
            return job.version, job.snapshot()

    def wait(self, job: ImportJob, version: int, timeout: float) -> int:
        """Block until the job's version differs from ``version`` (or ``timeout``)."""
        with self._cond:
            self._cond.wait_for(lambda: job.version != version, timeout)
            return job.version

    # -- running -----------------------------------------------------------------------

    def _start_workers(self) -> None:
        while len(self._threads) < self._workers_wanted:
            thread = threading.Thread(
                target=self._work, name=f"selfdata-import-{len(self._threads)}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _next_job(self) -> ImportJob | None:
        for job in self._queue:
            if self._running[job.space_id] < self._running_per_space:
                self._queue.remove(job)
                return job
        return None

    def _work(self) -> None:
        while True:
            with self._cond:
                job = self._next_job()
                while job is None and not self._stopping:
                    self._cond.wait()
                    job = self._next_job()
                if job is None:
                    return
                self._running[job.space_id] += 1
                job.state, job.started_at = "validating", job.view.now()
                job.version += 1
                self._cond.notify_all()
            try:
                self._run(job)
            finally:
                with self._cond:
                    self._running[job.space_id] -= 1
                    self._cond.notify_all()

    def _update(self, job: ImportJob, **changes: Any) -> None:
        with self._cond:
            for name, value in changes.items():
                setattr(job, name, value)
            job.version += 1
            self._cond.notify_all()

    def _run(self, job: ImportJob) -> None:
        def progress(phase: str, done: int, _total: int) -> None:
            if self._stopping:
                raise _Stopped
            self._update(job, state=phase, bytes_done=done)

        changes: dict[str, Any]
        try:
            runner = ImportRunner(job.view, self.registry)
            with job.spool.open() as stream:
                report = runner.run(
                    stream,
                    job.filename,
                    format_name=job.format_name,
                    skip_invalid=job.skip_invalid,
                    options=job.options,
                    progress=progress,
                )
            state = "refused" if report.refused else "done"
            changes = {"state": state, "report": report, "importer": report.importer}
        except SelfdataError as exc:
            changes = {"state": "failed", "error": _error_document(exc)}
        except _Stopped:
            changes = {
                "state": "failed",
                "error": {
                    "code": "interrupted",
                    "title": "The import was interrupted",
                    "detail": "the server stopped during the import; what was written is "
                    "consistent: import the same file again to complete it",
                    "errors": [],
                },
            }
        except Exception:
            reference = secrets.token_hex(6)
            log.exception("import job %s failed [%s]", job.id, reference)
            changes = {
                "state": "failed",
                "error": {
                    "code": "internal-error",
                    "title": "Internal error",
                    "detail": f"the import failed on the server's side (reference {reference})",
                    "errors": [],
                },
            }
        finally:
            job.spool.close()
        self._update(
            job, **changes, finished_at=job.view.now(), finished_monotonic=self._monotonic()
        )

    # -- forgetting and stopping ---------------------------------------------------------

    def _forget_expired(self) -> None:
        now = self._monotonic()
        for job_id in [
            j.id
            for j in self._jobs.values()
            if j.finished_monotonic is not None and now - j.finished_monotonic > self._keep
        ]:
            del self._jobs[job_id]

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop: queued jobs fail, running ones stop at their next batch."""
        with self._cond:
            self._stopping = True
            for job in self._queue:
                job.spool.close()
                job.state, job.finished_monotonic = "failed", self._monotonic()
                job.error = {
                    "code": "interrupted",
                    "title": "The import was interrupted",
                    "detail": "the server stopped before the import started; send it again",
                    "errors": [],
                }
                job.version += 1
            self._queue.clear()
            self._cond.notify_all()
            threads = list(self._threads)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
