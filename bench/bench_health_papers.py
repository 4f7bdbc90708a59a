"""Importing health records, papers and archives end to end, through ``ImportRunner``.

* ``health.fhir_import`` — a FHIR R4 Bundle of 20,000 resources (observations,
  conditions, immunizations, encounters, one patient) into a new space: detection, the
  validation pass, the fingerprint, the writing pass. In records/s.
* ``health.fhir_parse`` — the parser alone, one pass; ``health.fhir_parse_peak`` its
  peak of Python memory (tracemalloc) while streaming the bundle, in MiB.
* ``papers.pdf_import`` — one generated one-page PDF invoice: the file sealed into the
  file store, its text extracted (twice: both passes), the record written. Median, ms.
* ``archive.zip_import`` — a zip of 100 members (calendars, address books, PDFs) routed
  to their importers, each its own source. In members/s.

No DESIGN target names these formats: the figures are informative.
"""

from __future__ import annotations

import io
import json
import time
import tracemalloc
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from _common import Config, Figure, expect, instance, median
from selfdata.demo.pdf import make_pdf
from selfdata.importers import ImportContext, ImporterRegistry, ImportRunner, RecordBatch
from selfdata.importers.fhir import Fhir

__all__ = ["bundle", "run"]

SAMPLES = Path(__file__).resolve().parents[1] / "tests" / "samples"


def invoice_pdf(number: str = "F-00000") -> bytes:
    """A one-page invoice (the generator the demo and the tests use)."""
    lines = ["Électricité Exemple SA", "Période : janvier 2025", "Montant TTC : 84,20 €"]
    return make_pdf(
        f"Facture {number}", lines, created=datetime(2025, 2, 3, tzinfo=UTC), author="EE"
    )


def _entry(index: int, resource: dict[str, object]) -> dict[str, object]:
    return {"fullUrl": f"urn:uuid:00000000-0000-4000-8000-{index:012d}", "resource": resource}


def bundle(count: int) -> bytes:
    """A Bundle of one patient and ``count - 1`` clinical resources."""
    entries = [_entry(0, {"resourceType": "Patient", "id": "p", "name": [{"family": "Martin"}]})]
    for i in range(1, count):
        day = f"20{10 + i % 15:02d}-{1 + i % 12:02d}-{1 + i % 28:02d}"
        kind = i % 10
        if kind < 7:
            resource: dict[str, object] = {
                "resourceType": "Observation",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": f"{i % 900}-{i % 9}"}]},
                "effectiveDateTime": f"{day}T08:30:00+01:00",
                "valueQuantity": {"value": 10 + (i % 500) / 100, "unit": "g/dL"},
            }
        elif kind < 8:
            resource = {
                "resourceType": "Condition",
                "clinicalStatus": {"coding": [{"code": "active"}]},
                "code": {"coding": [{"system": "http://snomed.info/sct", "code": str(i)}]},
                "onsetDateTime": day,
            }
        elif kind < 9:
            resource = {
                "resourceType": "Immunization",
                "status": "completed",
                "vaccineCode": {"coding": [{"system": "http://www.whocc.no/atc", "code": "J07"}]},
                "occurrenceDateTime": day,
            }
        else:
            resource = {
                "resourceType": "Encounter",
                "status": "finished",
                "class": {"code": "AMB"},
                "period": {"start": f"{day}T09:00:00+01:00", "end": f"{day}T09:30:00+01:00"},
            }
        entries.append(_entry(i, resource))
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}).encode()


def _archive(members: int) -> bytes:
    ics = (SAMPLES / "calendar" / "agenda.ics").read_bytes()
    vcf = (SAMPLES / "contacts" / "address_book.vcf").read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(members):
            if i % 3 == 0:
                archive.writestr(f"Agenda/a{i}.ics", ics.replace(b"@example.org", b"%d@x" % i))
            elif i % 3 == 1:
                archive.writestr(f"Contacts/c{i}.vcf", vcf.replace(b"-0000000", b"-%07d" % i))
            else:
                archive.writestr(f"Drive/f{i}.pdf", invoice_pdf(f"F-{i:05d}"))
    return out.getvalue()


def _parse(data: bytes) -> int:
    return sum(
        len(item.rows)
        for item in Fhir().parse(io.BytesIO(data), ImportContext("bench.json"))
        if isinstance(item, RecordBatch)
    )


def run(config: Config) -> list[Figure]:
    count = config.pick(20_000, 2_000)
    repeat = config.pick(3, 1)
    data = bundle(count)
    registry = ImporterRegistry.discover()
    figures: list[Figure] = []
    parse_best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        expect(_parse(data) == count, "the bundle did not give one record per resource")
        parse_best = min(parse_best, time.perf_counter() - started)
    tracemalloc.start()
    _parse(data)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    with instance(config) as bench:
        best_s = float("inf")
        for _ in range(repeat):
            view = bench.new_space("fhir")
            started = time.perf_counter()
            report = ImportRunner(view, registry).run(io.BytesIO(data), "bundle.json")
            best_s = min(best_s, time.perf_counter() - started)
            expect(report.created == count, f"{report.created} created, expected {count}")
        size = f"{count:,} resources, {len(data) / 1e6:.1f} MB"
        figures += [
            Figure(
                "health.fhir_import",
                count / best_s,
                "records/s",
                f"best of {repeat}",
                note=f"{size}, detect + validate + write",
            ),
            Figure(
                "health.fhir_parse",
                count / parse_best,
                "records/s",
                "best of 3",
                note="the parser alone, one pass",
            ),
            Figure(
                "health.fhir_parse_peak",
                peak,
                "MiB",
                "one run",
                note=f"tracemalloc peak while parsing {len(data) / 2**20:.0f} MiB",
            ),
        ]
        view = bench.new_space("papers")
        pdf_ms: list[float] = []
        for i in range(config.pick(30, 5)):
            pdf = invoice_pdf(f"B-{i:05d}")
            started = time.perf_counter()
            report = ImportRunner(view, registry).run(io.BytesIO(pdf), f"f{i}.pdf")
            pdf_ms.append((time.perf_counter() - started) * 1000)
            expect(report.files_stored == 1, "the PDF was not stored")
        figures.append(
            Figure(
                "papers.pdf_import",
                median(pdf_ms),
                "ms",
                f"median of {len(pdf_ms)}",
                note=f"a one-page invoice ({len(invoice_pdf()):,} B): sealed + text + record",
            )
        )
        members = config.pick(100, 12)
        archive = _archive(members)
        view = bench.new_space("zip")
        started = time.perf_counter()
        report = ImportRunner(view, registry).run(io.BytesIO(archive), "takeout.zip")
        elapsed = time.perf_counter() - started
        expect(len(getattr(report, "members", [])) == members, "not every member imported")
        figures.append(
            Figure(
                "archive.zip_import",
                members / elapsed,
                "members/s",
                "one run",
                note=f"{members} members (.ics, .vcf, .pdf), {len(archive) / 1e6:.1f} MB",
            )
        )
    return figures
