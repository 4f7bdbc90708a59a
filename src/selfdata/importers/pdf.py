"""PDF papers (invoices, payslips, tax notices): the file is kept, sealed, in the space's
file store and a ``paper.document`` record describes it — title, dates, page count and
the text of its pages, for search.

The PDF is untrusted. ``pypdf`` reads it with its limits lowered (see :data:`LIMITS`):
a stream that would decompress past them (a decompression bomb) is not decompressed. The
text of at most :data:`MAX_PAGES` pages and :data:`MAX_TEXT` characters is kept, within
:data:`TEXT_SECONDS`; a page whose text cannot be extracted is a notice, not a failure.
A file that is not a readable PDF, or that is protected by a password, is refused with
the reason: nothing is written.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any, BinaryIO, ClassVar

import pypdf
from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError

from selfdata.importers.base import (
    FileItem,
    ImportContext,
    Importer,
    ImportFailed,
    Item,
    Notice,
    RecordBatch,
    RecordRow,
)

__all__ = ["LIMITS", "MAX_PAGES", "MAX_PDF_BYTES", "MAX_TEXT", "PdfPaper"]

MAX_PDF_BYTES = 256 * 1024 * 1024
"""The file store's default limit (``limits.max_file_bytes``)."""
MAX_PAGES = 1000
"""Text is taken from the first pages only; the page count is still recorded."""
MAX_TEXT = 1_000_000
"""Characters of text kept (a thousand pages of dense text)."""
TEXT_SECONDS = 60.0
"""Time allowed for extracting text; past it the remaining pages are left out."""
_STREAM = 32 * 1024 * 1024
LIMITS: dict[str, Any] = {
    "maximum_declared_stream_length": _STREAM,
    "array_based_stream_maximum_output_length": _STREAM,
    "zlib_maximum_output_length": _STREAM,
    "lzw_maximum_output_length": _STREAM,
    "run_length_maximum_output_length": _STREAM,
    "brotli_maximum_output_length": _STREAM,
    "jbig2_maximum_output_length": _STREAM,
    "image_maximum_buffer_size": _STREAM,
    "stream_decoding_work_maximum_length": 4 * _STREAM,
    "jbig2dec_binary": None,
}
"""pypdf's limits (``pypdf.Configuration``, applied only while reading a paper):
per-stream decompression at 32 MiB instead of 75 MB (a page's content is never that
large, a bomb is), and never an external ``jbig2dec`` program on untrusted input."""
_KINDS = ("invoice", "payslip", "tax_notice", "id_card", "certificate", "contract", "statement")

# pypdf logs every oddity of a hostile or damaged file; the report has what matters.
logging.getLogger("pypdf").setLevel(logging.CRITICAL)


def _basename(filename: str) -> str:
    return filename.replace("\\", "/").rpartition("/")[2][:255] or "document.pdf"


def _day(value: Any) -> str | None:
    return value.date().isoformat() if isinstance(value, datetime) else None


