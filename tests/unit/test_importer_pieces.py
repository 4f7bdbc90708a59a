"""The importers' building blocks, without a database."""

from __future__ import annotations

import io
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from selfdata.importers import ImporterRegistry, ImportFailed
from selfdata.importers.registry import BUILTIN, ENTRY_POINT_GROUP
from selfdata.importers.text import LocalTimes, iter_lines, parse_number

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_builtins_are_declared_as_entry_points() -> None:
    declared = tomllib.loads(PYPROJECT.read_text())["project"]["entry-points"][ENTRY_POINT_GROUP]
    assert declared == BUILTIN
    registry = ImporterRegistry.discover()
    assert set(BUILTIN) <= set(registry.names())
    for importer in registry:
        assert importer.version and set(importer.description) == {"fr", "en"}


def _utc(text: str) -> str:
    return LocalTimes().parse(text).astimezone(UTC).isoformat()


def test_local_times_resolve_the_repeated_hour_by_order() -> None:
    times = LocalTimes()
    stamps = [
        "29/10/2023 01:30",
        "29/10/2023 02:00",
        "29/10/2023 02:30",
        "29/10/2023 02:00",
        "29/10/2023 02:30",
        "29/10/2023 03:00",
    ]
    utc = [times.parse(s).astimezone(UTC).strftime("%H:%M") for s in stamps]
    assert utc == ["23:30", "00:00", "00:30", "01:00", "01:30", "02:00"]


def test_local_times_refuse_the_skipped_hour() -> None:
    with pytest.raises(ValueError, match="does not exist"):
        LocalTimes().parse("26/03/2023 02:30")
    assert _utc("26/03/2023 03:00") == "2023-03-26T01:00:00+00:00"
    assert _utc("2023-10-29T02:00:00+01:00") == "2023-10-29T01:00:00+00:00"
    assert _utc("01/01/2024") == datetime(2023, 12, 31, 23, tzinfo=UTC).isoformat()
    for bad in ("31/02/2023", "yesterday", "2023-13-01T00:00"):
        with pytest.raises(ValueError, match="not a date"):
            LocalTimes().parse(bad)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("252", 252.0),
        ("252,5", 252.5),
        ("1 234,5", 1234.5),
        ("1\u00a0234,5", 1234.5),
        ("1.234,5", 1234.5),
        ("0.25", 0.25),
        (" -3 ", -3.0),
    ],
)
def test_numbers(text: str, value: float) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["", "douze", "nan", "inf", "1,2,3"])
def test_not_numbers(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_number(text)


def test_lines_switch_to_windows_1252_and_refuse_binary() -> None:
    data = "a;b\r\nété;1\n".encode("cp1252")
    assert list(iter_lines(io.BytesIO(data), "f")) == [(1, "a;b"), (2, "été;1")]
    assert list(iter_lines(io.BytesIO(b"\xef\xbb\xbfx\n"), "f")) == [(1, "x")]
    with pytest.raises(ImportFailed, match="line 2, encoding"):
        list(iter_lines(io.BytesIO(b"\xef\xbb\xbfx\n\xe9\n"), "f"))  # BOM says UTF-8
    with pytest.raises(ImportFailed, match="NUL bytes"):
        list(iter_lines(io.BytesIO(b"a\x00b\n"), "f"))
