"""The demo generator: a plausible, consistent, deterministic year written through a view."""

from __future__ import annotations

import io
import re
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from selfdata.access import Record, SpaceView
from selfdata.demo import DemoReport, populate
from selfdata.demo import energy as demo_energy
from selfdata.demo import papers as demo_papers
from selfdata.demo.life import ANCHOR, Life
from selfdata.platform import Platform
from tests.conftest import make_space

PARIS = ZoneInfo("Europe/Paris")
END = date(2025, 12, 31)
SEED = 2024


def _records(view: SpaceView, doctype: str) -> list[Record]:
    return list(view.iter_records(doctype))


def _meter_stream(view: SpaceView, reading_type: str) -> str:
    meters = _records(view, "energy.meter")
    meter = next(r for r in meters if r.data["reading_type"] == reading_type)
    (stream,) = view.streams("energy.reading", record_id=meter.id)
    return stream.id


@pytest.fixture
def year(platform: Platform) -> tuple[SpaceView, DemoReport]:
    view = make_space(platform)
    started = time.perf_counter()
    report = populate(view, end=END, seed=SEED)
    elapsed = time.perf_counter() - started
    engine = platform.settings.database_url.split(":", 1)[0]
    print(f"\npopulate(365 days) on {engine}: {elapsed:.2f} s — {report.as_dict()}")
    if engine.startswith("sqlite"):
        assert elapsed < 10, f"a year of demo data took {elapsed:.1f} s on SQLite"
    return view, report


def test_report_matches_what_the_space_holds(year: tuple[SpaceView, DemoReport]) -> None:
    view, report = year
    held = {s.doctype: s.count for s in view.summary()}
    assert held == report.counts
    assert report.created == report.counts  # a fresh space: everything is new
    assert report.as_dict() == {**report.counts, "files": report.files}
    assert len(view.files()) == report.files == report.counts["paper.document"]
    assert 4 <= report.files <= 6
    assert 600 <= report.counts["bank.transaction"] <= 900
    assert 40 <= report.counts["calendar.event"] <= 60
    assert 18 <= report.counts["contact.card"] <= 25
    assert report.counts["energy.meter"] == 3 and report.counts["bank.account"] == 2
    assert report.counts["mobility.track"] >= 8 and report.counts["mobility.position"] > 2000
    assert report.counts["mobility.trip"] > 300 and report.counts["mobility.place_visit"] > 300
    for doctype in (
        "health.patient",
        "health.condition",
        "health.immunization",
        "health.medication",
    ):
        assert report.counts[doctype] >= 1
    assert report.counts["health.observation"] >= 5


def test_load_curve_is_half_hourly_and_plausible(year: tuple[SpaceView, DemoReport]) -> None:
    view, _ = year
    stream = _meter_stream(view, "load_curve")
    frame = view.read_points(stream)
    # UTC-regular half-hours from local midnight of the first day to local midnight after END.
    first = datetime(END.year, 1, 1, tzinfo=PARIS)
    assert int(frame.ts[0]) == int(first.timestamp())
    assert int(frame.ts[-1]) == int(datetime(2026, 1, 1, tzinfo=PARIS).timestamp()) - 1800
    assert set(np.diff(frame.ts).tolist()) == {1800}
    # So a local day has 48 points, 46 when clocks go forward and 50 when they go back.
    counts = view.aggregate(stream, "day", "count")
    per_day = {
        datetime.fromtimestamp(int(t), PARIS).date(): int(c)
        for t, c in zip(counts.ts, counts.columns["value"], strict=True)
    }
    assert len(per_day) == 365
    assert per_day.pop(date(2025, 3, 30)) == 46 and per_day.pop(date(2025, 10, 26)) == 50
    assert set(per_day.values()) == {48}

    wh = frame.columns["value"]
    assert not np.isnan(wh).any() and (wh >= 0).all()
    kwh = wh.sum() / 1000
    assert 2_000 < kwh < 12_000, kwh
    watts = wh * 2  # Wh in half an hour -> average W
    local_hour = np.array([datetime.fromtimestamp(int(t), PARIS).hour for t in frame.ts])
    night = (local_hour >= 3) & (local_hour < 5)
    low, high = demo_energy.BASE_LOAD_W
    assert low <= watts[night].min() <= high
    assert watts.max() <= 9_000  # 9 kVA subscription
    # Winter heating and the off-peak water heater show.
    days = view.aggregate(stream, "day", "sum")
    month = np.array([datetime.fromtimestamp(int(t), PARIS).month for t in days.ts])
    daily = days.columns["value"] / 1000
    assert daily[month == 1].mean() > 1.3 * daily[month == 6].mean()
    off_peak = (local_hour >= 22) | (local_hour < 6)
    assert 0.3 < wh[off_peak].sum() / wh.sum() < 0.6
    # Gas is for heating: plenty in January, next to nothing in July; water every day.
    for record in _records(view, "energy.meter"):
        (series,) = view.streams("energy.reading", record_id=record.id)
        assert series.meta["unit"] == record.data["unit"]
        if record.data["kind"] == "gas":
            g = view.aggregate(series.id, "month", "sum")
            by_month = dict(
                zip(
                    [datetime.fromtimestamp(int(t), PARIS).month for t in g.ts],
                    g.columns["value"].tolist(),
                    strict=True,
                )
            )
            assert by_month[1] > 500 and by_month[7] < 20
        if record.data["kind"] == "water":
            w = view.read_points(series.id)
            assert len(w) == 365 and 60_000 < w.columns["value"].sum() < 250_000


