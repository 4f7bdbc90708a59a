"""The isolated process that runs declarative (SQL) questions.

Started by :mod:`selfdata.questions.pool` as ``python -I -m selfdata.questions.worker``
with an empty environment (no master key, no database URL), it never sees the
database, the keys or the network: the parent sends the consented data (Arrow IPC)
and the query on stdin; the worker answers one JSON document on stdout.

Layers, each a wall on its own:

1. DuckDB, in memory, fresh per question: the data as read-only views named after
   the doctypes; ``enable_external_access=false`` (no file, no URL, no extension,
   no ATTACH/COPY), Python replacement scans off, no spill directory, a memory limit,
   one thread, then ``lock_configuration=true`` so the query cannot undo any of it.
   Only one SELECT statement is accepted.
2. The process: ``RLIMIT_AS`` (address space) and ``RLIMIT_CPU`` (re-armed per
   question) from the kernel; DuckDB is interrupted at the time limit, and the parent
   kills the whole process if it still has not answered.
3. A ``sys.addaudithook`` installed once start-up is over: from then on Python itself
   refuses to open files, sockets or processes in this process.

Frames: 4-byte big-endian length + bytes. Request: a JSON header frame
``{"sql", "params", "tables": [names], "timezone", "max_answer_bytes", "timeout_s"}`` then one
Arrow IPC stream frame per table. Reply: one JSON frame, ``{"ok": true, "rows": [...],
"bytes": n}`` or ``{"ok": false, "error": kind, "message": text}``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import importlib
import math
import os
import re
import resource
import struct
import sys
import threading
import time
import uuid
from typing import Any, BinaryIO

import orjson

__all__ = ["BLOCKED_EVENTS", "install_guard", "main"]

_HEADER = struct.Struct(">I")
_ZONE = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$")
MAX_FRAME = 1 << 31

# Audit events refused once the worker is running: files, sockets, processes,
# native code loading and changes to the file system.
BLOCKED_EVENTS = (
    "open",
    "os.",
    "socket.",
    "subprocess.",
    "shutil.",
    "ctypes.",
    "urllib.",
    "http.",
    "ftplib.",
    "smtplib.",
    "webbrowser.",
    "pty.",
    "mmap.",
)
# Harmless events of the "os." family the worker itself needs at run time.
_ALLOWED = frozenset({"os.putenv"})


class _Refused(PermissionError):
    pass


def install_guard() -> None:
    """From now on, refuse every blocked audit event in this process (for good: an
    audit hook cannot be removed)."""

    def hook(event: str, _args: tuple[Any, ...]) -> None:
        if event in _ALLOWED:
            return
        if event.startswith(BLOCKED_EVENTS):
            raise _Refused(f"the question worker may not {event}")

    sys.addaudithook(hook)


def _read_exact(stream: BinaryIO, n: int) -> bytes | None:
    chunks: list[bytes] = []
    left = n
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(stream: BinaryIO) -> bytes | None:
    head = _read_exact(stream, _HEADER.size)
    if head is None:
        return None
    (length,) = _HEADER.unpack(head)
    if length > MAX_FRAME:
        return None
    return _read_exact(stream, length)


def write_frame(stream: BinaryIO, body: bytes) -> None:
    stream.write(_HEADER.pack(len(body)) + body)
    stream.flush()


def _jsonable(value: Any) -> Any:
    """A DuckDB value as JSON: dates in ISO 8601, decimals as numbers, NaN as null."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, bytes | bytearray):
        return value.hex()
    return str(value)


