"""Reading a block of a ``;``-separated meter export at once, with pyarrow.

The line-by-line parsers (:mod:`selfdata.importers.text`) cost about two microseconds a
line; a ten-year half-hourly load curve has 175,000 lines. A bulk parser reads the data
lines in blocks of a few MiB (so memory stays bounded whatever the file's size), splits
and converts two columns in C (pyarrow), then the timestamps with numpy
(:mod:`selfdata.importers._bulktimes`).

It is only a fast path: :func:`read_columns` answers ``None`` as soon as a block holds
anything it does not take exactly as the line-by-line parser would (a blank line, a
bad number, a field too many, a lone carriage return, bytes that are not text, a line
over :data:`~selfdata.importers.text.MAX_LINE`…), and the caller reads that block line
by line instead, so rejected rows keep their line, field and message.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO, NamedTuple

import numpy as np
import numpy.typing as npt

from selfdata.importers.text import MAX_LINE, Decoding

__all__ = ["BLOCK", "Block", "Columns", "blocks", "read_columns"]

BLOCK = 1 << 20
"""Bytes read at a time (then up to the end of the line). 1 MiB: the block and its
parsed columns stay in the processor's caches (faster than 4 MiB blocks), and the
working set stays a few MiB whatever the file's size."""


class Block(NamedTuple):
    data: bytes
    last: bool
    """The file ends with this block."""

    @property
    def complete(self) -> bool:
        """Ends with a whole line: a line break, or the end of the file."""
        return self.last or self.data.endswith(b"\n")

    @property
    def lines(self) -> int:
        return self.data.count(b"\n") + (0 if self.data.endswith(b"\n") else 1)


def blocks(stream: BinaryIO, size: int = BLOCK) -> Iterator[Block]:
    """The rest of ``stream`` in blocks of whole lines (a line longer than
    :data:`MAX_LINE` may be cut: the line-by-line parser then refuses it)."""
    data = stream.read(size)
    while data:
        if not data.endswith(b"\n"):
            data += stream.readline(MAX_LINE + 1)
        following = stream.read(size)
        yield Block(data, not following)
        data = following


class Columns(NamedTuple):
    """The two columns of a block: fixed-width timestamps and the values."""

    stamps: npt.NDArray[np.uint8]
    """One row of bytes per line (every timestamp of the block has the same width)."""
    values: npt.NDArray[np.float64]
    present: npt.NDArray[np.bool_]
    """The value cell is not empty."""


def read_columns(
    data: bytes, decoding: Decoding, columns: int, time_col: int, value_col: int
) -> Columns | None:
    """Columns ``time_col`` and ``value_col`` of ``data``: lines of exactly ``columns``
    ``;``-separated fields, values with a decimal comma. ``None`` when the block is not
    plainly such lines (see the module's docstring)."""
    if not data:
        return None
    if not data.isascii():
        try:
            text = data.decode(decoding.encoding)
        except UnicodeDecodeError:
            return None
        if decoding.encoding != "utf-8":
            data = text.encode("utf-8")
    lines = _plain_lines(data)
    if lines is None:
        return None
    return _arrow_columns(data, lines, columns, time_col, value_col)


def _plain_lines(data: bytes) -> int | None:
    """How many lines ``data`` has, if none is blank, too long, holds a NUL byte or a
    carriage return other than before its line break (numpy: bytes methods scanning
    for two-byte patterns are several times slower)."""
    octets = np.frombuffer(data, dtype=np.uint8)
    if (octets == 0).any():
        return None
    breaks = np.flatnonzero(octets == 10)
    returns = np.flatnonzero(octets == 13)
    if returns.shape[0] and (
        int(returns[-1]) + 1 >= len(data) or (octets[returns + 1] != 10).any()
    ):
        return None
    ends = breaks if data.endswith(b"\n") else np.append(breaks, len(data))
    starts = np.concatenate(([0], breaks[: ends.shape[0] - 1] + 1))
    lengths = ends - starts
    if lengths.min() == 0 or lengths.max() > MAX_LINE:
        return None
    if ((lengths == 1) & (octets[starts] == 13)).any():
        return None  # a blank line (CR LF): the line numbers would be off
    return int(ends.shape[0])


def _arrow_columns(
    data: bytes, lines: int, columns: int, time_col: int, value_col: int
) -> Columns | None:
    names = [f"c{i}" for i in range(columns)]
    # Decimal commas (what Enedis writes); else points, as the line-by-line parser takes.
    table = _read(data, names, time_col, value_col, ",")
    if table is None:
        table = _read(data, names, time_col, value_col, ".")
    if table is None:
        return None
    if table.num_rows != lines or lines == 0:
        return None
    stamps = _fixed_width(table.column(names[time_col]).combine_chunks())
    if stamps is None:
        return None
    value_column = table.column(names[value_col])
    present = np.logical_not(value_column.is_null().to_numpy(zero_copy_only=False))
    values = value_column.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    if not np.isfinite(values[present]).all():
        return None  # nan, inf: the line-by-line parser rejects them
    return Columns(stamps, values, present)


def _read(data: bytes, names: list[str], time_col: int, value_col: int, decimal: str) -> Any:
    """The two columns as a pyarrow table (timestamps as bytes), or None."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        return pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=False),
            parse_options=pacsv.ParseOptions(
                delimiter=";", quote_char=False, double_quote=False, newlines_in_values=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={names[time_col]: pa.binary(), names[value_col]: pa.float64()},
                include_columns=[names[time_col], names[value_col]],
                decimal_point=decimal,
                null_values=[""],
                strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _fixed_width(array: object) -> npt.NDArray[np.uint8] | None:
    """A binary column as an (n, width) byte matrix, if all its cells have one width."""
    buffers = array.buffers()  # type: ignore[attr-defined]
    count, offset = len(array), array.offset  # type: ignore[arg-type, attr-defined]
    if buffers[0] is not None or count == 0:
        return None  # a null timestamp (cannot happen: strings are never null)
    offsets = np.frombuffer(buffers[1], dtype=np.int32)[offset : offset + count + 1]
    width = int(offsets[1] - offsets[0])
    if width == 0 or not (np.diff(offsets) == width).all():
        return None
    start = int(offsets[0])
    raw = np.frombuffer(buffers[2], dtype=np.uint8)[start : start + count * width]
    return raw.reshape(count, width)
