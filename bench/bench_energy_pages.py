"""Server-side render time of the energy pages (« Mon énergie », issue 7: < 200 ms).

A space holds a year of the demo household's meters (``selfdata.demo.energy``: the
half-hourly Linky load curve, 17,520 points, daily gas and water) and a consent to the
built-in ``selfdata-energy`` service. Each page is requested in-process through the whole
app: session, consent lookup, the energy questions asked through the questions runtime
as the service (gate, decryption, computation, answer checks, audit, the citizen's
sealed copy), Jinja and Babel. Median of N runs after a warm-up.
"""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta
from importlib import resources

from _common import Config, Figure, Target, instance, median_page_ms
from selfdata.demo import energy as demo_energy
from selfdata.demo.life import PARIS, Life
from selfdata.energy import questions as energy_questions
from selfdata.services import load_manifest
from selfdata.web import create_app
from selfdata.web.auth import COOKIE

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

__all__ = ["run"]

TARGET = Target("<", 200)
_QUESTIONS = (
    energy_questions.OverviewQuestion,
    energy_questions.PeriodQuestion,
    energy_questions.MonthlyReportQuestion,
    energy_questions.GesturesQuestion,
    energy_questions.AlertsQuestion,
)


def run(config: Config) -> list[Figure]:
    days = config.pick(365, 60)
    runs = config.pick(9, 3)
    with instance(config) as bench:
        platform = bench.platform
        view = bench.new_space("energy-pages")
        last = datetime.now(PARIS).date() - timedelta(days=1)
        life = Life(2024, last - timedelta(days=days - 1), last)
        demo_energy.write(view, life, demo_energy.generate(life, life.start, last), lambda: None)
        for question in _QUESTIONS:  # entry points of a stale editable install
            if question.name not in platform.questions.builtins:
                platform.questions.builtins.add(question)
        with resources.as_file(resources.files("selfdata.energy") / "manifest.yaml") as path:
            platform.services.register(load_manifest(path))  # checks the built-ins it names
        service = platform.services.approve("selfdata-energy")
        view.give_consent(service, ["meters", "alerts"])
        view.put_records(
            "energy.alert_rule",
            [{"kind": "electricity", "period": "day", "threshold": 12, "unit": "kWh"}],
        )
        account = platform.directory.account_for_space(view.space_id)
        session = platform.sessions.issue(account.id, "session", 3600, label="bench")
        points = max(s.points for s in view.streams("energy.reading"))
        pages = {
            "overview (month by day)": "/energy",
            "a day by half-hour": f"/energy?kind=electricity&period={last.isoformat()}",
            "a year by month": f"/energy?kind=electricity&period={last.year}",
            "monthly report and gestures": "/energy/report",
            "alerts": "/energy/alerts",
        }
        figures = []
        with TestClient(create_app(platform)) as client:
            client.cookies.set(COOKIE, session.secret)
            for name, path in pages.items():
                figures.append(
                    Figure(
                        f"energy page: {name}",
                        median_page_ms(client, path, runs, warm_check="data-state"),
                        "ms",
                        f"median of {runs}",
                        TARGET,
                        f"{days} days of 3 meters, {points:,} load-curve points",
                    )
                )
        return figures
