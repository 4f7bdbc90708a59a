"""Questions in service manifests: what a manifest may declare, and what the notice says."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import yaml

from selfdata.consent import build_notice
from selfdata.doctypes import default_registry
from selfdata.errors import ValidationFailed
from selfdata.services.manifest import load_manifest, validate_manifest
from tests.support.questions import WATT_WISE
from tests.support.services import EXAMPLE_MANIFEST


def _watt_wise(**question: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(WATT_WISE.read_text(encoding="utf-8"))
    data["questions"][0].update(question)
    return data


def _problem(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationFailed) as caught:
        validate_manifest(data, "m.yaml")
    return " ".join(e.message for e in caught.value.errors)


def test_example_manifest_loads_with_its_question() -> None:
    manifest = load_manifest(WATT_WISE)
    question = manifest.question("monthly-consumption")
    assert question.doctypes == ["energy.reading"] and question.max_answer_bytes == 2048
    assert question.window.days == 372


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"doctypes": ["bank.transaction"]}, "which no request asks for"),
        ({"builtin": "energy.overview"}, "either by `builtin` or by `sql`"),
        ({"sql": "DELETE FROM energy_reading"}, "one SELECT"),
        ({"sql": "SELECT 1; SELECT 2"}, "one statement"),
        ({"answer_schema": {"type": "nope"}}, "not a valid JSON Schema"),
        ({"answer_schema": None}, "needs an answer_schema"),
        ({"max_answer_bytes": 10_000_000}, "less than or equal"),
        ({"period": "12 months"}, "ISO 8601"),
        ({"purpose": "dpv:Marketing"}, "not a purpose of a request"),
        ({"name": "Bad Name"}, "pattern"),
    ],
)
def test_invalid_questions_are_refused_precisely(change: dict[str, Any], message: str) -> None:
    assert message in _problem(_watt_wise(**change))


def test_question_names_are_unique() -> None:
    data = _watt_wise()
    data["questions"].append(dict(data["questions"][0]))
    assert "unique" in _problem(data)


def test_manifests_without_questions_keep_their_digest_and_notice() -> None:
    manifest = load_manifest(EXAMPLE_MANIFEST)
    assert "questions" not in orjson.loads(manifest.canonical())
    notice = build_notice(manifest, default_registry())
    assert "questions" not in notice.content["en"]


def test_the_notice_shows_questions_in_plain_words() -> None:
    notice = build_notice(load_manifest(WATT_WISE), default_registry())
    (en,) = notice.content["en"]["questions"]
    assert en["description"] == "How much electricity did you use each month (kWh)?"
    assert en["summary"] == "Uses Meter reading — the last 12 months; answer of at most 2 KiB"
    text = notice.text("fr")
    assert "Questions que le service peut poser" in text
    assert "Combien d'électricité avez-vous consommé chaque mois (kWh) ?" in text
