"""Running an import: detect, fingerprint, validate everything, then write.

An import goes over the file's items twice, streaming the file:

1. **Validation pass.** Every record is validated against its doctype, every series
   chunk checked, every row the parser rejected collected with its line and field.
   Nothing is written. By default (all or nothing) one problem refuses the whole file:
   the report lists the problems and the space is untouched. With ``skip_invalid`` the
   rejected rows are remembered (by line) and the valid ones go on. The items are kept
   (records in the canonical form validation returned) while their estimated size stays
   within ``replay_budget``; past it they are dropped, so memory stays bounded.
2. **Writing pass.** The source (provenance) is registered — or found again when the
   same file, by its keyed fingerprint, was imported before — then records and points
   are written in batches through the :class:`~selfdata.access.SpaceView`, each batch
   one audited access of the gate: the kept items replayed (the file is parsed once),
   or the file parsed again when they did not fit.

Since every row was validated before the first write, a failure during the writing pass
can only be the system's (disk full, database gone, process killed). Batches already
written stay, and they are consistent: records are keyed by their natural key and
series merge by timestamp, so running the same import again completes it without
duplicates (the second run reports the rest as created, the rest as unchanged).

The parsers get the space's own time zone (:meth:`SpaceView.timezone`) in their
:class:`ImportContext`, to place local dates and times.

A parser may ask for the imported file itself to be kept (a :class:`FileItem`: a PDF
paper): in the writing pass the runner streams the source file into the space's file
store (sealed, under the import's source; the same file stored twice is kept once) and
gives its id to the records that name it.

An archive (an :class:`ArchiveImporter`: zip) is not parsed: each member is detected and
imported on its own, as its own source with its own report, gathered in an
:class:`ArchiveReport`.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np

from selfdata.access import SpaceView, Stream
from selfdata.errors import FieldError, InvalidInput, ValidationFailed
from selfdata.importers.base import (
    ArchiveImporter,
    ArchiveMember,
    FileItem,
    ImportContext,
    Importer,
    ImportFailed,
    Item,
    Notice,
    RecordBatch,
    RecordRow,
    Rejected,
    SeriesChunk,
)
from selfdata.importers.registry import ImporterRegistry, UnknownFormat

__all__ = ["ArchiveReport", "DoctypeCounts", "ImportReport", "ImportRunner", "Progress"]

Progress = Callable[[str, int, int], None]
"""``progress(phase, bytes_done, bytes_total)``; phase is ``validating`` or ``writing``."""

HEAD = 8192
_READ = 1 << 20
MAX_REPORTED = 1000
MAX_ARCHIVE_DEPTH = 2
"""An archive inside an archive is opened; one more level down is left out."""
_PENDING_FILE = "pending-file"
"""Stands for a file's id while validating (the id exists once the file is stored)."""
REPLAY_BUDGET = 64 << 20
"""Estimated bytes of parsed items the validation pass keeps for the writing pass (which
then replays them instead of parsing the file again); a file whose items go over it is
parsed twice, so memory stays bounded whatever its size."""


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
    notices: list[FieldError] = field(default_factory=list)
    """Warnings that did not stop the import (at most 1,000 listed)."""
    files_stored: int = 0
    """Files kept in the space's file store (a PDF paper's own bytes)."""
    files_unchanged: int = 0
    """Files that were already in the space (identical content)."""

    def notice(self, error: FieldError) -> None:
        if len(self.notices) < MAX_REPORTED:
            self.notices.append(error)

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
            "notices": [
                {"line": e.line, "field": e.path, "message": e.message} for e in self.notices
            ],
            "files_stored": self.files_stored,
            "files_unchanged": self.files_unchanged,
            "seconds": round(self.seconds, 3),
        }


