"""Health: flattened HL7 FHIR R4 resources.

Each model keeps the FHIR element names' meaning with flat, typed fields (one coding per
concept: ``code_system`` + ``code`` + ``display``), which is what a citizen's record
needs and what charts and questions can query. ``fhir_id`` identifies the resource and
is the natural key: importers use the Bundle entry's ``fullUrl`` when the export has one
(globally unique), else ``<ResourceType>/<id>``, so that two hospitals' ``Patient/1``
never merge.

FHIR partial dates (``2009`` or ``2009-03``) are given as the first day of the period
(``2009-03-01``); the importer may say so in a ``note``.

Code systems are URIs as in FHIR: ``http://loinc.org``, ``http://snomed.info/sct``,
``http://www.whocc.no/atc``, ``http://unitsofmeasure.org`` (UCUM units).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator

from .fields import (
    DateOrDateTime,
    DoctypeModel,
    Email,
    ExactNumber,
    Identifier,
    Label,
    Name,
    PostalAddress,
    Text,
    Uri,
    check_not_before,
)
from .registry import Doctype

__all__ = [
    "CONDITION",
    "DOCTYPES",
    "ENCOUNTER",
    "IMMUNIZATION",
    "MEDICATION",
    "OBSERVATION",
    "PATIENT",
    "Condition",
    "Encounter",
    "Immunization",
    "Medication",
    "Observation",
    "Patient",
]

Code = Annotated[str, Field(min_length=1, max_length=128)]


class FhirResource(DoctypeModel):
    """Fields every flattened FHIR resource has."""

    fhir_id: Identifier
    """The resource's identity: Bundle ``fullUrl`` if any, else ``Type/id``."""
    source: Name | None = None
    """Who produced it, such as ``CHU de Lyon`` or ``Mon espace santé``."""


class Patient(FhirResource):
    """The person the health data is about (FHIR ``Patient``)."""

    family_name: Name
    """Family name (``name.family``)."""
    given_names: list[Name] = Field(default_factory=list)
    """Given names, in order (``name.given``)."""
    birth_date: date | None = None
    """Date of birth."""
    gender: Literal["male", "female", "other", "unknown"] | None = None
    """Administrative gender (FHIR ``AdministrativeGender``)."""
    address: PostalAddress | None = None
    """Home address."""
    phone: Name | None = None
    """Phone number."""
    email: Email | None = None
    """E-mail address."""
    general_practitioner: Name | None = None
    """The referring doctor (médecin traitant)."""


