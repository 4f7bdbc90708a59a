"""A registered, approved question-asking service, its data, and test plugins."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import yaml

from selfdata.access import Actor, SpaceView
from selfdata.consent import ConsentRecord
from selfdata.doctypes.examples import EXAMPLES
from selfdata.platform import Platform
from selfdata.questions import BuiltinQuestion, QuestionData
from selfdata.services import ServiceInfo
from selfdata.services.manifest import validate_manifest

WATT_WISE = Path(__file__).resolve().parents[2] / "examples" / "watt-wise" / "manifest.yaml"
PURPOSE = "dpv:ServiceProvision"

_ROWS: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["month", "kwh"],
        "properties": {"month": {"type": "string"}, "kwh": {"type": "number"}},
    },
}
_ANY_ROWS: dict[str, Any] = {"type": "array"}


def _sql(name: str, sql: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "description": {"fr": f"Question {name}", "en": f"Question {name}"},
        "doctypes": extra.pop("doctypes", ["energy.reading"]),
        "sql": sql,
        "answer_schema": extra.pop("answer_schema", _ANY_ROWS),
        "max_answer_bytes": extra.pop("max_answer_bytes", 1_000_000),
        **extra,
    }


def _builtin(name: str, plugin: str, doctypes: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "description": {"fr": f"Question {name}", "en": f"Question {name}"},
        "doctypes": doctypes,
        "builtin": plugin,
    }


def questions_manifest() -> dict[str, Any]:
    """watt-wise with a second (optional) request and many questions, good and bad."""
    data: dict[str, Any] = yaml.safe_load(WATT_WISE.read_text(encoding="utf-8"))
    data["requests"].append(
        {
            "id": "spending",
            "doctypes": ["bank.transaction"],
            "operations": ["derive"],
            "period": "P3M",
            "purposes": [PURPOSE],
            "explanation": {"fr": "Vos dépenses d'énergie.", "en": "Your energy spending."},
        }
    )
    data["questions"] += [
        _sql("raw-dump", "SELECT time, value FROM energy_reading", answer_schema=_ROWS),
        _sql("too-big", "SELECT ts FROM energy_reading", max_answer_bytes=1000),
        _sql(
            "energy-spending",
            "SELECT count(*) AS n FROM bank_transaction",
            doctypes=["bank.transaction"],
            period="P3M",
        ),
        _sql("five-years", "SELECT count(*) AS n FROM energy_reading", period="P5Y"),
        _sql("undeclared-table", "SELECT count(*) AS n FROM bank_transaction"),
        _sql("read-file", "SELECT * FROM read_csv('/etc/passwd')"),
        _sql("fetch-url", "SELECT * FROM read_parquet('http://127.0.0.1:9/data.parquet')"),
        _sql(
            "forever",
            "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) "
            "SELECT count(*) AS n FROM r",
        ),
        _sql(
            "cross-join",
            "SELECT sum(a.value * b.range * c.range) AS n "
            "FROM energy_reading a, range(1000000) b, range(1000000) c",
        ),
        _sql("memory-hog", "SELECT string_agg(repeat('x', 1000), '') AS s FROM range(1000000)"),
        _sql(
            "above",
            "SELECT count(*) AS n FROM energy_reading WHERE value > $threshold",
            params_schema={
                "type": "object",
                "additionalProperties": False,
                "required": ["threshold"],
                "properties": {"threshold": {"type": "number", "minimum": 0}},
            },
        ),
        _builtin("peak", "test.peak", ["energy.meter", "energy.reading"]),
        _builtin("sneaky", "test.sneaky", ["energy.reading"]),
        _builtin("leaky", "test.leaky", ["energy.reading"]),
    ]
    return data


class Peak(BuiltinQuestion):
    """The highest reading and the meter's subscribed power."""

    name: ClassVar[str] = "test.peak"
    version: ClassVar[str] = "1"
    description: ClassVar[Mapping[str, str]] = {"fr": "Pic", "en": "Peak"}
    doctypes: ClassVar[tuple[str, ...]] = ("energy.meter", "energy.reading")
    params_schema: ClassVar[dict[str, Any]] = {"type": "object", "additionalProperties": False}
    answer_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["peak_w", "kva", "points"],
        "additionalProperties": False,
        "properties": {
            "peak_w": {"type": "number"},
            "kva": {"type": ["number", "null"]},
            "points": {"type": "integer"},
        },
    }
    max_answer_bytes: ClassVar[int] = 200

    def answer(self, data: QuestionData, params: Mapping[str, Any]) -> Any:
        (series,) = data.series("energy.reading")
        # NumPy scalars, as plugins compute them: the runner turns them into JSON.
        return {
            "peak_w": series.values[:, 0].max(),
            "kva": series.record.get("subscribed_power_kva"),
            "points": np.int64(series.ts.shape[0]),
        }


class Sneaky(Peak):
    """Tries to read bank transactions it did not declare."""

    name: ClassVar[str] = "test.sneaky"
    doctypes: ClassVar[tuple[str, ...]] = ("energy.reading",)

    def answer(self, data: QuestionData, params: Mapping[str, Any]) -> Any:
        return len(list(data.records("bank.transaction")))


class Leaky(Peak):
    """Answers the raw readings instead of a summary."""

    name: ClassVar[str] = "test.leaky"
    doctypes: ClassVar[tuple[str, ...]] = ("energy.reading",)
    max_answer_bytes: ClassVar[int] = 1_000_000

    def answer(self, data: QuestionData, params: Mapping[str, Any]) -> Any:
        (series,) = data.series("energy.reading")
        return [
            {"t": int(t), "w": float(v)}
            for t, v in zip(series.ts, series.values[:, 0], strict=True)
        ]


def register_watt_wise(platform: Platform, manifest: dict[str, Any] | None = None) -> ServiceInfo:
    # Installed first: registration refuses a manifest naming a built-in it cannot find.
    for plugin in (Peak, Sneaky, Leaky):
        platform.questions.builtins.add(plugin)
    platform.services.register(validate_manifest(manifest or questions_manifest(), "test"))
    return platform.services.approve("watt-wise")


def load_curve(citizen: SpaceView) -> str:
    """A meter and half-hourly 1,000 W readings all February 2026 (Paris time), plus one
    old day (January 2025, outside a 12-month consent). Returns the stream id."""
    meter = citizen.put_records("energy.meter", [EXAMPLES["energy.meter"]]).ids[0]
    stream = citizen.create_stream("energy.reading", record_id=meter).id
    feb = int(datetime(2026, 1, 31, 23, tzinfo=UTC).timestamp())  # February in Paris
    old = int(datetime(2025, 1, 10, tzinfo=UTC).timestamp())
    ts = np.concatenate([np.arange(old, old + 86400, 1800), np.arange(feb, feb + 28 * 86400, 1800)])
    citizen.append_points(stream, ts, np.full(ts.shape[0], 1000.0))
    return stream


def consent_view(
    platform: Platform, citizen: SpaceView, info: ServiceInfo, grants: list[str] | None = None
) -> tuple[SpaceView, ConsentRecord]:
    """The citizen consents; the service's view, bound to that consent like its token."""
    record = citizen.give_consent(info, grants or ["consumption"])
    actor = Actor("service", info.id, citizen.space_id, label="Watt Wise", consent_id=record.id)
    return platform.view(actor, citizen.space_id), record