@dataclass(slots=True)
class ArchiveReport(ImportReport):
    """An archive's import: one report per member imported, the members left out, and
    the totals of the members (``counts``, ``rejected_total``…). ``refused`` is set when
    at least one member was refused (the others were imported)."""

    members: list[ImportReport] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """Members not imported: ``(name in the archive, why)``."""

    def add(self, member: ImportReport) -> None:
        self.members.append(member)
        self.refused = self.refused or member.refused
        self.rejected_total += member.rejected_total
        # The members' problems and notices, named by their member (``source``).
        self.rejected.extend(member.rejected[: MAX_REPORTED - len(self.rejected)])
        self.notices.extend(member.notices[: MAX_REPORTED - len(self.notices)])
        self.files_stored += member.files_stored
        self.files_unchanged += member.files_unchanged
        for doctype, counts in member.counts.items():
            total = self.of(doctype)
            for name in DoctypeCounts.__slots__:
                setattr(total, name, getattr(total, name) + getattr(counts, name))

    def as_dict(self) -> dict[str, Any]:
        out = super(ArchiveReport, self).as_dict()
        out["members"] = [m.as_dict() for m in self.members]
        out["skipped"] = [{"name": name, "reason": why} for name, why in self.skipped]
        return out


class _Position:
    """Reports progress from the stream's position (or the position an item kept from
    the validation pass was read at), at most once per batch."""

    def __init__(self, stream: BinaryIO, total: int, phase: str, progress: Progress | None):
        self.stream, self.total, self.phase, self.progress = stream, total, phase, progress

    def __call__(self, at: int | None = None) -> None:
        if self.progress is not None:
            done = self.stream.tell() if at is None else at
            self.progress(self.phase, min(done, self.total), self.total)


@dataclass(slots=True)
class _Checked:
    """A record batch as the validation pass left it: each row's canonical data (what
    the doctype's validation returned), or ``None`` for a rejected row. Rows that name
    a kept file keep their parsed form: their file id exists only in the writing pass,
    where they are validated again with it."""

    doctype: str
    lines: list[int]
    refs: list[str | None]
    valid: list[dict[str, Any] | None]
    with_files: dict[int, RecordRow]
    """Index in the batch -> the parsed row (rows with ``files``)."""


_Kept = tuple[int, "Item | _Checked"]
"""An item kept from the validation pass, with the stream position it was read at."""


class _Replay:
    """The validation pass's items while their estimated size stays within ``budget``;
    past it they are dropped (``items`` is ``None``) and the file is parsed again."""

    def __init__(self, budget: int) -> None:
        self.budget, self.size = budget, 0
        self.items: list[_Kept] | None = [] if budget > 0 else None

    def keep(self, at: int, item: Item | _Checked, size: int) -> None:
        if self.items is None:
            return
        self.size += size
        if self.size > self.budget:
            self.items = None  # from here on, the writing pass parses the file again
        else:
            self.items.append((at, item))


class _FullCollections:
    """Makes the cyclic collector's full passes rarer while imports run.

    An import holds many parsed items alive (kept for the replay, a batch being
    written); by default every tenth second-generation pass walks all of them again,
    about a fifth of a bank import's CPU time. Young objects are still collected as
    usual; the setting is the process's, so it is restored when the last import that
    runs at the same time ends."""

    RARER = 1000  # third threshold: full passes after this many second-generation ones

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.saved = gc.get_threshold()

    @contextmanager
    def rarer(self) -> Iterator[None]:
        with self.lock:
            if self.running == 0:
                self.saved = gc.get_threshold()
                first, second, third = self.saved
                gc.set_threshold(first, second, max(third, self.RARER))
            self.running += 1
        try:
            yield
        finally:
            with self.lock:
                self.running -= 1
                if self.running == 0:
                    gc.set_threshold(*self.saved)


_FULL_COLLECTIONS = _FullCollections()


def _estimate(value: Any, depth: int = 0) -> int:
    """Bytes a parsed value takes, roughly (nested containers a few levels down)."""
    size = sys.getsizeof(value)
    if depth < 4:
        if isinstance(value, dict):
            size += sum(_estimate(v, depth + 1) for v in value.values())
        elif isinstance(value, list | tuple):
            size += sum(_estimate(v, depth + 1) for v in value)
    return size