class Observation(FhirResource):
    """A measurement or finding: a lab result, a vital sign (FHIR ``Observation``)."""

    status: Literal[
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    ]
    """The result's status."""
    code_system: Uri
    """Code system of what was observed, such as ``http://loinc.org``."""
    code: Code
    """The code, such as LOINC ``718-7`` (haemoglobin)."""
    display: Label | None = None
    """Human name of the code, such as ``Hémoglobine``."""
    effective: DateOrDateTime | None = None
    """When it was observed (``effectiveDateTime``, or the start of ``effectivePeriod``)."""
    effective_end: DateOrDateTime | None = None
    """End of ``effectivePeriod``, if any."""
    category: (
        Literal[
            "social-history",
            "vital-signs",
            "imaging",
            "laboratory",
            "procedure",
            "survey",
            "exam",
            "therapy",
            "activity",
        ]
        | None
    ) = None
    """FHIR observation category."""
    value_quantity: ExactNumber | None = None
    """Numeric value (``valueQuantity.value``), exact."""
    value_unit: Code | None = None
    """Unit of ``value_quantity``, preferably UCUM, such as ``g/dL``."""
    value_string: Text | None = None
    """Textual value, when the result is not a number."""
    interpretation: Literal["L", "N", "H", "LL", "HH", "A", "AA"] | None = None
    """Low, normal, high or abnormal (FHIR ``ObservationInterpretation``)."""
    reference_low: ExactNumber | None = None
    """Low end of the reference range."""
    reference_high: ExactNumber | None = None
    """High end of the reference range."""
    performer: Name | None = None
    """Laboratory or practitioner responsible."""
    note: Text | None = None
    """Comment."""

    @field_validator("effective_end")
    @classmethod
    def _end_after_start(cls, value: date | None, info: ValidationInfo) -> date | None:
        check_not_before(value, info.data.get("effective"), "effective")
        return value

    @field_validator("value_string")
    @classmethod
    def _one_value(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("value_quantity") is not None:
            raise ValueError("expected either value_quantity or value_string, not both")
        return value


class Condition(FhirResource):
    """A diagnosis, problem or health concern (FHIR ``Condition``)."""

    clinical_status: Literal["active", "recurrence", "relapse", "inactive", "remission", "resolved"]
    """Whether the condition is current."""
    code_system: Uri
    """Code system, such as ``http://snomed.info/sct`` or ``http://hl7.org/fhir/sid/icd-10``."""
    code: Code
    """The condition's code."""
    display: Label | None = None
    """Human name of the condition."""
    verification_status: (
        Literal[
            "unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error"
        ]
        | None
    ) = None
    """How certain the diagnosis is."""
    onset: DateOrDateTime | None = None
    """When it started."""
    abatement: DateOrDateTime | None = None
    """When it ended or went into remission."""
    recorded_on: date | None = None
    """When it was first recorded."""
    severity: Literal["mild", "moderate", "severe"] | None = None
    """Severity as assessed by the clinician."""
    note: Text | None = None
    """Comment."""

    @field_validator("abatement")
    @classmethod
    def _end_after_start(cls, value: date | None, info: ValidationInfo) -> date | None:
        check_not_before(value, info.data.get("onset"), "onset")
        return value


class Immunization(FhirResource):
    """A vaccine given, or recorded as not given (FHIR ``Immunization``)."""

    status: Literal["completed", "entered-in-error", "not-done"]
    """Whether the vaccination took place."""
    vaccine_code_system: Uri
    """Code system of the vaccine, such as ``http://www.whocc.no/atc`` or a CIP/UCD one."""
    vaccine_code: Code
    """The vaccine's code."""
    occurrence: DateOrDateTime
    """When the vaccine was given."""
    vaccine_display: Label | None = None
    """The vaccine's name, such as ``Comirnaty``."""
    lot_number: Code | None = None
    """Batch number."""
    dose_number: Annotated[int, Field(ge=1)] | None = None
    """Which dose of the series."""
    site: Name | None = None
    """Body site, such as ``left arm``."""
    performer: Name | None = None
    """Who vaccinated."""
    manufacturer: Name | None = None
    """Vaccine manufacturer."""
    note: Text | None = None
    """Comment."""


class Medication(FhirResource):
    """A medicine the citizen takes or took (FHIR ``MedicationStatement``)."""

    status: Literal[
        "active",
        "completed",
        "entered-in-error",
        "intended",
        "stopped",
        "on-hold",
        "unknown",
        "not-taken",
    ]
    """Whether it is being taken."""
    code_system: Uri
    """Code system, such as ``http://www.whocc.no/atc`` or the French CIS/CIP."""
    code: Code
    """The medicine's code."""
    display: Label | None = None
    """The medicine's name, such as ``Doliprane 1000 mg``."""
    effective_start: DateOrDateTime | None = None
    """When it was started."""
    effective_end: DateOrDateTime | None = None
    """When it was or will be stopped."""
    dosage: Text | None = None
    """Dosage as written, such as ``1 comprimé 3 fois par jour``."""
    reason: Label | None = None
    """Why it is taken."""
    prescriber: Name | None = None
    """Who prescribed it."""
    note: Text | None = None
    """Comment."""

    @field_validator("effective_end")
    @classmethod
    def _end_after_start(cls, value: date | None, info: ValidationInfo) -> date | None:
        check_not_before(value, info.data.get("effective_start"), "effective_start")
        return value


class Encounter(FhirResource):
    """A consultation, a hospital stay or a visit (FHIR ``Encounter``)."""

    status: Literal[
        "planned",
        "arrived",
        "triaged",
        "in-progress",
        "onleave",
        "finished",
        "cancelled",
        "entered-in-error",
        "unknown",
    ]
    """Where the encounter stands."""
    class_code: Code | None = None
    """Its class (HL7 ``ActCode``): ``AMB`` ambulatory, ``EMER`` emergency, ``IMP``
    inpatient, ``VR`` virtual, ``HH`` home health…"""
    code_system: Uri | None = None
    """Code system of its type, such as ``http://snomed.info/sct``."""
    code: Code | None = None
    """The type's code, such as SNOMED ``185349003`` (check-up)."""
    display: Label | None = None
    """The type's name, such as ``Consultation de médecine générale``."""
    start: DateOrDateTime | None = None
    """When it began (``period.start``)."""
    end: DateOrDateTime | None = None
    """When it ended (``period.end``)."""
    reason: Label | None = None
    """Why it took place (``reasonCode``)."""
    practitioner: Name | None = None
    """The main practitioner seen."""
    location: Name | None = None
    """Where it took place."""
    service_provider: Name | None = None
    """The organisation responsible, such as ``CHU de Lyon``."""

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, value: date | None, info: ValidationInfo) -> date | None:
        check_not_before(value, info.data.get("start"), "start")
        return value


