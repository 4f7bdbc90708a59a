"""Reading the text exports French organisations produce: encodings, lines, numbers
and dates.

* Encoding: UTF-8 (with or without a byte-order mark) or Windows-1252, decided line by
  line (a file that is ASCII at the top and Windows-1252 further down is common);
  NUL bytes (UTF-16, binary) and undecodable bytes are refused with the line.
* Lines: at most :data:`MAX_LINE` bytes each, so a hostile file cannot make one line
  take all the memory.
* Numbers: decimal comma or point, spaces (also non-breaking) as thousands separators.
* Dates: ISO 8601 with an offset, or French ``dd/mm/yyyy[ HH:MM[:SS]]`` in local time;
  local times are placed in their zone, an ambiguous time (the repeated hour when
  daylight-saving time ends) resolved by the file's order.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO
from zoneinfo import ZoneInfo

from selfdata.importers.base import ImportFailed

__all__ = [
    "MAX_LINE",
    "Decoding",
    "LocalTimes",
    "decode_head",
    "fold_header",
    "iter_lines",
    "parse_number",
]

MAX_LINE = 64 * 1024
BOM = b"\xef\xbb\xbf"


def fold_header(text: str) -> str:
    """A header cell compared loosely: no accents, lower case, single spaces."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(plain.lower().split())


def decode_head(head: bytes) -> str | None:
    """The first bytes of a file as text, or None when they are not text we read."""
    if head.startswith(BOM):
        head = head[3:]
    if b"\x00" in head:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut by the head's end
            return head[: exc.start].decode("utf-8")
        try:
            return head.decode("cp1252")
        except UnicodeDecodeError:
            return None


@dataclass(slots=True)
class Decoding:
    """How a file's lines are decoded so far: UTF-8 until a line is not (then
    Windows-1252 from there on), unless a byte-order mark declared UTF-8."""

    encoding: str = "utf-8"
    declared: bool = False


def iter_lines(
    stream: BinaryIO, source: str, decoding: Decoding | None = None, after: int = 0
) -> Iterator[tuple[int, str]]:
    """(line number, text without its end of line) for every line of ``stream``.

    ``decoding`` (kept up to date) and ``after`` (the number of the line before the
    stream's first) let a parser go on reading a file it read part of otherwise."""
    state = decoding if decoding is not None else Decoding()
    encoding, declared = state.encoding, state.declared
    number = after
    readline = stream.readline
    while True:
        raw = readline(MAX_LINE + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            raise ImportFailed.at(
                source, number, "line", f"longer than {MAX_LINE // 1024} KiB; not a text export"
            )
        if number == 1 and raw.startswith(BOM):
            raw = raw[3:]
            declared = state.declared = True
        if b"\x00" in raw:
            raise ImportFailed.at(
                source,
                number,
                "encoding",
                "NUL bytes: binary data or UTF-16 text; expected UTF-8 or Windows-1252 text",
            )
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            if declared or encoding != "utf-8":
                raise ImportFailed.at(
                    source, number, "encoding", f"bytes that are not valid {encoding} text"
                ) from None
            encoding = state.encoding = "cp1252"
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                raise ImportFailed.at(
                    source, number, "encoding", "bytes that are neither UTF-8 nor Windows-1252"
                ) from None
        yield number, text.rstrip("\r\n")


def parse_number(text: str) -> float:
    """``1 234,5`` → 1234.5; raises ValueError when it is not a number."""
    cleaned = text.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if "," in cleaned:
        cleaned = (
            cleaned.replace(".", "").replace(",", ".")
            if "." in cleaned
            else cleaned.replace(",", ".")
        )
    value = float(cleaned)
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    return value


class LocalTimes:
    """Turns the timestamps of one file into epoch seconds, in order.

    Local times without an offset are in ``zone``. Of the two instants an ambiguous
    local time may mean (02:30 twice on the last Sunday of October in Paris), the first
    is taken unless it would not come after the previous timestamp of the file: a file
    in time order thus gets both, in the right order. A local time that does not exist
    (02:30 on the last Sunday of March) is an error.
    """

    def __init__(self, zone: str = "Europe/Paris") -> None:
        self.zone = ZoneInfo(zone)
        self.previous: float | None = None

    def parse(self, text: str) -> datetime:
        """The instant ``text`` means, as an aware datetime. Raises ValueError with what
        was expected."""
        cell = text.strip()
        if len(cell) >= 10 and cell[4] == "-":
            try:
                value = datetime.fromisoformat(cell.replace("Z", "+00:00"))
            except ValueError:
                raise ValueError(
                    f"{cell!r} is not a date; expected ISO 8601 (2024-03-31T02:00:00+02:00) "
                    "or dd/mm/yyyy HH:MM"
                ) from None
        elif len(cell) >= 10 and cell[2] == "/" and cell[5] == "/":
            value = self._french(cell)
        else:
            raise ValueError(
                f"{cell!r} is not a date; expected ISO 8601 (2024-03-31T02:00:00+02:00) "
                "or dd/mm/yyyy HH:MM"
            )
        if value.tzinfo is None:
            value = self._place(value, cell)
        self.previous = value.timestamp()
        return value

    @staticmethod
    def _french(cell: str) -> datetime:
        for pattern in ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"):
            try:
                return datetime.strptime(cell, pattern)
            except ValueError:
                continue
        raise ValueError(f"{cell!r} is not a date; expected dd/mm/yyyy or dd/mm/yyyy HH:MM")

    def _place(self, naive: datetime, cell: str) -> datetime:
        first = naive.replace(tzinfo=self.zone, fold=0)
        second = naive.replace(tzinfo=self.zone, fold=1)
        if first.utcoffset() != second.utcoffset():
            # Either a repeated (ambiguous) or a skipped (non-existent) local time.
            back = first.astimezone(UTC).astimezone(self.zone).replace(tzinfo=None)
            if back != naive:
                raise ValueError(
                    f"{cell} does not exist in {self.zone.key} (the clocks moved forward)"
                )
            if self.previous is not None and first.timestamp() <= self.previous:
                return second
        return first
