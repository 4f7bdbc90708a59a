"""Importing bank statements end to end, through ``ImportRunner`` and the gate.

* ``bank.ofx1_import`` — an OFX 1.x (SGML, Windows-1252) statement of 50,000
  transactions into a new space: detection, the validation pass (parse + validate every
  record), the keyed fingerprint, the source row, the writing pass. In transactions/s.
* ``bank.camt053_import`` — the same for an ISO 20022 CAMT.053.001.08 statement.
* ``bank.*_parse`` — the parser alone (one pass, no validation, no writing), to tell the
  parser's share from the runner's.

Each timed run starts from a fresh space (created outside the timing). DESIGN target:
at least 20,000 transactions/s end to end.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial

from _common import Config, Figure, Target, expect, instance, time_alternating
from selfdata.access import SpaceView
from selfdata.importers import ImportContext, ImporterRegistry, ImportRunner, RecordBatch

__all__ = ["camt053", "ofx1", "run"]

START = date(2020, 1, 1)
TARGET = Target(">=", 20_000)


def _label(i: int) -> str:
    return f"CB COMMERCE {i % 997} PARIS" if i % 3 else f"VIR SEPA SALAIRE {i % 12}"


def ofx1(count: int) -> bytes:
    """An OFX 1.02 SGML statement with ``count`` transactions (unclosed leaf tags)."""
    head = (
        "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:USASCII\r\n"
        "CHARSET:1252\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n"
        "<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS>"
        "<DTSERVER>20240101<LANGUAGE>FRA<FI><ORG>Banque Bench<FID>1</FI></SONRS>"
        "</SIGNONMSGSRSV1>\r\n<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0"
        "<SEVERITY>INFO</STATUS><STMTRS><CURDEF>EUR\r\n<BANKACCTFROM><BANKID>30006"
        "<BRANCHID>00001<ACCTID>00012345678<ACCTTYPE>CHECKING</BANKACCTFROM>\r\n"
        "<BANKTRANLIST><DTSTART>20200101<DTEND>20240101\r\n"
    )
    parts = [head]
    for i in range(count):
        day = (START + timedelta(days=i % 1400)).strftime("%Y%m%d")
        amount = f"-{i % 500 + 1},{i % 100:02d}" if i % 3 else f"{1500 + i % 7}.00"
        parts.append(
            f"<STMTTRN>\r\n<TRNTYPE>{'POS' if i % 3 else 'XFER'}\r\n<DTPOSTED>{day}\r\n"
            f"<TRNAMT>{amount}\r\n<FITID>F{i:08d}\r\n<NAME>{_label(i)}\r\n"
            f"<MEMO>Opération n° {i}\r\n</STMTTRN>\r\n"
        )
    parts.append(
        "</BANKTRANLIST><LEDGERBAL><BALAMT>0<DTASOF>20240101</LEDGERBAL></STMTRS>"
        "</STMTTRNRS></BANKMSGSRSV1></OFX>\r\n"
    )
    return "".join(parts).encode("cp1252")


def camt053(count: int) -> bytes:
    """A CAMT.053.001.08 statement with ``count`` booked entries."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">\n'
        "<BkToCstmrStmt><GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2024-01-01T00:00:00</CreDtTm>"
        "</GrpHdr>\n<Stmt><Id>S1</Id><Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id>"
        "<Ccy>EUR</Ccy><Ownr><Nm>Alice Martin</Nm></Ownr><Svcr><FinInstnId>"
        "<BICFI>AGRIFRPP</BICFI><Nm>Banque Bench</Nm></FinInstnId></Svcr></Acct>\n"
    ]
    for i in range(count):
        day = (START + timedelta(days=i % 1400)).isoformat()
        debit = i % 3 != 0
        amount = f"{i % 500 + 1}.{i % 100:02d}" if debit else f"{1500 + i % 7}.00"
        party = "Cdtr" if debit else "Dbtr"
        parts.append(
            f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{"DBIT" if debit else "CRDT"}'
            f"</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{day}</Dt></BookgDt>"
            f"<ValDt><Dt>{day}</Dt></ValDt><AcctSvcrRef>R{i:08d}</AcctSvcrRef>"
            "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd></Fmly></Domn></BkTxCd>"
            f"<NtryDtls><TxDtls><RltdPties><{party}><Pty><Nm>Partie {i % 211}</Nm></Pty>"
            f"</{party}></RltdPties><RmtInf><Ustrd>{_label(i)}</Ustrd></RmtInf></TxDtls>"
            "</NtryDtls></Ntry>\n"
        )
    parts.append("</Stmt></BkToCstmrStmt></Document>\n")
    return "".join(parts).encode("utf-8")


def _parse_rate(registry: ImporterRegistry, name: str, data: bytes, count: int) -> float:
    importer = registry.get(name)
    best_s = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        seen = sum(
            len(item.rows)
            for item in importer.parse(io.BytesIO(data), ImportContext("bench"))
            if isinstance(item, RecordBatch) and item.doctype == "bank.transaction"
        )
        best_s = min(best_s, time.perf_counter() - started)
        expect(seen == count, f"{name}: parsed {seen} transactions, expected {count}")
    return count / best_s


def run(config: Config) -> list[Figure]:
    count = config.pick(50_000, 5_000)
    repeat = config.pick(3, 1)
    files = {"ofx": ofx1(count), "camt.053": camt053(count)}
    registry = ImporterRegistry.discover()
    figures: list[Figure] = []
    with instance(config) as bench:

        def space() -> SpaceView:
            return bench.new_space("bank")

        def importer(name: str, data: bytes) -> Callable[[SpaceView], None]:
            def go(view: SpaceView) -> None:
                report = ImportRunner(view, registry).run(io.BytesIO(data), f"bench.{name}")
                expect(report.importer == name, f"detected {report.importer}, not {name}")
                created = report.counts["bank.transaction"].created
                expect(created == count, f"{name}: {created} created, expected {count}")

            return go

        for name, data in files.items():
            importer(name, data)(space())  # warm-up
        # Alternating rounds, wall and CPU time: other processes on the machine hit both
        # formats alike, and the CPU figure shows what the code costs without them.
        timings = time_alternating(
            {
                name: lambda name=name: partial(importer(name, files[name]), space())
                for name in files
            },
            repeat,
        )
        for name, data in files.items():
            label = "ofx1" if name == "ofx" else "camt053"
            wall = min(t.wall for t in timings[name])
            cpu = min(t.cpu for t in timings[name])
            figures.append(
                Figure(
                    f"bank.{label}_import",
                    count / wall,
                    "tx/s",
                    f"best of {repeat}",
                    TARGET,
                    f"{count:,} transactions, {len(data) / 1e6:.1f} MB, detect + validate + write",
                )
            )
            figures.append(
                Figure(
                    f"bank.{label}_import_cpu",
                    count / cpu,
                    "tx/CPU-s",
                    f"best of {repeat}",
                    note="the same runs, per second of this process's CPU time",
                )
            )
            figures.append(
                Figure(
                    f"bank.{label}_parse",
                    _parse_rate(registry, name, data, count),
                    "tx/s",
                    "best of 3",
                    note="the parser alone, one pass",
                )
            )
    return figures
