"""A question's inputs, loaded once through the gate: as a :class:`QuestionData` for
built-in questions, and as Arrow tables for the SQL worker."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from selfdata.access.questions import LoadedRecord, LoadedSeries, QuestionAccess
from selfdata.doctypes import Doctype
from selfdata.questions.plugin import SeriesData

__all__ = ["LoadedData", "view_name"]


def view_name(doctype: str) -> str:
    """The SQL view of a doctype: ``energy.reading`` -> ``energy_reading``."""
    return doctype.replace(".", "_")


class LoadedData:
    """Implements :class:`~selfdata.questions.plugin.QuestionData` over data read once,
    per doctype, through the gate. Asking for a doctype the question did not declare
    is refused and logged (by :class:`QuestionAccess`)."""

    def __init__(self, access: QuestionAccess, doctypes: Sequence[Doctype], now: datetime) -> None:
        self._access = access
        self._doctypes = {d.name: d for d in doctypes}
        self._now = now
        self._records: dict[str, list[LoadedRecord]] = {}
        self._series: dict[str, list[LoadedSeries]] = {}
        for doctype in doctypes:  # parents (meters) first, so series can name them
            if doctype.kind == "record":
                self._records[doctype.name] = access.records(doctype.name)
        for doctype in doctypes:
            if doctype.kind == "series":
                self._series[doctype.name] = access.series(doctype.name)
        self.timezone = access.timezone

    def now(self) -> datetime:
        return self._now

    def _loaded(self, doctype: str, kind: str) -> Doctype:
        found = self._doctypes.get(doctype)
        if found is None:
            self._access.refuse(
                "doctype-not-declared",
                f"question {self._access.scope.question} did not declare {doctype}",
                doctype=doctype,
            )
        if found.kind != kind:
            raise TypeError(f"{doctype} is a {found.kind} doctype, not a {kind} one")
        return found

    def records(self, doctype: str) -> Iterator[dict[str, Any]]:
        self._loaded(doctype, "record")
        for record in self._records[doctype]:
            yield {"id": record.id, **record.data}

    def _parent(self, record_id: str | None) -> dict[str, Any]:
        if record_id is None:
            return {}
        for records in self._records.values():
            for record in records:
                if record.id == record_id:
                    return {"id": record.id, **record.data}
        # The parent's doctype is not part of the question: only its id is known.
        return {"id": record_id}

    def series(self, doctype: str) -> list[SeriesData]:
        self._loaded(doctype, "series")
        return [
            SeriesData(s.stream_id, self._parent(s.record_id), s.columns, s.ts, s.values)
            for s in self._series[doctype]
        ]

    # -- for the SQL worker ----------------------------------------------------------

    def arrow_tables(self) -> dict[str, bytes]:
        """One Arrow IPC stream per doctype, keyed by its SQL view name."""
        tables: dict[str, pa.Table] = {}
        for name, records in self._records.items():
            tables[view_name(name)] = _records_table(self._doctypes[name], records)
        for name, streams in self._series.items():
            tables[view_name(name)] = _series_table(self._doctypes[name], streams)
        return {name: _ipc(table) for name, table in tables.items()}

    def counts(self) -> Mapping[str, int]:
        out = {name: len(r) for name, r in self._records.items()}
        out.update({name: sum(len(s.ts) for s in v) for name, v in self._series.items()})
        return out


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _column(values: list[Any]) -> pa.Array:
    """A column as Arrow infers it; values of mixed shapes fall back to JSON text."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        return pa.array([None if v is None else orjson.dumps(v).decode() for v in values])


def _records_table(doctype: Doctype, records: list[LoadedRecord]) -> pa.Table:
    utc = pa.timestamp("ms", "UTC")
    columns: dict[str, pa.Array] = {
        "id": pa.array([r.id for r in records], pa.string()),
        "time_start": pa.array([r.time_start for r in records], utc),
        "time_end": pa.array([r.time_end for r in records], utc),
    }
    for field in doctype.model.model_fields:
        if field not in columns:
            columns[field] = _column([r.data.get(field) for r in records])
    return pa.table(columns)


def _series_table(doctype: Doctype, streams: list[LoadedSeries]) -> pa.Table:
    names = doctype.columns or (streams[0].columns if streams else ("value",))
    ts = np.concatenate([s.ts for s in streams]) if streams else np.empty(0, np.int64)
    columns: dict[str, pa.Array] = {
        "stream_id": pa.array(
            [s.stream_id for s in streams for _ in range(len(s.ts))], pa.string()
        ),
        "record_id": pa.array(
            [s.record_id for s in streams for _ in range(len(s.ts))], pa.string()
        ),
        "time": pa.array(ts.astype("datetime64[s]"), pa.timestamp("s", "UTC")),
        "ts": pa.array(ts, pa.int64()),
    }
    for i, name in enumerate(names):
        parts = [s.values[:, i] for s in streams]
        columns[name] = pa.array(np.concatenate(parts) if parts else np.empty(0), pa.float64())
    return pa.table(columns)