def _batch_size(valid: list[dict[str, Any] | None]) -> int:
    """A record batch's size, from up to three rows measured (first, middle, last):
    measuring each row would cost more than the second parse it saves."""
    if not valid:
        return 0
    sample = [row for row in (valid[0], valid[len(valid) // 2], valid[-1]) if row is not None]
    per_row = max((_estimate(row) for row in sample), default=0)
    return 8 * (len(valid) + 8) + len(valid) * (per_row + 64)


class _Share:
    """Progress of one member of an archive as progress of the whole: member ``index``
    of ``count`` covers its share of the way; within it, validation is the first half and
    writing the second. The whole is reported as ``validating`` over its first half and
    ``writing`` over its second, so ``done / total`` grows steadily and a caller that
    reads the two phases as two halves (the HTTP import jobs) shows the right figure."""

    def __init__(self, progress: Progress, index: int, count: int, total: int) -> None:
        self.progress, self.index, self.count, self.total = progress, index, count, total

    def __call__(self, phase: str, done: int, total: int) -> None:
        part = done / total if total else 1.0
        inner = 0.5 * part if phase == "validating" else 0.5 + 0.5 * part
        whole = (self.index + inner) / max(self.count, 1)
        if whole < 0.5:
            self.progress("validating", int(self.total * 2 * whole), self.total)
        else:
            self.progress("writing", int(self.total * (2 * whole - 1)), self.total)


class ImportRunner:
    """Imports files into one space, as the actor of ``view``."""

    def __init__(
        self,
        view: SpaceView,
        registry: ImporterRegistry | None = None,
        *,
        replay_budget: int = REPLAY_BUDGET,
    ) -> None:
        self.view = view
        self.registry = registry or ImporterRegistry.discover()
        self.replay_budget = replay_budget
        """Bytes of parsed items kept to write without parsing again (0: always twice)."""
        self._timezone: str | None = None

    def timezone(self) -> str:
        """The space's time zone, where the parsers place local times (asked once)."""
        if self._timezone is None:
            self._timezone = self.view.timezone()
        return self._timezone

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
        ``skip_invalid`` is off (nothing written either). An archive (zip) is imported
        member by member: the report is then an :class:`ArchiveReport`."""
        with _FULL_COLLECTIONS.rarer():
            return self._run(
                stream,
                filename,
                format_name=format_name,
                skip_invalid=skip_invalid,
                options=options,
                batch_size=batch_size,
                progress=progress,
            )

    def _run(
        self,
        stream: BinaryIO,
        filename: str,
        *,
        format_name: str | None,
        skip_invalid: bool,
        options: Mapping[str, str] | None,
        batch_size: int,
        progress: Progress | None,
    ) -> ImportReport:
        if not stream.seekable():
            raise InvalidInput("an import reads its file more than once: give a file, not a pipe")
        importer = self.choose(stream, filename, format_name)
        if isinstance(importer, ArchiveImporter):
            if options:
                raise InvalidInput(
                    f"{importer.name} has no option {', '.join(sorted(options))}: each file "
                    "of an archive is imported with its importer's defaults"
                )
            return self.run_archive(
                stream,
                filename,
                importer=importer,
                skip_invalid=skip_invalid,
                batch_size=batch_size,
                progress=progress,
            )
        return self._run_file(
            importer,
            stream,
            filename,
            skip_invalid=skip_invalid,
            options=options,
            batch_size=batch_size,
            progress=progress,
        )

    def _run_file(
        self,
        importer: Importer,
        stream: BinaryIO,
        filename: str,
        *,
        skip_invalid: bool,
        options: Mapping[str, str] | None,
        batch_size: int,
        progress: Progress | None,
    ) -> ImportReport:
        started = time.perf_counter()
        unknown = set(options or {}) - set(importer.options)
        if unknown:
            raise InvalidInput(
                f"{importer.name} has no option {', '.join(sorted(unknown))}; its options: "
                + (", ".join(sorted(importer.options)) or "none")
            )
        context = ImportContext(
            filename=filename,
            timezone=self.timezone(),
            batch_size=batch_size,
            options=dict(options or {}),
        )
        report = ImportReport(filename, importer.name, importer.version)
        total = stream.seek(0, 2)
        stream.seek(0)

        skipped, replay = self._validate(importer, stream, context, report, progress, total)
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
        items: Iterable[tuple[int | None, Item | _Checked]] = (
            replay.items
            if replay.items is not None
            else ((None, item) for item in importer.parse(stream, context))
        )
        self._write(items, stream, report, skipped, source.id, progress, total)
        report.seconds = time.perf_counter() - started
        return report

    # -- archives ---------------------------------------------------------------------

    def run_archive(
        self,
        stream: BinaryIO,
        filename: str,
        *,
        importer: ArchiveImporter | None = None,
        skip_invalid: bool = False,
        batch_size: int = 50_000,
        depth: int = 1,
        progress: Progress | None = None,
    ) -> ArchiveReport:
        """Import every member of an archive that an importer recognises, each as its own
        source (all or nothing per member). A hostile archive (path traversal, links, a
        zip bomb) raises :class:`ImportFailed` before any member is read."""
        started = time.perf_counter()
        if importer is None:
            found = self.choose(stream, filename, None)
            if not isinstance(found, ArchiveImporter):
                raise ImportFailed(f"{filename}: not an archive (recognised as {found.name})")
            importer = found
        report = ArchiveReport(filename, importer.name, importer.version)
        context = ImportContext(filename=filename, timezone=self.timezone(), batch_size=batch_size)
        total = stream.seek(0, 2)
        stream.seek(0)
        with importer.open_archive(stream, context) as (members, skipped):
            report.skipped.extend(skipped)
            for index, member in enumerate(members):
                share = _Share(progress, index, len(members), total) if progress else None
                self._run_member(member, report, skip_invalid, batch_size, depth, share)
        if progress is not None:
            progress("writing", total, total)  # the members left out take no time
        report.seconds = time.perf_counter() - started
        return report

    def _run_member(
        self,
        member: ArchiveMember,
        report: ArchiveReport,
        skip_invalid: bool,
        batch_size: int,
        depth: int,
        progress: Progress | None,
    ) -> None:
        name = f"{report.filename}!/{member.name}"
        importer: Importer | None = None
        try:
            with member.open() as content:
                head = content.read(HEAD)
                content.seek(0)
                try:
                    importer = self.registry.detect(head, member.name)
                except UnknownFormat:
                    report.skipped.append((member.name, "format not recognised"))
                    return
                if isinstance(importer, ArchiveImporter):
                    if depth >= MAX_ARCHIVE_DEPTH:
                        why = f"an archive nested more than {depth} deep"
                        report.skipped.append((member.name, why))
                        return
                    inner = self.run_archive(
                        content,
                        name,
                        importer=importer,
                        skip_invalid=skip_invalid,
                        batch_size=batch_size,
                        depth=depth + 1,
                        progress=progress,
                    )
                    report.skipped.extend((f"{member.name}!/{n}", why) for n, why in inner.skipped)
                    for each in inner.members:
                        report.add(each)
                    return
                done = self._run_file(
                    importer,
                    content,
                    name,
                    skip_invalid=skip_invalid,
                    options=None,
                    batch_size=batch_size,
                    progress=progress,
                )
        except InvalidInput as exc:
            # This member cannot be read at all: refused on its own, the others go on.
            done = ImportReport(
                name,
                importer.name if importer else "?",
                importer.version if importer else "?",
                refused=True,
            )
            errors = getattr(exc, "errors", ()) or (
                FieldError(("file",), exc.detail, None, name, "format"),
            )
            for error in errors:
                done.reject(error)
        report.add(done)

    # -- pass 1: validate everything, write nothing --------------------------------

    def _validate(
        self,
        importer: Importer,
        stream: BinaryIO,
        context: ImportContext,
        report: ImportReport,
        progress: Progress | None,
        total: int,
    ) -> tuple[set[int], _Replay]:
        """Returns the lines of the rows to leave out (with ``skip_invalid``), and the
        items to replay in the writing pass (when they fit the budget)."""
        source = context.filename
        skipped: set[int] = set()
        refs: dict[str, bool] = {}  # ref -> its record is valid
        files: set[str] = set()  # refs of the FileItems seen
        # Parsed items take at least half their text's size (a reading: 16 bytes of numpy
        # for ~33 of CSV; a record's dict more than its text), so a file over twice the
        # budget would only fill it and drop it: parse twice from the start instead.
        budget = self.replay_budget if total <= 2 * self.replay_budget else 0
        replay = _Replay(budget)
        tick = _Position(stream, total, "validating", progress)
        for item in importer.parse(stream, context):
            at = stream.tell()
            if isinstance(item, Rejected):
                report.reject(FieldError((item.field,), item.message, item.line, source))
                skipped.add(item.line)
            elif isinstance(item, Notice):
                report.notice(FieldError((item.field,), item.message, item.line, source, "notice"))
            elif isinstance(item, FileItem):
                files.add(item.ref)
                replay.keep(at, item, 256)
            elif isinstance(item, RecordBatch):
                checked = self._check_batch(item, files, refs, skipped, report, source)
                replay.keep(at, checked, _batch_size(checked.valid))
            else:
                self._check_chunk(item, refs, report, source)
                replay.keep(at, item, 256 + item.ts.nbytes + item.values.nbytes)
            tick(at)
        return skipped, replay

    def _check_batch(
        self,
        batch: RecordBatch,
        files: set[str],
        refs: dict[str, bool],
        skipped: set[int],
        report: ImportReport,
        source: str,
    ) -> _Checked:
        doctype = self.view.doctype(batch.doctype)
        rows = batch.rows
        checked = _Checked(
            batch.doctype, [row.line for row in rows], [row.ref for row in rows], [], {}
        )
        validate, valid = doctype.validate, checked.valid
        for index, row in enumerate(rows):
            problems: list[FieldError] = []
            data: dict[str, Any] | None = None
            if doctype.kind != "record":
                message = f"{batch.doctype} is a series doctype: its points come as series"
                problems.append(FieldError(("doctype",), message, row.line, source))
            elif not row.files:
                try:
                    data = validate(row.data, source=source, line=row.line)
                except ValidationFailed as exc:
                    problems.extend(_located(exc, row.line, source))
            elif missing := [ref for ref in row.files.values() if ref not in files]:
                problems.append(
                    FieldError(
                        (next(iter(row.files)),),
                        f"names the file {missing[0]!r}, which the import does not keep",
                        row.line,
                        source,
                    )
                )
            else:
                try:
                    data = validate(_with_files(row, None), source=source, line=row.line)
                except ValidationFailed as exc:
                    problems.extend(_located(exc, row.line, source))
                checked.with_files[index] = row
            valid.append(data)
            if data is None:
                for problem in problems:
                    report.reject(problem)
                report.of(batch.doctype).rejected += 1
                skipped.add(row.line)
                if row.ref is not None:
                    refs[row.ref] = False
            elif row.ref is not None:
                refs.setdefault(row.ref, True)
        return checked

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
        items: Iterable[tuple[int | None, Item | _Checked]],
        stream: BinaryIO,
        report: ImportReport,
        skipped: set[int],
        source_id: str,
        progress: Progress | None,
        total: int,
    ) -> None:
        """Write the items: kept from the validation pass (records already in their
        canonical form) or parsed again (validated again as they are written)."""
        view = self.view
        parents: dict[str, str | None] = {}  # ref -> record id (None: rejected)
        streams: dict[tuple[str, str], Stream] = {}
        file_ids: dict[str, str] = {}  # FileItem ref -> stored file id
        tick = _Position(stream, total, "writing", progress)
        for at, item in items:
            if isinstance(item, FileItem):
                file_ids[item.ref] = self._store_file(item, stream, report, source_id)
            elif isinstance(item, _Checked | RecordBatch):
                if isinstance(item, RecordBatch):
                    rows, validated = _parsed_rows(item, skipped, file_ids), False
                else:
                    rows, validated = self._checked_rows(item, skipped, file_ids, report), True
                self._put(item.doctype, rows, parents, report, source_id, validated)
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
            tick(at)

    def _checked_rows(
        self,
        checked: _Checked,
        skipped: set[int],
        file_ids: Mapping[str, str],
        report: ImportReport,
    ) -> list[tuple[str | None, dict[str, Any] | None]]:
        """The rows to write, canonical; a row naming a kept file is validated again,
        now with the file's real id."""
        if not skipped and not checked.with_files:
            return list(zip(checked.refs, checked.valid, strict=True))  # nothing to change
        rows: list[tuple[str | None, dict[str, Any] | None]] = []
        for index, valid in enumerate(checked.valid):
            ref = checked.refs[index]
            if valid is None or checked.lines[index] in skipped:
                if ref is not None:
                    rows.append((ref, None))
                continue
            parsed = checked.with_files.get(index)
            if parsed is not None:
                valid = self.view.doctype(checked.doctype).validate(  # noqa: PLW2901
                    _with_files(parsed, file_ids), source=report.filename, line=parsed.line
                )
            rows.append((ref, valid))
        return rows

    def _put(
        self,
        doctype: str,
        rows: list[tuple[str | None, dict[str, Any] | None]],
        parents: dict[str, str | None],
        report: ImportReport,
        source_id: str,
        validated: bool,
    ) -> None:
        """Write a batch: each referenced record alone (so its id is known for its
        series; ``None`` data: rejected), then the others together."""
        view = self.view
        counts = report.of(doctype)
        plain: list[dict[str, Any]] = []
        for ref, data in rows:
            if ref is None:
                if data is not None:
                    plain.append(data)
                continue
            if data is None:
                parents[ref] = None
                continue
            written = view.put_records(
                doctype, [data], source_id=source_id, on_existing="update", validated=validated
            )
            _add(counts, written.created, written.updated, written.unchanged)
            parents[ref] = written.ids[0]
        if plain:
            written = view.put_records(
                doctype, plain, source_id=source_id, on_existing="update", validated=validated
            )
            _add(counts, written.created, written.updated, written.unchanged)

    def _store_file(
        self, item: FileItem, stream: BinaryIO, report: ImportReport, source_id: str
    ) -> str:
        """Seal the source file into the file store, from its start, then put the stream
        back where the parser left it."""
        position = stream.tell()
        stream.seek(0)
        try:
            info = self.view.put_file(
                _chunks(stream),
                filename=item.filename,
                media_type=item.media_type,
                source_id=source_id,
            )
        finally:
            stream.seek(position)
        if info.duplicate_of_existing:
            report.files_unchanged += 1
        else:
            report.files_stored += 1
        return info.id

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


def _located(exc: ValidationFailed, line: int, source: str) -> list[FieldError]:
    return [FieldError(e.loc, e.message, line, source, e.kind) for e in exc.errors]


def _parsed_rows(
    batch: RecordBatch, skipped: set[int], file_ids: Mapping[str, str]
) -> list[tuple[str | None, dict[str, Any] | None]]:
    """A batch parsed again: its rows as they are (``None``: rejected), to be validated
    as they are written."""
    return [
        (row.ref, None if row.line in skipped else _with_files(row, file_ids)) for row in batch.rows
    ]


def _with_files(row: RecordRow, file_ids: Mapping[str, str] | None) -> dict[str, Any]:
    """The row's data with the ids of its files (a placeholder while validating)."""
    if not row.files:
        return row.data
    ids = {
        name: (_PENDING_FILE if file_ids is None else file_ids[ref])
        for name, ref in row.files.items()
    }
    return {**row.data, **ids}


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(_READ):
        yield chunk
