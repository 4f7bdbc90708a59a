"""The space archive: a zip of JSON Lines, Parquet, CSV and original files, described
by ``manifest.json`` (format, counts and the SHA-256 of every member).

Pure: no store, no database. :class:`ArchiveWriter` streams members into a zip (the
output may be unseekable, e.g. an :class:`~selfdata.portability.age.AgeWriter`), hashing
each as it is written; :class:`ArchiveReader` checks the manifest and every checksum
before anything is trusted. The layout is documented in docs/export-format.md.
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO

import orjson

from selfdata.errors import InvalidInput

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "ArchiveReader",
    "ArchiveWriter",
    "MemberWriter",
    "is_zip",
]

FORMAT = "selfdata-space-export"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_ZIP_MAGIC = b"PK\x03\x04"
_BLOCK = 1024 * 1024


def is_zip(head: bytes) -> bool:
    return head.startswith(_ZIP_MAGIC)


@dataclass
class MemberWriter:
    """A member being written: bytes go to the zip and into its SHA-256."""

    handle: IO[bytes]
    sha: Any = field(default_factory=hashlib.sha256)
    size: int = 0
    count: int | None = None

    def write(self, data: bytes) -> int:
        self.handle.write(data)
        self.sha.update(data)
        self.size += len(data)
        return len(data)

    def line(self, item: Any) -> None:
        """One JSON Lines entry (counted)."""
        self.write(orjson.dumps(item) + b"\n")
        self.count = (self.count or 0) + 1


class ArchiveWriter:
    def __init__(self, out: BinaryIO, *, compresslevel: int = 6) -> None:
        self._zip = zipfile.ZipFile(
            out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=compresslevel
        )
        self.members: dict[str, dict[str, Any]] = {}

    @contextmanager
    def member(self, path: str, *, compress: bool = True) -> Iterator[MemberWriter]:
        if path in self.members or path == MANIFEST:
            raise ValueError(f"duplicate archive member {path}")
        info = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o600 << 16
        with self._zip.open(info, "w", force_zip64=True) as handle:
            writer = MemberWriter(handle)
            yield writer
        entry: dict[str, Any] = {"sha256": writer.sha.hexdigest(), "size": writer.size}
        if writer.count is not None:
            entry["count"] = writer.count
        self.members[path] = entry

    def add(self, path: str, data: bytes, *, count: int | None = None) -> None:
        with self.member(path) as writer:
            writer.write(data)
            writer.count = count

    def finish(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Write ``manifest.json`` last (it lists every member) and close the zip."""
        manifest = {**manifest, "members": dict(sorted(self.members.items()))}
        self._zip.writestr(
            zipfile.ZipInfo(MANIFEST, date_time=(1980, 1, 1, 0, 0, 0)),
            orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS),
            compress_type=zipfile.ZIP_DEFLATED,
        )
        self._zip.close()
        return manifest

    def abort(self) -> None:
        with suppress(Exception):
            self._zip.close()


_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError)


class ArchiveReader:
    """An export archive opened for reading. ``verify()`` checks every member's
    checksum against the manifest; nothing should be imported before it passed."""

    def __init__(self, source: BinaryIO) -> None:
        try:
            self._zip = zipfile.ZipFile(source, "r")
            raw = self._zip.read(MANIFEST)
        except KeyError:
            raise InvalidInput("not a selfdata space archive: it has no manifest.json") from None
        except _ZIP_ERRORS as exc:
            raise InvalidInput(
                f"the archive is corrupted or truncated and cannot be read ({exc})"
            ) from None
        try:
            manifest = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise InvalidInput("the archive's manifest.json is not valid JSON") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise InvalidInput("not a selfdata space archive (unknown format in manifest.json)")
        version = manifest.get("format_version")
        if not isinstance(version, int) or version < 1:
            raise InvalidInput(f"the archive's format version {version!r} is not valid")
        if version > FORMAT_VERSION:
            raise InvalidInput(
                f"this archive was written in {FORMAT} version {version}, newer than the "
                f"version {FORMAT_VERSION} this selfdata reads; upgrade selfdata to import it"
            )
        members = manifest.get("members")
        if not isinstance(members, dict):
            raise InvalidInput("the archive's manifest lists no members")
        self.manifest: dict[str, Any] = manifest
        self.members: dict[str, dict[str, Any]] = members

    def verify(self) -> None:
        """Every listed member present with its SHA-256 and size; no unlisted member."""
        names = set(self._zip.namelist()) - {MANIFEST}
        unlisted = sorted(names - set(self.members))
        if unlisted:
            raise InvalidInput(f"the archive holds members its manifest does not list: {unlisted}")
        for path, entry in self.members.items():
            if path not in names:
                raise InvalidInput(f"the archive is missing {path} (listed in its manifest)")
            digest = hashlib.sha256()
            size = 0
            try:
                with self._zip.open(path) as handle:
                    while piece := handle.read(_BLOCK):
                        digest.update(piece)
                        size += len(piece)
            except _ZIP_ERRORS as exc:
                raise InvalidInput(f"archive member {path} is corrupted ({exc})") from None
            if digest.hexdigest() != entry.get("sha256") or size != entry.get("size"):
                raise InvalidInput(
                    f"archive member {path} does not match its checksum in the manifest"
                )

    def has(self, path: str) -> bool:
        return path in self.members

    def open(self, path: str) -> IO[bytes]:
        if path not in self.members:
            raise InvalidInput(f"the archive has no {path}")
        try:
            return self._zip.open(path)
        except _ZIP_ERRORS as exc:
            raise InvalidInput(f"archive member {path} is corrupted ({exc})") from None

    def read(self, path: str) -> bytes:
        with self.open(path) as handle:
            return handle.read()

    def lines(self, path: str) -> Iterator[dict[str, Any]]:
        """The JSON objects of a JSON Lines member."""
        with self.open(path) as raw:
            for number, line in enumerate(raw, start=1):
                if not line.strip():
                    continue
                try:
                    item = orjson.loads(line)
                except orjson.JSONDecodeError:
                    raise InvalidInput(f"{path} line {number} is not JSON") from None
                if not isinstance(item, dict):
                    raise InvalidInput(f"{path} line {number} is not a JSON object")
                yield item

    def close(self) -> None:
        self._zip.close()
