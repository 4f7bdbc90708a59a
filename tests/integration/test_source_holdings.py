"""``SpaceView.source_holdings``: what each import still holds (the rights page's list
of imports to erase), on SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pytest

from selfdata.access import Actor
from selfdata.doctypes.examples import EXAMPLES
from selfdata.errors import AccessDenied
from selfdata.platform import Platform
from tests.conftest import make_space


def _tx(n: int) -> dict[str, str]:
    return dict(EXAMPLES["bank.transaction"], transaction_id=f"T-{n}")


def test_holdings_count_records_points_per_source(platform: Platform) -> None:
    alice = make_space(platform)
    bank = alice.register_source("import", {"importer": "bank-csv", "filename": "b.csv"})
    meter = alice.register_source("import", {"importer": "enedis", "filename": "m.csv"})
    alice.put_records("bank.transaction", [_tx(1), _tx(2)], source_id=bank.id)
    alice.put_records("bank.account", [EXAMPLES["bank.account"]])  # no source: not listed
    stream = alice.create_stream("energy.reading", meta={"unit": "Wh"}, source_id=meter.id)
    alice.append_points(stream.id, np.array([1_700_000_000, 1_700_001_800]), np.array([1.0, 2.0]))
    alice.put_records("service.answer", [EXAMPLES["service.answer"]], source_id="service:x")

    held = {h.source_id: h for h in alice.source_holdings()}
    assert set(held) == {bank.id, meter.id}  # neither "no source" nor a service's answers
    assert held[bank.id].records == {"bank.transaction": 2} and held[bank.id].points == {}
    assert held[bank.id].detail["filename"] == "b.csv"
    assert held[meter.id].points == {"energy.reading": 2} and held[meter.id].records == {}
    assert held[meter.id].created_at is not None

    alice.erase_source(bank.id)
    assert [h.source_id for h in alice.source_holdings()] == [meter.id]


def test_holdings_are_the_citizens_own(platform: Platform) -> None:
    alice = make_space(platform)
    service = platform.view(Actor("service", "energy-coach"), alice.space_id, "service")
    with pytest.raises(AccessDenied):
        service.source_holdings()
