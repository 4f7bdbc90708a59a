"""Time series over HTTP: create, append (rows and columns), read raw and by day, formats."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from selfdata.doctypes.examples import EXAMPLES
from tests.http.conftest import API, Headers, TestClient

# January: Europe/Paris is UTC+1 all month, so local days are 23:00Z to 23:00Z.
START = datetime(2024, 1, 10, tzinfo=UTC) - timedelta(hours=1)


def new_stream(client: TestClient, headers: Headers) -> str:
    meter = client.post(
        f"{API}/records/energy.meter", json=EXAMPLES["energy.meter"], headers=headers
    )
    response = client.post(
        f"{API}/series",
        json={
            "doctype": "energy.reading",
            "record_id": meter.json()["ids"][0],
            "meta": {"unit": "W"},
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["columns"] == ["value"]
    return str(response.json()["id"])


def two_days(client: TestClient, headers: Headers, stream_id: str) -> list[float]:
    """96 half-hourly readings over two local days; returns the values."""
    values = [float(i) for i in range(96)]
    points = [
        {"time": (START + timedelta(minutes=30 * i)).isoformat(), "value": v}
        for i, v in enumerate(values)
    ]
    response = client.post(
        f"{API}/series/{stream_id}/points", json={"points": points}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"received": 96, "gained": 96}
    return values


def test_append_and_aggregate_by_day(client: TestClient, alice: Headers) -> None:
    stream_id = new_stream(client, alice)
    values = two_days(client, alice, stream_id)
    response = client.get(
        f"{API}/series/{stream_id}/points", params={"every": "day", "how": "sum"}, headers=alice
    )
    assert response.status_code == 200
    body = response.json()
    assert body["every"] == "day" and body["how"] == "sum" and body["columns"] == ["value"]
    sums = [row["value"] for row in body["points"]]
    assert sums == [sum(values[:48]), sum(values[48:])]
    assert [row["count"] for row in body["points"]] == [48, 48]
    assert body["points"][0]["time"] == START.isoformat()  # local midnight, in UTC

    mean = client.get(
        f"{API}/series/{stream_id}/points",
        params={"every": "day", "how": "mean", "start": "2024-01-10T12:00:00+01:00"},
        headers=alice,
    ).json()
    assert mean["points"][-1]["value"] == sum(values[48:]) / 48

    listed = client.get(f"{API}/series", params={"doctype": "energy.reading"}, headers=alice).json()
    assert [(s["id"], s["points"]) for s in listed] == [(stream_id, 96)]


def test_columnar_append_merges_and_raw_read(client: TestClient, alice: Headers) -> None:
    stream_id = new_stream(client, alice)
    times = [int((START + timedelta(hours=i)).timestamp()) for i in range(3)]
    first = client.post(
        f"{API}/series/{stream_id}/points",
        json={"time": times, "value": [1.0, None, 3.0]},
        headers=alice,
    )
    assert first.json() == {"received": 3, "gained": 3}
    again = client.post(
        f"{API}/series/{stream_id}/points", json={"time": times[2:], "value": [30.0]}, headers=alice
    )
    assert again.json() == {"received": 1, "gained": 0}  # a known time takes the new value
    raw = client.get(f"{API}/series/{stream_id}/points", headers=alice).json()
    assert raw["every"] == "raw" and raw["how"] is None
    assert [p["value"] for p in raw["points"]] == [1.0, None, 30.0]


def test_csv_and_arrow_formats(client: TestClient, alice: Headers) -> None:
    stream_id = new_stream(client, alice)
    values = two_days(client, alice, stream_id)
    url = f"{API}/series/{stream_id}/points"

    text = client.get(url, params={"format": "csv"}, headers=alice)
    assert text.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text.text)))
    assert len(rows) == 96
    assert float(rows[5]["value"]) == values[5]

    arrow = client.get(url, params={"format": "arrow", "every": "day"}, headers=alice)
    assert arrow.headers["content-type"] == "application/vnd.apache.arrow.stream"
    table = pa.ipc.open_stream(arrow.content).read_all()
    assert table.column_names == ["time", "value", "count"]
    assert table.column("value").to_pylist() == [sum(values[:48]), sum(values[48:])]
    assert table.column("time").type == pa.timestamp("s", "UTC")

    raw = pa.ipc.open_stream(client.get(url, params={"format": "arrow"}, headers=alice).content)
    assert raw.read_all().num_rows == 96


def test_raw_reads_are_capped(
    client: TestClient, alice: Headers, set_limits: Callable[..., None]
) -> None:
    stream_id = new_stream(client, alice)
    two_days(client, alice, stream_id)
    set_limits(max_series_points=50)
    url = f"{API}/series/{stream_id}/points"
    refused = client.get(url, headers=alice)
    assert refused.status_code == 400
    assert "aggregate" in refused.json()["detail"]
    assert (
        client.get(url, params={"end": "2024-01-10T12:00:00+01:00"}, headers=alice).status_code
        == 200
    )
    assert client.get(url, params={"every": "hour"}, headers=alice).status_code == 200


def test_invalid_points_are_located_and_nothing_is_written(
    client: TestClient, alice: Headers
) -> None:
    stream_id = new_stream(client, alice)
    bad: dict[str, Any] = {
        "points": [
            {"time": "2024-01-10T00:00:00+01:00", "value": 1.0},
            {"time": "yesterday", "value": 2.0},
            {"time": "2024-01-10T01:00:00+01:00", "value": "3"},
            {"value": 4.0},
            {"time": "2024-01-10T02:00:00+01:00", "watts": 5.0},
            7,
        ]
    }
    response = client.post(f"{API}/series/{stream_id}/points", json=bad, headers=alice)
    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == [
        "points[1].time",
        "points[2].value",
        "points[3].time",
        "points[4].watts",
        "points[5]",
    ]
    columns = client.post(
        f"{API}/series/{stream_id}/points", json={"time": [1, 2], "value": [1.0]}, headers=alice
    )
    assert columns.status_code == 422
    assert columns.json()["errors"][0]["field"] == "value"
    listed = client.get(f"{API}/series", headers=alice).json()
    assert listed[0]["points"] == 0


def test_series_refusals(client: TestClient, alice: Headers, bob: Headers) -> None:
    stream_id = new_stream(client, alice)
    url = f"{API}/series/{stream_id}/points"
    assert client.get(url, headers=bob).status_code == 404
    assert client.post(url, json={"time": [1], "value": [1.0]}, headers=bob).status_code == 404
    assert client.get(url, params={"every": "week"}, headers=alice).status_code == 400
    assert client.get(url, params={"format": "xml"}, headers=alice).status_code == 400
    assert (
        client.get(
            url, params={"start": "2024-02-01", "end": "2024-01-01"}, headers=alice
        ).status_code
        == 400
    )
    record_doctype = client.post(
        f"{API}/series", json={"doctype": "bank.transaction"}, headers=alice
    )
    assert record_doctype.status_code == 400
    unknown = client.post(f"{API}/series", json={"doctype": "energy.nope"}, headers=alice)
    assert unknown.status_code == 404
    assert client.delete(f"{API}/series/{stream_id}", headers=bob).status_code == 404
    assert client.delete(f"{API}/series/{stream_id}", headers=alice).status_code == 204
    assert client.get(url, headers=alice).status_code == 404
