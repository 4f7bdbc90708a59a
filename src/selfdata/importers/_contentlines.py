"""Content lines of iCalendar (RFC 5545) and vCard (RFC 2425/2426/6350, and 2.1):
unfolding, and cutting the file into its components, streaming.

``BEGIN:VEVENT`` … ``END:VEVENT`` is one block; a file is read one block at a time, so
memory stays bounded by the largest block (at most :data:`MAX_BLOCK` bytes), never the
file. Each logical line keeps the number of its first physical line, for the report.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from selfdata.importers.base import ImportFailed
from selfdata.importers.text import iter_lines

__all__ = ["MAX_BLOCK", "Block", "iter_blocks", "unfold"]

MAX_BLOCK = 8 * 1024 * 1024
"""A component larger than this (a contact with a huge photo) is refused."""


@dataclass(slots=True)
class Block:
    """One component (``VEVENT``, ``VCARD``…) with the components nested in it."""

    name: str
    line: int
    """The line of its ``BEGIN``."""
    lines: list[tuple[int, str]] = field(default_factory=list)
    """Its logical (unfolded) lines, ``BEGIN`` and ``END`` included."""

    def text(self) -> str:
        return "\r\n".join(text for _, text in self.lines) + "\r\n"


def unfold(stream: BinaryIO, source: str) -> Iterator[tuple[int, str]]:
    """Logical lines: a physical line starting with a space or a tab continues the
    previous one (RFC 5545 §3.1); in vCard 2.1, a quoted-printable value ending with
    ``=`` continues on the next line."""
    current: str | None = None
    start = 0
    for number, text in iter_lines(stream, source):
        if current is not None and text[:1] in (" ", "\t"):
            current += text[1:]
        elif current is not None and current.endswith("=") and _quoted_printable(current):
            current = current[:-1] + "=\n" + text  # soft line break, decoded later
        else:
            if current is not None:
                yield start, current
            current, start = text, number
    if current is not None:
        yield start, current


def _quoted_printable(line: str) -> bool:
    name, _, _ = line.partition(":")
    return "QUOTED-PRINTABLE" in name.upper()


def iter_blocks(
    stream: BinaryIO, source: str, wanted: frozenset[str]
) -> Iterator[tuple[Block | None, tuple[int, str] | None]]:
    """Every top-level ``wanted`` component as a :class:`Block`, and every line outside
    them (``(None, (line, text))``: calendar properties such as ``X-WR-CALNAME``)."""
    block: Block | None = None
    depth = 0
    size = 0
    for number, text in unfold(stream, source):
        if not text.strip():
            continue
        upper = text.upper()
        if block is None:
            if upper.startswith("BEGIN:") and upper[6:].strip() in wanted:
                block = Block(upper[6:].strip(), number, [(number, text)])
                depth, size = 1, len(text)
            else:
                yield None, (number, text)
            continue
        block.lines.append((number, text))
        size += len(text) + 2
        if size > MAX_BLOCK:
            raise ImportFailed.at(
                source, block.line, block.name, f"a component over {MAX_BLOCK // 2**20} MiB"
            )
        if upper.startswith("BEGIN:"):
            depth += 1
        elif upper.startswith("END:"):
            depth -= 1
            if depth == 0:
                yield block, None
                block = None
    if block is not None:
        raise ImportFailed.at(
            source,
            block.line,
            block.name,
            f"BEGIN:{block.name} without its END; the file is truncated",
        )
