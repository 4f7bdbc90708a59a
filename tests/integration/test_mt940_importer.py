"""SWIFT MT940 / MT942 statements, end to end through ``ImportRunner`` and the gate, on
both database engines."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from selfdata.access import SpaceView
from selfdata.errors import InvalidInput
from selfdata.importers import ImporterRegistry, ImportFailed, ImportReport, ImportRunner
from selfdata.importers.runner import HEAD
from selfdata.platform import Platform
from tests.conftest import make_space

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
BANK = SAMPLES / "bank"
GERMAN = "mt940_german_latin1.sta"
MT942 = "mt942_intraday.sta"
REAL = Path("/work/shared/sample-data")
REAL_MT940 = REAL / "bank-mt940"


def run(view: SpaceView, data: bytes, name: str, **kwargs: Any) -> ImportReport:
    return ImportRunner(view).run(io.BytesIO(data), name, **kwargs)


def sample(name: str) -> bytes:
    return (BANK / name).read_bytes()


def transactions(view: SpaceView) -> list[dict[str, Any]]:
    rows = [r.data for r in view.iter_records("bank.transaction")]
    return sorted(rows, key=lambda d: (str(d["booked_on"]), str(d["amount"])))


def test_german_statements_latin1_subfields_twins_and_reversal(platform: Platform) -> None:
    view = make_space(platform)
    data = sample(GERMAN)
    report = run(view, data, "konto.sta")
    assert not report.refused, report.rejected
    assert report.importer == "mt940"
    # Two statements of the same account: one account record.
    assert report.counts["bank.account"].created == 1
    assert report.counts["bank.transaction"].created == 5
    (account,) = [r.data for r in view.iter_records("bank.account")]
    assert account == {
        "bank": "BANKDEFF",
        "account_id": "50010517 0123 **** 6789",
        "currency": "EUR",
        "label": "Account 50010517 0123 **** 6789",
        "account_type": "checking",
    }
    assert "0123456789" not in str(account)
    rows = transactions(view)
    bakery = rows[0]
    assert bakery["transaction_id"] == "REF-0001" and bakery["amount"] == "-42.50"
    # Latin-1 bytes decoded; German ?20/?21 purpose and ?32/?33 name subfields joined.
    assert bakery["label"] == "Einkauf Bäckerei Müller Stadtmitte"
    assert bakery["counterparty"] == "BÄCKEREI MUELLER GMBH"
    assert str(bakery["booked_on"]) == "2023-12-29" and bakery["currency"] == "EUR"
    # Two genuine identical coffees without a bank reference stay two records.
    twins = [r for r in rows if r["label"] == "Kaffee Bahnhof"]
    assert [r["amount"] for r in twins] == ["-3.20", "-3.20"]
    assert sorted(r["occurrence"] for r in twins) == [1, 2]
    assert all("transaction_id" not in r for r in twins)
    # Entry date 1231 of a value date 240102: booked the year before.
    salary = next(r for r in rows if r.get("transaction_id") == "REF-0004")
    assert str(salary["booked_on"]) == "2023-12-31" and str(salary["value_date"]) == "2024-01-02"
    assert salary["amount"] == "2500.00" and salary["memo"] == "LOHN DEZEMBER"
    # RD: a debit reversed is money coming back.
    reversal = next(r for r in rows if r.get("transaction_id") == "REF-0005")
    assert reversal["amount"] == "15.00" and reversal["payment_method"] == "direct_debit"
    assert reversal["label"] == "Ruecklastschrift Strom Januar 2024"

    again = run(view, data, "konto.sta")
    assert again.source_existed and again.created == 0
    assert again.counts["bank.transaction"].unchanged == 5
    assert again.counts["bank.account"].unchanged == 1
    assert len(transactions(view)) == 5


def test_mt942_interim_report_with_sepa_codes(platform: Platform) -> None:
    view = make_space(platform)
    report = run(view, sample(MT942), "intraday.sta")
    assert not report.refused, report.rejected
    assert report.importer == "mt940"
    (account,) = [r.data for r in view.iter_records("bank.account")]
    assert account["account_id"] == "NL91 **** 4300" and account["currency"] == "EUR"
    rows = {r["transaction_id"]: r for r in transactions(view)}
    assert rows["0514A1"]["amount"] == "-12.99"
    assert rows["0514A1"]["label"] == "Abonnement mei 2024"
    assert rows["0514A1"]["counterparty"] == "Streaming Dienst B.V."
    assert rows["0514A2"]["amount"] == "250" and rows["0514A2"]["counterparty"] == "J. de Vries"
    assert rows["0514A2"]["payment_method"] == "transfer"
    assert run(view, sample(MT942), "intraday.sta").created == 0


def test_bank_option_names_the_bank(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    report = run(view, sample(MT942), "x.sta", options={"bank": "ABN AMRO"})
    assert not report.refused
    (account,) = [r.data for r in view.iter_records("bank.account")]
    assert account["bank"] == "ABN AMRO"


def test_rejected_entry_is_located_and_skip_invalid_keeps_the_rest(
    sqlite_platform: Platform,
) -> None:
    view = make_space(sqlite_platform)
    coffee = b":61:2312301230DR3,20NMSCNONREF\r\n:86:106?00KARTENZAHLUNG?20Kaffee Bahnhof"
    second = coffee + b"?32CAFE AM BAHNHOF\r\n:61:2401"  # the second of the twins
    data = sample(GERMAN).replace(second, second.replace(b"DR3,20", b"DRX,20"), 1)
    assert data != sample(GERMAN)
    data = data.replace(b":61:2312291229DR42,50", b":61:2313291229DR42,50")
    report = run(view, data, "konto.sta")
    assert report.refused and view.summary() == []
    assert [(e.line, e.path) for e in report.rejected] == [(6, ":61:"), (11, ":61:")]
    assert "not a date" in report.rejected[0].message
    assert "'2312301230DRX,20NMSCNONREF'" in report.rejected[1].message
    assert "expected YYMMDD[MMDD]" in report.rejected[1].message
    kept = run(view, data, "konto.sta", skip_invalid=True)
    assert not kept.refused and kept.counts["bank.transaction"].created == 3
    # The coffee left is the first of its kind now.
    (coffee,) = [r for r in transactions(view) if r["label"] == "Kaffee Bahnhof"]
    assert coffee["occurrence"] == 1


def test_truncated_statement_fails_and_writes_nothing(platform: Platform) -> None:
    view = make_space(platform)
    data = sample(GERMAN)
    cut = data[: data.index(b":62M:")]
    with pytest.raises(ImportFailed) as failed:
        run(view, cut, "konto.sta")
    message = str(failed.value)
    assert "konto.sta" in message and ":62F:" in message and "truncated" in message
    assert failed.value.errors[0].line is None
    assert view.summary() == []
    # Cut inside the second statement: the first is complete, the file still refused.
    second = data[: data.index(b":62F:")]
    with pytest.raises(ImportFailed, match="begun at line 19"):
        run(view, second, "konto.sta")
    assert view.summary() == []


def test_unknown_currency_and_entries_before_an_account(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    no_floor = sample(MT942).replace(b":34F:EURD0,\n", b"")
    with pytest.raises(ImportFailed, match="currency is unknown") as failed:
        run(view, no_floor, "x.sta")
    assert failed.value.errors[0].line == 5
    report = run(view, no_floor, "x.sta", options={"currency": "EUR"})
    assert not report.refused and report.counts["bank.transaction"].created == 2
    no_account = sample(MT942).replace(b":25:NL91ABNA0417164300\n", b"")
    with pytest.raises(ImportFailed, match="no account identification"):
        run(view, no_account, "y.sta", format_name="mt940")


def test_corrupt_files_fail_clearly(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    with pytest.raises(ImportFailed, match="no statement"):
        run(view, b"hello\nworld\n", "x.sta", format_name="mt940")
    with pytest.raises(ImportFailed, match="NUL bytes"):
        run(view, "\ufeff:20:X\n".encode("utf-16-le"), "x.sta", format_name="mt940")
    broken = sample(MT942).replace(b":25:", b":25:" + b"9" * 70_000)
    with pytest.raises(ImportFailed, match="longer than 64 KiB"):
        run(view, broken, "x.sta", format_name="mt940")
    with pytest.raises(ImportFailed, match=r"opening|C\|D YYMMDD"):
        run(view, sample(GERMAN).replace(b":60F:C231229", b":60F:X231229"), "x.sta")
    assert view.summary() == []


# -- detection ------------------------------------------------------------------------------


def test_own_samples_are_detected_and_no_one_else_claims_them() -> None:
    registry = ImporterRegistry.discover()
    for name in (GERMAN, MT942):
        head = sample(name)[:HEAD]
        assert registry.detect(head, "upload.bin").name == "mt940"
        for importer in registry:
            if importer.name != "mt940":
                assert importer.sniff(head, name) < 0.5, (importer.name, name)


def test_mt940_does_not_claim_other_formats() -> None:
    mt940 = ImporterRegistry.discover().get("mt940")
    others = [p for p in SAMPLES.rglob("*") if p.is_file() and not p.name.startswith("mt94")]
    if REAL.is_dir():
        others += [p for p in REAL.rglob("*") if p.is_file() and p.parent != REAL_MT940]
    assert len(others) > 20
    for path in others:
        assert mt940.sniff(path.read_bytes()[:HEAD], path.name) < 0.5, path


# -- real files -----------------------------------------------------------------------------

REAL_COUNTS = {
    "mt940__ASNB_0708271685_09022020_164516.940.txt": (1, 8),
    "mt940__betterplace_sepa_mt9401.sta": (2, 97),
    "mt940__betterplace_with_binary_character.sta": (2, 4),
    "mt940__jejik_abnamro.sta": (1, 10),
    "mt940__jejik_ing.sta": (1, 7),
    "mt940__jejik_knab.sta": (1, 3),
    "mt940__jejik_postfinance.sta": (1, 4),
    "mt940__jejik_rabobank.sta": (2, 5),
    "mt940__jejik_sns.sta": (1, 2),
    "mt940__jejik_triodos.sta": (1, 2),
    "mt940__mBank_mt940.sta": (1, 3),
    "mt940__sberbank_171011_01234945.sta": (1, 3),
    "mt940__self-provided_raiffeisen-cmi.sta": (1, 7),
}


@pytest.mark.parametrize(("name", "counts"), sorted(REAL_COUNTS.items()))
def test_real_mt940_files(sqlite_platform: Platform, name: str, counts: tuple[int, int]) -> None:
    path = REAL_MT940 / name
    if not path.exists():
        pytest.skip("shared sample data not available")
    view = make_space(sqlite_platform)
    data = path.read_bytes()
    assert ImporterRegistry.discover().detect(data[:HEAD], name).name == "mt940"
    report = run(view, data, name)
    assert not report.refused, report.rejected
    accounts, entries = counts
    assert report.counts["bank.account"].created == accounts
    assert len(transactions(view)) == entries
    for row in transactions(view):
        assert row["label"] and row["currency"] and len(row["currency"]) == 3
    assert run(view, data, name).created == 0


def test_real_files_stored_values(sqlite_platform: Platform) -> None:
    if not REAL_MT940.is_dir():
        pytest.skip("shared sample data not available")
    view = make_space(sqlite_platform)
    report = run(view, (REAL_MT940 / "mt940__jejik_knab.sta").read_bytes(), "knab.sta")
    assert not report.refused, report.rejected
    rows = {r["transaction_id"]: r for r in transactions(view)}
    assert rows["B4G29PGCVO7Q06US"]["amount"] == "-7260"
    assert str(rows["B4G29PGCVO7Q06US"]["booked_on"]) == "2014-07-29"
    assert rows["B4E07XM00J000023"]["label"].startswith("HIER EEN MOOIE OMSCHRIJVING")
    report = run(view, (REAL_MT940 / "mt940__jejik_abnamro.sta").read_bytes(), "abn.sta")
    assert not report.refused, report.rejected
    abn = [r for r in transactions(view) if r["account_id"] == "5178 **** 2257"]
    first = next(r for r in abn if r["amount"] == "-9")
    assert first["label"].startswith("GIRO 428428 KPN - DIGITENNE")
    assert str(first["booked_on"]) == "2011-05-24"


def test_real_fragment_is_refused_clearly(sqlite_platform: Platform) -> None:
    path = REAL_MT940 / "mt940__self-provided_sparkassen.sta"
    if not path.exists():
        pytest.skip("shared sample data not available")
    view = make_space(sqlite_platform)
    with pytest.raises(InvalidInput):  # not recognised: too little of a statement
        run(view, path.read_bytes(), path.name)
    with pytest.raises(ImportFailed, match="line 1, :61:: before any :20:"):
        run(view, path.read_bytes(), path.name, format_name="mt940")
    assert view.summary() == []


def test_entry_wrapped_over_two_lines_is_read(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    data = (
        b":20:X\n:25:123456789\n:28C:1\n:60F:C181126EUR0,00\n"
        b":61:1811261126CR\n30,00N062NONREF\n"
        b":86:166?00GUTSCHR. UEBERWEISUNG?20SVWZ+Miete November\n"
        b":62F:C181126EUR30,00\n-\n"
    )
    report = run(view, data, "wrapped.sta")
    assert not report.refused, report.rejected
    (row,) = transactions(view)
    assert row["amount"] == "30.00" and row["label"] == "SVWZ+Miete November"
    assert str(row["booked_on"]) == "2018-11-26" and "memo" not in row
