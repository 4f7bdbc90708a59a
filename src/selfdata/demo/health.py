"""Health: Camille's record, as flattened FHIR resources from Mon espace santé.

Blood pressure is taken at the GP appointments of :meth:`Life.appointments` (the same
ones the calendar and the bank show), weight comes from a connected scale, the yearly
blood test from a laboratory; the flu shot is given at the pharmacy each autumn, and
cetirizine is taken through the ragweed season (August–September in the Rhône valley).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from selfdata.access import SpaceView

from .life import CAMILLE, Life

__all__ = ["generate", "write"]

_BASE = "https://fhir.sante.example.org/fhir"
_SOURCE = "Mon espace santé"
_LOINC = "http://loinc.org"
_ATC = "http://www.whocc.no/atc"
_GP = "Dr Sophie Garnier"
_LAB = "Laboratoire Cerballiance Lyon 7"


def _obs(
    ident: str,
    code: str,
    display: str,
    when: str,
    value: str,
    unit: str,
    category: str,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "fhir_id": f"{_BASE}/Observation/{ident}",
        "source": _SOURCE,
        "status": "final",
        "code_system": _LOINC,
        "code": code,
        "display": display,
        "effective": when,
        "category": category,
        "value_quantity": value,
        "value_unit": unit,
        **extra,
    }


def _patient() -> dict[str, Any]:
    return {
        "fhir_id": f"{_BASE}/Patient/5521873",
        "source": _SOURCE,
        "family_name": CAMILLE.family,
        "given_names": [CAMILLE.given, "Marie"],
        "birth_date": CAMILLE.birth.isoformat(),
        "gender": CAMILLE.gender,
        "address": {
            "street": "14 rue Béchevelin",
            "locality": "Lyon",
            "postal_code": "69007",
            "country": "FR",
        },
        "phone": CAMILLE.phone,
        "email": CAMILLE.email,
        "general_practitioner": _GP,
    }


def _condition() -> dict[str, Any]:
    return {
        "fhir_id": f"{_BASE}/Condition/rhinite-ambroisie",
        "source": _SOURCE,
        "clinical_status": "active",
        "code_system": "http://snomed.info/sct",
        "code": "21719001",
        "display": "Rhinite allergique aux pollens (ambroisie)",
        "verification_status": "confirmed",
        "onset": "2012-08-01",
        "recorded_on": "2013-09-12",
        "severity": "mild",
        "note": "Symptômes d'août à fin septembre, pic début septembre (pollen d'ambroisie).",
    }


def generate(life: Life) -> dict[str, list[dict[str, Any]]]:
    """Records per health doctype for the window."""
    observations: list[dict[str, Any]] = []
    immunizations: list[dict[str, Any]] = []
    medications: list[dict[str, Any]] = []
    first_gp = True
    for visit in life.appointments_in_window():
        when = visit.start.isoformat()
        tag = f"{visit.start:%Y%m%d}"
        if visit.kind == "gp":
            r = life.rng("blood-pressure", visit.start.date())
            sys_, dia = round(r.gauss(117, 6)), round(r.gauss(75, 4))
            common = {"performer": _GP, "interpretation": "N"}
            observations += [
                _obs(
                    f"bp-sys-{tag}",
                    "8480-6",
                    "Pression artérielle systolique",
                    when,
                    str(sys_),
                    "mm[Hg]",
                    "vital-signs",
                    reference_low="90",
                    reference_high="140",
                    **common,
                ),
                _obs(
                    f"bp-dia-{tag}",
                    "8462-4",
                    "Pression artérielle diastolique",
                    when,
                    str(dia),
                    "mm[Hg]",
                    "vital-signs",
                    reference_low="60",
                    reference_high="90",
                    **common,
                ),
            ]
            if first_gp:
                observations.append(
                    _obs(
                        f"height-{tag}",
                        "8302-2",
                        "Taille",
                        when,
                        "166",
                        "cm",
                        "vital-signs",
                        performer=_GP,
                    )
                )
                first_gp = False
        elif visit.kind == "flu":
            season = f"{visit.start.year}-{visit.start.year + 1}"
            r = life.rng("flu-lot", visit.start.year)
            immunizations.append(
                {
                    "fhir_id": f"{_BASE}/Immunization/grippe-{visit.start.year}",
                    "source": _SOURCE,
                    "status": "completed",
                    "vaccine_code_system": _ATC,
                    "vaccine_code": "J07BB02",
                    "occurrence": when,
                    "vaccine_display": "Vaxigrip (grippe saisonnière)",
                    "lot_number": f"{r.choice('XYZ')}{r.randrange(1, 9)}{r.choice('ABCDEFGH')}"
                    f"{r.randrange(100, 999)}",
                    "dose_number": 1,
                    "site": "deltoïde gauche",
                    "performer": visit.practitioner,
                    "manufacturer": "Sanofi Pasteur",
                    "note": f"Campagne de vaccination {season}.",
                }
            )
    for year in range(life.start.year, life.end.year + 1):
        for day in life.days(max(life.start, date(year, 1, 1)), min(life.end, date(year, 12, 31))):
            # Weighing on the connected scale, about once a fortnight.
            r = life.rng("weight", day)
            if life.away(day) or r.random() > 1 / 14:
                continue
            drift = 0.6 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 10) / 365.25)
            kg = 63.2 + drift + r.gauss(0, 0.35)
            when = Life.at(day, 7, r.randrange(0, 40)).isoformat()
            observations.append(
                _obs(
                    f"weight-{day:%Y%m%d}",
                    "29463-7",
                    "Poids",
                    when,
                    f"{kg:.1f}",
                    "kg",
                    "vital-signs",
                    performer="Balance Withings Body+",
                )
            )
        lab_day = date(year, 2, 3) + timedelta(days=life.rng("lab", year).randrange(0, 20))
        while lab_day.weekday() >= 5:
            lab_day += timedelta(days=1)
        if life.in_window(lab_day):
            r = life.rng("lab-values", year)
            when = Life.at(lab_day, 7, 45).isoformat()
            tag = f"{lab_day:%Y%m%d}"
            observations += [
                _obs(
                    f"glucose-{tag}",
                    "1558-6",
                    "Glycémie à jeun",
                    when,
                    f"{r.uniform(0.80, 0.97):.2f}",
                    "g/L",
                    "laboratory",
                    performer=_LAB,
                    interpretation="N",
                    reference_low="0.70",
                    reference_high="1.10",
                ),
                _obs(
                    f"cholesterol-{tag}",
                    "2093-3",
                    "Cholestérol total",
                    when,
                    f"{r.uniform(1.65, 1.98):.2f}",
                    "g/L",
                    "laboratory",
                    performer=_LAB,
                    interpretation="N",
                    reference_high="2.00",
                ),
                _obs(
                    f"ferritin-{tag}",
                    "2276-4",
                    "Ferritine",
                    when,
                    f"{r.randrange(28, 90)}",
                    "ng/mL",
                    "laboratory",
                    performer=_LAB,
                    interpretation="N",
                    reference_low="15",
                    reference_high="150",
                ),
            ]
        start, stop = date(year, 8, 10), date(year, 9, 30)
        if life.in_window(start):
            medications.append(
                {
                    "fhir_id": f"{_BASE}/MedicationStatement/cetirizine-{year}",
                    "source": _SOURCE,
                    "status": "completed" if stop <= life.end else "active",
                    "code_system": _ATC,
                    "code": "R06AE07",
                    "display": "Cétirizine 10 mg, comprimé",
                    "effective_start": start.isoformat(),
                    "effective_end": stop.isoformat(),
                    "dosage": "1 comprimé le soir pendant la saison pollinique",
                    "reason": "Rhinite allergique aux pollens (ambroisie)",
                    "prescriber": _GP,
                }
            )
    observations.sort(key=lambda o: (o["effective"], o["code"]))
    return {
        "health.patient": [_patient()],
        "health.condition": [_condition()],
        "health.observation": observations,
        "health.immunization": immunizations,
        "health.medication": medications,
    }


def write(
    view: SpaceView, records: dict[str, list[dict[str, Any]]], tick: Callable[[], None]
) -> tuple[dict[str, int], dict[str, int]]:
    counts: dict[str, int] = {}
    new: dict[str, int] = {}
    for doctype, items in records.items():
        if items:
            report = view.put_records(doctype, items)
            counts[doctype], new[doctype] = report.total, report.created + report.updated
        tick()
    return counts, new