def _check_chain(items: list[dict[str, Any]]) -> int:
    """Check that the balances chain; return how many entries were checked."""
    by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        by_day[item["booked_on"]].append(item)
    days = sorted(by_day)
    openings = {Decimal(t["balance_after"]) - Decimal(t["amount"]) for t in by_day[days[0]]}
    for opening in openings:
        balance, ok = opening, True
        for day in days:
            todo = list(by_day[day])
            while todo and ok:
                nxt = next(
                    (
                        t
                        for t in todo
                        if Decimal(t["balance_after"]) == balance + Decimal(t["amount"])
                    ),
                    None,
                )
                if nxt is None:
                    ok = False
                else:
                    todo.remove(nxt)
                    balance = Decimal(nxt["balance_after"])
            if not ok:
                break
        if ok:
            return len(items)
    raise AssertionError("balance_after does not chain with the amounts")


def test_bank_balances_chain_and_labels_look_french(year: tuple[SpaceView, DemoReport]) -> None:
    view, _ = year
    accounts = {r.data["account_id"]: r.data for r in _records(view, "bank.account")}
    transactions = [r.data for r in _records(view, "bank.transaction")]
    assert {t["account_id"] for t in transactions} == set(accounts)
    for account_id in accounts:
        mine = [t for t in transactions if t["account_id"] == account_id]
        assert _check_chain(mine) == len(mine)
    money = re.compile(r"^-?\d+\.\d{2}$")
    assert all(money.match(t["amount"]) and money.match(t["balance_after"]) for t in transactions)
    labels = [t["label"] for t in transactions]
    assert sum(label.startswith("CB ") for label in labels) > 300
    assert any(re.match(r"^CB CARREFOUR .* \d{2}/\d{2}$", label) for label in labels)
    assert any(label.startswith("CB MONOPRIX") for label in labels)
    assert any(label.startswith("CB BIOCOOP") for label in labels)
    assert any(label.startswith("PRLV SEPA EDF") for label in labels)
    assert sum("SYTRAL MOBILITES TCL" in label for label in labels) == 12
    assert sum(label.startswith("VIR SEPA SALAIRE") for label in labels) == 12
    # The occurrence rule: look-alikes (same account, day, amount, label) are numbered 1..n.
    groups: dict[tuple[str, str, str, str], list[int]] = defaultdict(list)
    for t in transactions:
        groups[(t["account_id"], t["booked_on"], t["amount"], t["label"])].append(t["occurrence"])
    assert all(sorted(n) == list(range(1, len(n) + 1)) for n in groups.values())
    assert any(len(n) > 1 for n in groups.values())  # two coffees the same day exist
    # The EDF debits are the energy consumed: a winter bill is far above a summer one.
    edf = {
        t["booked_on"][:7]: Decimal(t["amount"])
        for t in transactions
        if t["label"] == "PRLV SEPA EDF CLIENTS PARTICULIERS"
    }
    assert -edf["2025-02"] > Decimal("1.2") * -edf["2025-08"]


def _xref_offsets_point_at_objects(data: bytes) -> None:
    start = int(re.findall(rb"startxref\s+(\d+)\s+%%EOF", data)[-1])
    assert data[start:].startswith(b"xref")
    lines = data[start:].split(b"\n")
    first, count = (int(x) for x in lines[1].split())
    assert first == 0
    for number in range(1, count):
        entry = lines[2 + number]
        assert len(entry) == 19 and entry.endswith(b" n ")  # 20 bytes with the newline
        offset = int(entry[:10])
        assert data[offset:].startswith(b"%d 0 obj" % number), number
    trailer = data[data.rindex(b"trailer") :]
    assert b"/Size %d" % count in trailer and b"/Root 1 0 R" in trailer


