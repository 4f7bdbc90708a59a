"""HL7 FHIR R4 importer (Bundle, single resource, NDJSON), on both engines."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from selfdata.access import SpaceView
from selfdata.importers import (
    ImporterRegistry,
    ImportFailed,
    ImportReport,
    ImportRunner,
    UnknownFormat,
)
from selfdata.importers.fhir import Fhir
from selfdata.platform import Platform
from tests.conftest import make_space

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "health"
REAL = Path("/work/shared/sample-data/health-fhir")


def run(view: SpaceView, data: bytes, name: str, **kwargs: object) -> ImportReport:
    return ImportRunner(view).run(io.BytesIO(data), name, **kwargs)  # type: ignore[arg-type]


def records(view: SpaceView, doctype: str) -> dict[str, dict[str, object]]:
    return {str(r.data["fhir_id"]): r.data for r in view.iter_records(doctype)}


def test_a_bundle_becomes_health_records(platform: Platform) -> None:
    view = make_space(platform)
    data = (SAMPLES / "bundle_r4.json").read_bytes()
    report = run(view, data, "dossier.json", options={"source": "CHU de Lyon"})
    assert report.importer == "fhir" and not report.refused, report.rejected
    created = {name: c.created for name, c in report.counts.items()}
    assert created == {
        "health.patient": 1,
        "health.observation": 2,
        "health.condition": 1,
        "health.immunization": 1,
        "health.medication": 2,
        "health.encounter": 1,
    }
    assert report.notices == []  # every resource of the file has its doctype

    (patient,) = records(view, "health.patient").values()
    assert patient["fhir_id"] == "urn:uuid:8c1a0d4e-0000-4000-8000-000000000001"
    assert patient["family_name"] == "Martin" and patient["given_names"] == ["Camille", "Louise"]
    assert patient["address"] == {
        "street": "12 rue de la République",
        "locality": "Lyon",
        "postal_code": "69002",
        "country": "FR",
    }
    assert patient["source"] == "CHU de Lyon"
    assert patient["general_practitioner"] == "Dr Anne Durand"

    observations = records(view, "health.observation")
    hb = observations["urn:uuid:8c1a0d4e-0000-4000-8000-000000000002"]
    assert hb["code"] == "718-7" and hb["code_system"] == "http://loinc.org"
    assert hb["value_quantity"] == "13.40"  # the decimal's scale is kept
    assert hb["value_unit"] == "g/dL" and hb["interpretation"] == "N"
    assert hb["reference_low"] == "12.0" and hb["category"] == "laboratory"
    bp = observations["urn:uuid:8c1a0d4e-0000-4000-8000-000000000003"]
    assert bp["value_string"] == "Systolic: 121 mm[Hg]; Diastolic: 78 mm[Hg]"

    (condition,) = records(view, "health.condition").values()
    assert condition["onset"] == "2009-03-01"  # a partial FHIR date: first day of the month
    assert condition["severity"] == "moderate" and condition["clinical_status"] == "active"
    assert condition["recorded_on"] == "2010-02-01"

    (vaccine,) = records(view, "health.immunization").values()
    assert vaccine["vaccine_code"] == "J07BX03" and vaccine["dose_number"] == 1
    assert vaccine["lot_number"] == "FD7958" and vaccine["site"] == "left arm"

    medications = {m["code"]: m for m in records(view, "health.medication").values()}
    # A MedicationStatement whose Medication comes later in the Bundle is resolved.
    assert medications["R03AC02"]["display"] == "Ventoline 100 µg"
    assert medications["R03AC02"]["dosage"] == "2 bouffées si besoin"
    assert medications["N02BE01"]["status"] == "completed"
    assert medications["N02BE01"]["prescriber"] == "Dr Anne Durand"

    (visit,) = records(view, "health.encounter").values()
    assert visit["status"] == "finished" and visit["class_code"] == "AMB"
    assert visit["start"] == "2025-01-14T08:00:00+01:00"
    assert visit["practitioner"] == "Dr Anne Durand"


def test_importing_the_same_bundle_again_changes_nothing(platform: Platform) -> None:
    view = make_space(platform)
    data = (SAMPLES / "bundle_r4.json").read_bytes()
    first = run(view, data, "dossier.json")
    second = run(view, data, "dossier.json")
    assert second.source_existed and second.source_id == first.source_id
    assert second.created == 0
    assert sum(c.unchanged for c in second.counts.values()) == 8


def test_ndjson_and_a_single_resource(platform: Platform) -> None:
    view = make_space(platform)
    report = run(view, (SAMPLES / "resources.ndjson").read_bytes(), "export.ndjson")
    assert not report.refused, report.rejected
    assert report.counts["health.patient"].created == 1
    (patient,) = records(view, "health.patient").values()
    assert patient["fhir_id"] == "Patient/p2" and patient["birth_date"] == "1990-01-01"
    (weight,) = records(view, "health.observation").values()
    assert weight["value_quantity"] == "72.5" and weight["category"] == "vital-signs"

    single = {
        "resourceType": "Immunization",
        "id": "flu",
        "status": "completed",
        "vaccineCode": {"coding": [{"system": "http://www.whocc.no/atc", "code": "J07BB02"}]},
        "occurrenceDateTime": "2024-10-20",
    }
    pretty = json.dumps(single, indent=2).encode()
    report = run(view, pretty, "grippe.json")
    assert report.counts["health.immunization"].created == 1


def test_a_broken_resource_is_a_rejected_row_and_refuses_the_file(platform: Platform) -> None:
    view = make_space(platform)
    bundle = json.loads((SAMPLES / "bundle_r4.json").read_text())
    del bundle["entry"][3]["resource"]["clinicalStatus"]  # the Condition, 4th entry
    bundle["entry"][1]["resource"]["status"] = "done"  # not an Observation status
    data = json.dumps(bundle).encode()
    report = run(view, data, "dossier.json")
    assert report.refused and report.rejected_total == 2
    where = {(e.line, e.path) for e in report.rejected}
    assert (4, "Condition.clinicalStatus") in where
    assert (2, "status") in where
    assert not list(view.iter_records("health.patient"))  # nothing written

    report = run(view, data, "dossier.json", skip_invalid=True)
    assert not report.refused
    assert report.counts["health.observation"].created == 1
    assert records(view, "health.condition") == {}
    assert len(records(view, "health.patient")) == 1


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Pat', "json"),
        (b'{"resourceType": "Patient"}\n{"resourceType": "Observation", "id"\n', "line 2"),
    ],
)
def test_truncated_files_fail_clearly_and_write_nothing(
    sqlite_platform: Platform, data: bytes, expected: str
) -> None:
    view = make_space(sqlite_platform)
    with pytest.raises(ImportFailed) as caught:
        run(view, data, "dossier.json")
    assert expected in str(caught.value)
    assert not list(view.iter_records("health.patient"))


def test_sniffing_takes_fhir_and_leaves_other_json_alone() -> None:
    importer = Fhir()
    assert importer.sniff(b'{\n  "resourceType": "Bundle", "type": "collection"', "x.json") >= 0.9
    geojson = b'{"type": "FeatureCollection", "features": [{"type": "Feature"}]}'
    takeout = b'{"locations": [{"latitudeE7": 457640000, "longitudeE7": 48357000}]}'
    jcard = b'["vcard", [["version", {}, "text", "4.0"]]]'
    for other in (geojson, takeout, jcard):
        assert importer.sniff(other, "x.json") == 0.0
    registry = ImporterRegistry.discover()
    for other in (geojson, takeout, jcard):
        with contextlib.suppress(UnknownFormat):  # no importer claims it: not stolen either
            assert registry.detect(other, "x.json").name != "fhir"
    assert registry.detect(b'{"resourceType": "Patient"}', "x.json").name == "fhir"


@pytest.mark.skipif(not REAL.is_dir(), reason="shared sample data absent")
def test_real_fhir_exports(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    synthea = next(REAL.glob("fasten-sources__synthea_*.json"))
    report = run(view, synthea.read_bytes(), synthea.name)
    assert not report.refused, report.rejected[:5]
    assert report.counts["health.observation"].created == 88
    assert report.counts["health.immunization"].created == 15
    assert report.counts["health.medication"].created == 8
    assert report.counts["health.encounter"].created == 19
    # Claims and ExplanationOfBenefits have no doctype: said, not silently dropped.
    assert any("27 Claim" in n.message for n in report.notices)
    ips = REAL / "fasten-sources__IPS-bundle-01.json"
    report = run(view, ips.read_bytes(), ips.name, skip_invalid=True)
    assert report.counts["health.medication"].created == 2  # Medication after its statement
    assert report.rejected_total == 1 and report.rejected[0].path == "Observation.code"
    phr = REAL / "fasten-sources__JohnDoe.phr"
    report = run(view, phr.read_bytes(), phr.name, format_name="fhir", skip_invalid=True)
    assert report.counts["health.patient"].created == 1


# -- Apple Health -------------------------------------------------------------------------

APPLE = SAMPLES / "apple_export.xml"
REAL_APPLE = Path("/work/shared/sample-data/health-apple")


def by_code(view: SpaceView) -> dict[str, dict[str, object]]:
    return {
        str(r.data["display"]): r.data
        for r in view.iter_records("health.observation")
        if r.data["code_system"] == "https://developer.apple.com/documentation/healthkit"
    }


def test_an_apple_health_export_becomes_observations(platform: Platform) -> None:
    view = make_space(platform)
    report = run(view, APPLE.read_bytes(), "export.xml")
    assert report.importer == "apple.health" and not report.refused, report.rejected
    # The two blood-pressure records inside the Correlation repeat top-level ones.
    assert report.counts["health.observation"].created == 7
    (notice,) = report.notices
    assert "1 Workout" in notice.message and "1 Correlation" in notice.message
    found = by_code(view)
    heart = found["HeartRate"]
    assert heart["code"] == "HKQuantityTypeIdentifierHeartRate"
    assert heart["effective"] == "2025-02-10T07:00:30+01:00" and "effective_end" not in heart
    assert heart["value_quantity"] == "58" and heart["value_unit"] == "count/min"
    assert heart["category"] == "vital-signs" and heart["performer"] == "Apple Watch de Camille"
    assert found["BodyMass"]["value_quantity"] == "61.35"
    steps = found["StepCount"]
    assert steps["category"] == "activity" and steps["effective_end"] == "2025-02-10T09:00:00+01:00"
    assert found["ActiveEnergyBurned"]["value_quantity"] == "123.456789"  # 6 places kept
    sleep = found["SleepAnalysis"]
    assert sleep["value_string"] == "AsleepCore" and "value_quantity" not in sleep

    again = run(view, APPLE.read_bytes(), "export.xml")
    assert again.created == 0 and again.counts["health.observation"].unchanged == 7


def test_hostile_or_broken_apple_exports_write_nothing(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    laughs = APPLE.read_bytes().replace(
        b"]>\n<HealthData",
        b'<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\n<HealthData',
    )
    with pytest.raises(ImportFailed, match="entities"):
        run(view, laughs, "export.xml")
    with pytest.raises(ImportFailed, match="not well-formed"):
        run(view, APPLE.read_bytes()[:-200], "export.xml")
    assert list(view.iter_records("health.observation")) == []
    bad_date = APPLE.read_bytes().replace(
        b'startDate="2025-02-10 07:04:00 +0100"', b'startDate="10/02/2025"', 1
    )
    report = run(view, bad_date, "export.xml")
    assert report.refused and report.rejected[0].path == "startDate"
    assert report.rejected[0].line == 28  # the line of its <Record
    assert list(view.iter_records("health.observation")) == []


@pytest.mark.skipif(not REAL_APPLE.is_dir(), reason="shared sample data absent")
def test_a_real_apple_health_zip(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    data = (REAL_APPLE / "health-data-parser__export.zip").read_bytes()
    report = run(view, data, "export.zip")
    importers = sorted(m.importer for m in report.members)
    assert importers == ["apple.health", "gpx", "gpx", "gpx", "gpx"]
    assert report.counts["health.observation"].created == 5
