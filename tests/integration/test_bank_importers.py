"""Bank statement importers (OFX 1 and 2, ISO 20022 CAMT.053), on both engines."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from selfdata.access import SpaceView
from selfdata.importers import ImportFailed, ImportReport, ImportRunner
from selfdata.platform import Platform
from tests.conftest import make_space

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "bank"
REAL_OFX = Path("/work/shared/sample-data/bank-ofx")
REAL_CAMT = Path("/work/shared/sample-data/bank-camt")

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>
<Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><BookgDt><Dt>2024-01-01</Dt></BookgDt>
<AddtlNtryInf>&lol4;</AddtlNtryInf></Ntry></Stmt></BkToCstmrStmt></Document>
"""


def run(view: SpaceView, data: bytes, name: str, **kwargs: object) -> ImportReport:
    return ImportRunner(view).run(io.BytesIO(data), name, **kwargs)  # type: ignore[arg-type]


def transactions(view: SpaceView) -> list[dict[str, object]]:
    rows = [r.data for r in view.iter_records("bank.transaction")]
    return sorted(rows, key=lambda d: (str(d["booked_on"]), str(d["amount"])))


def test_ofx1_sgml_cp1252_with_quirks(platform: Platform) -> None:
    view = make_space(platform)
    data = (SAMPLES / "ofx1_sgml_cp1252.ofx").read_bytes()
    report = run(view, data, "releve.ofx")
    assert not report.refused, report.rejected
    assert report.importer == "ofx"
    assert report.counts["bank.account"].created == 1
    assert report.counts["bank.transaction"].created == 4
    (account,) = [r.data for r in view.iter_records("bank.account")]
    assert account["bank"] == "Banque Exemple" and account["currency"] == "EUR"
    assert account["account_id"] == "30006 0001 **** 5678"
    assert "12345678" not in str(account)
    rows = transactions(view)
    coffee = next(r for r in rows if r.get("transaction_id") == "F0001")
    assert coffee["amount"] == "-42.50" and coffee["label"] == "CB Café de la Gare"
    assert coffee["memo"] == "Paiement 12€ & pourboire" and coffee["payment_method"] == "card"
    # Two genuine identical entries without FITID stay two records.
    twins = [r for r in rows if r["label"] == "CB CAFE"]
    assert sorted(r["occurrence"] for r in twins) == [1, 2]
    assert {str(r["booked_on"]) for r in twins} == {"2024-03-02"}
    salary = next(r for r in rows if r.get("transaction_id") == "F0004")
    assert salary["amount"] == "1500.00" and salary["label"] == "VIR SALAIRE Société Générique"
    again = run(view, data, "releve.ofx")
    assert again.source_existed and again.created == 0
    assert again.counts["bank.transaction"].unchanged == 4


def test_ofx2_xml_credit_card(platform: Platform) -> None:
    view = make_space(platform)
    report = run(view, (SAMPLES / "ofx2_xml.ofx").read_bytes(), "card.qfx")
    assert not report.refused, report.rejected
    assert report.importer == "ofx"
    (account,) = [r.data for r in view.iter_records("bank.account")]
    assert account["account_type"] == "credit_card" and account["account_id"] == "4111 **** 1111"
    rows = transactions(view)
    assert [(r["amount"], r["currency"], r["label"]) for r in rows] == [
        ("-19.99", "USD", "Books & Co"),
        ("5.00", "USD", "Refund"),
    ]
    assert str(rows[0]["booked_on"]) == "2024-03-08" and rows[0]["memo"] == "Online order"


