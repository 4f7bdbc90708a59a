"""Operator reference data: tariffs, degree-days and the Tempo calendar.

Public data, not personal data, kept as validated files in ``<home>/reference/``:

* ``tariffs.yaml`` — the operator's tariffs (else the defaults shipped in the package);
* ``degree_days.json`` — daily heating degree-days of the operator's weather station;
* ``tempo.json`` — Tempo day colours (RTE calendar).

Every import validates the whole file first and then replaces the stored one
atomically (write to a temporary file, then rename), so a bad file changes nothing.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from selfdata.errors import FieldError, ValidationFailed

from .degreedays import DegreeDays, from_json, parse_degree_days
from .tariffs import COLOURS, TariffBook, TempoCalendar

__all__ = [
    "Reference",
    "configure",
    "current",
    "import_degree_days",
    "import_tariffs",
    "import_tempo",
    "packaged_tariffs",
    "parse_tariffs",
    "reference_dir",
]

_TARIFFS, _DJU, _TEMPO = "tariffs.yaml", "degree_days.json", "tempo.json"
_home: Path | None = None


@dataclass(frozen=True)
class Reference:
    tariffs: TariffBook
    degree_days: DegreeDays
    tempo: TempoCalendar
    tariffs_origin: str  # "package" or the operator's file


def configure(home: Path | None) -> None:
    """Tell the energy service which instance folder holds the reference data (called
    when the platform opens; else ``SELFDATA_HOME`` or the default folder is used)."""
    global _home  # noqa: PLW0603 (one instance per process)
    _home = home


def reference_dir(home: Path) -> Path:
    return home / "reference"


def _instance_home() -> Path | None:
    if _home is not None:
        return _home
    env = os.environ.get("SELFDATA_HOME")
    return Path(env).expanduser() if env else None


def parse_tariffs(text: str, source: str) -> TariffBook:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ValidationFailed(
            f"{source} is not valid YAML", [FieldError(("file",), str(exc), line, source)]
        ) from None
    try:
        return TariffBook.model_validate(data)
    except ValidationError as exc:
        errors = [
            FieldError(tuple(e["loc"]), e["msg"], None, source, e["type"]) for e in exc.errors()
        ]
        raise ValidationFailed(f"{source} is not a valid tariff file", errors) from None


def packaged_tariffs() -> TariffBook:
    text = resources.files("selfdata.energy").joinpath("data", _TARIFFS).read_text("utf-8")
    return parse_tariffs(text, "selfdata/energy/data/tariffs.yaml")


def _load(home: Path | None) -> Reference:
    folder = reference_dir(home) if home is not None else None
    tariffs, origin = packaged_tariffs(), "package"
    dju, tempo = DegreeDays({}), TempoCalendar()
    if folder is not None:
        if (folder / _TARIFFS).is_file():
            path = folder / _TARIFFS
            tariffs, origin = parse_tariffs(path.read_text("utf-8"), str(path)), str(path)
        if (folder / _DJU).is_file():
            dju = from_json(json.loads((folder / _DJU).read_text("utf-8")))
        if (folder / _TEMPO).is_file():
            raw = json.loads((folder / _TEMPO).read_text("utf-8"))
            tempo = TempoCalendar({date.fromisoformat(k): v for k, v in raw["days"].items()})
    return Reference(tariffs, dju, tempo, origin)


_cache: dict[tuple[Any, ...], Reference] = {}


def current(home: Path | None = None) -> Reference:
    """The reference data in force (re-read when one of its files changes)."""
    home = home if home is not None else _instance_home()
    folder = reference_dir(home) if home is not None else None
    stamp: list[Any] = [str(folder)]
    if folder is not None:
        for name in (_TARIFFS, _DJU, _TEMPO):
            path = folder / name
            info = path.stat() if path.is_file() else None
            stamp.append((info.st_mtime_ns, info.st_size) if info else None)
    key = tuple(stamp)
    if key not in _cache:
        _cache.clear()
        _cache[key] = _load(home)
    return _cache[key]


def _write(home: Path, name: str, content: str) -> Path:
    folder = reference_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    tmp = folder / f".{name}.tmp"
    tmp.write_text(content, encoding="utf-8")
    os.replace(tmp, target)
    return target


def import_tariffs(home: Path, file: Path) -> TariffBook:
    """Validate ``file`` (the format of the shipped tariffs.yaml) and make it the
    instance's tariffs."""
    text = file.read_text("utf-8")
    book = parse_tariffs(text, str(file))
    _write(home, _TARIFFS, text)
    return book


def import_degree_days(
    home: Path, file: Path, station: str | None = None
) -> tuple[DegreeDays, int, int]:
    """Merge daily degree-days from ``file`` into the instance's (a day already known
    takes the new value). ``station`` picks one station of a Météo-France file holding
    several. Returns the merged series, the days imported and the days skipped."""
    new, skipped = parse_degree_days(file.read_text("utf-8-sig"), str(file), station)
    old = current(home).degree_days
    merged = DegreeDays({**old.by_day, **new}, station or old.station)
    _write(home, _DJU, json.dumps(merged.as_dict(), indent=1) + "\n")
    return merged, len(new), skipped


def import_tempo(home: Path, file: Path) -> int:
    """Merge Tempo colours (CSV ``date;colour``, colour blue/white/red or
    bleu/blanc/rouge) into the instance's calendar. Returns the days known."""
    names = {"blue": "blue", "bleu": "blue", "white": "white", "blanc": "white"}
    names |= {"red": "red", "rouge": "red"}
    text = file.read_text("utf-8-sig")
    delimiter = ";" if text[:1024].count(";") >= text[:1024].count(",") else ","
    errors: list[FieldError] = []
    days: dict[str, str] = {}
    for line, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        if not row or not any(c.strip() for c in row):
            continue
        if line == 1 and row[0].strip().lower() in ("date", "jour", "day"):
            continue
        try:
            day = date.fromisoformat(row[0].strip()[:10])
        except ValueError:
            errors.append(FieldError(("date",), "expected YYYY-MM-DD", line, str(file)))
            continue
        colour = names.get(row[1].strip().lower()) if len(row) > 1 else None
        if colour is None:
            errors.append(
                FieldError(("colour",), f"expected one of {', '.join(COLOURS)}", line, str(file))
            )
            continue
        days[day.isoformat()] = colour
    if errors:
        raise ValidationFailed(f"{file}: {len(errors)} invalid line(s); nothing imported", errors)
    folder = reference_dir(home)
    known: dict[str, str] = {}
    if (folder / _TEMPO).is_file():
        known = json.loads((folder / _TEMPO).read_text("utf-8"))["days"]
    known |= days
    _write(home, _TEMPO, json.dumps({"days": dict(sorted(known.items()))}, indent=1) + "\n")
    return len(known)
