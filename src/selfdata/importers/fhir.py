"""HL7 FHIR R4 health records (JSON): a Bundle, a single resource, or NDJSON (one
resource per line, as bulk exports and ``.phr`` files give).

Resources become the flattened ``health.*`` doctypes (one coding per concept):

=========================================  ======================
FHIR resource                              doctype
=========================================  ======================
Patient                                    ``health.patient``
Observation                                ``health.observation``
Condition                                  ``health.condition``
Immunization                               ``health.immunization``
MedicationStatement, MedicationRequest     ``health.medication``
Encounter                                  ``health.encounter``
=========================================  ======================

Other resources (Claim, Organization…) are counted and reported in a notice.
``fhir_id`` is the entry's ``fullUrl``, else ``Type/id``. The ``line`` of a rejected
resource is its position: the entry's number in a Bundle (1-based), the line in NDJSON.

The file is read as a stream with ``ijson`` (the yajl C backend): one entry at a time
is built, so a large Bundle never sits whole in memory. Decimals stay exact.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, BinaryIO, ClassVar

import ijson
import orjson

from selfdata.importers.base import (
    ImportContext,
    Importer,
    ImportFailed,
    Item,
    Notice,
    RecordBatch,
    RecordRow,
    Rejected,
)
from selfdata.importers.text import decode_head

__all__ = ["Fhir"]

_RESOURCE_TYPE = re.compile(r'"resourceType"\s*:\s*"([A-Z][A-Za-z]{1,63})"')
_NDJSON_LINE = 16 * 1024 * 1024
_PROBE = 1024 * 1024
"""An NDJSON file's first line must be shorter than this (to tell it from a document)."""
"""An NDJSON line longer than this is refused (a resource is rarely over a few KiB)."""
_PARTIAL_DATE = re.compile(r"^\d{4}(-\d{2})?$")
_MEDICATIONS_KEPT = 10_000
_PENDING_KEPT = 10_000
"""Medication statements waiting for a Medication given later in the file."""
_SIX_PLACES = Decimal("0.000001")
_DOCTYPE = {
    "Patient": "health.patient",
    "Observation": "health.observation",
    "Condition": "health.condition",
    "Immunization": "health.immunization",
    "MedicationStatement": "health.medication",
    "MedicationRequest": "health.medication",
    "Encounter": "health.encounter",
}
_OBSERVATION_CATEGORIES = {
    "social-history",
    "vital-signs",
    "imaging",
    "laboratory",
    "procedure",
    "survey",
    "exam",
    "therapy",
    "activity",
}
_INTERPRETATIONS = {"L", "N", "H", "LL", "HH", "A", "AA"}
_SEVERITY = {"24484000": "severe", "6736007": "moderate", "255604002": "mild"}
_REQUEST_STATUS = {
    "active": "active",
    "on-hold": "on-hold",
    "cancelled": "stopped",
    "completed": "completed",
    "entered-in-error": "entered-in-error",
    "stopped": "stopped",
    "draft": "intended",
    "unknown": "unknown",
}


class _Pending(Exception):
    """A medication naming a Medication resource not seen yet."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


class _Skip(Exception):
    """A resource that cannot be turned into its doctype: (field, what was expected)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _coding(concept: Any) -> tuple[str | None, str | None, str | None]:
    """(system, code, display) of a CodeableConcept: its first coding with a code."""
    if not isinstance(concept, dict):
        return None, None, None
    codings = [c for c in concept.get("coding") or [] if isinstance(c, dict)]
    for coding in codings:
        if _text(coding.get("code")):
            display = _text(coding.get("display")) or _text(concept.get("text"))
            return _text(coding.get("system")), _text(coding.get("code")), display
    return None, None, _text(concept.get("text"))


def _code(concept: Any) -> str | None:
    return _coding(concept)[1]


def _required_code(concept: Any, field: str) -> dict[str, str | None]:
    system, code, display = _coding(concept)
    if code is None:
        raise _Skip(field, "no coding with a code; expected a CodeableConcept with a coding")
    return {"code_system": system or "urn:unknown", "code": code, "display": display}