def test_camt053_v02_and_v08(platform: Platform) -> None:
    view = make_space(platform)
    v2 = run(view, (SAMPLES / "camt053_v02.xml").read_bytes(), "camt.xml")
    assert not v2.refused, v2.rejected
    assert v2.importer == "camt.053"
    assert v2.counts["bank.transaction"].created == 4
    (account,) = [r.data for r in view.iter_records("bank.account")]
    assert account["account_id"] == "FR76 **** 0189" and account["bic"] == "AGRIFRPP"
    assert account["holder_name"] == "Alice Martin" and account["bank"] == "Banque Exemple"
    rows = transactions(view)
    bread = [r for r in rows if r["label"] == "Boulangerie du coin"]
    assert [r["amount"] for r in bread] == ["-12.30", "-12.30"]
    assert sorted(r["occurrence"] for r in bread) == [1, 2]
    salary = next(r for r in rows if r.get("transaction_id") == "REF-0003")
    assert salary["amount"] == "2500.00" and salary["counterparty"] == "Employeur SA"
    assert str(salary["value_date"]) == "2024-03-04"
    assert run(view, (SAMPLES / "camt053_v02.xml").read_bytes(), "camt.xml").created == 0

    v8 = run(view, (SAMPLES / "camt053_v08.xml").read_bytes(), "camt8.xml")
    assert not v8.refused, v8.rejected
    # The pending entry is not booked: left out. Same account: unchanged.
    assert v8.counts["bank.transaction"].created == 2
    assert v8.counts["bank.account"].unchanged == 1
    power = next(r for r in transactions(view) if r.get("transaction_id") == "R8-1")
    assert power["amount"] == "-60.00" and power["counterparty"] == "Fournisseur Énergie"
    assert power["label"] == "Électricité" and power["payment_method"] == "transfer"
    assert run(view, (SAMPLES / "camt053_v08.xml").read_bytes(), "camt8.xml").created == 0


def test_billion_laughs_is_refused_and_nothing_written(platform: Platform) -> None:
    view = make_space(platform)
    with pytest.raises(ImportFailed, match="DTD or entities"):
        run(view, BILLION_LAUGHS, "evil.xml")
    with pytest.raises(ImportFailed, match="DTD or entities"):
        run(view, BILLION_LAUGHS, "evil.xml", format_name="camt.053")
    assert view.summary() == []


def test_broken_amounts_are_located(platform: Platform) -> None:
    view = make_space(platform)
    ofx = (SAMPLES / "ofx1_sgml_cp1252.ofx").read_bytes().replace(b"-42,50", b"-4x2,50")
    report = run(view, ofx, "releve.ofx")
    assert report.refused and report.source_id is None
    (error,) = report.rejected
    assert (error.line, error.path) == (33, "TRNAMT") and "-4x2,50" in error.message
    camt = (SAMPLES / "camt053_v02.xml").read_bytes().replace(b">2500.00<", b">25OO.00<")
    report = run(view, camt, "camt.xml")
    assert report.refused
    (error,) = report.rejected
    line = camt[: camt.index(b"25OO.00")].count(b"\n") + 1
    assert (error.line, error.path) == (line, "Amt") and "25OO.00" in error.message
    assert view.summary() == []


@pytest.mark.skipif(not REAL_OFX.is_dir(), reason="shared sample data not available")
def test_real_ofx_samples(platform: Platform) -> None:
    view = make_space(platform)
    path = REAL_OFX / "ofxstatement-french__BPACA_OP_20220717.ofx"
    report = run(view, path.read_bytes(), path.name)
    assert not report.refused, report.rejected
    assert report.counts["bank.transaction"].created == 63
    assert report.counts["bank.account"].created == 2
    assert run(view, path.read_bytes(), path.name).created == 0
    empty = REAL_OFX / "ofxstatement-french__46297554894_02092025_04102025.ofx"
    assert run(view, empty.read_bytes(), empty.name).created == 0


@pytest.mark.skipif(not REAL_CAMT.is_dir(), reason="shared sample data not available")
@pytest.mark.parametrize(
    ("name", "entries"),
    [
        ("genkgo-camt__camt053.v2.multi.statement.xml", 2),
        ("genkgo-camt__camt053.v4.xml", 1),
        ("genkgo-camt__camt053.v8.xml", 1),
        ("ofxstatement-iso20022__camt053.xml", 1),
        ("ofxstatement-iso20022__davider80.xml", 16),
        ("ofxstatement-iso20022__gcamp6.xml", 5),
    ],
)
def test_real_camt_samples(platform: Platform, name: str, entries: int) -> None:
    view = make_space(platform)
    data = (REAL_CAMT / name).read_bytes()
    report = run(view, data, name)
    assert not report.refused, report.rejected
    assert report.importer == "camt.053"
    assert report.counts["bank.transaction"].created == entries
    assert run(view, data, name).created == 0
