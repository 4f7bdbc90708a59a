"""French bank CSV exports through mapping profiles (``bank.csv``) and ISO 20022
CAMT.052 / CAMT.054, through the import runner on both engines; and content sniffing
telling every bank and energy format apart."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from selfdata.access import SpaceView
from selfdata.importers import ImportFailed, ImportReport, ImportRunner, UnknownFormat
from selfdata.importers.bank_csv import BankCsv
from selfdata.importers.bank_profiles import Profile
from selfdata.importers.registry import ImporterRegistry
from selfdata.platform import Platform
from tests.conftest import make_space
from tests.samples.energy import grdf_json, grdf_workbook

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
BANK = SAMPLES / "bank"
REAL_CSV = Path("/work/shared/sample-data/bank-csv")
REAL_CAMT = Path("/work/shared/sample-data/bank-camt")
REAL = Path("/work/shared/sample-data")
CE_NAME = "12345678901_01032024_15032024.csv"  # how Caisse d'Épargne names its exports


def run(view: SpaceView, data: bytes, name: str, **kwargs: object) -> ImportReport:
    return ImportRunner(view).run(io.BytesIO(data), name, **kwargs)  # type: ignore[arg-type]


def transactions(view: SpaceView) -> list[dict[str, object]]:
    rows = [r.data for r in view.iter_records("bank.transaction")]
    return sorted(rows, key=lambda d: (str(d["booked_on"]), str(d["amount"]), str(d["label"])))


def accounts(view: SpaceView) -> dict[str, dict[str, object]]:
    return {str(r.data["account_id"]): r.data for r in view.iter_records("bank.account")}


def test_caisse_epargne_windows_1252(platform: Platform) -> None:
    view = make_space(platform)
    data = (BANK / "caisse_epargne_cp1252.csv").read_bytes()
    assert "é".encode("cp1252") in data and b"\xa0" in data  # really Windows-1252, NBSP
    report = run(view, data, CE_NAME)
    assert not report.refused, report.rejected
    assert report.importer == "bank.csv"
    assert report.counts["bank.account"].created == 1
    assert report.counts["bank.transaction"].created == 5
    (account,) = accounts(view).values()
    assert account["bank"] == "Caisse d'Épargne" and account["account_id"] == "1234 **** 8901"
    rows = transactions(view)
    salary = next(r for r in rows if r["label"] == "VIR SEPA EMPLOYEUR SA")
    assert salary["amount"] == "2345.67" and salary["counterparty"] == "EMPLOYEUR SA"
    assert salary["payment_method"] == "transfer" and str(salary["value_date"]) == "2024-03-12"
    assert salary["memo"] == "Salaire mars — REF-SAL-03"
    power = next(r for r in rows if str(r["label"]).startswith("PRLV"))
    assert power["label"] == "PRLV SEPA ÉNERGIE VERTE" and power["amount"] == "-78.90"
    assert power["category"] == "Énergie" and power["payment_method"] == "direct_debit"
    # Two genuine identical coffees the same day stay two records.
    coffees = [r for r in rows if r["counterparty"] == "CAFÉ DE LA GARE"]
    assert [r["amount"] for r in coffees] == ["-4.50", "-4.50"]
    assert sorted(r["occurrence"] for r in coffees) == [1, 2]
    again = run(view, data, CE_NAME)
    assert again.source_existed and again.created == 0
    assert again.counts["bank.transaction"].unchanged == 5


@pytest.mark.parametrize(
    ("name", "bank", "account_id", "amounts"),
    [
        ("fortuneo_cp1252.csv", "Fortuneo", "fortuneo CSV", ["-6.4", "45", "-19.99"]),
        ("bnp_paribas.csv", "BNP Paribas", "****5678", ["-32.10", "2100.00", "-45.00"]),
        ("credit_agricole_cp1252.csv", "Crédit Agricole", "1234 **** 8901", ["-3.20", "1850.00"]),
        ("banque_postale.csv", "La Banque Postale", "0123 **** A020", ["-3.20", "1850.00"]),
        ("boursorama_2022.csv", "Boursorama Banque", "0001 **** 5678", ["-23.90"]),
    ],
)
def test_each_profile(
    platform: Platform, name: str, bank: str, account_id: str, amounts: list[str]
) -> None:
    view = make_space(platform)
    data = (BANK / name).read_bytes()
    report = run(view, data, name)
    assert not report.refused, report.rejected
    assert report.importer == "bank.csv"
    (account,) = accounts(view).values()
    assert (account["bank"], account["account_id"]) == (bank, account_id)
    rows = sorted(transactions(view), key=lambda r: str(r["booked_on"]), reverse=True)
    assert [r["amount"] for r in rows] == amounts
    assert run(view, data, name).created == 0


def test_profile_details(platform: Platform) -> None:
    view = make_space(platform)
    # BNP: HTML entities (even doubly escaped) decoded; the summary line names the account.
    assert not run(view, (BANK / "bnp_paribas.csv").read_bytes(), "E0790170.csv").refused
    # Crédit Agricole: a label spanning two lines, reported at its first line.
    ca = (BANK / "credit_agricole_cp1252.csv").read_bytes()
    assert not run(view, ca, "CA.csv").refused
    # Boursorama: one account per accountNum; the account label comes from the file.
    assert not run(view, (BANK / "boursorama_2019.csv").read_bytes(), "bourso.csv").refused
    # Revolut: pending rows left out, fee subtracted, one account per currency.
    assert not run(view, (BANK / "revolut.csv").read_bytes(), "revolut.csv").refused
    found = accounts(view)
    assert found["****5678"]["label"] == "Compte de ch&egrave;ques M. MARTIN".replace(
        "&egrave;", "è"
    )
    assert found["0009 **** 5432"]["label"] == "LIVRET A"
    assert found["0009 **** 5432"]["account_type"] == "savings"
    assert {"Current EUR", "Current USD"} <= set(found)
    rows = transactions(view)
    assert any(r["label"] == "PRLV SEPA ASSURANCE & CO" for r in rows)
    assert any(r["label"] == "PAIEMENT PAR CARTE BOULANGERIE 14/03" for r in rows)
    revolut = [r for r in rows if str(r["account_id"]).startswith("Current")]
    assert "Pending Store" not in {r["label"] for r in revolut}
    exchange = next(r for r in revolut if r["label"] == "Exchanged to USD")
    assert exchange["amount"] == "-50.25" and exchange["balance_after"] == "46.25"
    assert next(r for r in revolut if r["currency"] == "USD")["amount"] == "54.10"


def test_forced_profile_and_options(platform: Platform) -> None:
    view = make_space(platform)
    data = (BANK / "fortuneo_cp1252.csv").read_bytes()
    report = run(
        view,
        data,
        "x.csv",
        format_name="bank.csv",
        options={
            "profile": "fortuneo",
            "account_id": "FR7612345000019876543210",
            "bank": "Ma banque",
        },
    )
    assert not report.refused, report.rejected
    (account,) = accounts(view).values()
    assert account == {**account, "bank": "Ma banque", "account_id": "FR76 **** 3210"}
    with pytest.raises(ImportFailed, match="no revolut header found"):
        run(view, data, "x.csv", format_name="bank.csv", options={"profile": "revolut"})
    with pytest.raises(ImportFailed, match="unknown profile 'hsbc'"):
        run(view, data, "x.csv", format_name="bank.csv", options={"profile": "hsbc"})


class _MaBanque(BankCsv):
    """A plugin adding a layout: a fixed Latin-1 encoding, ISO dates, dots as
    thousands separators."""

    name = "ma_banque.csv"
    profiles = (
        Profile(
            name="ma_banque",
            bank="Ma Banque",
            signature=("Jour", "Opération", "Montant"),
            columns={"booked_on": ("Jour",), "label": ("Opération",), "amount": ("Montant",)},
            date_formats=("%Y-%m-%d",),
            encoding="latin-1",
        ),
    )


def test_a_plugin_profile_with_a_fixed_encoding(platform: Platform) -> None:
    view = make_space(platform)
    registry = ImporterRegistry([_MaBanque()])
    data = "Jour;Opération;Montant\n2024-03-01;Achat à crédit;-1.234,56\n".encode("latin-1")
    report = ImportRunner(view, registry).run(
        io.BytesIO(data), "x.csv", options={"account_id": "42"}
    )
    assert not report.refused, report.rejected
    (row,) = transactions(view)
    assert (row["label"], row["amount"], row["account_id"]) == ("Achat à crédit", "-1234.56", "42")


def _broken() -> bytes:
    lines = (BANK / "caisse_epargne_cp1252.csv").read_bytes().split(b"\r\n")
    lines[2] = lines[2].replace(b"15/03/2024", b"31/02/2024", 1)  # line 3: no such day
    lines[4] = lines[4].replace(b"-78,90", b"-78,9O")  # line 5: a letter O
    return b"\r\n".join(lines)


def test_rejected_rows_are_located_and_nothing_written(platform: Platform) -> None:
    view = make_space(platform)
    report = run(view, _broken(), CE_NAME)
    assert report.refused and report.source_id is None
    problems = {(e.line, e.path) for e in report.rejected}
    assert problems == {(3, "Date de comptabilisation"), (5, "Débit")}
    assert any("-78,9O" in e.message for e in report.rejected)
    assert view.summary() == []
    skipped = run(view, _broken(), CE_NAME, skip_invalid=True)
    assert not skipped.refused and skipped.rejected_total == 2
    assert skipped.counts["bank.transaction"].created == 3


def test_truncated_and_corrupt_files(platform: Platform) -> None:
    view = make_space(platform)
    data = (BANK / "caisse_epargne_cp1252.csv").read_bytes()
    # Cut in the middle of a row: that row is rejected with its line; nothing written.
    cut = data[: data.index(b"PRLV SEPA") + 4]
    report = run(view, cut, CE_NAME)
    assert report.refused and (report.rejected[0].line, report.rejected[0].path) == (5, "Débit")
    # Only the header: refused as a whole.
    with pytest.raises(ImportFailed, match="no operations after the header"):
        run(view, data.split(b"\r\n")[0] + b"\r\n", CE_NAME)
    # UTF-16 forced as a bank CSV: the encoding is named, with the line.
    utf16 = data.decode("cp1252").encode("utf-16")
    with pytest.raises(ImportFailed, match="line 1, encoding: NUL bytes"):
        run(view, utf16, "x.csv", format_name="bank.csv", options={"profile": "caisse_epargne"})
    # Not a bank export at all, forced: refused, naming the profiles.
    with pytest.raises(ImportFailed, match="not the CSV export of a known bank"):
        run(view, b"a;b\n1;2\n", "x.csv", format_name="bank.csv")
    assert view.summary() == []


def test_camt052_and_camt054(platform: Platform) -> None:
    view = make_space(platform)
    report = run(view, (BANK / "camt052_v08.xml").read_bytes(), "intraday.xml")
    assert not report.refused, report.rejected
    assert report.importer == "camt.052"
    # The pending credit is not booked: left out.
    assert report.counts["bank.transaction"].created == 1
    (account,) = accounts(view).values()
    assert account["account_id"] == "FR76 **** 0189" and account["holder_name"] == "Alice Martin"
    notice = run(view, (BANK / "camt054_v02.xml").read_bytes(), "notif.xml")
    assert not notice.refused, notice.rejected
    assert notice.importer == "camt.054"
    assert notice.counts["bank.transaction"].created == 2
    assert notice.counts["bank.account"].created == 1  # the servicer named by its BIC only
    rows = {r["transaction_id"]: r for r in transactions(view)}
    assert rows["INTRA-0001"]["amount"] == "-18.40"
    assert rows["INTRA-0001"]["payment_method"] == "card"
    caf = rows["NOTIF-0001"]
    assert caf["amount"] == "1200.00" and caf["counterparty"] == "Caisse d'Allocations Familiales"
    assert rows["NOTIF-0002"]["payment_method"] == "direct_debit"
    assert run(view, (BANK / "camt054_v02.xml").read_bytes(), "notif.xml").created == 0
    # A statement forced through the notification importer is refused clearly.
    with pytest.raises(ImportFailed, match="no BkToCstmrDbtCdtNtfctn/Ntfctn"):
        run(view, (BANK / "camt053_v02.xml").read_bytes(), "s.xml", format_name="camt.054")


def _sniffed(data: bytes, name: str) -> str:
    return ImporterRegistry.discover().detect(data[:8192], name).name


def test_sniffing_tells_every_format_apart() -> None:
    energy = SAMPLES / "energy"
    enedis = SAMPLES / "enedis"
    expected = {
        "caisse_epargne_cp1252.csv": "bank.csv",
        "fortuneo_cp1252.csv": "bank.csv",
        "bnp_paribas.csv": "bank.csv",
        "boursorama_2019.csv": "bank.csv",
        "revolut.csv": "bank.csv",
        "credit_agricole_cp1252.csv": "bank.csv",
        "banque_postale.csv": "bank.csv",
        "camt052_v08.xml": "camt.052",
        "camt053_v02.xml": "camt.053",
        "camt054_v02.xml": "camt.054",
        "ofx1_sgml_cp1252.ofx": "ofx",
        "ofx2_xml.ofx": "ofx",
    }
    for name, importer in expected.items():
        assert _sniffed((BANK / name).read_bytes(), name) == importer, name
    assert _sniffed((energy / "water_index_cp1252.csv").read_bytes(), "x.csv") == "water.csv"
    assert _sniffed((energy / "water_volume_litres.csv").read_bytes(), "x.csv") == "water.csv"
    assert _sniffed(grdf_json(), "donnees_publiees.json") == "grdf"
    assert _sniffed(grdf_workbook(), "export.xlsx") == "grdf"
    for path in enedis.glob("*.csv"):
        assert _sniffed(path.read_bytes(), path.name).startswith("enedis."), path.name
    # Neither a bank statement nor a meter: refused, not stolen by a CSV importer.
    for data in (b"date,amount\n2024-01-01,3\n", b'{"hello": [1, 2]}'):
        with pytest.raises(UnknownFormat):
            _sniffed(data, "x")


@pytest.mark.skipif(not REAL.is_dir(), reason="shared sample data not available")
def test_sniffing_real_files() -> None:
    registry = ImporterRegistry.discover()
    for folder, wanted in [
        ("bank-ofx", "ofx"),
        ("energy-enedis", "enedis."),
        ("bank-camt", "camt."),
    ]:
        for path in (REAL / folder).iterdir():
            data = path.read_bytes()
            if folder == "bank-ofx" or data.strip():
                assert registry.detect(data[:8192], path.name).name.startswith(wanted), path
    for path in (REAL / "gps-gpx").glob("*"):
        found = max(registry, key=lambda i: i.sniff(path.read_bytes()[:8192], path.name))
        assert found.name not in {"bank.csv", "water.csv", "grdf", "ofx"}, path
    for path in (REAL / "energy-grdf").iterdir():
        assert registry.detect(path.read_bytes()[:8192], path.name).name == "grdf", path


@pytest.mark.skipif(not REAL_CSV.is_dir(), reason="shared sample data not available")
@pytest.mark.parametrize(
    ("suffix", "count", "bank"),
    [
        ("12345678_01112024_30112024.csv", 5, "Caisse d'Épargne"),
        ("E0790170.csv", 3, "BNP Paribas"),
        ("HistoriqueOperations_12345_du_14_01_2019_au_14_12_2019.csv", 5, "Fortuneo"),
        ("account-statement_2021-01-01_2022-05-27_undefined-undefined_abc123.csv", 2, "Revolut"),
        ("export-operations-11-06-2022_09-52-55.csv", 1, "Boursorama Banque"),
        ("export-operations-30-03-2019_08-50-51.csv", 4, "Boursorama Banque"),
    ],
)
def test_real_bank_csv(platform: Platform, suffix: str, count: int, bank: str) -> None:
    view = make_space(platform)
    path = REAL_CSV / f"finance-toolkit__{suffix}"
    report = run(view, path.read_bytes(), suffix)
    assert not report.refused, report.rejected
    assert report.importer == "bank.csv"
    assert report.counts["bank.transaction"].created == count
    assert {a["bank"] for a in accounts(view).values()} == {bank}
    assert run(view, path.read_bytes(), suffix).created == 0


@pytest.mark.skipif(not REAL_CSV.is_dir(), reason="shared sample data not available")
def test_real_webstat_export_is_not_a_bank_statement(platform: Platform) -> None:
    view = make_space(platform)
    data = (REAL_CSV / "finance-toolkit__Webstat_Export_20240107.csv").read_bytes()
    with pytest.raises(UnknownFormat):
        run(view, data, "Webstat_Export_20240107.csv")
    with pytest.raises(ImportFailed, match="not the CSV export of a known bank"):
        run(view, data, "Webstat_Export_20240107.csv", format_name="bank.csv")
    assert view.summary() == []


@pytest.mark.skipif(not REAL_CAMT.is_dir(), reason="shared sample data not available")
@pytest.mark.parametrize(
    ("name", "importer", "entries"),
    [
        ("genkgo-camt__camt052.v2.xml", "camt.052", 1),
        ("ofxstatement-iso20022__camt052.xml", "camt.052", 5),
        ("genkgo-camt__camt054.v2.xml", "camt.054", 1),
    ],
)
def test_real_camt052_054(platform: Platform, name: str, importer: str, entries: int) -> None:
    view = make_space(platform)
    data = (REAL_CAMT / name).read_bytes()
    report = run(view, data, name)
    assert not report.refused, report.rejected
    assert report.importer == importer
    assert report.counts["bank.transaction"].created == entries
    assert run(view, data, name).created == 0
