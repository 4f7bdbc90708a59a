"""What every benchmark shares: figures, timing, the machine, a fresh instance, test data.

A benchmark module exposes ``run(config) -> list[Figure]``; ``bench/run.py`` calls the
modules, prints one line per figure and optionally writes them all as JSON.

Timing rules (see docs/performance.md): ``time.perf_counter``; a warm-up before the
timed runs; a ``gc.collect()`` before every timed run (the collector stays enabled
during it, as in production); bulk operations report the *best* of N runs, latencies the
*median* of N runs. Each figure says which.
"""

from __future__ import annotations

import gc
import os
import platform
import random
import resource
import secrets
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt
from sqlalchemy import text

from selfdata.access import Actor, SpaceView
from selfdata.doctypes.examples import EXAMPLES
from selfdata.platform import Platform, init_instance

__all__ = [
    "OPERATOR",
    "TIMED",
    "TRANSACTION",
    "BenchError",
    "BenchInstance",
    "Config",
    "Figure",
    "Machine",
    "Target",
    "Timing",
    "best",
    "expect",
    "half_hourly_readings",
    "instance",
    "load_average",
    "median",
    "median_page_ms",
    "minute_readings",
    "new_meter",
    "own_peak_rss_mib",
    "peak_rss_mib",
    "time_alternating",
    "time_runs",
    "time_runs_with",
    "transactions",
]

TRANSACTION = "bank.transaction"
OPERATOR = Actor.cli_operator()
_PASSWORD = "benchmark passphrase, not a secret"  # noqa: S105 (throw-away spaces)
S = TypeVar("S")

# Password hashing is not measured: the cheap Argon2 profile makes creating the many
# throw-away spaces of a run take milliseconds (read by Settings.for_home).
os.environ["SELFDATA_ARGON2_PROFILE"] = "test"


class BenchError(RuntimeError):
    """A benchmark did not do the work it claims to measure (a wrong count, say)."""


def expect(condition: bool, message: str) -> None:
    """Check that the measured operation did what the figure says it did."""
    if not condition:
        raise BenchError(message)


# -- figures -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """A DESIGN §7 target: ``value op target`` must hold (``>=`` rates, ``<`` times)."""

    op: Literal[">=", "<"]
    value: float

    def met(self, measured: float) -> bool:
        return measured >= self.value if self.op == ">=" else measured < self.value

    def __str__(self) -> str:
        shown = f"{self.value:,.0f}" if self.value == int(self.value) else f"{self.value:g}"
        return f"target {self.op} {shown}"


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured number, with how it was summarised (``stat``) and its target."""

    name: str
    value: float
    unit: str
    stat: str
    target: Target | None = None
    note: str = ""

    @property
    def status(self) -> Literal["OK", "MISSED", "info"]:
        if self.target is None:
            return "info"
        return "OK" if self.target.met(self.value) else "MISSED"

    def line(self) -> str:
        """``name  value unit  (target …)  STATUS  stat; note`` in fixed columns."""
        target = f"({self.target})" if self.target else ""
        how = f"{self.stat}; {self.note}" if self.note else self.stat
        return (
            f"{self.name:<34} {format_value(self.value):>10} {self.unit:<11} "
            f"{target:<20} {self.status:<6}  {how}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "stat": self.stat,
            "target_op": self.target.op if self.target else None,
            "target": self.target.value if self.target else None,
            "status": self.status,
            "note": self.note,
        }


def format_value(value: float) -> str:
    """Thousands separators for big numbers, two or three significant decimals below."""
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 10:
        return f"{value:.2f}"
    return f"{value:.3f}" if magnitude < 1 else f"{value:.2f}"


# -- timing --------------------------------------------------------------------------


def time_runs(run: Callable[[], object], repeat: int) -> list[float]:
    """Seconds taken by each of ``repeat`` calls of ``run``."""
    return time_runs_with(lambda: None, lambda _: run(), repeat)


class Timing(NamedTuple):
    """One timed call: wall-clock seconds, and the CPU seconds this process used."""

    wall: float
    cpu: float


@dataclass
class TimedTotals:
    """Wall and CPU seconds of every timed call since the last ``reset``. A CPU share
    well below 100 % means the process waited: for the disk (fsync), or for a core
    that other processes were using, in which case the wall-clock figures are high."""

    wall: float = 0.0
    cpu: float = 0.0

    def add(self, wall: float, cpu: float) -> None:
        self.wall += wall
        self.cpu += cpu

    def reset(self) -> None:
        self.wall = self.cpu = 0.0

    def describe(self) -> str:
        share = self.cpu / self.wall if self.wall else 0.0
        return f"timed {self.wall:.1f} s wall, {self.cpu:.1f} s CPU ({share:.0%})"


TIMED = TimedTotals()


def _timed_call(call: Callable[[], object]) -> Timing:
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    timing = Timing(time.perf_counter() - wall, time.process_time() - cpu)
    TIMED.add(timing.wall, timing.cpu)
    return timing


def time_runs_with(setup: Callable[[], S], run: Callable[[S], object], repeat: int) -> list[float]:
    """Seconds taken by ``run(setup())``, ``repeat`` times; ``setup`` is not timed."""
    return [_timed_call(partial(run, setup())).wall for _ in range(repeat)]


def time_alternating(
    cases: Mapping[str, Callable[[], Callable[[], object]]], repeat: int
) -> dict[str, list[Timing]]:
    """Time several variants of one operation in alternation, round after round, so
    that a change in the machine's load hits them all alike. Each case prepares (not
    timed) and returns the call to time. CPU time is kept too: it is much less
    disturbed than wall time by other processes competing for the cores."""
    timings: dict[str, list[Timing]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, prepare in cases.items():
            timings[name].append(_timed_call(prepare()))
    return timings


def best(seconds: list[float]) -> float:
    return min(seconds)


def median(seconds: list[float]) -> float:
    return statistics.median(seconds)


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine skews timings."""
    if not hasattr(os, "getloadavg"):
        return "unknown"
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min)"


