"""Run the selfdata benchmarks and print one line per figure.

    python bench/run.py                      # everything, full sizes (~100-120 s on 2 cores)
    python bench/run.py --quick              # smaller sizes, CI smoke (< 60 s)
    python bench/run.py --only series --only aggregate
    python bench/run.py --json results.json
    python bench/run.py --database-url postgresql://user@host/db

Lines starting with ``#`` describe the machine and the run; every other line is a
figure: ``name  value unit  (target …)  OK|MISSED|info  how it was summarised; note``.
A missed target is reported, not failed: the exit status is 0 unless a benchmark
crashed (1) or the arguments were wrong (2). See docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import bench_aggregate
import bench_bank
import bench_crypto_overhead
import bench_energy
import bench_energy_pages
import bench_files
import bench_gate
import bench_health_papers
import bench_http
import bench_import
import bench_mobility
import bench_pages
import bench_portability
import bench_query
import bench_questions
import bench_records
import bench_series
import bench_streaming
from _common import TIMED, Config, Figure, Machine, instance, load_average, peak_rss_mib

BENCHMARKS: dict[str, Callable[[Config], list[Figure]]] = {
    "records": bench_records.run,
    "query": bench_query.run,
    "series": bench_series.run,
    "aggregate": bench_aggregate.run,
    "crypto": bench_crypto_overhead.run,
    "gate": bench_gate.run,
    "files": bench_files.run,
    "http": bench_http.run,
    "portability": bench_portability.run,
    "import": bench_import.run,
    "mobility": bench_mobility.run,
    "energy": bench_energy.run,
    "energy-pages": bench_energy_pages.run,
    "bank": bench_bank.run,
    "health": bench_health_papers.run,
    "questions": bench_questions.run,
    "pages": bench_pages.run,
    "streaming": bench_streaming.run,  # a 1 GB import; left out by --quick
}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description="Measure selfdata against the DESIGN §7 targets."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller data sets and fewer runs (CI smoke test, < 60 s)",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        default=[],
        help="run only this benchmark (repeatable, or comma-separated): " + ", ".join(BENCHMARKS),
    )
    parser.add_argument(
        "--json",
        type=Path,
        metavar="FILE",
        help="also write the machine description and every figure to FILE",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="run on this database (e.g. PostgreSQL) instead of a temporary "
        "SQLite file; the spaces created are erased afterwards",
    )
    args = parser.parse_args(argv)
    args.only = [name.strip() for value in args.only for name in value.split(",") if name.strip()]
    unknown = [name for name in args.only if name not in BENCHMARKS]
    if unknown:
        parser.error(
            f"unknown benchmark {', '.join(unknown)}; choose among {', '.join(BENCHMARKS)}"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    config = Config(quick=args.quick, database_url=args.database_url)
    selected = [name for name in BENCHMARKS if not args.only or name in args.only]
    machine = Machine.describe()
    with instance(config) as probe:
        database = probe.database_description()
    for line in machine.lines():
        print(line)
    print(f"# database  {database}")
    print(f"# load      {load_average()} at start")
    print(f"# mode      {'quick' if config.quick else 'full'}; benchmarks: {', '.join(selected)}")
    figures: list[Figure] = []
    failed: list[str] = []
    started = time.perf_counter()
    for name in selected:
        module_started = time.perf_counter()
        TIMED.reset()
        try:
            produced = BENCHMARKS[name](config)
        except Exception:
            failed.append(name)
            print(f"# {name} FAILED (traceback on stderr)", flush=True)
            traceback.print_exc()
            continue
        produced.append(
            Figure(
                f"memory.peak_rss_after_{name}",
                peak_rss_mib(),
                "MiB",
                "ru_maxrss",
                note="peak of the whole run so far",
            )
        )
        for figure in produced:
            print(figure.line(), flush=True)
        print(
            f"# {name} took {time.perf_counter() - module_started:.1f} s; {TIMED.describe()}",
            flush=True,
        )
        figures.extend(produced)
    missed = [f.name for f in figures if f.status == "MISSED"]
    elapsed = time.perf_counter() - started
    print(
        f"# {len(figures)} figures in {elapsed:.0f} s; "
        + (f"{len(missed)} target(s) MISSED: {', '.join(missed)}" if missed else "every target met")
        + (f"; FAILED: {', '.join(failed)}" if failed else "")
    )
    print(f"# load      {load_average()} at end")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": {**asdict(machine), "database": database},
                    "mode": "quick" if config.quick else "full",
                    "seconds": round(elapsed, 1),
                    "figures": [f.as_dict() for f in figures],
                    "failed": failed,
                },
                indent=2,
                ensure_ascii=False,
            )
            + "\n",
            encoding="utf-8",
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