# Words for people, per field: (French, English); test_doctype_labels wants them all.
_FHIR_LABELS = {
    "fhir_id": ("Identifiant FHIR", "FHIR id"),
    "source": ("Source", "Source"),
    "status": ("Statut", "Status"),
    "code_system": ("Système de codes", "Code system"),
    "code": ("Code", "Code"),
    "display": ("Libellé", "Name"),
    "note": ("Note", "Note"),
}
PATIENT_LABELS = {
    "fhir_id": _FHIR_LABELS["fhir_id"],
    "source": _FHIR_LABELS["source"],
    "family_name": ("Nom de famille", "Family name"),
    "given_names": ("Prénoms", "Given names"),
    "birth_date": ("Date de naissance", "Date of birth"),
    "gender": ("Genre", "Gender"),
    "address": ("Adresse", "Address"),
    "phone": ("Téléphone", "Phone"),
    "email": ("Courriel", "E-mail"),
    "general_practitioner": ("Médecin traitant", "General practitioner"),
}
OBSERVATION_LABELS = {
    **_FHIR_LABELS,
    "display": ("Examen", "Test"),
    "effective": ("Date", "Date"),
    "effective_end": ("Fin", "End"),
    "category": ("Catégorie", "Category"),
    "value_quantity": ("Valeur", "Value"),
    "value_unit": ("Unité", "Unit"),
    "value_string": ("Résultat (texte)", "Result (text)"),
    "interpretation": ("Interprétation", "Interpretation"),
    "reference_low": ("Valeur de référence basse", "Reference low"),
    "reference_high": ("Valeur de référence haute", "Reference high"),
    "performer": ("Réalisé par", "Performed by"),
}
CONDITION_LABELS = {
    "fhir_id": _FHIR_LABELS["fhir_id"],
    "source": _FHIR_LABELS["source"],
    "clinical_status": ("Statut clinique", "Clinical status"),
    "code_system": _FHIR_LABELS["code_system"],
    "code": _FHIR_LABELS["code"],
    "display": ("Pathologie", "Condition"),
    "verification_status": ("Statut de vérification", "Verification status"),
    "onset": ("Début", "Onset"),
    "abatement": ("Fin", "Abatement"),
    "recorded_on": ("Enregistrée le", "Recorded on"),
    "severity": ("Gravité", "Severity"),
    "note": _FHIR_LABELS["note"],
}
IMMUNIZATION_LABELS = {
    "fhir_id": _FHIR_LABELS["fhir_id"],
    "source": _FHIR_LABELS["source"],
    "status": _FHIR_LABELS["status"],
    "vaccine_code_system": ("Système de codes du vaccin", "Vaccine code system"),
    "vaccine_code": ("Code du vaccin", "Vaccine code"),
    "occurrence": ("Date", "Date"),
    "vaccine_display": ("Vaccin", "Vaccine"),
    "lot_number": ("Numéro de lot", "Lot number"),
    "dose_number": ("Numéro de dose", "Dose number"),
    "site": ("Site d'injection", "Injection site"),
    "performer": ("Vaccinateur", "Given by"),
    "manufacturer": ("Fabricant", "Manufacturer"),
    "note": _FHIR_LABELS["note"],
}
MEDICATION_LABELS = {
    **_FHIR_LABELS,
    "display": ("Médicament", "Medicine"),
    "effective_start": ("Début", "Start"),
    "effective_end": ("Fin", "End"),
    "dosage": ("Posologie", "Dosage"),
    "reason": ("Motif", "Reason"),
    "prescriber": ("Prescripteur", "Prescriber"),
}
ENCOUNTER_LABELS = {
    **{k: v for k, v in _FHIR_LABELS.items() if k != "note"},
    "class_code": ("Type de prise en charge", "Encounter class"),
    "display": ("Consultation", "Encounter"),
    "start": ("Début", "Start"),
    "end": ("Fin", "End"),
    "reason": ("Motif", "Reason"),
    "practitioner": ("Praticien", "Practitioner"),
    "location": ("Lieu", "Location"),
    "service_provider": ("Établissement", "Care provider"),
}