def peak_rss_mib() -> float:
    """The process's peak resident set size so far (it never goes down)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def median_page_ms(client: Any, path: str, runs: int, *, warm_check: str = "") -> float:
    """Median wall time, in ms, of ``runs`` GETs of ``path`` through an HTTP test client,
    after one warm-up GET; every answer must be a 200, and the warm-up's body must not
    contain ``warm_check`` when given (a page still waiting for its data, say)."""
    warm = client.get(path)
    expect(
        warm.status_code == 200 and not (warm_check and warm_check in warm.text),
        f"{path}: {warm.status_code} {warm.text[:200]}",
    )
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        answer = client.get(path)
        times.append(time.perf_counter() - start)
        expect(answer.status_code == 200, f"{path}: {answer.status_code}")
    return round(statistics.median(times) * 1000, 1)


def own_peak_rss_mib() -> float:
    """This process's own peak RSS since it started (``VmHWM``), for a child process
    measuring itself. Not ``ru_maxrss``: on Linux a child inherits its parent's peak at
    the fork, so a child of a big parent (bench/run.py after other benchmarks) would
    report the parent's figure."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mib()


# -- the machine ---------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


@dataclass(frozen=True, slots=True)
class Machine:
    date: str
    cpu_model: str
    cpu_count: int
    usable_cpus: int
    python: str
    system: str
    sqlite: str
    numpy: str

    @classmethod
    def describe(cls) -> Machine:
        usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
        return cls(
            date=datetime.now(UTC).isoformat(timespec="seconds"),
            cpu_model=_cpu_model(),
            cpu_count=os.cpu_count() or 0,
            usable_cpus=usable or (os.cpu_count() or 0),
            python=f"{platform.python_implementation()} {platform.python_version()}",
            system=platform.platform(),
            sqlite=sqlite3.sqlite_version,
            numpy=np.__version__,
        )

    def lines(self) -> list[str]:
        return [
            f"# date      {self.date}",
            f"# cpu       {self.cpu_model}; {self.cpu_count} cores ({self.usable_cpus} usable)",
            f"# python    {self.python} on {self.system}",
            f"# libraries SQLite {self.sqlite}, numpy {self.numpy}",
        ]


# -- instances -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Config:
    """What the whole run was asked for."""

    quick: bool = False
    database_url: str | None = None

    def pick(self, full: int, quick: int) -> int:
        return quick if self.quick else full


@dataclass
class BenchInstance:
    """A fresh selfdata instance (its own home folder, master key and database)."""

    platform: Platform
    home: Path
    spaces: list[str] = field(default_factory=list)

    def new_space(self, label: str) -> SpaceView:
        """A new space and its citizen's view; names are unique across runs (PostgreSQL)."""
        name = f"bench-{label}-{len(self.spaces)}-{secrets.token_hex(4)}"
        info = self.platform.directory.create_space(name, _PASSWORD, OPERATOR)
        self.spaces.append(info.id)
        return self.platform.citizen_view(name)

    def database_description(self) -> str:
        engine = self.platform.engine
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                version = conn.execute(text("SHOW server_version")).scalar()
                return f"PostgreSQL {version}"
        return f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL)"


