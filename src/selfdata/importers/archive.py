"""Zip archives (a Google Takeout, an Apple Health export…): each member goes to the
importer that recognises it (see :meth:`ImportRunner.run_archive`).

The archive is untrusted. Before any member is read, its central directory is checked
and the whole archive refused (:class:`ImportFailed`, nothing written) when it holds:

* a member name that climbs out of the archive (``../``), is absolute (``/etc``,
  ``C:\\``) or holds a NUL byte — harmless here since nothing is extracted to disk, but
  the mark of a crafted file;
* a symbolic link;
* more than :data:`MAX_MEMBERS` members, more than :data:`MAX_TOTAL_BYTES` uncompressed
  in all, or a member compressed more than :data:`MAX_RATIO` to one (a zip bomb).

Members are read from the zip stream, never written to disk: a small member is
decompressed into memory (counting bytes, so a member lying about its size is stopped
at its declared size), a large one is read through a seekable stream that refuses to
go past its declared size. Encrypted members and folders are left out and listed.
"""

from __future__ import annotations

import io
import lzma
import stat
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, BinaryIO, ClassVar

from selfdata.importers.base import ArchiveImporter, ArchiveMember, ImportContext, ImportFailed

__all__ = ["MAX_MEMBERS", "MAX_RATIO", "MAX_TOTAL_BYTES", "ZipArchive"]

MAX_MEMBERS = 10_000
MAX_TOTAL_BYTES = 4 * 1024**3
MAX_RATIO = 200
"""Compression above this ratio (for members over :data:`_RATIO_FLOOR`) is a zip bomb:
real exports (CSV, JSON, XML) compress 5 to 30 times."""
_RATIO_FLOOR = 1024 * 1024
IN_MEMORY = 16 * 1024 * 1024
"""Members up to this size are decompressed once into memory: the importers read a
file at least twice and some (PDF) seek a lot, which a compressed stream makes slow."""
_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
_READ = 1 << 20
_BROKEN = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)
"""What reading a damaged archive raises (bz2 raises OSError, a bad offset ValueError,
an unknown method or version NotImplementedError)."""


_DOCUMENTS = {b"[Content_Types].xml", b"mimetype"}
"""First members of OOXML (.docx, .xlsx) and OpenDocument / EPUB files."""


def _first_name(head: bytes) -> bytes:
    """The name of the first member, from its local header (empty when cut off)."""
    if len(head) < 30:
        return b""
    length = int.from_bytes(head[26:28], "little")
    return head[30 : 30 + length]


class _Bounded(io.RawIOBase):
    """A member's decompressed stream that stops at its declared size."""

    def __init__(self, inner: IO[bytes], name: str, declared: int) -> None:
        self.inner, self.name_in_zip, self.declared = inner, name, declared

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        try:
            data = self.inner.read(len(buffer))
        except _BROKEN as exc:
            raise ImportFailed(f"{self.name_in_zip}: unreadable in the archive ({exc})") from None
        if self.inner.tell() > self.declared:
            raise ImportFailed(
                f"{self.name_in_zip}: more bytes than its declared size ({self.declared}); "
                "the archive is corrupt or crafted"
            )
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self.inner.seek(offset, whence)

    def tell(self) -> int:
        return self.inner.tell()

    def close(self) -> None:
        self.inner.close()
        super().close()


def _refusal(info: zipfile.ZipInfo) -> str | None:
    """Why this member makes the whole archive suspicious, if it does."""
    name = info.filename
    parts = name.replace("\\", "/").split("/")
    if "\x00" in name:
        return "a NUL byte in its name"
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "an absolute path"
    if ".." in parts:
        return "a path climbing out of the archive (..)"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "a symbolic link"
    if info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        ratio = info.file_size // max(info.compress_size, 1)
        return f"a compression ratio of {ratio} to 1 (a zip bomb; at most {MAX_RATIO})"
    return None


class ZipArchive(ArchiveImporter):
    name: ClassVar[str] = "zip"
    version: ClassVar[str] = "1.0"
    description: ClassVar[dict[str, str]] = {
        "fr": "Archive zip (Google Takeout…) : chaque fichier va à l'importeur qui le reconnaît",
        "en": "Zip archive (Google Takeout…): each file goes to the importer that reads it",
    }

    def sniff(self, head: bytes, filename: str) -> float:
        if not head.startswith(_SIGNATURES):
            return 0.0
        if _first_name(head) in _DOCUMENTS:
            return 0.0  # an office document or an e-book is a zip, not an export archive
        # Below the 0.9 of formats that are zips themselves (the GRDF workbook).
        return 0.6

    @contextmanager
    def open_archive(
        self, stream: BinaryIO, context: ImportContext
    ) -> Iterator[tuple[list[ArchiveMember], list[tuple[str, str]]]]:
        source = context.filename
        try:
            archive = zipfile.ZipFile(stream)
        except (*_BROKEN, zipfile.LargeZipFile) as exc:
            raise ImportFailed.at(
                source, None, "zip", f"not a readable zip archive ({exc}); truncated or damaged?"
            ) from None
        with archive:
            infos = archive.infolist()
            if len(infos) > MAX_MEMBERS:
                raise ImportFailed.at(
                    source, None, "zip", f"{len(infos)} members; at most {MAX_MEMBERS}"
                )
            total = 0
            for info in infos:
                why = _refusal(info)
                if why is not None:
                    raise ImportFailed.at(
                        source, None, info.filename[:200], f"refused: the member has {why}"
                    )
                total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise ImportFailed.at(
                    source,
                    None,
                    "zip",
                    f"{total} bytes once uncompressed; at most {MAX_TOTAL_BYTES}",
                )
            members: list[ArchiveMember] = []
            skipped: list[tuple[str, str]] = []
            for info in infos:
                if info.is_dir():
                    continue
                if info.flag_bits & 0x1:
                    skipped.append((info.filename, "encrypted"))
                    continue
                opener = _Open(archive, info, source)
                members.append(ArchiveMember(info.filename, info.file_size, opener))
            yield members, skipped


class _Open:
    """Opens one member: into memory when small, else as a bounded seekable stream."""

    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, source: str) -> None:
        self.archive, self.info, self.source = archive, info, source

    def __call__(self) -> BinaryIO:
        info = self.info
        try:
            inner = self.archive.open(info)
        except _BROKEN as exc:
            raise ImportFailed.at(self.source, None, info.filename, f"unreadable: {exc}") from None
        bounded = _Bounded(inner, info.filename, info.file_size)
        if info.file_size > IN_MEMORY:
            return io.BufferedReader(bounded, _READ)
        content = bytearray()
        with bounded:
            while chunk := bounded.read(_READ):
                content += chunk
        return io.BytesIO(bytes(content))