# Words for the coded values of some fields: (French, English).
_ERROR = ("Saisi par erreur", "Entered in error")
_UNKNOWN = ("Inconnu", "Unknown")
CONDITION_CHOICES = {
    "clinical_status": {
        "active": ("Active", "Active"),
        "recurrence": ("Récidive", "Recurrence"),
        "relapse": ("Rechute", "Relapse"),
        "inactive": ("Inactive", "Inactive"),
        "remission": ("Rémission", "Remission"),
        "resolved": ("Guérie", "Resolved"),
    },
    "verification_status": {
        "unconfirmed": ("Non confirmée", "Unconfirmed"),
        "provisional": ("Provisoire", "Provisional"),
        "differential": ("Diagnostic différentiel", "Differential"),
        "confirmed": ("Confirmée", "Confirmed"),
        "refuted": ("Réfutée", "Refuted"),
        "entered-in-error": _ERROR,
    },
    "severity": {
        "mild": ("Légère", "Mild"),
        "moderate": ("Modérée", "Moderate"),
        "severe": ("Sévère", "Severe"),
    },
}
ENCOUNTER_CHOICES = {
    "status": {
        "planned": ("Prévue", "Planned"),
        "arrived": ("Arrivé", "Arrived"),
        "triaged": ("Orienté", "Triaged"),
        "in-progress": ("En cours", "In progress"),
        "onleave": ("En permission", "On leave"),
        "finished": ("Terminée", "Finished"),
        "cancelled": ("Annulée", "Cancelled"),
        "entered-in-error": _ERROR,
        "unknown": _UNKNOWN,
    }
}
IMMUNIZATION_CHOICES = {
    "status": {
        "completed": ("Faite", "Completed"),
        "entered-in-error": _ERROR,
        "not-done": ("Non faite", "Not done"),
    }
}
MEDICATION_CHOICES = {
    "status": {
        "active": ("En cours", "Active"),
        "completed": ("Terminé", "Completed"),
        "entered-in-error": _ERROR,
        "intended": ("Prévu", "Intended"),
        "stopped": ("Arrêté", "Stopped"),
        "on-hold": ("Suspendu", "On hold"),
        "unknown": _UNKNOWN,
        "not-taken": ("Non pris", "Not taken"),
    }
}
OBSERVATION_CHOICES = {
    "status": {
        "registered": ("Enregistrée", "Registered"),
        "preliminary": ("Préliminaire", "Preliminary"),
        "final": ("Définitive", "Final"),
        "amended": ("Modifiée", "Amended"),
        "corrected": ("Corrigée", "Corrected"),
        "cancelled": ("Annulée", "Cancelled"),
        "entered-in-error": _ERROR,
        "unknown": _UNKNOWN,
    },
    "category": {
        "social-history": ("Mode de vie", "Social history"),
        "vital-signs": ("Signes vitaux", "Vital signs"),
        "imaging": ("Imagerie", "Imaging"),
        "laboratory": ("Biologie", "Laboratory"),
        "procedure": ("Acte", "Procedure"),
        "survey": ("Questionnaire", "Survey"),
        "exam": ("Examen clinique", "Exam"),
        "therapy": ("Thérapie", "Therapy"),
        "activity": ("Activité", "Activity"),
    },
    "interpretation": {
        "L": ("Bas", "Low"),
        "N": ("Normal", "Normal"),
        "H": ("Haut", "High"),
        "LL": ("Très bas", "Critically low"),
        "HH": ("Très haut", "Critically high"),
        "A": ("Anormal", "Abnormal"),
        "AA": ("Très anormal", "Critically abnormal"),
    },
}
PATIENT_CHOICES = {
    "gender": {
        "male": ("Homme", "Male"),
        "female": ("Femme", "Female"),
        "other": ("Autre", "Other"),
        "unknown": _UNKNOWN,
    }
}


