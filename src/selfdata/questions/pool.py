"""The parent's side of the SQL question workers: a small pool of isolated processes,
reused across questions (start-up costs ~0.2 s), killed and replaced on a time-out or
any protocol trouble.

A worker gets an empty environment: whatever secrets the server holds in its own
environment (master key, database URL) never reach the process that runs a service's
query.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import orjson

from selfdata.questions.worker import _HEADER

__all__ = ["SqlJob", "WorkerError", "WorkerPool"]


@dataclass(frozen=True, slots=True)
class SqlJob:
    sql: str
    params: dict[str, Any]
    tables: dict[str, bytes]  # view name -> Arrow IPC stream
    max_answer_bytes: int
    timezone: str = "UTC"


class WorkerError(Exception):
    """A question the worker did not answer. ``kind``: forbidden, timeout, resources,
    too-large, sql, crashed."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class _Worker:
    def __init__(self, memory_mb: int, start_timeout_s: float) -> None:
        # Our own module, run by our own interpreter: no input of anyone's in the command.
        self.proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-I", "-m", "selfdata.questions.worker", str(memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={"PATH": os.defpath, "LANG": "C.UTF-8"},
            close_fds=True,
            bufsize=0,
        )
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self._in = self.proc.stdin
        self._out = self.proc.stdout.fileno()
        try:
            ready = orjson.loads(self._read(time.monotonic() + start_timeout_s))
        except (WorkerError, orjson.JSONDecodeError):
            self.kill()
            raise WorkerError("crashed", "the question worker did not start") from None
        if ready.get("ready") is not True:
            self.kill()
            raise WorkerError("crashed", "the question worker did not start")

    def _read_exact(self, n: int, deadline: float) -> bytes:
        chunks: list[bytes] = []
        with selectors.DefaultSelector() as selector:
            selector.register(self._out, selectors.EVENT_READ)
            while n:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    raise WorkerError("timeout", "the question took longer than its time limit")
                chunk = os.read(self._out, min(n, 1 << 20))
                if not chunk:
                    raise WorkerError("crashed", "the question worker stopped (a limit was hit)")
                chunks.append(chunk)
                n -= len(chunk)
        return b"".join(chunks)

    def _read(self, deadline: float) -> bytes:
        (length,) = _HEADER.unpack(self._read_exact(_HEADER.size, deadline))
        return self._read_exact(length, deadline)

    def _send(self, body: bytes) -> None:
        self._in.write(_HEADER.pack(len(body)))
        self._in.write(body)

    def run(self, job: SqlJob, timeout_s: float) -> dict[str, Any]:
        header = {
            "sql": job.sql,
            "params": job.params,
            "tables": list(job.tables),
            "timezone": job.timezone,
            "max_answer_bytes": job.max_answer_bytes,
            "timeout_s": timeout_s,
        }
        try:
            self._send(orjson.dumps(header))
            for blob in job.tables.values():
                self._send(blob)
            self._in.flush()
        except OSError:
            raise WorkerError("crashed", "the question worker stopped (a limit was hit)") from None
        # The worker interrupts the query itself at the limit; the margin covers loading
        # the data, and past it the process is killed.
        reply: dict[str, Any] = orjson.loads(self._read(time.monotonic() + timeout_s + 2.0))
        return reply

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._in.close()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class WorkerPool:
    """Up to ``size`` worker processes; a question waits for a free one."""

    def __init__(
        self,
        size: int = 2,
        *,
        timeout_s: float = 5.0,
        memory_mb: int = 256,
        start_timeout_s: float = 30.0,
    ) -> None:
        self.size = size
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.start_timeout_s = start_timeout_s
        self._idle: deque[_Worker] = deque()
        self._count = 0
        self._cond = threading.Condition()
        self._closed = False
        self.restarts = 0  # workers killed and replaced (time-outs, crashes)

    def _acquire(self) -> _Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise WorkerError("crashed", "the question service is shutting down")
                while self._idle:
                    worker = self._idle.popleft()
                    if worker.alive():
                        return worker
                    # Died while idle (killed from outside): replaced, not used.
                    worker.kill()
                    self._count -= 1
                    self.restarts += 1
                if self._count < self.size:
                    self._count += 1
                    break
                self._cond.wait()
        try:
            return _Worker(self.memory_mb, self.start_timeout_s)
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def _release(self, worker: _Worker, healthy: bool) -> None:
        if not healthy or not worker.alive():
            worker.kill()
        with self._cond:
            if healthy and worker.alive() and not self._closed:
                self._idle.append(worker)
            else:
                self._count -= 1
                if not healthy:
                    self.restarts += 1
                if self._closed:
                    worker.kill()
            self._cond.notify()

    def run(self, job: SqlJob, timeout_s: float | None = None) -> list[dict[str, Any]]:
        """The rows the query answered, or :class:`WorkerError`."""
        worker = self._acquire()
        healthy = False
        try:
            reply = worker.run(job, timeout_s or self.timeout_s)
            # An interrupted query leaves DuckDB fine, but a worker that hit a limit is
            # replaced anyway: the next question starts from a clean process.
            healthy = bool(reply.get("ok")) or reply.get("error") in ("sql", "too-large")
        finally:
            self._release(worker, healthy)
        if not reply.get("ok"):
            raise WorkerError(str(reply.get("error")), str(reply.get("message")))
        rows: list[dict[str, Any]] = reply["rows"]
        return rows

    def warm(self, n: int = 1) -> None:
        """Start ``n`` workers ahead of the first question."""
        started = [self._acquire() for _ in range(min(n, self.size))]
        for worker in started:
            self._release(worker, True)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = list(self._idle), deque()
            self._count -= len(idle)
            self._cond.notify_all()
        for worker in idle:
            worker.kill()
