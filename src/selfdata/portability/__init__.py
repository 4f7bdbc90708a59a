"""Portability: the space archive format (pure: no store, no database).

:mod:`.archive` writes and reads the zip with its manifest and checksums; :mod:`.age`
encrypts it for the citizen with a passphrase in the standard age format, streamed.
Exporting and importing a space through the authorisation point lives in
:mod:`selfdata.access.portability`.
"""

from selfdata.portability.age import AgeReader, AgeWriter, is_age
from selfdata.portability.archive import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    ArchiveReader,
    ArchiveWriter,
    is_zip,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "AgeReader",
    "AgeWriter",
    "ArchiveReader",
    "ArchiveWriter",
    "is_age",
    "is_zip",
]