@contextmanager
def instance(config: Config) -> Iterator[BenchInstance]:
    """A fresh instance in a temporary folder, on SQLite or on ``config.database_url``.

    The folder (and, on SQLite, the database) is deleted afterwards; on PostgreSQL the
    spaces the benchmark created are erased so the shared database does not grow."""
    home = Path(tempfile.mkdtemp(prefix="selfdata-bench-"))
    try:
        # Always explicit, so a SELFDATA_DATABASE_URL in the environment is not used.
        url = config.database_url or f"sqlite:///{home / 'selfdata.db'}"
        settings, _ = init_instance(home, database_url=url)
        opened = Platform.open(settings)
        bench = BenchInstance(opened, home)
        try:
            yield bench
        finally:
            if config.database_url:
                for space_id in bench.spaces:
                    opened.gate.erase_space(OPERATOR, space_id)
            opened.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)


def new_meter(view: SpaceView) -> str:
    """An ``energy.meter`` record, the parent a reading stream needs."""
    report = view.put_records("energy.meter", [EXAMPLES["energy.meter"]])
    return report.ids[0]


# -- data ----------------------------------------------------------------------------

_MERCHANTS = (
    "CARREFOUR LYON",
    "BOULANGERIE DU PARC",
    "SNCF",
    "TCL",
    "PHARMACIE BELLECOUR",
    "FNAC",
    "DECATHLON",
    "LIDL",
    "MONOPRIX",
    "AMAZON EU",
    "EDF",
    "FREE MOBILE",
)
_CATEGORIES = ("groceries", "transport", "health", "leisure", "utilities", "shopping")
_METHODS = ("card", "card", "card", "direct_debit", "transfer", "check")


def transactions(count: int, *, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` raw ``bank.transaction`` dicts as an importer hands them over.

    Ten years of bookings on one account, amounts as decimal strings; half carry the
    bank's id (natural key), half do not (fallback key: account, date, amount, label,
    occurrence). Every item is a distinct transaction: a first import creates them all.
    """
    rng = random.Random(seed)
    first = date(2015, 1, 1)
    days = 3652
    out: list[dict[str, Any]] = []
    for i in range(count):
        booked = first + timedelta(days=i * days // count)
        merchant = rng.choice(_MERCHANTS)
        item: dict[str, Any] = {
            "account_id": "FR76****0189",
            "booked_on": booked.isoformat(),
            "amount": f"{rng.uniform(-180.0, 60.0):.2f}",
            "currency": "EUR",
            "label": f"CB {merchant} {booked:%d/%m} {i:06d}",
            "value_date": (booked - timedelta(days=1)).isoformat(),
            "counterparty": merchant.title(),
            "category": rng.choice(_CATEGORIES),
            "payment_method": rng.choice(_METHODS),
        }
        if i % 2 == 0:
            item["transaction_id"] = f"{booked:%Y%m%d}-{i:07d}"
        out.append(item)
    return out


_START_2015 = int(datetime(2015, 1, 1, tzinfo=UTC).timestamp())


def _load_curve(ts: npt.NDArray[np.int64], seed: int) -> npt.NDArray[np.float64]:
    """A plausible household load curve in watts (whole numbers, as Enedis gives)."""
    rng = np.random.default_rng(seed)
    hour = (ts % 86_400) / 3600.0
    day = ts / 86_400.0
    daily = 350.0 + 250.0 * np.sin((hour - 7.0) / 24.0 * 2 * np.pi) ** 2
    seasonal = 1.0 + 0.35 * np.cos(day / 365.25 * 2 * np.pi)
    noise = rng.gamma(2.0, 60.0, ts.shape[0])
    return np.round(daily * seasonal + noise)


def half_hourly_readings(
    points: int = 175_320, *, seed: int = 11
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Ten years (175,320 points) of half-hourly readings from 2015-01-01 UTC."""
    ts = _START_2015 + np.arange(points, dtype=np.int64) * 1800
    return ts, _load_curve(ts, seed)


def minute_readings(
    points: int = 525_600, *, seed: int = 13
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """One year (525,600 points) of 1-minute readings from 2015-01-01 UTC."""
    ts = _START_2015 + np.arange(points, dtype=np.int64) * 60
    return ts, _load_curve(ts, seed)
