"""Demo data: a generated year in the life of a Lyon household, written into a space.

Camille Rousseau, Karim Benali and their daughter Léa (9) rent a flat in Lyon 7e. The
generator gives them an Enedis load curve, GRDF gas and water readings, a joint account
and a Livret A at LCL, Camille's location history and GPS tracks, her health record,
the family calendar, an address book and their latest papers as real PDF files — all
consistent with each other (the bills debited from the bank are the energy consumed,
the doctor's fee is in the bank, the calendar and the health record, and so on).

Everything goes through the :class:`~selfdata.access.SpaceView` given, so it is
validated, encrypted and audited like any other write. Randomness is keyed by the seed
and the *date*, so a day always comes out the same whatever window is generated, and
writing twice is harmless: records are recognised by their natural keys, series points
by their timestamps, files by their content.

>>> report = populate(view, end=date(2025, 12, 31))      # doctest: +SKIP
>>> report.as_dict()["bank.transaction"]                   # doctest: +SKIP
852
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from selfdata.access import SpaceView
from selfdata.errors import InvalidInput

from . import agenda, bank, energy, health, mobility, papers
from .life import ANCHOR, PARIS, Life

__all__ = ["DemoReport", "Progress", "populate"]

Progress = Callable[[str, int, int], None]
"""``progress(step_label, done, total)``: called at the start of each step (``done`` 0)
and as each of its writes completes; each step has its own label and total."""


@dataclass
class DemoReport:
    """What :func:`populate` wrote: per doctype, records (or points for series doctypes)
    handed to the space, and how many files. ``created`` counts only what was new
    (records created or changed, points gained): all zeros on a second identical run."""

    counts: dict[str, int]
    files: int
    created: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        return {**dict(sorted(self.counts.items())), "files": self.files}


class _Step:
    def __init__(self, progress: Progress | None, label: str, total: int) -> None:
        self._progress, self._label, self._total, self._done = progress, label, total, 0
        if progress is not None:
            progress(label, 0, total)

    def tick(self) -> None:
        self._done = min(self._total, self._done + 1)
        if self._progress is not None:
            self._progress(self._label, self._done, self._total)


def populate(
    view: SpaceView,
    *,
    end: date | None = None,
    days: int = 365,
    seed: int = 2024,
    progress: Progress | None = None,
) -> DemoReport:
    """Fill the space behind ``view`` with ``days`` days of demo data ending on ``end``
    (inclusive; default: yesterday in Lyon). Deterministic for a given seed and window."""
    if days < 1:
        raise InvalidInput(f"days must be 1 or more, not {days}")
    if end is None:
        end = datetime.now(PARIS).date() - timedelta(days=1)
    life = Life(seed, end - timedelta(days=days - 1), end)
    counts: dict[str, int] = {}
    created: dict[str, int] = {}

    def merge(result: tuple[dict[str, int], dict[str, int]]) -> None:
        counts.update(result[0])
        created.update(result[1])

    step = _Step(progress, "energy", 4)
    usage = energy.generate(life, min(ANCHOR, date(life.start.year, 1, 1)), end)
    bills = energy.bills(life, usage)
    merge(energy.write(view, life, usage, step.tick))

    step = _Step(progress, "bank", 2)
    transactions, _ = bank.generate(life, bills)
    merge(bank.write(view, transactions, step.tick))

    step = _Step(progress, "mobility", 3)
    trips, visits, tracks = mobility.generate(life)
    merge(mobility.write(view, trips, visits, tracks, step.tick))

    step = _Step(progress, "health", 5)
    merge(health.write(view, health.generate(life), step.tick))

    step = _Step(progress, "calendar and contacts", 2)
    merge(agenda.write(view, life, step.tick))

    step = _Step(progress, "papers", 2)
    paper_counts, paper_created, files = papers.write(view, papers.generate(life, bills), step.tick)
    merge((paper_counts, paper_created))
    return DemoReport(counts, files, created)
