"""The import form: several files and a few fields, files spooled encrypted as they come.

``POST /api/v1/imports`` takes ``multipart/form-data`` with one or more file parts and
optional fields (``format``, ``skip_invalid``, ``option`` = ``key=value``, repeatable),
in any order. Each file part streams into its own
:class:`~selfdata.crypto.spool.EncryptedSpool`, so neither memory nor the disk ever
holds a whole file in clear (the runner reads it twice later, from the spool).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from selfdata.crypto.spool import EncryptedSpool
from selfdata.errors import InvalidInput
from selfdata.web.params import safe_filename

__all__ = ["MAX_FILES", "ImportForm", "read_import_form"]

MAX_FILES = 20
_MAX_FIELD_BYTES = 64 * 1024  # all text fields together: a few small values
_FIELDS = frozenset({"format", "skip_invalid", "option"})


@dataclass
class ImportForm:
    files: list[tuple[str, EncryptedSpool]] = field(default_factory=list)
    fields: dict[str, list[str]] = field(default_factory=dict)

    def close(self) -> None:
        for _, spool in self.files:
            spool.close()

    def one(self, name: str) -> str | None:
        values = self.fields.get(name, [])
        if len(values) > 1:
            raise InvalidInput(
                f"the form field {name!r} is given {len(values)} times; give it once"
            )
        return values[0].strip() if values else None


class _Parser:
    """Feeds python-multipart's push parser and routes each part where it belongs."""

    def __init__(self, boundary: bytes, form: ImportForm) -> None:
        self.form = form
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._spool: EncryptedSpool | None = None
        self._field_name: str | None = None
        self._field_value = bytearray()
        self._field_bytes = 0
        self.ended = False
        self.parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._begin,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_data,
                "on_part_end": self._on_part_end,
                "on_end": self._on_end,
            },
        )

    def _begin(self) -> None:
        self._headers = {}
        self._spool, self._field_name = None, None
        self._field_value = bytearray()

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field, self._header_value = b"", b""

    def _on_headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        if b"filename" in params:
            if len(self.form.files) >= MAX_FILES:
                raise InvalidInput(f"send at most {MAX_FILES} files per request")
            name = safe_filename(params[b"filename"].decode("utf-8", "replace"), "file")
            self._spool = EncryptedSpool()
            self.form.files.append((name, self._spool))
            return
        name = params.get(b"name", b"").decode("utf-8", "replace")
        if name not in _FIELDS:
            raise InvalidInput(
                f"unexpected form field {name!r}; expected files and the fields "
                + ", ".join(sorted(_FIELDS))
            )
        self._field_name = name

    def _on_data(self, data: bytes, start: int, end: int) -> None:
        if self._spool is not None:
            self._spool.write(bytes(data[start:end]))
            return
        self._field_bytes += end - start
        if self._field_bytes > _MAX_FIELD_BYTES:
            raise InvalidInput("the form's text fields are too long (64 KiB in all)")
        self._field_value += data[start:end]

    def _on_part_end(self) -> None:
        if self._spool is not None:
            self._spool.finish()
        elif self._field_name is not None:
            value = self._field_value.decode("utf-8", "replace")
            self.form.fields.setdefault(self._field_name, []).append(value)
        self._spool, self._field_name = None, None

    def _on_end(self) -> None:
        self.ended = True


def read_import_form(chunks: Iterator[bytes], boundary: bytes) -> ImportForm:
    """Parse the whole form; on any problem every spool made so far is deleted."""
    form = ImportForm()
    parser = _Parser(boundary, form)
    try:
        for chunk in chunks:
            try:
                parser.parser.write(chunk)
            except MultipartParseError as exc:
                raise InvalidInput(f"the multipart/form-data body is malformed: {exc}") from None
            if parser.ended:
                break
        if not parser.ended:
            raise InvalidInput("the multipart/form-data body ended before its closing boundary")
        if not form.files:
            raise InvalidInput(
                "nothing to import: the form has no file (send each in a part with a "
                "filename, <input type=file name=file multiple>)"
            )
    except BaseException:
        form.close()
        raise
    return form
