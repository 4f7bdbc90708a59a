"""The built-in energy service end to end: registered from its packaged manifest,
consented by a citizen, its questions answered through the questions runtime on both
engines, with figures known by hand (tests/support/energy.py)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from selfdata.access import Actor, SpaceView
from selfdata.energy import questions as energy_questions
from selfdata.energy.reference import import_tariffs
from selfdata.errors import AccessDenied, ValidationFailed
from selfdata.platform import Platform
from selfdata.services import ServiceInfo, load_manifest
from tests.conftest import make_space
from tests.support.energy import METER, household_readings

QUESTIONS = (
    energy_questions.OverviewQuestion,
    energy_questions.PeriodQuestion,
    energy_questions.MonthlyReportQuestion,
    energy_questions.GesturesQuestion,
    energy_questions.AlertsQuestion,
)


@pytest.fixture
def energy_service(platform: Platform) -> ServiceInfo:
    # The entry points of an editable install refresh only on reinstall: add the
    # classes they name (tests/unit/test_energy.py checks pyproject declares them)
    # before registering, which checks every built-in the manifest names.
    for question in QUESTIONS:
        if question.name not in platform.questions.builtins:
            platform.questions.builtins.add(question)
    manifest = resources.files("selfdata.energy").joinpath("manifest.yaml")
    with resources.as_file(manifest) as path:
        platform.services.register(load_manifest(path))
    return platform.services.approve("selfdata-energy")


@pytest.fixture
def citizen(platform: Platform) -> SpaceView:
    alice = make_space(platform)
    meter = alice.put_records("energy.meter", [METER]).ids[0]
    stream = alice.create_stream("energy.reading", record_id=meter).id
    ts, wh = household_readings()
    alice.append_points(stream, ts, wh)
    alice.put_records(
        "energy.alert_rule",
        [{"kind": "electricity", "period": "day", "threshold": 14.3, "unit": "kWh"}],
    )
    return alice


def _service_view(
    platform: Platform, citizen: SpaceView, info: ServiceInfo, grants: list[str]
) -> SpaceView:
    record = citizen.give_consent(info, grants)
    actor = Actor("service", info.id, citizen.space_id, label="Mon énergie", consent_id=record.id)
    return platform.view(actor, citizen.space_id)


def test_energy_questions_answer_hand_computed_figures(
    platform: Platform, citizen: SpaceView, energy_service: ServiceInfo
) -> None:
    service = _service_view(platform, citizen, energy_service, ["meters", "alerts"])

    overview = platform.questions.run(service, "overview").value
    (meter,) = overview["meters"]
    # 2024: 8784 h × 250 W + 366 × 7000 Wh = 4 758 000 Wh; 2025: 8760 h × 300 W +
    # 365 × 7000 Wh = 5 183 000 Wh; 2026 (the clock says 1 March 2026): nothing.
    assert [y["total"] for y in meter["years"]] == [4_758_000, 5_183_000, None]
    assert meter["base_load"]["watts"] == 300.0
    assert [h["hour"] for h in meter["peak_hours"]["top"]] == [19, 20, 23]

    march = platform.questions.run(
        service, "period", {"period": "2025-03", "tariffs": {"electricity": "trve-base"}}
    ).value["meters"][0]
    # 743 h × 300 W + 31 × 7000 Wh = 439 900 Wh; March 2024: 402 750 Wh (+9.2 %)
    assert march["total"] == 439_900
    assert march["last_year"]["change_pct"] == 9.2
    assert (march["previous"], march["next"]) == ("2025-02", "2025-04")
    # Shipped tariff of 1 February 2025 — Base 0.2016 €/kWh: 439.9 × 0.2016 = 88.68384 €;
    # 9 kVA: 17.27 × 12 × 31 / 365 = 17.60120… €; total 106.28505 € → 10 629 cents
    assert march["cost"]["energy_cents"] == 8_868
    assert march["cost"]["subscription_cents"] == 1_760
    assert march["cost"]["total_cents"] == 10_629

    report = platform.questions.run(service, "monthly-report", {"month": "2025-10"}).value
    october = report["meters"][0]
    # 745 h × 300 W + 31 × 7000 = 440 500 Wh; September 426 000; October 2024:
    # 745 h × 250 W + 217 000 = 403 250 Wh
    assert october["total"] == 440_500
    assert october["previous_month"]["total"] == 426_000
    assert october["last_year"]["total"] == 403_250
    assert report["gestures"][0]["id"] == "standby-off"

    alerts = platform.questions.run(service, "alerts", {"days": 400}).value["alerts"]
    assert [e["period"] for e in alerts[0]["exceeded"]] == ["2025-10-26"]  # 14.5 kWh

    gestures = platform.questions.run(service, "gestures", {"limit": 2}).value["gestures"]
    assert len(gestures) == 2

    # The citizen's log holds each answer; the service never read a raw reading.
    events = citizen.access_log(limit=200, match={"actor_id": "selfdata-energy"})
    asked = {e.event.detail.get("question") for e in events if e.event.action == "question"}
    assert asked == {"overview", "period", "monthly-report", "alerts", "gestures"}
    with pytest.raises(AccessDenied):
        service.read_points(service.streams("energy.reading")[0].id)


def test_alerts_need_their_own_consent(
    platform: Platform, citizen: SpaceView, energy_service: ServiceInfo
) -> None:
    service = _service_view(platform, citizen, energy_service, ["meters"])
    with pytest.raises(AccessDenied):
        platform.questions.run(service, "alerts")


def test_operator_tariffs_apply_and_bad_params_are_refused(
    platform: Platform, citizen: SpaceView, energy_service: ServiceInfo, tmp_path: Path
) -> None:
    tariffs = tmp_path / "tariffs.yaml"
    tariffs.write_text(
        "version: 1\ntariffs:\n"
        "  - {id: flat, energy: electricity, option: base, name: {fr: Fixe, en: Flat},\n"
        '     valid_from: 2020-01-01, prices: {base: "0.10"}}\n',
        "utf-8",
    )
    import_tariffs(platform.settings.home, tariffs)
    service = _service_view(platform, citizen, energy_service, ["meters"])
    march = platform.questions.run(service, "period", {"period": "2025-03"}).value["meters"][0]
    assert march["cost"]["tariff"] == "flat"
    assert march["cost"]["total_cents"] == 4_399  # 439.9 kWh × 0.10 € = 43.99 €
    with pytest.raises(ValidationFailed):
        platform.questions.run(service, "period", {"period": "March"})


def test_operator_commands(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from selfdata.cli import app

    runner = CliRunner()
    home = tmp_path / "instance"

    def cli(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["--home", str(home), *args])
        return result.exit_code, result.output

    def words(text: str) -> str:  # Rich wraps long lines at the terminal's width
        return " ".join(text.split())

    assert cli("init")[0] == 0
    code, out = cli("energy", "tariffs", "show")
    assert code == 0
    assert "trve-tempo" in out
    assert "package" in out
    assert "indicative, see their source in the file: trve-hphc (2025-02-01)" in words(out)
    sample = Path(__file__).resolve().parents[1] / "samples" / "energy" / "meteo-france-daily.csv"
    code, out = cli("energy", "degree-days", "import", str(sample), "--station", "Lyon-Bron")
    assert code == 0
    assert "5 days imported; 5 days of degree-days known" in words(out)
    code, out = cli("energy", "degree-days", "show")
    assert "43.0" in out  # January 2025: 16.5 + 14.5 + 12.0
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ntariffs:\n  - {id: x, energy: gas, option: hphc}\n", "utf-8")
    code, out = cli("energy", "tariffs", "import", str(bad))
    assert code == 1
    assert "bad.yaml is not a valid tariff file" in words(out)
    assert "tariffs[0].prices: Field required" in words(out)
    assert not (home / "reference" / "tariffs.yaml").exists()
    tempo = tmp_path / "tempo.csv"
    tempo.write_text("date;couleur\n2025-01-15;rouge\n", "utf-8")
    assert cli("energy", "tempo", "import", str(tempo)) == (0, "✓ 1 Tempo days known\n")
    code, out = cli("energy", "manifest")
    assert "id: selfdata-energy" in out
