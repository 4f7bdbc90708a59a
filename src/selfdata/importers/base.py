"""The importer plugin interface: what an importer is, and what its parser yields.

An importer turns one export format into items, streaming: it never holds the whole
file. Three kinds of item come out of :meth:`Importer.parse`:

* :class:`RecordBatch` — records of one doctype, each with the line it came from;
* :class:`SeriesChunk` — points of one series (numpy arrays), attached to a record of
  the same file by its ``ref``;
* :class:`Rejected` — one row the parser could not read (line, field, what was
  expected): the import is refused, or, with ``skip_invalid``, the row is reported;
* :class:`FileItem` — the imported file itself is to be kept, sealed, in the space's
  file store (a PDF paper); records name it through :attr:`RecordRow.files`;
* :class:`Notice` — something the citizen should know that does not stop the import
  (text left out of a huge PDF, resources of a kind no doctype holds).

:class:`ArchiveImporter` is the other kind of importer: a container (a zip) whose
members are each imported by the importer that recognises them.

A problem with the file as a whole (not the expected format, a wrong encoding, a
truncated header) is raised as :class:`ImportFailed`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, BinaryIO, ClassVar

import numpy as np
import numpy.typing as npt

from selfdata.errors import FieldError, InvalidInput

__all__ = [
    "ArchiveImporter",
    "ArchiveMember",
    "FileItem",
    "ImportContext",
    "ImportFailed",
    "Importer",
    "Item",
    "Notice",
    "RecordBatch",
    "RecordRow",
    "Rejected",
    "SeriesChunk",
]


class ImportFailed(InvalidInput):
    """The file cannot be imported at all; ``errors`` say where and what was expected."""

    code = "import-failed"
    title = "The file cannot be imported"

    def __init__(self, detail: str, errors: tuple[FieldError, ...] = (), **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.errors = errors

    @classmethod
    def at(cls, source: str, line: int | None, field_name: str, message: str) -> ImportFailed:
        """A failure located in the file: ``source:line field: message``."""
        where = f"{source}" + (f", line {line}" if line is not None else "")
        error = FieldError((field_name,), message, line, source, "format")
        return cls(f"{where}, {field_name}: {message}", (error,))


@dataclass(frozen=True, slots=True)
class RecordRow:
    line: int
    """The line of the file the record comes from (1-based)."""
    data: dict[str, Any]
    """The record, as the doctype expects it (validated by the runner)."""
    ref: str | None = None
    """A name series chunks of the same file use to attach to this record."""
    files: Mapping[str, str] = field(default_factory=dict)
    """Fields of ``data`` that receive the id of a stored file: field name -> the
    ``ref`` of a :class:`FileItem` yielded earlier (the id is known only once the
    runner has stored the file, in the writing pass)."""


@dataclass(frozen=True, slots=True)
class RecordBatch:
    doctype: str
    rows: list[RecordRow]


@dataclass(frozen=True, slots=True)
class SeriesChunk:
    """Points of one series; ``lines`` gives each point's line (for error reports)."""

    doctype: str
    parent_ref: str
    ts: npt.NDArray[np.int64]
    """Epoch seconds (UTC)."""
    values: npt.NDArray[np.float64]
    """One row per timestamp, one column per series column."""
    first_line: int
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A row the parser could not read: it is never written."""

    line: int
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class FileItem:
    """Keep the file being imported (its bytes, from the start) in the space's file
    store, sealed, under the import's source. The runner streams it from the source
    file in the writing pass (memory stays bounded); the parser's position in the
    stream is restored afterwards."""

    ref: str
    """The name records use, in :attr:`RecordRow.files`, to receive the file's id."""
    filename: str
    media_type: str
    line: int = 1


@dataclass(frozen=True, slots=True)
class Notice:
    """A warning for the report; the import goes on."""

    line: int | None
    field: str
    message: str


Item = RecordBatch | SeriesChunk | Rejected | FileItem | Notice


@dataclass(frozen=True, slots=True)
class ImportContext:
    """What a parser knows besides the bytes: the file's name, the space's time zone,
    the batch size and options given by the citizen (``--option key=value``)."""

    filename: str
    timezone: str = "Europe/Paris"
    batch_size: int = 50_000
    options: Mapping[str, str] = field(default_factory=dict)


class Importer(ABC):
    """One export format. Subclass it, and declare the class in your distribution's
    entry points (group ``selfdata.importers``); built-ins are declared the same way."""

    name: ClassVar[str]
    """Stable identifier, used by ``--format`` (``enedis.load_curve``)."""
    version: ClassVar[str]
    """Recorded in the provenance of every import; bump it when the output changes."""
    description: ClassVar[Mapping[str, str]]
    """One line per language: ``{"fr": …, "en": …}``."""
    doctypes: ClassVar[tuple[str, ...]] = ()
    """The doctypes it produces (shown by ``selfdata import --list-formats``)."""
    options: ClassVar[Mapping[str, str]] = {}
    """The options it understands, with what each does (English)."""
    reads_zip: ClassVar[bool] = False
    """Whether its format is a zip (an archive, a workbook). Detection offers a file
    that is a zip only to such importers: the text a sniffer looks for can appear in a
    zip's head (a member stored uncompressed) without the zip being that format."""

    @abstractmethod
    def sniff(self, head: bytes, filename: str) -> float:
        """How sure (0 to 1) this importer is that a file starting with ``head`` (its
        first 8 KiB) is its format. Decide on the content; the name is a hint."""

    @abstractmethod
    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        """Read the file once, from its start, yielding items in batches of at most
        ``context.batch_size`` rows. Deterministic: the runner may read the file twice
        (validation, then writing, when the items are too big to keep) and expects the
        same items. A yielded item is not changed afterwards (the runner may keep it)."""


@dataclass(frozen=True, slots=True)
class ArchiveMember:
    """One file inside an archive, ready to be imported on its own."""

    name: str
    """Its path in the archive, such as ``Takeout/Agenda/perso.ics``."""
    size: int
    """Its uncompressed size, as declared (the reader enforces it)."""
    open: Callable[[], BinaryIO]
    """A fresh seekable binary stream of its content (read from the archive, never
    written to disk); the caller closes it."""


class ArchiveImporter(Importer):
    """A container format (zip): the runner imports each member with the importer that
    recognises it, each as its own source, and returns one report per member."""

    reads_zip: ClassVar[bool] = True

    @abstractmethod
    def open_archive(
        self, stream: BinaryIO, context: ImportContext
    ) -> AbstractContextManager[tuple[list[ArchiveMember], list[tuple[str, str]]]]:
        """Check the whole archive (refusing a hostile one with :class:`ImportFailed`
        before anything is read) and give its members to import, and the members left
        out with why (``(name, reason)``)."""

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        """An archive yields no items itself: the runner imports its members."""
        raise ImportFailed(f"{context.filename}: an archive is imported member by member")
