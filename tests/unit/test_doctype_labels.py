"""Every field of every built-in doctype has words for people, in French and English."""

from __future__ import annotations

import types
import typing
from typing import Any

import jsonschema
import pytest

from selfdata.doctypes import Doctype
from selfdata.doctypes.bank import Transaction
from selfdata.doctypes.builtin import BUILTIN_DOCTYPES

ALL = list(BUILTIN_DOCTYPES)


@pytest.mark.parametrize("doctype", ALL, ids=lambda d: d.name)
def test_every_field_has_a_french_and_english_label(doctype: Doctype) -> None:
    for name in doctype.model.model_fields:
        assert name in doctype.labels, f"{doctype.name}: {name} has no label"
        fr, en = doctype.labels[name]
        assert fr.strip() and en.strip(), f"{doctype.name}: {name} lacks a language"
        assert doctype.field_label(name, "fr") == fr
        assert doctype.field_label(name, "en") == en


def _codes(annotation: Any) -> list[str]:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return [str(v) for v in typing.get_args(annotation)]
    if origin in (typing.Annotated, typing.Union, types.UnionType):
        return [c for a in typing.get_args(annotation) for c in _codes(a)]
    return []


@pytest.mark.parametrize("doctype", [d for d in ALL if d.kind == "record"], ids=lambda d: d.name)
def test_every_record_doctype_names_its_summary_fields(doctype: Doctype) -> None:
    assert 1 <= len(doctype.summary) <= 5  # the explorer's columns
    assert doctype.time_field not in doctype.summary  # it has its own "Date" column


@pytest.mark.parametrize("doctype", ALL, ids=lambda d: d.name)
def test_every_coded_value_has_words(doctype: Doctype) -> None:
    """Codes such as ``direct_debit`` are shown in words; unit symbols stay as they are."""
    for name, info in doctype.model.model_fields.items():
        codes = _codes(info.annotation)
        if not codes or name == "unit":
            continue
        words = doctype.choices.get(name, {})
        missing = [c for c in codes if c not in words]
        assert not missing, f"{doctype.name}.{name}: no words for {missing}"
        for code in codes:
            assert all(words[code]), f"{doctype.name}.{name}={code} lacks a language"
    assert doctype.value_label("nope", "x", "fr") == "x"


@pytest.mark.parametrize("doctype", ALL, ids=lambda d: d.name)
def test_labels_reach_the_json_schema(doctype: Doctype) -> None:
    schema = doctype.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    for name, spec in schema["properties"].items():
        assert spec["title"] == doctype.labels[name][1]
    assert schema["x-selfdata"]["labels_fr"] == {n: p[0] for n, p in doctype.labels.items()}


def _declare(labels: dict[str, tuple[str, str]]) -> Doctype:
    return Doctype(
        name="test.transaction",
        version=1,
        kind="record",
        model=Transaction,
        category="other",
        title={"fr": "Essai", "en": "Test"},
        description={"fr": "Essai", "en": "Test"},
        labels=labels,
    )


def test_a_label_for_an_unknown_field_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown field"):
        _declare({"ammount": ("Montant", "Amount")})


def test_choices_for_an_unknown_field_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown field"):
        Doctype(
            name="test.transaction",
            version=1,
            kind="record",
            model=Transaction,
            category="other",
            title={"fr": "Essai", "en": "Test"},
            description={"fr": "Essai", "en": "Test"},
            choices={"methode": {"card": ("Carte", "Card")}},
        )


def test_a_label_missing_a_language_is_refused() -> None:
    with pytest.raises(ValueError, match="French and English"):
        _declare({"amount": ("Montant", "")})


def test_a_field_without_label_is_shown_readably() -> None:
    doctype = _declare({"amount": ("Montant", "Amount")})
    assert doctype.field_label("amount", "fr") == "Montant"
    assert doctype.field_label("booked_on", "en") == "booked on"
