"""Apple Health exports (``export.xml``, from the Health app's "Export All Health Data"
zip): each sample ``Record`` becomes a ``health.observation``.

* ``type`` (``HKQuantityTypeIdentifierHeartRate``) is the code, under the code system
  ``https://developer.apple.com/documentation/healthkit``; its display drops the prefix
  (``HeartRate``). Vital signs and activity types get their FHIR category.
* ``value`` with ``unit``: a number is an exact ``value_quantity`` (6 decimal places at
  most); a category value (``HKCategoryValueSleepAnalysisAsleepCore``) is kept as text
  (``AsleepCore``). ``startDate``/``endDate`` (``2024-01-02 08:00:00 +0100``) are the
  observation's ``effective``/``effective_end``; ``sourceName`` is the performer.
* ``fhir_id`` is ``apple-health/<type>/<start>/<end>/<source>``: importing a newer
  export of the same phone adds the new samples and leaves the others ``unchanged``.
* Records inside a ``Correlation`` (blood pressure) repeat top-level ones: skipped.
  Workouts, activity summaries and clinical-record pointers are counted in a notice
  (the workout routes are GPX files of the same zip, which the GPX importer reads; the
  clinical records are FHIR JSON files, which the FHIR importer reads).

The file is untrusted and can weigh gigabytes: it is read with expat callbacks and no
tree (memory stays flat); its internal DTD (``<!ELEMENT …>`` declarations, which real
exports carry) is allowed, but entity declarations and external references are refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO, ClassVar
from xml.parsers import expat

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

__all__ = ["AppleHealth"]

CODE_SYSTEM = "https://developer.apple.com/documentation/healthkit"
_CHUNK = 256 * 1024
_PREFIXES = ("HKQuantityTypeIdentifier", "HKCategoryTypeIdentifier", "HKDataType")
_VITAL = {
    "HeartRate",
    "RestingHeartRate",
    "WalkingHeartRateAverage",
    "BloodPressureSystolic",
    "BloodPressureDiastolic",
    "BodyTemperature",
    "RespiratoryRate",
    "OxygenSaturation",
    "BodyMass",
    "Height",
    "BodyMassIndex",
}
_ACTIVITY = {
    "StepCount",
    "DistanceWalkingRunning",
    "DistanceCycling",
    "FlightsClimbed",
    "ActiveEnergyBurned",
    "BasalEnergyBurned",
    "AppleExerciseTime",
    "AppleStandTime",
}
_COUNTED = {"Workout", "ActivitySummary", "ClinicalRecord", "Audiogram", "VisionPrescription"}
_SIX_PLACES = Decimal("0.000001")


class _Refused(Exception):
    """An entity declaration or an external reference: refused before expansion."""


def _refuse(*_args: Any) -> int:
    raise _Refused


def _short(type_name: str) -> str:
    for prefix in _PREFIXES:
        if type_name.startswith(prefix):
            return type_name[len(prefix) :] or type_name
    return type_name


def _instant(text: str | None) -> str | None:
    """``2024-01-02 08:00:00 +0100`` → ``2024-01-02T08:00:00+01:00``."""
    if not text:
        return None
    return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S %z").isoformat()


def _exact(text: str) -> str | None:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -6:
        number = number.quantize(_SIX_PLACES)
    return str(number)


def _observation(attrs: dict[str, str]) -> dict[str, Any]:
    """The observation of one ``Record``; ValueError with ``field|what`` when unusable."""
    kind = attrs.get("type", "").strip()
    if not kind:
        raise ValueError("type|missing; expected a HealthKit type identifier")
    try:
        start = _instant(attrs.get("startDate"))
        end = _instant(attrs.get("endDate"))
    except ValueError:
        raise ValueError("startDate|not a date; expected 'YYYY-MM-DD hh:mm:ss +hhmm'") from None
    if start is None:
        raise ValueError("startDate|missing; expected when the sample was taken")
    short = _short(kind)
    source = (attrs.get("sourceName") or "").strip()[:200] or None
    raw = (attrs.get("value") or "").strip()
    quantity = _exact(raw) if raw and "unit" in attrs else None
    text = None if quantity is not None or not raw else _short_value(raw, short)
    unit = (attrs.get("unit") or "").strip()[:128] or None
    fhir_id = f"apple-health/{kind}/{start}/{end or start}/{source or ''}"[:256]
    data: dict[str, Any] = {
        "fhir_id": fhir_id,
        "source": "Apple Health",
        "status": "final",
        "code_system": CODE_SYSTEM,
        "code": kind[:128],
        "display": short,
        "effective": start,
        "effective_end": end if end and end != start else None,
        "category": "vital-signs"
        if short in _VITAL
        else "activity"
        if short in _ACTIVITY
        else None,
        "value_quantity": quantity,
        "value_unit": unit if quantity is not None else None,
        "value_string": text[:100_000] if text else None,
        "performer": source,
    }
    return {k: v for k, v in data.items() if v is not None}


def _short_value(raw: str, short: str) -> str:
    """``HKCategoryValueSleepAnalysisAsleepCore`` → ``AsleepCore``."""
    for prefix in (f"HKCategoryValue{short}", "HKCategoryValue"):
        if raw.startswith(prefix) and len(raw) > len(prefix):
            return raw[len(prefix) :]
    return raw


class AppleHealth(Importer):
    name: ClassVar[str] = "apple.health"
    version: ClassVar[str] = "1.0"
    description: ClassVar[dict[str, str]] = {
        "fr": "Export Apple Santé (export.xml) : mesures et échantillons",
        "en": "Apple Health export (export.xml): measurements and samples",
    }
    doctypes: ClassVar[tuple[str, ...]] = ("health.observation",)

    def sniff(self, head: bytes, filename: str) -> float:
        # Real exports start with a long internal DTD; the root's name is in DOCTYPE.
        # (Not a zip holding an export.xml stored uncompressed: that is the zip's.)
        if head.startswith(b"PK"):
            return 0.0
        return 0.95 if b"<!DOCTYPE HealthData" in head or b"<HealthData" in head else 0.0

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        source = context.filename
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.EntityDeclHandler = _refuse
        parser.UnparsedEntityDeclHandler = _refuse
        parser.ExternalEntityRefHandler = _refuse
        done: list[Item] = []
        rows: list[RecordRow] = []
        counted: Counter[str] = Counter()
        inside_correlation = 0
        root: list[str] = []

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal inside_correlation, rows
            if not root:
                root.append(name)
            if name == "Correlation":
                inside_correlation += 1
                counted[name] += 1
            elif name == "Record" and not inside_correlation:
                line = parser.CurrentLineNumber
                try:
                    rows.append(RecordRow(line, _observation(attrs)))
                except ValueError as exc:
                    field, _, message = str(exc).partition("|")
                    done.append(Rejected(line, field, message))
                if len(rows) >= context.batch_size:
                    done.append(RecordBatch("health.observation", rows))
                    rows = []
            elif name in _COUNTED:
                counted[name] += 1

        def end(name: str) -> None:
            nonlocal inside_correlation
            if name == "Correlation":
                inside_correlation -= 1

        parser.StartElementHandler = start
        parser.EndElementHandler = end
        first = True
        while True:
            chunk = stream.read(_CHUNK)
            if first:
                first = False
                if not chunk.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
                    raise ImportFailed.at(source, 1, "xml", "not XML; expected export.xml")
            try:
                parser.Parse(chunk, not chunk)
            except _Refused:
                raise ImportFailed.at(
                    source,
                    parser.CurrentLineNumber,
                    "xml",
                    "the file declares entities or external references; an Apple Health "
                    "export has none, and they are refused for safety",
                ) from None
            except LookupError as exc:  # an encoding Python does not know
                raise ImportFailed.at(
                    source, 1, "xml", f"unknown character encoding declared ({exc})"
                ) from None
            except expat.ExpatError as exc:
                raise ImportFailed.at(
                    source,
                    exc.lineno,
                    "xml",
                    f"not well-formed XML ({expat.ErrorString(exc.code)}); truncated?",
                ) from None
            yield from done
            done.clear()
            if not chunk:
                break
        if root[:1] != ["HealthData"]:
            raise ImportFailed.at(source, 1, "HealthData", "expected an Apple Health export")
        if rows:
            yield RecordBatch("health.observation", rows)
        if counted:
            kinds = ", ".join(f"{n} {name}" for name, n in sorted(counted.items()))
            yield Notice(None, "HealthData", f"not imported as records: {kinds}")
