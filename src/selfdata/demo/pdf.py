"""A minimal, valid one-page PDF 1.4 written by hand (no dependency).

The page uses the standard Helvetica fonts with ``WinAnsiEncoding`` so that French text
(é, è, ç, €, —) prints and extracts correctly; the cross-reference table gives the exact
byte offset of every object, so any reader (pypdf, poppler, a browser) opens it without
repairing it. The output depends only on the arguments: the same document is the same
bytes, which lets the file store recognise it on a second run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

__all__ = ["make_pdf"]

_A4 = (595, 842)
_LEFT, _TOP = 64, 780


def _literal(text: str) -> bytes:
    """``text`` as a PDF literal string in WinAnsi (cp1252), escaped, ASCII-only bytes."""
    out = bytearray(b"(")
    for byte in text.encode("cp1252"):
        if byte in b"()\\":
            out += b"\\" + bytes([byte])
        elif 32 <= byte < 127:
            out.append(byte)
        else:
            out += b"\\%03o" % byte
    out += b")"
    return bytes(out)


def _text_string(text: str) -> bytes:
    """A document-information string (UTF-16BE with BOM, as a hex string)."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


def _content(title: str, lines: Sequence[str]) -> bytes:
    ops = [
        b"BT",
        b"/F2 16 Tf",
        b"%d %d Td" % (_LEFT, _TOP),
        _literal(title) + b" Tj",
        b"/F1 11 Tf",
        b"16 TL",
        b"0 -12 Td",
    ]
    for line in lines:
        ops.append(b"T* " + _literal(line) + b" Tj")
    ops.append(b"ET")
    # A rule under the title.
    ops += [b"0.6 w", b"%d %d m %d %d l S" % (_LEFT, _TOP - 8, _A4[0] - _LEFT, _TOP - 8)]
    return b"\n".join(ops)


def make_pdf(title: str, lines: Sequence[str], *, created: datetime, author: str) -> bytes:
    """A one-page A4 PDF showing ``title`` then ``lines`` (one text line each)."""
    content = _content(title, lines)
    stamp = created.strftime("D:%Y%m%d%H%M%S")
    offset = created.utcoffset()
    if offset is not None:
        minutes = int(offset.total_seconds()) // 60
        sign = "+" if minutes >= 0 else "-"
        stamp += f"{sign}{abs(minutes) // 60:02d}'{abs(minutes) % 60:02d}'"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
        b"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>" % _A4,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Title "
        + _text_string(title)
        + b" /Author "
        + _text_string(author)
        + b" /Producer (selfdata demo) /CreationDate ("
        + stamp.encode()
        + b") >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")  # binary marker comment
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n" % (len(objects) + 1)
    out += b"0000000000 65535 f \n"
    for position in offsets:
        out += b"%010d 00000 n \n" % position
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        len(objects),
        xref,
    )
    return bytes(out)