def _health(
    name: str,
    model: type[FhirResource],
    fr: tuple[str, str],
    en: tuple[str, str],
    *,
    labels: dict[str, tuple[str, str]],
    choices: dict[str, dict[str, tuple[str, str]]],
    summary: tuple[str, ...],
    time_field: str | None = None,
    time_end_field: str | None = None,
) -> Doctype:
    """A health doctype: same category, version and natural key for all of them."""
    return Doctype(
        name=name,
        version=1,
        kind="record",
        model=model,
        category="health",
        title={"fr": fr[0], "en": en[0]},
        description={"fr": fr[1], "en": en[1]},
        labels=labels,
        choices=choices,
        summary=summary,
        time_field=time_field,
        time_end_field=time_end_field,
        natural_key=("fhir_id",),
    )


PATIENT = _health(
    "health.patient",
    Patient,
    ("Patient", "L'identité de la personne dans un dossier de santé (FHIR Patient)."),
    ("Patient", "The person a health record is about (FHIR Patient)."),
    labels=PATIENT_LABELS,
    choices=PATIENT_CHOICES,
    summary=("family_name", "given_names", "birth_date", "gender"),
)
OBSERVATION = _health(
    "health.observation",
    Observation,
    ("Observation", "Un résultat d'analyse ou une mesure (FHIR Observation)."),
    ("Observation", "A lab result or a measurement (FHIR Observation)."),
    time_field="effective",
    time_end_field="effective_end",
    labels=OBSERVATION_LABELS,
    choices=OBSERVATION_CHOICES,
    summary=("display", "value_quantity", "interpretation", "reference_low", "reference_high"),
)
CONDITION = _health(
    "health.condition",
    Condition,
    ("Pathologie", "Un diagnostic ou un problème de santé (FHIR Condition)."),
    ("Condition", "A diagnosis or health problem (FHIR Condition)."),
    time_field="onset",
    time_end_field="abatement",
    labels=CONDITION_LABELS,
    choices=CONDITION_CHOICES,
    summary=("display", "clinical_status", "severity"),
)
IMMUNIZATION = _health(
    "health.immunization",
    Immunization,
    ("Vaccination", "Un vaccin administré (FHIR Immunization)."),
    ("Immunization", "A vaccine given (FHIR Immunization)."),
    time_field="occurrence",
    labels=IMMUNIZATION_LABELS,
    choices=IMMUNIZATION_CHOICES,
    summary=("vaccine_display", "dose_number", "performer", "status"),
)
MEDICATION = _health(
    "health.medication",
    Medication,
    ("Médicament", "Un médicament pris ou prescrit (FHIR MedicationStatement)."),
    ("Medication", "A medicine taken or prescribed (FHIR MedicationStatement)."),
    time_field="effective_start",
    time_end_field="effective_end",
    labels=MEDICATION_LABELS,
    choices=MEDICATION_CHOICES,
    summary=("display", "dosage", "prescriber", "status"),
)

ENCOUNTER = _health(
    "health.encounter",
    Encounter,
    ("Consultation", "Une consultation, un passage aux urgences ou un séjour (FHIR Encounter)."),
    ("Encounter", "A consultation, an emergency visit or a hospital stay (FHIR Encounter)."),
    time_field="start",
    time_end_field="end",
    labels=ENCOUNTER_LABELS,
    choices=ENCOUNTER_CHOICES,
    summary=("display", "class_code", "practitioner", "location", "status"),
)

DOCTYPES = (PATIENT, OBSERVATION, CONDITION, IMMUNIZATION, MEDICATION, ENCOUNTER)
