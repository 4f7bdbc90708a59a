"""Running an import: detect, fingerprint, validate everything, then write.

An import reads the file twice, streaming both times (memory stays bounded whatever its
size):

1. **Validation pass.** Every record is validated against its doctype, every series
   chunk checked, every row the parser rejected collected with its line and field.
   Nothing is written. By default (all or nothing) one problem refuses the whole file:
   the report lists the problems and the space is untouched. With ``skip_invalid`` the
   rejected rows are remembered (by line) and the valid ones go on.
2. **Writing pass.** The source (provenance) is registered — or found again when the
   same file, by its keyed fingerprint, was imported before — then records and points
   are written in batches through the :class:`~selfdata.access.SpaceView`, each batch
   one audited access of the gate.

Since every row was validated before the first write, a failure during the writing pass
can only be the system's (disk full, database gone, process killed). Batches already
written stay, and they are consistent: records are keyed by their natural key and
series merge by timestamp, so running the same import again completes it without
duplicates (the second run reports the rest as created, the rest as unchanged).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np

from selfdata.access import SpaceView, Stream
from selfdata.errors import FieldError, InvalidInput, ValidationFailed
from selfdata.importers.base import (
    ImportContext,
    Importer,
    RecordBatch,
    Rejected,
    SeriesChunk,
)
from selfdata.importers.registry import ImporterRegistry

__all__ = ["DoctypeCounts", "ImportReport", "ImportRunner", "Progress"]

Progress = Callable[[str, int, int], None]
"""``progress(phase, bytes_done, bytes_total)``; phase is ``validating`` or ``writing``."""

HEAD = 8192
_READ = 1 << 20
MAX_REPORTED = 1000


@dataclass(slots=True)
class DoctypeCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    """Already stored, identical (duplicates skipped)."""
    rejected: int = 0
    points_read: int = 0
    points_gained: int = 0
    """Series only: points the space did not hold before."""

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "points_read": self.points_read,
            "points_gained": self.points_gained,
        }


@dataclass(slots=True)
class ImportReport:
    """What one import did (or why it was refused)."""

    filename: str
    importer: str
    importer_version: str
    refused: bool = False
    source_id: str | None = None
    source_existed: bool = False
    """The same file (same keyed fingerprint) had been imported before."""
    counts: dict[str, DoctypeCounts] = field(default_factory=dict)
    rejected: list[FieldError] = field(default_factory=list)
    """The problems found, each with its line and field (at most 1,000 listed)."""
    rejected_total: int = 0
    seconds: float = 0.0

    def of(self, doctype: str) -> DoctypeCounts:
        return self.counts.setdefault(doctype, DoctypeCounts())

    def reject(self, error: FieldError) -> None:
        self.rejected_total += 1
        if len(self.rejected) < MAX_REPORTED:
            self.rejected.append(error)

    @property
    def created(self) -> int:
        return sum(c.created for c in self.counts.values())

    @property
    def points_gained(self) -> int:
        return sum(c.points_gained for c in self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "importer": self.importer,
            "importer_version": self.importer_version,
            "refused": self.refused,
            "source_id": self.source_id,
            "source_existed": self.source_existed,
            "counts": {name: c.as_dict() for name, c in sorted(self.counts.items())},
            "rejected": [
                {"line": e.line, "field": e.path, "message": e.message} for e in self.rejected
            ],
            "rejected_total": self.rejected_total,
            "seconds": round(self.seconds, 3),
        }


class _Position:
    """Reports progress from the stream's position, at most once per batch."""

    def __init__(self, stream: BinaryIO, total: int, phase: str, progress: Progress | None):
        self.stream, self.total, self.phase, self.progress = stream, total, phase, progress

    def __call__(self) -> None:
        if self.progress is not None:
            self.progress(self.phase, min(self.stream.tell(), self.total), self.total)


