"""Server-side render time of the web app's main pages (issue 6: < 200 ms each).

A space holds a year of the demo household's life (``selfdata.demo``: load curve, bank,
mobility, health, papers, calendar, contacts) and one consent. Each page is requested
in-process through the whole app (routing, session, the gate's audited reads, Jinja,
Babel formatting) — what the server spends before the first byte leaves; the network
and the browser's rendering are not counted. Median of N runs after a warm-up.
"""

from __future__ import annotations

import time
import warnings
from datetime import date
from pathlib import Path

from _common import Config, Figure, Target, expect, instance, median_page_ms
from selfdata.demo import populate
from selfdata.services import load_manifest
from selfdata.web import create_app
from selfdata.web.auth import COOKIE

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

__all__ = ["run"]

MANIFEST = Path(__file__).resolve().parents[1] / "examples" / "services" / "energy-coach.yaml"
TARGET = Target("<", 200)


def run(config: Config) -> list[Figure]:
    days = config.pick(365, 60)
    runs = config.pick(9, 3)
    with instance(config) as bench:
        platform = bench.platform
        view = bench.new_space("pages")
        populate(view, end=date(2025, 12, 31), days=days)
        platform.services.register(load_manifest(MANIFEST))
        service = platform.services.approve("energy-coach")
        view.give_consent(service, ["load-curve"])
        account = platform.directory.account_for_space(view.space_id)
        session = platform.sessions.issue(account.id, "session", 3600, label="bench")
        transaction = next(view.iter_records("bank.transaction")).id
        stream = next(
            s
            for s in view.streams("energy.reading")
            if s.points == max(x.points for x in view.streams("energy.reading"))
        )
        pages = {
            "dashboard": "/data",
            "explorer (bank.transaction)": "/data/bank.transaction",
            "explorer search": "/data/bank.transaction?field=label&q=CARTE",
            "record detail": f"/data/bank.transaction/{transaction}",
            "chart by day (92 days)": f"/data/energy.reading/{stream.id}?every=day",
            "chart by month": f"/data/energy.reading/{stream.id}?every=month",
            "services and consents": "/services",
            "access log": "/log",
            "rights": "/rights",
            "add data": "/add",
        }
        figures = []
        with TestClient(create_app(platform)) as client:
            client.cookies.set(COOKIE, session.secret)
            for name, path in pages.items():
                figures.append(
                    Figure(
                        f"page render: {name}",
                        median_page_ms(client, path, runs),
                        "ms",
                        f"median of {runs}",
                        TARGET,
                        f"{days} days of demo data, {stream.points:,} points in the series",
                    )
                )
            # A long-lived space: the log has grown (each read below is one event).
            grown = config.pick(20_000, 2_000)
            while (view.access_log(limit=1) or [None])[0].seq < grown:  # type: ignore[union-attr]
                for _ in range(1000):
                    view.get_record(transaction)
            for name, path, target in (
                ("dashboard", "/data", TARGET),
                ("access log", "/log", TARGET),
                ("access log, filter matching few events", "/log?outcome=denied", None),
            ):
                figures.append(
                    Figure(
                        f"page render with {grown:,} log events: {name}",
                        median_page_ms(client, path, runs),
                        "ms",
                        f"median of {runs}",
                        target,
                        "sealed events are decrypted until 50 match" if target is None else "",
                    )
                )
            start = time.perf_counter()
            verified = client.get("/log/verify")
            expect("intact" in verified.text, "the log did not verify")
            figures.append(
                Figure(
                    "log verification page (export, sign, check)",
                    round((time.perf_counter() - start) * 1000, 1),
                    "ms",
                    "one run",
                    note="an action rather than a page: signs a checkpoint, re-hashes the log",
                )
            )
        return figures