def test_papers_are_real_pdfs_that_come_back_byte_identical(
    year: tuple[SpaceView, DemoReport],
) -> None:
    view, _ = year
    life = Life(SEED, END - timedelta(days=364), END)
    usage = demo_energy.generate(life, ANCHOR, END)
    bills = demo_energy.bills(life, usage)
    expected = {p.filename: p.content for p in demo_papers.generate(life, bills)}
    documents = [r.data for r in _records(view, "paper.document")]
    assert {d["filename"] for d in documents} == set(expected)
    assert {d["kind"] for d in documents} >= {"invoice", "payslip", "tax_notice", "certificate"}
    debits = {
        t["memo"]: t["amount"]
        for t in (r.data for r in _records(view, "bank.transaction"))
        if t.get("memo", "").startswith("FACTURE ")
    }
    for document in documents:
        info, chunks = view.open_file(document["file_id"])
        data = b"".join(chunks)
        assert data == expected[document["filename"]]
        assert info.size == document["size_bytes"] == len(data)
        assert data.startswith(b"%PDF-1.4\n") and data.rstrip().endswith(b"%%EOF")
        _xref_offsets_point_at_objects(data)
        assert document["extracted_text"].startswith(document["title"])
        if document["kind"] == "invoice":
            assert "Montant" in document["title"]
            assert debits[f"FACTURE {document['reference']}"] == f"-{document['amount']}"
        try:
            import pypdf  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            continue
        reader = pypdf.PdfReader(io.BytesIO(data), strict=True)
        assert len(reader.pages) == 1
        text = reader.pages[0].extract_text()
        assert document["title"] in text
        assert text.splitlines() == document["extracted_text"].replace("\n\n", "\n").splitlines()


def _content(view: SpaceView) -> dict[str, Any]:
    """The space's data, without ids: records per doctype, series points per parent."""
    out: dict[str, Any] = {}
    for summary in view.summary():
        if summary.kind == "record":
            rows = [dict(r.data) for r in _records(view, summary.doctype)]
            for row in rows:
                row.pop("file_id", None)  # a new id in every space
            out[summary.doctype] = sorted(rows, key=repr)
    for record_doctype, series_doctype in (
        ("energy.meter", "energy.reading"),
        ("mobility.track", "mobility.position"),
    ):
        for record in _records(view, record_doctype):
            for stream in view.streams(series_doctype, record_id=record.id):
                frame = view.read_points(stream.id)
                key = f"{series_doctype}:{sorted(record.data.items())!r}"
                columns = {
                    k: [None if np.isnan(x) else float(x) for x in v]  # NaN != NaN
                    for k, v in frame.columns.items()
                }
                out[key] = (frame.ts.tolist(), columns)
    return out


def test_same_seed_gives_the_same_data(platform: Platform) -> None:
    first, second, other = (make_space(platform, name) for name in ("alice", "bob", "carol"))
    populate(first, end=END, days=90, seed=7)
    populate(second, end=END, days=90, seed=7)
    populate(other, end=END, days=90, seed=8)
    same, different = _content(first), _content(second)
    assert same.keys() == different.keys()
    for key in same:
        assert same[key] == different[key], key
    changed = _content(other)
    assert changed["bank.transaction"] != same["bank.transaction"]
    assert changed["contact.card"] != same["contact.card"]  # phone numbers are drawn


def test_second_populate_adds_nothing(platform: Platform) -> None:
    view = make_space(platform)
    steps: list[tuple[str, int, int]] = []
    first = populate(view, end=END, days=120, progress=lambda *a: steps.append(a))
    before = {s.doctype: s.count for s in view.summary()}
    files = {f.id for f in view.files()}
    again = populate(view, end=END, days=120)
    assert again.counts == first.counts
    assert set(again.created.values()) == {0}
    assert {s.doctype: s.count for s in view.summary()} == before
    assert {f.id for f in view.files()} == files
    # Progress: each step starts at 0 and ends at its total.
    labels = list(dict.fromkeys(label for label, _, _ in steps))
    assert labels == ["energy", "bank", "mobility", "health", "calendar and contacts", "papers"]
    for label in labels:
        mine = [(done, total) for name, done, total in steps if name == label]
        assert mine[0][0] == 0 and mine[-1][0] == mine[-1][1]


def test_a_later_run_only_adds_the_new_days(platform: Platform) -> None:
    """Randomness is keyed by date: two runs on overlapping windows agree on the overlap
    (the CLI's "topping up" of a demo space), balances included."""
    end = date(2026, 1, 31)
    topped, fresh = make_space(platform, "topped"), make_space(platform, "fresh")
    populate(topped, end=end - timedelta(days=30), days=60)
    second = populate(topped, end=end, days=60)
    populate(fresh, end=end, days=90)
    assert 0 < second.created["bank.transaction"] < second.counts["bank.transaction"]
    a, b = _content(topped), _content(fresh)
    a.pop("paper.document"), b.pop("paper.document")  # each run keeps its latest papers
    assert a.keys() == b.keys()
    for key in a:
        assert a[key] == b[key], key
    for account in {t["account_id"] for t in a["bank.transaction"]}:
        _check_chain([t for t in a["bank.transaction"] if t["account_id"] == account])


def test_days_must_be_positive(platform: Platform) -> None:
    from selfdata.errors import InvalidInput

    with pytest.raises(InvalidInput, match="days"):
        populate(make_space(platform), days=0)
    view = make_space(platform, "short")
    report = populate(view, end=END, days=1)
    assert report.counts["energy.reading"] == 48 + 2  # a load curve day, one gas, one water
