"""Generated PDF papers: a plain one, and hostile ones (password, decompression bomb,
many pages, truncated). ``python -m tests.samples.papers`` rewrites ``facture.pdf``.

Nothing here is a real document: the invoice is made up.
"""

from __future__ import annotations

import io
import zlib
from datetime import UTC, datetime
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, StreamObject

from selfdata.demo.pdf import make_pdf

__all__ = [
    "bomb_pdf",
    "encrypted_pdf",
    "invoice_pdf",
    "many_pages_pdf",
    "owner_only_pdf",
    "write",
]

HERE = Path(__file__).parent


def invoice_pdf(number: str = "F-2025-0042") -> bytes:
    """A one-page invoice with a title, an author and a creation date."""
    return make_pdf(
        f"Facture {number}",
        ["Électricité Exemple SA", "Période : janvier 2025", "Montant TTC : 84,20 €"],
        created=datetime(2025, 2, 3, 9, 15, tzinfo=UTC),
        author="Électricité Exemple SA",
    )


def encrypted_pdf(password: str = "secret") -> bytes:  # noqa: S107 - a test file
    """The invoice, protected by a user password."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(invoice_pdf())))
    writer.encrypt(user_password=password, owner_password=password + "-owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def owner_only_pdf() -> bytes:
    """Encrypted with an empty user password (printing restrictions only): readable."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(invoice_pdf())))
    writer.encrypt(user_password="", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def many_pages_pdf(pages: int) -> bytes:
    """``pages`` blank pages (a page count far above what is read for text)."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def bomb_pdf(megabytes: int = 64) -> bytes:
    """One page whose content stream inflates to ``megabytes`` MiB (a few KiB on disk)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(invoice_pdf())))
    page = writer.pages[0]
    bomb = StreamObject()
    compressor = zlib.compressobj(9)
    chunk = b" " * (1024 * 1024)
    data = b"".join(compressor.compress(chunk) for _ in range(megabytes)) + compressor.flush()
    bomb._data = data  # the raw (compressed) bytes, as a hostile file carries them
    bomb[NameObject("/Filter")] = NameObject("/FlateDecode")
    page[NameObject("/Contents")] = writer._add_object(bomb)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def write() -> None:
    (HERE / "facture.pdf").write_bytes(invoice_pdf())