class _Failure(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def _connect(memory_mb: int) -> Any:
    import duckdb

    return duckdb.connect(
        ":memory:",
        config={
            "enable_external_access": False,
            "autoload_known_extensions": False,
            "autoinstall_known_extensions": False,
            "allow_community_extensions": False,
            "python_enable_replacements": False,
            "memory_limit": f"{memory_mb}MB",
            "threads": 1,
            "temp_directory": "",
        },
    )


def _classify(exc: Exception) -> _Failure:
    import duckdb

    text = str(exc).split("\n", 1)[0][:300]
    if isinstance(exc, duckdb.PermissionException | _Refused):
        return _Failure("forbidden", text)
    if isinstance(exc, duckdb.InterruptException):
        return _Failure("timeout", "the question took longer than its time limit")
    if isinstance(exc, duckdb.OutOfMemoryException | MemoryError):
        return _Failure("resources", "the question needed more memory than it may use")
    if isinstance(exc, duckdb.ParserException | duckdb.CatalogException | duckdb.BinderException):
        return _Failure("sql", text)  # about the query's text and the views' columns
    # Other errors (a failed conversion…) may quote a value: the service gets only their
    # kind, or an error message would be a way to read the data.
    return _Failure("sql", f"{type(exc).__name__} while computing the answer (details withheld)")


def answer(header: dict[str, Any], tables: list[bytes], memory_mb: int) -> dict[str, Any]:
    """Run one question; the reply document (never raises)."""
    import duckdb
    import pyarrow as pa

    con = _connect(memory_mb)
    timer: threading.Timer | None = None
    try:
        for name, blob in zip(header["tables"], tables, strict=True):
            with pa.ipc.open_stream(pa.py_buffer(blob)) as reader:
                con.register(name, reader.read_all())
        zone = str(header.get("timezone") or "UTC")
        if not _ZONE.match(zone):
            raise _Failure("sql", f"not a time zone name: {zone!r}")
        # Calendar functions (date_trunc on a TIMESTAMPTZ) count in the citizen's zone.
        con.execute(f"SET TimeZone = '{zone}'")
        con.execute("SET lock_configuration = true")
        statements = con.extract_statements(header["sql"])
        if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
            raise _Failure("sql", "a question is exactly one SELECT statement")
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        used = int(cpu.ru_utime + cpu.ru_stime)
        limit = math.ceil(header["timeout_s"]) + 2
        # The CPU limit counts the process's whole life: re-armed for each question.
        resource.setrlimit(resource.RLIMIT_CPU, (used + limit, resource.RLIM_INFINITY))
        timer = threading.Timer(header["timeout_s"], con.interrupt)
        timer.daemon = True
        timer.start()
        con.execute(header["sql"], header.get("params") or None)
        columns = [d[0] for d in con.description or ()]
        rows: list[dict[str, Any]] = []
        size = 2
        bound = int(header["max_answer_bytes"])
        while batch := con.fetchmany(1000):
            for row in batch:
                item = {c: _jsonable(v) for c, v in zip(columns, row, strict=True)}
                size += len(orjson.dumps(item)) + 1
                if size > bound:
                    raise _Failure(
                        "too-large", f"the answer is larger than its bound of {bound} bytes"
                    )
                rows.append(item)
        return {"ok": True, "rows": rows, "bytes": size}
    except _Failure as failure:
        return {"ok": False, "error": failure.kind, "message": failure.message}
    except Exception as exc:
        classified = _classify(exc)
        return {"ok": False, "error": classified.kind, "message": classified.message}
    finally:
        if timer is not None:
            timer.cancel()
        con.close()


_ZONES: list[Any] = []  # kept referenced: the libraries' caches may be weak


def _load_time_zones() -> None:
    """Every time zone, loaded now: DuckDB converts a TIMESTAMPTZ result to Python with
    pytz (or zoneinfo), which reads the zone's file on first use — refused once the guard
    is up. The citizen's zone is only known per question."""
    try:
        # Imported by name: pytz is optional (DuckDB uses it when it is installed).
        pytz = importlib.import_module("pytz")
        _ZONES.extend(pytz.timezone(name) for name in pytz.all_timezones)
    except ImportError:
        pass
    import zoneinfo

    for name in zoneinfo.available_timezones():
        try:
            _ZONES.append(zoneinfo.ZoneInfo(name))
        except (OSError, ValueError):
            continue


def _warm_up(memory_mb: int) -> None:
    """Import and exercise everything a question uses, before the guard goes up
    (imports open files)."""
    import pyarrow as pa

    _load_time_zones()

    table = pa.table({"x": [1.5, None], "d": [dt.date(2026, 1, 1), None]})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    header = {
        "sql": "SELECT sum(x) AS s, min(d) AS d, 'a' || $p AS t, CAST(1 AS DECIMAL(5,2)) AS m, "
        "date_trunc('month', TIMESTAMPTZ '2026-01-02 00:00:00+00') AS ts FROM warm",
        "params": {"p": "b"},
        "tables": ["warm"],
        "timezone": "Europe/Paris",
        "max_answer_bytes": 10_000,
        "timeout_s": 10.0,
    }
    reply = answer(header, [sink.getvalue().to_pybytes()], memory_mb)
    if not reply.get("ok"):
        raise RuntimeError(f"question worker warm-up failed: {reply}")


def _limit_memory(extra_mb: int) -> None:
    """Cap the address space at what start-up took plus ``extra_mb``."""
    with open("/proc/self/status", encoding="ascii") as status:
        size_kb = next((int(line.split()[1]) for line in status if line.startswith("VmSize:")), 0)
    if size_kb:
        cap = (size_kb + extra_mb * 1024) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def main(argv: list[str] | None = None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    memory_mb = int(args[0]) if args else 256
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    # Nothing but frames on stdout: stray prints go to stderr.
    sys.stdout = sys.stderr
    _warm_up(memory_mb)
    if sys.platform.startswith("linux"):
        _limit_memory(memory_mb * 2 + 256)
    install_guard()
    write_frame(stdout, b'{"ready": true}')
    while True:
        frame = read_frame(stdin)
        if frame is None:
            return
        header = orjson.loads(frame)
        tables: list[bytes] = []
        for _ in header["tables"]:
            blob = read_frame(stdin)
            if blob is None:
                return
            tables.append(blob)
        started = time.monotonic()
        reply = answer(header, tables, memory_mb)
        reply["ms"] = round((time.monotonic() - started) * 1000, 3)
        write_frame(stdout, orjson.dumps(reply))


if __name__ == "__main__":
    main()
    os._exit(0)