class PdfPaper(Importer):
    name: ClassVar[str] = "pdf"
    version: ClassVar[str] = "1.0"
    description: ClassVar[dict[str, str]] = {
        "fr": "Document PDF (facture, fiche de paie…) : le fichier chiffré et son texte",
        "en": "PDF document (invoice, payslip…): the encrypted file and its text",
    }
    doctypes: ClassVar[tuple[str, ...]] = ("paper.document",)
    options: ClassVar[dict[str, str]] = {
        "kind": "What the paper is: " + ", ".join(_KINDS) + " or other (the default)",
        "issuer": "Who issued it, such as 'DGFiP' or 'EDF'",
        "title": "A title instead of the PDF's own (or its file name)",
    }

    def sniff(self, head: bytes, filename: str) -> float:
        if head.startswith(b"%PDF-"):
            return 0.95
        # The header may follow a little junk (some generators; readers allow 1 KiB),
        # but not a zip's header: a PDF stored uncompressed first in a zip is a zip.
        if b"%PDF-" in head[:1024] and not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            return 0.9
        return 0.0

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        source = context.filename
        size = stream.seek(0, 2)
        stream.seek(0)
        if size > MAX_PDF_BYTES:
            raise ImportFailed.at(
                source, None, "size", f"{size} bytes; at most {MAX_PDF_BYTES // 2**20} MiB"
            )
        notices: list[Notice] = []
        with pypdf.apply_configuration(**LIMITS):
            reader = self._open(stream, source)
            try:
                page_count: int | None = len(reader.pages)
            except (PyPdfError, ValueError, KeyError, TypeError, RecursionError) as exc:
                raise ImportFailed.at(
                    source, None, "pages", f"unreadable page tree ({exc})"
                ) from None
            text = self._text(reader, page_count or 0, notices)
            meta = self._metadata(reader, notices)
        filename = _basename(source)
        title = (
            context.options.get("title")
            or meta.get("title")
            or filename.rsplit(".", 1)[0]
            or filename
        )
        data: dict[str, Any] = {
            "title": title[:1000],
            "kind": context.options.get("kind", "other"),
            "filename": filename,
            "media_type": "application/pdf",
            "size_bytes": size,
            "issuer": context.options.get("issuer"),
            "issued_on": meta.get("created"),
            "page_count": page_count or None,
            "extracted_text": text or None,
        }
        yield FileItem("pdf", filename, "application/pdf")
        yield RecordBatch(
            "paper.document",
            [
                RecordRow(
                    1, {k: v for k, v in data.items() if v is not None}, files={"file_id": "pdf"}
                )
            ],
        )
        yield from notices

    @staticmethod
    def _open(stream: BinaryIO, source: str) -> pypdf.PdfReader:
        try:
            reader = pypdf.PdfReader(stream, strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise FileNotDecryptedError("a password is needed")
        except (FileNotDecryptedError, DependencyError):
            raise ImportFailed.at(
                source,
                None,
                "encryption",
                "the PDF is protected by a password; remove the protection and import it again",
            ) from None
        except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
            raise ImportFailed.at(
                source, None, "pdf", f"not a readable PDF ({exc}); truncated or damaged?"
            ) from None
        return reader

    @staticmethod
    def _text(reader: pypdf.PdfReader, page_count: int, notices: list[Notice]) -> str:
        parts: list[str] = []
        kept = 0
        deadline = time.monotonic() + TEXT_SECONDS
        for number in range(min(page_count, MAX_PAGES)):
            if time.monotonic() > deadline:
                notices.append(
                    Notice(None, "extracted_text", f"text of pages {number + 1}+ left out (time)")
                )
                break
            try:
                page_text = reader.pages[number].extract_text() or ""
            except Exception as exc:  # any failure inside a hostile page
                notices.append(
                    Notice(None, "extracted_text", f"page {number + 1}: no text ({exc})"[:300])
                )
                continue
            page_text = page_text.replace("\x00", "").strip()
            if page_text:
                parts.append(page_text[: MAX_TEXT - kept])
                kept += len(parts[-1])
            if kept >= MAX_TEXT:
                notices.append(Notice(None, "extracted_text", f"text cut at {MAX_TEXT} characters"))
                break
        if page_count > MAX_PAGES:
            notices.append(
                Notice(None, "extracted_text", f"text of the first {MAX_PAGES} pages only")
            )
        return "\n\n".join(parts)

    @staticmethod
    def _metadata(reader: pypdf.PdfReader, notices: list[Notice]) -> dict[str, str]:
        found: dict[str, str] = {}
        try:
            info = reader.metadata
            if info is None:
                return found
            title = (info.title or "").strip()
            if title:
                found["title"] = title
            created = _day(info.creation_date)
            if created:
                found["created"] = created
        except Exception as exc:  # broken metadata: not worth a refusal
            notices.append(Notice(None, "metadata", f"not readable ({exc})"[:300]))
        return found