class ImportRunner:
    """Imports files into one space, as the actor of ``view``."""

    def __init__(self, view: SpaceView, registry: ImporterRegistry | None = None) -> None:
        self.view = view
        self.registry = registry or ImporterRegistry.discover()

    def choose(self, stream: BinaryIO, filename: str, format_name: str | None) -> Importer:
        head = stream.read(HEAD)
        stream.seek(0)
        if format_name is not None:
            return self.registry.get(format_name)
        return self.registry.detect(head, filename)

    def run(
        self,
        stream: BinaryIO,
        filename: str,
        *,
        format_name: str | None = None,
        skip_invalid: bool = False,
        options: Mapping[str, str] | None = None,
        batch_size: int = 50_000,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Import one file (a seekable binary stream). Raises :class:`ImportFailed` or
        ``UnknownFormat`` when the file cannot be read at all (nothing written);
        returns a report with ``refused`` set when rows are invalid and
        ``skip_invalid`` is off (nothing written either)."""
        started = time.perf_counter()
        if not stream.seekable():
            raise InvalidInput("an import reads its file twice: give a file, not a pipe")
        importer = self.choose(stream, filename, format_name)
        unknown = set(options or {}) - set(importer.options)
        if unknown:
            raise InvalidInput(
                f"{importer.name} has no option {', '.join(sorted(unknown))}; its options: "
                + (", ".join(sorted(importer.options)) or "none")
            )
        context = ImportContext(
            filename=filename, batch_size=batch_size, options=dict(options or {})
        )
        report = ImportReport(filename, importer.name, importer.version)
        total = stream.seek(0, 2)
        stream.seek(0)

        skipped = self._validate(importer, stream, context, report, progress, total)
        if report.rejected_total and not skip_invalid:
            report.refused = True
            report.seconds = time.perf_counter() - started
            return report

        stream.seek(0)
        fingerprint = self.view.fingerprint_file(_chunks(stream))
        source = self.view.register_source(
            "file",
            {
                "filename": filename,
                "size": total,
                "importer": importer.name,
                "importer_version": importer.version,
                "imported_at": self.view.now().isoformat(),
            },
            fingerprint=fingerprint,
        )
        report.source_id, report.source_existed = source.id, source.existed
        stream.seek(0)
        self._write(importer, stream, context, report, skipped, source.id, progress, total)
        report.seconds = time.perf_counter() - started
        return report

    # -- pass 1: validate everything, write nothing --------------------------------

    def _validate(
        self,
        importer: Importer,
        stream: BinaryIO,
        context: ImportContext,
        report: ImportReport,
        progress: Progress | None,
        total: int,
    ) -> set[int]:
        """Returns the lines of the rows to leave out (with ``skip_invalid``)."""
        source = context.filename
        skipped: set[int] = set()
        refs: dict[str, bool] = {}  # ref -> its record is valid
        tick = _Position(stream, total, "validating", progress)
        for item in importer.parse(stream, context):
            if isinstance(item, Rejected):
                report.reject(FieldError((item.field,), item.message, item.line, source))
                skipped.add(item.line)
            elif isinstance(item, RecordBatch):
                doctype = self.view.doctype(item.doctype)
                for row in item.rows:
                    try:
                        doctype.validate(row.data, source=source, line=row.line)
                    except ValidationFailed as exc:
                        for error in exc.errors:
                            report.reject(
                                FieldError(error.loc, error.message, row.line, source, error.kind)
                            )
                        report.of(item.doctype).rejected += 1
                        skipped.add(row.line)
                        if row.ref is not None:
                            refs[row.ref] = False
                        continue
                    if row.ref is not None:
                        refs.setdefault(row.ref, True)
            else:
                self._check_chunk(item, refs, report, source)
            tick()
        return skipped

    def _check_chunk(
        self, chunk: SeriesChunk, refs: dict[str, bool], report: ImportReport, source: str
    ) -> None:
        doctype = self.view.doctype(chunk.doctype)
        counts = report.of(chunk.doctype)
        counts.points_read += int(chunk.ts.shape[0])
        problem: str | None = None
        if doctype.kind != "series":
            problem = f"{chunk.doctype} is not a series doctype"
        elif chunk.parent_ref not in refs:
            problem = f"its record {chunk.parent_ref!r} is not in the file"
        elif not refs[chunk.parent_ref]:
            counts.rejected += int(chunk.ts.shape[0])
            return  # its record was rejected (already reported)
        elif chunk.values.shape != (chunk.ts.shape[0], len(doctype.columns)):
            problem = f"values of shape {chunk.values.shape}; one column per {doctype.columns}"
        elif np.isinf(chunk.values).any():
            problem = "a value is infinite"
        if problem is not None:
            counts.rejected += int(chunk.ts.shape[0])
            report.reject(FieldError(("series",), problem, chunk.first_line, source))

    # -- pass 2: write ---------------------------------------------------------------

    def _write(
        self,
        importer: Importer,
        stream: BinaryIO,
        context: ImportContext,
        report: ImportReport,
        skipped: set[int],
        source_id: str,
        progress: Progress | None,
        total: int,
    ) -> None:
        view = self.view
        parents: dict[str, str | None] = {}  # ref -> record id (None: rejected)
        streams: dict[tuple[str, str], Stream] = {}
        tick = _Position(stream, total, "writing", progress)
        for item in importer.parse(stream, context):
            if isinstance(item, RecordBatch):
                counts = report.of(item.doctype)
                plain = [
                    row.data for row in item.rows if row.ref is None and row.line not in skipped
                ]
                for row in item.rows:
                    if row.ref is None:
                        continue
                    if row.line in skipped:
                        parents[row.ref] = None
                        continue
                    # A referenced record alone, so its id is known for its series.
                    written = view.put_records(
                        item.doctype, [row.data], source_id=source_id, on_existing="update"
                    )
                    _add(counts, written.created, written.updated, written.unchanged)
                    parents[row.ref] = written.ids[0]
                if plain:
                    written = view.put_records(
                        item.doctype, plain, source_id=source_id, on_existing="update"
                    )
                    _add(counts, written.created, written.updated, written.unchanged)
            elif isinstance(item, SeriesChunk):
                record_id = parents.get(item.parent_ref)
                if record_id is None:
                    continue
                key = (item.doctype, item.parent_ref)
                found = streams.get(key)
                if found is None:
                    found = self._stream(item, record_id, source_id)
                    streams[key] = found
                report.of(item.doctype).points_gained += view.append_points(
                    found.id, item.ts, item.values
                )
            tick()

    def _stream(self, chunk: SeriesChunk, record_id: str, source_id: str) -> Stream:
        """The record's series of this doctype (found again on a re-import), or a new one."""
        existing = self.view.streams(chunk.doctype, record_id=record_id)
        if existing:
            return existing[0]
        return self.view.create_stream(
            chunk.doctype, record_id=record_id, meta=chunk.meta, source_id=source_id
        )


def _add(counts: DoctypeCounts, created: int, updated: int, unchanged: int) -> None:
    counts.created += created
    counts.updated += updated
    counts.unchanged += unchanged


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(_READ):
        yield chunk
