"""Tests of ``selfdata.doctypes``: the built-in doctypes, their schemas and the registry."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

import selfdata.doctypes
from selfdata.doctypes import Doctype, DoctypeRegistry, default_registry
from selfdata.doctypes.examples import EXAMPLES
from selfdata.errors import InvalidInput, UnknownDoctype, ValidationFailed

jsonschema = pytest.importorskip("jsonschema")

REGISTRY = default_registry()
ALL = list(REGISTRY)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "doctypes.md"


def by_name(doctype: Doctype) -> str:
    return doctype.name


def example(name: str, **changes: Any) -> dict[str, Any]:
    """A copy of the canonical example with some fields changed (``None`` removes)."""
    data = dict(EXAMPLES[name])
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def failure(name: str, data: Any, **kwargs: Any) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        REGISTRY.get(name).validate(data, **kwargs)
    return caught.value


# --- the public surface ----------------------------------------------------------------------


def test_public_names() -> None:
    assert sorted(selfdata.doctypes.__all__) == [
        "Category",
        "Doctype",
        "DoctypeRegistry",
        "default_registry",
    ]


def test_there_is_one_example_per_builtin_doctype() -> None:
    assert sorted(EXAMPLES) == REGISTRY.names()


def test_default_registry_is_fresh_each_time() -> None:
    first, second = default_registry(), default_registry()
    assert first is not second
    assert first.names() == second.names()
    assert len(first) == len(ALL) >= 16


# --- every doctype ---------------------------------------------------------------------------


@pytest.mark.parametrize("doctype", ALL, ids=by_name)
def test_json_schema_is_valid_2020_12(doctype: Doctype) -> None:
    schema = doctype.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://selfdata.org/schemas/{doctype.name}/v{doctype.version}.json"
    assert schema["title"] == doctype.title["en"]
    assert schema["description"] == doctype.description["en"]
    assert schema["additionalProperties"] is False
    meta = schema["x-selfdata"]
    assert meta["kind"] == doctype.kind
    assert meta["category"] == doctype.category
    assert meta["time_field"] == doctype.time_field
    assert meta["natural_key"] == list(doctype.natural_key)
    assert meta["columns"] == list(doctype.columns)
    assert meta["parent"] == doctype.parent
    assert meta["title_fr"] == doctype.title["fr"]
    assert meta["description_fr"] == doctype.description["fr"]
    json.dumps(schema)  # plain JSON, nothing Python-specific left in it


@pytest.mark.parametrize("doctype", ALL, ids=by_name)
def test_every_field_is_described(doctype: Doctype) -> None:
    assert doctype.model.__doc__
    schema = doctype.json_schema()
    objects = [schema, *schema.get("$defs", {}).values()]
    for obj in objects:
        for field, spec in obj.get("properties", {}).items():
            assert spec.get("description"), f"{doctype.name}: {field} has no description"


@pytest.mark.parametrize("doctype", ALL, ids=by_name)
def test_example_validates_and_round_trips(doctype: Doctype) -> None:
    data = EXAMPLES[doctype.name]
    out = doctype.validate(data)
    assert out == data  # examples are canonical
    assert doctype.validate(out) == out
    assert orjson.loads(orjson.dumps(out)) == out  # JSON-ready: no Decimal, date, NaN
    validator = jsonschema.Draft202012Validator(doctype.json_schema())
    validator.validate(out)


@pytest.mark.parametrize("doctype", ALL, ids=by_name)
def test_unknown_fields_are_rejected(doctype: Doctype) -> None:
    error = failure(doctype.name, example(doctype.name, zz_typo="x"))
    assert [(e.loc, e.kind) for e in error.errors] == [(("zz_typo",), "extra_forbidden")]
    assert "unknown field" in error.errors[0].message


@pytest.mark.parametrize("doctype", ALL, ids=by_name)
def test_required_fields_are_reported_missing(doctype: Doctype) -> None:
    required = doctype.json_schema()["required"]
    assert required
    error = failure(doctype.name, {})
    assert sorted(e.loc[0] for e in error.errors) == sorted(required)
    assert all(e.message == "this field is required" for e in error.errors)


@pytest.mark.parametrize("doctype", ALL, ids=by_name)
def test_time_bounds_of_example_are_utc(doctype: Doctype) -> None:
    start, end = doctype.time_bounds(EXAMPLES[doctype.name])
    assert (start is None) == (doctype.time_field is None)
    for bound in (start, end):
        assert bound is None or bound.utcoffset() == UTC.utcoffset(None)


@pytest.mark.parametrize("doctype", ALL, ids=by_name)
def test_natural_key_of_example(doctype: Doctype) -> None:
    values = doctype.natural_key_values(EXAMPLES[doctype.name])
    if doctype.natural_key:
        assert values is not None
        assert all(isinstance(v, str) and v for v in values)
    else:
        assert values is None


@pytest.mark.parametrize("doctype", ALL, ids=by_name)
def test_declaration_is_consistent(doctype: Doctype) -> None:
    category_prefix = {"contacts": "contact", "papers": "paper"}
    assert doctype.name.split(".")[0] == category_prefix.get(doctype.category, doctype.category)
    if doctype.kind == "series":
        assert doctype.parent is not None
        assert doctype.parent in REGISTRY
        assert doctype.columns
        assert REGISTRY.get(doctype.parent).kind == "record"
    assert hash(doctype) == hash(REGISTRY.get(doctype.name))


# --- messages a person can act on --------------------------------------------------------------

INVALID = [
    ("bank.transaction", {"amount": "abc"}, ("amount",), "expected a decimal number"),
    ("bank.transaction", {"amount": "12,30"}, ("amount",), "with a dot as separator"),
    ("bank.transaction", {"amount": 0.1 + 0.2}, ("amount",), "at most 6 digits after"),
    ("bank.transaction", {"booked_on": "31/03/2024"}, ("booked_on",), "YYYY-MM-DD"),
    ("bank.transaction", {"currency": "eur"}, ("currency",), "ISO 4217"),
    ("bank.transaction", {"label": ""}, ("label",), "non-empty"),
    ("bank.transaction", {"occurrence": 0}, ("occurrence",), "greater than or equal to 1"),
    ("bank.account", {"iban": "FR7630006000011234567890188"}, ("iban",), "check digits"),
    ("bank.account", {"bic": "PSST"}, ("bic",), "a BIC of 8 or 11"),
    ("bank.account", {"account_type": "current"}, ("account_type",), "'checking'"),
    ("energy.meter", {"kind": "fuel"}, ("kind",), "expected one of 'electricity', 'gas'"),
    ("energy.meter", {"meter_id": "9876543210123"}, ("meter_id",), "14-digit PRM"),
    ("energy.meter", {"interval_s": -5}, ("interval_s",), "greater than 0"),
    ("energy.reading", {"time": "2024-03-31T00:30:00"}, ("time",), "timezone"),
    ("energy.reading", {"value": "lots"}, ("value",), "expected a number"),
    ("mobility.position", {"lat": 91}, ("lat",), "less than or equal to 90"),
    ("mobility.position", {"lon": float("nan")}, ("lon",), "finite number"),
    ("mobility.position", {"accuracy": -1}, ("accuracy",), "0 metres or more"),
    ("mobility.trip", {"ended_at": "2024-04-08T07:00:00Z"}, ("ended_at",), "after started_at"),
    ("mobility.track", {"activity": "swim"}, ("activity",), "expected one of"),
    ("mobility.place_visit", {"confidence": 87}, ("confidence",), "less than or equal to 1"),
    ("health.observation", {"status": "done"}, ("status",), "'final'"),
    ("health.observation", {"code_system": "loinc"}, ("code_system",), "absolute URI"),
    ("health.observation", {"value_string": "ok"}, ("value_string",), "not both"),
    ("health.patient", {"birth_date": "14/05/1986"}, ("birth_date",), "YYYY-MM-DD"),
    ("health.immunization", {"occurrence": "yesterday"}, ("occurrence",), "a date (YYYY-MM-DD)"),
    ("health.condition", {"abatement": "2001-01-01"}, ("abatement",), "after onset"),
    ("health.medication", {"effective_start": 2023}, ("effective_start",), "a date"),
    ("calendar.event", {"start": "2024-04-15T09:00:00"}, ("start",), "timezone offset"),
    ("calendar.event", {"all_day": True}, ("all_day",), "expected false"),
    ("calendar.event", {"recurrence_rule": "BYDAY=MO"}, ("recurrence_rule",), "FREQ"),
    ("calendar.event", {"attendees": [{"emial": "a@b.fr"}]}, ("attendees", 0, "emial"), "'email'"),
    ("contact.card", {"emails": [{"value": "louis"}]}, ("emails", 0, "value"), "e-mail address"),
    ("contact.card", {"birthday": "--1102"}, ("birthday",), "YYYY-MM-DD"),
    ("paper.document", {"media_type": "PDF"}, ("media_type",), "media type"),
    ("paper.document", {"size_bytes": -1}, ("size_bytes",), "greater than or equal to 0"),
    ("paper.document", {"valid_until": "2020-01-01"}, ("valid_until",), "after issued_on"),
    ("paper.document", {"kind": "receipt"}, ("kind",), "'invoice'"),
]


@pytest.mark.parametrize(("name", "changes", "loc", "expected"), INVALID)
def test_invalid_values_say_what_was_expected(
    name: str, changes: dict[str, Any], loc: tuple[str | int, ...], expected: str
) -> None:
    error = failure(name, example(name, **changes))
    assert [e.loc for e in error.errors] == [loc]
    message = error.errors[0].message
    assert message.startswith("expected") or message.startswith("unknown field")
    assert expected in message
    assert isinstance(error, InvalidInput)


def test_message_shows_the_offending_value() -> None:
    error = failure("bank.transaction", example("bank.transaction", amount="abc"))
    assert error.errors[0].message == (
        "expected a decimal number with a dot as separator, such as '-12.50', got 'abc'"
    )
    assert error.errors[0].kind == "decimal_parsing"


def test_source_and_line_are_carried() -> None:
    data = example("bank.transaction", amount="abc", currency="eur")
    error = failure("bank.transaction", data, source="releve.csv", line=12)
    assert {(e.source, e.line) for e in error.errors} == {("releve.csv", 12)}
    assert error.detail.startswith("Invalid bank.transaction record in releve.csv at line 12")
    assert "(and 1 more)" in error.detail
    assert error.extra["doctype"] == "bank.transaction"
    assert "releve.csv, line 12, field amount: expected a decimal number" in str(error)


def test_misspelt_field_gets_a_suggestion() -> None:
    data = example("bank.transaction", amount=None, ammount="12.00")
    error = failure("bank.transaction", data)
    messages = {e.loc: e.message for e in error.errors}
    assert messages[("ammount",)] == "unknown field; did you mean 'amount'?"
    assert messages[("amount",)] == "this field is required"


def test_not_an_object() -> None:
    error = failure("bank.transaction", [1, 2])
    assert error.errors[0].loc == ()
    assert error.errors[0].path == "(record)"
    assert error.errors[0].message.startswith("expected an object")


# --- values and their canonical form ---------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [("-42.50", "-42.50"), (-42.5, "-42.5"), (12, "12"), ("1E+2", "100"), ("0.000001", "0.000001")],
)
def test_money_is_an_exact_decimal_string(given: object, stored: str) -> None:
    out = REGISTRY.get("bank.transaction").validate(example("bank.transaction", amount=given))
    assert out["amount"] == stored


def test_iban_is_compacted() -> None:
    account = REGISTRY.get("bank.account")
    out = account.validate(example("bank.account", iban="fr76 3000 6000 0112 3456 7890 189"))
    assert out["iban"] == "FR7630006000011234567890189"


def test_missing_measures_may_be_null_absent_or_nan() -> None:
    position = REGISTRY.get("mobility.position")
    point = {"time": "2024-04-07T07:30:05Z", "lat": 45.0, "lon": 4.8}
    for missing in (None, float("nan")):
        assert position.validate({**point, "ele": missing, "accuracy": missing}) == point
    assert position.validate(point) == point


def test_all_day_is_inferred_from_start() -> None:
    event = REGISTRY.get("calendar.event")
    out = event.validate({"uid": "u1", "start": "2024-05-01", "end": "2024-05-02"})
    assert out["all_day"] is True
    assert out["start"] == "2024-05-01"
    out = event.validate({"uid": "u2", "start": "2024-05-01T10:00:00+00:00"})
    assert out["all_day"] is False
    assert out["start"] == "2024-05-01T10:00:00Z"


def test_optional_fields_are_really_optional() -> None:
    transaction = REGISTRY.get("bank.transaction")
    minimal = {
        "account_id": "FR76****0189",
        "booked_on": "2024-03-28",
        "amount": "-3.50",
        "currency": "EUR",
        "label": "CAFE",
    }
    assert transaction.validate(minimal) == {**minimal, "occurrence": 1}
    assert transaction.validate({**minimal, "memo": None}) == {**minimal, "occurrence": 1}


# --- time bounds --------------------------------------------------------------------------------


def test_time_bounds_of_dates_offsets_and_naive_values() -> None:
    event = REGISTRY.get("calendar.event")
    assert event.time_bounds({"uid": "u", "start": "2024-05-01", "end": "2024-05-03"}) == (
        datetime(2024, 5, 1, tzinfo=UTC),
        datetime(2024, 5, 3, tzinfo=UTC),
    )
    start, end = event.time_bounds({"uid": "u", "start": "2024-05-01T10:00:00+02:00"})
    assert start == datetime(2024, 5, 1, 8, tzinfo=UTC)
    assert start is not None
    assert start.tzinfo is UTC
    assert end is None
    naive, _ = event.time_bounds({"uid": "u", "start": "2024-05-01T10:00:00"})
    assert naive == datetime(2024, 5, 1, 10, tzinfo=UTC)


def test_time_bounds_without_time_field() -> None:
    assert REGISTRY.get("contact.card").time_bounds(EXAMPLES["contact.card"]) == (None, None)
    transaction = REGISTRY.get("bank.transaction")
    assert transaction.time_bounds({}) == (None, None)


def test_time_bounds_of_garbage_is_a_validation_failure() -> None:
    with pytest.raises(ValidationFailed):
        REGISTRY.get("bank.transaction").time_bounds({"booked_on": "soon"})


# --- natural keys --------------------------------------------------------------------------------


def test_transaction_key_uses_the_bank_id_when_there_is_one() -> None:
    transaction = REGISTRY.get("bank.transaction")
    data = transaction.validate(EXAMPLES["bank.transaction"])
    assert transaction.natural_key_values(data) == ("FR76****0189", "20240328-000123")


def test_transaction_key_falls_back_without_a_bank_id() -> None:
    transaction = REGISTRY.get("bank.transaction")
    first = transaction.validate(example("bank.transaction", transaction_id=None))
    again = transaction.validate(example("bank.transaction", transaction_id=None, amount=-42.5))
    second = transaction.validate(example("bank.transaction", transaction_id=None, occurrence=2))
    key = transaction.natural_key_values(first)
    assert key == ("FR76****0189", "2024-03-28", "-42.5", "EUR", "CB CARREFOUR LYON 27/03", "1")
    assert transaction.natural_key_values(again) == key  # "-42.5" and "-42.50" agree
    assert transaction.natural_key_values(second) != key  # a genuine look-alike stays


def test_instants_in_keys_ignore_the_offset() -> None:
    trip = REGISTRY.get("mobility.trip")
    utc = trip.validate(EXAMPLES["mobility.trip"])
    paris = trip.validate(
        example(
            "mobility.trip",
            started_at="2024-04-08T09:42:00+02:00",
            ended_at="2024-04-08T10:05:00+02:00",
        )
    )
    assert trip.natural_key_values(utc) == trip.natural_key_values(paris)
    assert trip.natural_key_values(utc) == ("2024-04-08T07:42:00Z", "2024-04-08T08:05:00Z", "tram")


def test_event_key_falls_back_to_uid_for_the_master_event() -> None:
    event = REGISTRY.get("calendar.event")
    master = event.validate(EXAMPLES["calendar.event"])
    moved = event.validate(example("calendar.event", recurrence_id="2024-04-22T09:00:00+02:00"))
    uid = EXAMPLES["calendar.event"]["uid"]
    assert event.natural_key_values(master) == (uid,)
    assert event.natural_key_values(moved) == (uid, "2024-04-22T07:00:00Z")


def test_no_key_when_a_field_is_missing() -> None:
    assert REGISTRY.get("energy.reading").natural_key_values(EXAMPLES["energy.reading"]) is None
    meter = REGISTRY.get("energy.meter")
    assert meter.natural_key_values(example("energy.meter", meter_id=None)) is None
    assert meter.natural_key_values(example("energy.meter", meter_id="")) is None


def test_key_values_of_non_strings() -> None:
    visit = REGISTRY.get("mobility.place_visit")
    data = visit.validate(example("mobility.place_visit", place_id=None))
    assert visit.natural_key_values(data) == ("2024-04-08T17:10:00Z", "45.7701", "4.8525")


# --- the registry --------------------------------------------------------------------------------


def test_registry_basics() -> None:
    registry = default_registry()
    assert "bank.transaction" in registry
    assert "bank.nothing" not in registry
    assert 42 not in registry
    assert [d.name for d in registry] == registry.names() == sorted(registry.names())
    assert [d.name for d in registry.by_category("bank")] == ["bank.account", "bank.transaction"]
    assert registry.by_category("other") == []
    assert {d.category for d in registry} == {
        "energy",
        "bank",
        "mobility",
        "health",
        "calendar",
        "contacts",
        "papers",
        "service",
    }


def test_duplicate_registration_is_refused() -> None:
    registry = default_registry()
    with pytest.raises(ValueError, match="already registered"):
        registry.register(registry.get("bank.account"))


def test_unknown_doctype_suggests_close_names() -> None:
    with pytest.raises(UnknownDoctype) as caught:
        REGISTRY.get("bank.transactions")
    assert caught.value.extra["suggestions"][0] == "bank.transaction"
    assert "Did you mean 'bank.transaction'" in caught.value.detail
    assert isinstance(caught.value, InvalidInput)
    with pytest.raises(UnknownDoctype, match=r"'mobility\.trip'"):
        REGISTRY.get("trip")
    with pytest.raises(UnknownDoctype) as caught:
        REGISTRY.get("zzzz")
    assert caught.value.extra["suggestions"] == []
    assert "Known doctypes: bank.account" in caught.value.detail


def test_third_party_doctype_registers_like_builtins() -> None:
    from selfdata.doctypes.fields import DoctypeModel

    class Step(DoctypeModel):
        """Steps walked in a day."""

        day: str
        """The day."""
        steps: int
        """How many."""

    doctype = Doctype(
        name="fitness.steps",
        version=2,
        kind="record",
        model=Step,
        category="other",
        title={"fr": "Pas", "en": "Steps"},
        description={"fr": "Pas par jour.", "en": "Steps per day."},
        natural_key=("day",),
    )
    registry = DoctypeRegistry([doctype])
    assert registry.get("fitness.steps").validate({"day": "d", "steps": 3}) == {
        "day": "d",
        "steps": 3,
    }
    assert doctype.json_schema()["$id"] == "https://selfdata.org/schemas/fitness.steps/v2.json"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"name": "Bank.Thing"}, "dotted lower case"),
        ({"name": "thing"}, "dotted lower case"),
        ({"version": 0}, "version"),
        ({"time_field": "nope"}, "unknown field"),
        ({"natural_key": ("nope",)}, "unknown field"),
        ({"fallback_key": ("booked_on",), "natural_key": ()}, "fallback_key"),
        ({"kind": "series"}, "series"),
        ({"columns": ("amount",)}, "only series"),
        ({"title": {"fr": "Opération"}}, "title needs text for en"),
    ],
)
def test_malformed_declarations_are_refused(changes: dict[str, Any], problem: str) -> None:
    base = REGISTRY.get("bank.transaction")
    fields = {
        "name": base.name,
        "version": base.version,
        "kind": base.kind,
        "model": base.model,
        "category": base.category,
        "title": base.title,
        "description": base.description,
        "time_field": base.time_field,
        "natural_key": base.natural_key,
        "fallback_key": base.fallback_key,
    }
    with pytest.raises(ValueError, match=problem):
        Doctype(**{**fields, **changes})


def test_doctype_is_immutable() -> None:
    doctype = REGISTRY.get("bank.transaction")
    with pytest.raises(AttributeError):
        doctype.name = "bank.other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        doctype.title["en"] = "changed"  # type: ignore[index]


def test_export_schemas(tmp_path: Path) -> None:
    target = tmp_path / "schemas" / "nested"
    paths = REGISTRY.export_schemas(target)
    assert [p.name for p in paths] == [f"{d.name}.v{d.version}.schema.json" for d in ALL]
    for path, doctype in zip(paths, ALL, strict=True):
        text = path.read_text(encoding="utf-8")
        assert text.endswith("}\n")
        assert text.startswith('{\n  "$')  # pretty-printed
        schema = json.loads(text)
        assert list(schema) == sorted(schema)  # keys sorted
        assert schema == doctype.json_schema()
    assert "Opération bancaire" in (target / "bank.transaction.v1.schema.json").read_text("utf-8")


def test_papers_keep_no_plain_content_hash() -> None:
    fields = set(REGISTRY.get("paper.document").model.model_fields)
    assert not {f for f in fields if "hash" in f or "sha" in f or "md5" in f}


# --- documentation --------------------------------------------------------------------------------


def render_table(registry: DoctypeRegistry) -> str:
    """The table of built-in doctypes as it appears in docs/doctypes.md."""
    rows = [
        "| name | kind | category | time field | natural key (fallback) | description |",
        "|---|---|---|---|---|---|",
    ]
    for d in registry:
        key = ", ".join(d.natural_key) or "—"
        if d.fallback_key:
            key += f" ({', '.join(d.fallback_key)})"
        time_field = d.time_field or "—"
        if d.time_end_field:
            time_field += f" → {d.time_end_field}"
        rows.append(
            f"| `{d.name}` | {d.kind} | {d.category} | {time_field} | {key} "
            f"| {d.description['en']} |"
        )
    return "\n".join(rows)


def test_docs_mention_every_doctype() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [name for name in REGISTRY.names() if f"`{name}`" not in text]
    assert not missing, f"docs/doctypes.md does not mention {missing}"


def test_docs_table_is_up_to_date() -> None:
    text = DOCS.read_text(encoding="utf-8")
    start, end = "<!-- doctypes-table:start -->\n", "\n<!-- doctypes-table:end -->"
    assert start in text
    assert end in text
    table = text.split(start, 1)[1].split(end, 1)[0]
    expected = render_table(REGISTRY)
    assert table == expected, "replace the table in docs/doctypes.md with:\n" + expected


# --- speed -------------------------------------------------------------------------------------


def test_validation_throughput() -> None:
    """Import speed depends on this; the goal is >= 200,000 small transactions/s."""
    transaction = REGISTRY.get("bank.transaction")
    data = {
        "account_id": "FR76****0189",
        "booked_on": "2024-03-28",
        "amount": "-42.50",
        "currency": "EUR",
        "label": "CB CARREFOUR LYON 27/03",
        "transaction_id": "20240328-000123",
    }
    n = 50_000
    best = 0.0
    for _ in range(3):
        began = time.perf_counter()
        for _ in range(n):
            transaction.validate(data)
        best = max(best, n / (time.perf_counter() - began))
    print(f"\nbank.transaction validations: {best:,.0f}/s")
    # A loose floor so a slow CI box does not fail; the figure itself is printed above.
    assert best > 50_000