def _date(value: Any) -> str | None:
    """A FHIR date or dateTime as the doctypes take it; partial dates become the first
    day of their period (``2009-03`` → ``2009-03-01``)."""
    text = _text(value)
    if text is None:
        return None
    if _PARTIAL_DATE.match(text):
        return text + ("-01" if len(text) == 7 else "-01-01")
    return text.replace("Z", "+00:00") if "T" in text else text


def _day(value: Any) -> str | None:
    found = _date(value)
    return found[:10] if found else None


def _display(reference: Any) -> str | None:
    return _text(reference.get("display")) if isinstance(reference, dict) else None


def _first(values: Any) -> Any:
    return values[0] if isinstance(values, list) and values else None


def _note(resource: dict[str, Any]) -> str | None:
    texts = [_text(n.get("text")) for n in resource.get("note") or [] if isinstance(n, dict)]
    return "\n".join(t for t in texts if t) or None


def _number(value: Any) -> str | None:
    """An exact decimal string. Beyond 6 decimal places (generators such as Synthea
    write 132.05206138303643) the value is rounded to 6: no measurement is that precise,
    and the doctypes keep 6."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    number = Decimal(str(value))
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -6:
        number = number.quantize(_SIX_PLACES)
    return str(number)


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None and v not in ([], "")}


def _patient(resource: dict[str, Any]) -> dict[str, Any]:
    names = [n for n in resource.get("name") or [] if isinstance(n, dict)]
    name = next((n for n in names if n.get("use") == "official"), _first(names)) or {}
    family = _text(name.get("family"))
    if family is None:
        raise _Skip("name", "no family name; expected name.family")
    telecom = [t for t in resource.get("telecom") or [] if isinstance(t, dict)]
    phone = next((_text(t.get("value")) for t in telecom if t.get("system") == "phone"), None)
    email = next((_text(t.get("value")) for t in telecom if t.get("system") == "email"), None)
    address = _first(resource.get("address"))
    postal = None
    if isinstance(address, dict):
        country = _text(address.get("country"))
        postal = _clean(
            {
                "street": ", ".join(x for x in address.get("line") or [] if _text(x)) or None,
                "locality": _text(address.get("city")),
                "region": _text(address.get("state")),
                "postal_code": _text(address.get("postalCode")),
                "country": country if country and re.fullmatch("[A-Z]{2}", country) else None,
            }
        )
    return {
        "family_name": family,
        "given_names": [g for g in name.get("given") or [] if _text(g)],
        "birth_date": _day(resource.get("birthDate")),
        "gender": resource.get("gender"),
        "address": postal or None,
        "phone": phone,
        "email": email,
        "general_practitioner": _display(_first(resource.get("generalPractitioner"))),
    }


def _observation(resource: dict[str, Any]) -> dict[str, Any]:
    data = _required_code(resource.get("code"), "code")
    period = resource.get("effectivePeriod") or {}
    quantity = resource.get("valueQuantity")
    value_string = _text(resource.get("valueString"))
    if isinstance(resource.get("valueCodeableConcept"), dict):
        value_string = _coding(resource["valueCodeableConcept"])[2]
    if isinstance(resource.get("valueBoolean"), bool):
        value_string = "true" if resource["valueBoolean"] else "false"
    components = []
    for part in resource.get("component") or []:
        if isinstance(part, dict) and isinstance(part.get("valueQuantity"), dict):
            label = _coding(part.get("code"))[2] or _code(part.get("code")) or "?"
            amount = part["valueQuantity"]
            components.append(f"{label}: {amount.get('value')} {amount.get('unit') or ''}".strip())
    if value_string is None and quantity is None and components:
        value_string = "; ".join(components)
    category = next(
        (c for c in map(_code, resource.get("category") or []) if c in _OBSERVATION_CATEGORIES),
        None,
    )
    interpretation = _code(_first(resource.get("interpretation")))
    reference = _first(resource.get("referenceRange")) or {}
    return {
        **data,
        "status": resource.get("status"),
        "effective": _date(resource.get("effectiveDateTime"))
        or _date(resource.get("effectiveInstant"))
        or _date(period.get("start")),
        "effective_end": _date(period.get("end")),
        "category": category,
        "value_quantity": _number(quantity.get("value")) if isinstance(quantity, dict) else None,
        "value_unit": (_text(quantity.get("unit")) or _text(quantity.get("code")))
        if isinstance(quantity, dict)
        else None,
        "value_string": value_string,
        "interpretation": interpretation if interpretation in _INTERPRETATIONS else None,
        "reference_low": _number((reference.get("low") or {}).get("value")),
        "reference_high": _number((reference.get("high") or {}).get("value")),
        "performer": _display(_first(resource.get("performer"))),
        "note": _note(resource),
    }


def _condition(resource: dict[str, Any]) -> dict[str, Any]:
    data = _required_code(resource.get("code"), "code")
    status = _code(resource.get("clinicalStatus"))
    if status is None:
        raise _Skip("clinicalStatus", "missing; expected active, resolved, inactive…")
    onset = resource.get("onsetPeriod") or {}
    severity = _coding(resource.get("severity"))
    level = _SEVERITY.get(severity[1] or "") or (
        severity[2].lower() if severity[2] and severity[2].lower() in _SEVERITY.values() else None
    )
    return {
        **data,
        "clinical_status": status,
        "verification_status": _code(resource.get("verificationStatus")),
        "onset": _date(resource.get("onsetDateTime")) or _date(onset.get("start")),
        "abatement": _date(resource.get("abatementDateTime"))
        or _date((resource.get("abatementPeriod") or {}).get("start")),
        "recorded_on": _day(resource.get("recordedDate")),
        "severity": level,
        "note": _note(resource),
    }


def _immunization(resource: dict[str, Any]) -> dict[str, Any]:
    system, code, display = _coding(resource.get("vaccineCode"))
    if code is None:
        raise _Skip("vaccineCode", "no coding with a code; expected the vaccine's code")
    protocol = _first(resource.get("protocolApplied")) or {}
    dose = protocol.get("doseNumberPositiveInt")
    performer = _first(resource.get("performer")) or {}
    return {
        "status": resource.get("status"),
        "vaccine_code_system": system or "urn:unknown",
        "vaccine_code": code,
        "vaccine_display": display,
        "occurrence": _date(resource.get("occurrenceDateTime")),
        "lot_number": _text(resource.get("lotNumber")),
        "dose_number": dose if isinstance(dose, int) and not isinstance(dose, bool) else None,
        "site": _coding(resource.get("site"))[2],
        "performer": _display(performer.get("actor")),
        "manufacturer": _display(resource.get("manufacturer")),
        "note": _note(resource),
    }


def _encounter(resource: dict[str, Any]) -> dict[str, Any]:
    period = resource.get("period") or {}
    kind = resource.get("class")  # a Coding in R4 (a list of CodeableConcepts in R5)
    if isinstance(kind, list):
        kind = (_first(kind) or {}).get("coding", [None])[0]
    system, code, display = _coding(_first(resource.get("type")))
    participant = _first(resource.get("participant")) or {}
    location = _first(resource.get("location")) or {}
    return {
        "status": resource.get("status"),
        "class_code": _text(kind.get("code")) if isinstance(kind, dict) else None,
        "code_system": system if code else None,
        "code": code,
        "display": display,
        "start": _date(period.get("start")),
        "end": _date(period.get("end")),
        "reason": _coding(_first(resource.get("reasonCode")))[2],
        "practitioner": _display(participant.get("individual")),
        "location": _display(location.get("location")),
        "service_provider": _display(resource.get("serviceProvider")),
    }


class _Medications:
    """Medication resources seen so far (and contained ones), to resolve references."""

    def __init__(self) -> None:
        self.known: dict[str, dict[str, Any]] = {}

    def remember(self, resource: dict[str, Any], full_url: str | None) -> None:
        if len(self.known) >= _MEDICATIONS_KEPT:
            return
        if full_url:
            self.known[full_url] = resource
        if _text(resource.get("id")):
            self.known[f"Medication/{resource['id']}"] = resource

    def concept(self, resource: dict[str, Any]) -> Any:
        if isinstance(resource.get("medicationCodeableConcept"), dict):
            return resource["medicationCodeableConcept"]
        reference = resource.get("medicationReference") or {}
        target = _text(reference.get("reference")) or ""
        found: Any = None
        if target.startswith("#"):
            found = next(
                (
                    c
                    for c in resource.get("contained") or []
                    if isinstance(c, dict) and c.get("id") == target[1:]
                ),
                None,
            )
        else:
            found = self.known.get(target)
        if isinstance(found, dict) and isinstance(found.get("code"), dict):
            return found["code"]
        if _display(reference):
            return {
                "coding": [{"system": "urn:unknown", "code": target or "?"}],
                "text": _display(reference),
            }
        raise _Pending(target)


def _medication(resource: dict[str, Any], medications: _Medications) -> dict[str, Any]:
    data = _required_code(medications.concept(resource), "medication")
    reason = _first(resource.get("reasonCode"))
    if resource.get("resourceType") == "MedicationRequest":
        period = (resource.get("dispenseRequest") or {}).get("validityPeriod") or {}
        return {
            **data,
            "status": _REQUEST_STATUS.get(resource.get("status") or "", resource.get("status")),
            "effective_start": _date(resource.get("authoredOn")) or _date(period.get("start")),
            "effective_end": _date(period.get("end")),
            "dosage": _text((_first(resource.get("dosageInstruction")) or {}).get("text")),
            "reason": _coding(reason)[2],
            "prescriber": _display(resource.get("requester")),
            "note": _note(resource),
        }
    period = resource.get("effectivePeriod") or {}
    return {
        **data,
        "status": resource.get("status"),
        "effective_start": _date(resource.get("effectiveDateTime")) or _date(period.get("start")),
        "effective_end": _date(period.get("end")),
        "dosage": _text((_first(resource.get("dosage")) or {}).get("text")),
        "reason": _coding(reason)[2],
        "prescriber": _display(resource.get("informationSource")),
        "note": _note(resource),
    }


def _unresolved(wait: _Pending) -> str:
    return f"{wait.target!r} is not a Medication resource of the file; expected one"


class Fhir(Importer):
    name: ClassVar[str] = "fhir"
    version: ClassVar[str] = "1.0"
    description: ClassVar[dict[str, str]] = {
        "fr": "Dossier de santé HL7 FHIR R4 (JSON, Bundle ou NDJSON)",
        "en": "HL7 FHIR R4 health record (JSON Bundle, resource or NDJSON)",
    }
    doctypes: ClassVar[tuple[str, ...]] = (
        "health.patient",
        "health.observation",
        "health.condition",
        "health.immunization",
        "health.medication",
        "health.encounter",
    )
    options: ClassVar[dict[str, str]] = {
        "source": "Who produced the record (stored in each resource's source), "
        "such as 'CHU de Lyon'",
    }

    def sniff(self, head: bytes, filename: str) -> float:
        text = decode_head(head)
        if text is None or not text.lstrip().startswith("{"):
            return 0.0
        # Decided on resourceType, which GeoJSON, Takeout JSON and jCard never have.
        return 0.95 if _RESOURCE_TYPE.search(text) else 0.0

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        source = context.options.get("source")
        medications = _Medications()
        rows: dict[str, list[RecordRow]] = {}
        left_out: Counter[str] = Counter()
        pending: list[tuple[int, dict[str, Any], str]] = []
        for position, resource, full_url in self._resources(stream, context.filename):
            kind = resource.get("resourceType")
            if kind == "Medication":
                medications.remember(resource, full_url)
                continue
            doctype = _DOCTYPE.get(kind) if isinstance(kind, str) else None
            if doctype is None:
                left_out[str(kind)] += 1
                continue
            resource_id = _text(resource.get("id"))
            fhir_id = full_url or (f"{kind}/{resource_id}" if resource_id else None)
            if fhir_id is None:
                yield Rejected(position, "id", f"a {kind} without id or fullUrl; expected one")
                continue
            try:
                if kind == "Patient":
                    data = _patient(resource)
                elif kind == "Observation":
                    data = _observation(resource)
                elif kind == "Condition":
                    data = _condition(resource)
                elif kind == "Immunization":
                    data = _immunization(resource)
                elif kind == "Encounter":
                    data = _encounter(resource)
                else:
                    data = _medication(resource, medications)
            except _Skip as skip:
                yield Rejected(position, f"{kind}.{skip.field}", skip.message)
                continue
            except _Pending as wait:
                if len(pending) >= _PENDING_KEPT:
                    yield Rejected(position, f"{kind}.medicationReference", _unresolved(wait))
                else:
                    pending.append((position, resource, fhir_id))
                continue
            batch = rows.setdefault(doctype, [])
            batch.append(
                RecordRow(position, _clean({"fhir_id": fhir_id, "source": source, **data}))
            )
            if len(batch) >= context.batch_size:
                yield RecordBatch(doctype, rows.pop(doctype))
        for position, resource, fhir_id in pending:  # their Medication came later
            kind = resource["resourceType"]
            try:
                data = _medication(resource, medications)
            except _Pending as wait:
                yield Rejected(position, f"{kind}.medicationReference", _unresolved(wait))
                continue
            except _Skip as skip:
                yield Rejected(position, f"{kind}.{skip.field}", skip.message)
                continue
            record = _clean({"fhir_id": fhir_id, "source": source, **data})
            rows.setdefault("health.medication", []).append(RecordRow(position, record))
        for doctype, batch in rows.items():
            yield RecordBatch(doctype, batch)
        if left_out:
            kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(left_out.items()))
            yield Notice(None, "resourceType", f"not imported (no doctype holds them): {kinds}")

    def _resources(
        self, stream: BinaryIO, source: str
    ) -> Iterator[tuple[int, dict[str, Any], str | None]]:
        """(position, resource, fullUrl) for every resource of the file, Bundles opened."""
        line = 1
        first = stream.readline(_PROBE)
        while first and not first.strip():
            line += 1
            first = stream.readline(_PROBE)
        parsed = None
        # Only a complete first line is tried as NDJSON: a document on one huge line is
        # read by the streaming parser instead of being built whole in memory.
        if first.endswith(b"\n") or len(first) < _PROBE:
            try:
                parsed = orjson.loads(first)
            except orjson.JSONDecodeError:
                parsed = None
        if isinstance(parsed, dict):  # NDJSON (or a whole document on one line)
            yield from self._ndjson(stream, source, parsed, line)
            return
        stream.seek(0)
        yield from self._document(stream, source)

    def _ndjson(
        self, stream: BinaryIO, source: str, first: dict[str, Any], line: int
    ) -> Iterator[tuple[int, dict[str, Any], str | None]]:
        resource = first
        while True:
            if resource.get("resourceType") == "Bundle":
                for index, entry in enumerate(resource.get("entry") or [], start=1):
                    if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                        yield (
                            (index if line == 1 else line),
                            entry["resource"],
                            _text(entry.get("fullUrl")),
                        )
            else:
                yield line, resource, None
            while True:
                raw = stream.readline(_NDJSON_LINE + 1)
                if not raw:
                    return
                line += 1
                if raw.strip():
                    break
            if len(raw) > _NDJSON_LINE:
                raise ImportFailed.at(source, line, "line", "longer than 16 MiB; not NDJSON")
            try:
                found = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise ImportFailed.at(
                    source, line, "json", f"not a JSON object ({exc}); expected one per line"
                ) from None
            if not isinstance(found, dict):
                raise ImportFailed.at(source, line, "json", "expected a FHIR resource object")
            resource = found

    def _document(
        self, stream: BinaryIO, source: str
    ) -> Iterator[tuple[int, dict[str, Any], str | None]]:
        """A Bundle (entries built one at a time) or a single resource."""
        top = ijson.ObjectBuilder()
        entry: Any = None
        index = 0
        try:
            for prefix, event, value in ijson.parse(stream):
                if entry is not None:
                    entry.event(event, value)
                    if prefix == "entry.item" and event == "end_map":
                        index += 1
                        found = entry.value
                        entry = None
                        if isinstance(found.get("resource"), dict):
                            yield index, found["resource"], _text(found.get("fullUrl"))
                elif prefix == "entry.item" and event == "start_map":
                    entry = ijson.ObjectBuilder()
                    entry.event(event, value)
                elif prefix == "entry" or (
                    event == "map_key" and prefix == "" and value == "entry"
                ):
                    continue  # the entry array itself, and its key
                else:
                    top.event(event, value)
        except ijson.JSONError as exc:
            raise ImportFailed.at(
                source, None, "json", f"not valid JSON ({exc}); truncated or damaged?"
            ) from None
        resource = getattr(top, "value", None)
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise ImportFailed.at(
                source, None, "resourceType", "expected a FHIR resource or Bundle object"
            )
        if resource["resourceType"] != "Bundle":
            yield 1, resource, None
