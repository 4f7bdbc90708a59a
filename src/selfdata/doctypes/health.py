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


def _health(
    name: str,
    model: type[FhirResource],
    fr: tuple[str, str],
    en: tuple[str, str],
    *,
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
        time_field=time_field,
        time_end_field=time_end_field,
        natural_key=("fhir_id",),
    )


PATIENT = _health(
    "health.patient",
    Patient,
    ("Patient", "L'identité de la personne dans un dossier de santé (FHIR Patient)."),
    ("Patient", "The person a health record is about (FHIR Patient)."),
)
OBSERVATION = _health(
    "health.observation",
    Observation,
    ("Observation", "Un résultat d'analyse ou une mesure (FHIR Observation)."),
    ("Observation", "A lab result or a measurement (FHIR Observation)."),
    time_field="effective",
    time_end_field="effective_end",
)
CONDITION = _health(
    "health.condition",
    Condition,
    ("Pathologie", "Un diagnostic ou un problème de santé (FHIR Condition)."),
    ("Condition", "A diagnosis or health problem (FHIR Condition)."),
    time_field="onset",
    time_end_field="abatement",
)
IMMUNIZATION = _health(
    "health.immunization",
    Immunization,
    ("Vaccination", "Un vaccin administré (FHIR Immunization)."),
    ("Immunization", "A vaccine given (FHIR Immunization)."),
    time_field="occurrence",
)
MEDICATION = _health(
    "health.medication",
    Medication,
    ("Médicament", "Un médicament pris ou prescrit (FHIR MedicationStatement)."),
    ("Medication", "A medicine taken or prescribed (FHIR MedicationStatement)."),
    time_field="effective_start",
    time_end_field="effective_end",
)

ENCOUNTER = _health(
    "health.encounter",
    Encounter,
    ("Consultation", "Une consultation, un passage aux urgences ou un séjour (FHIR Encounter)."),
    ("Encounter", "A consultation, an emergency visit or a hospital stay (FHIR Encounter)."),
    time_field="start",
    time_end_field="end",
)

DOCTYPES = (PATIENT, OBSERVATION, CONDITION, IMMUNIZATION, MEDICATION, ENCOUNTER)
