"""Importers: turn the export files organisations give citizens into records and series.

The framework (plugin interface, registry, runner) is format-agnostic; formats are
plugins, built-ins declared through the same ``selfdata.importers`` entry points as a
third party's. See docs/importers.md.
"""

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
from selfdata.importers.registry import ENTRY_POINT_GROUP, ImporterRegistry, UnknownFormat
from selfdata.importers.runner import (
    ArchiveReport,
    DoctypeCounts,
    ImportReport,
    ImportRunner,
    Progress,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "ArchiveImporter",
    "ArchiveMember",
    "ArchiveReport",
    "DoctypeCounts",
    "FileItem",
    "ImportContext",
    "ImportFailed",
    "ImportReport",
    "ImportRunner",
    "Importer",
    "ImporterRegistry",
    "Item",
    "Notice",
    "Progress",
    "RecordBatch",
    "RecordRow",
    "Rejected",
    "SeriesChunk",
    "UnknownFormat",
]
