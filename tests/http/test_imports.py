"""Imports over HTTP: upload, background jobs, progress events, isolation, problems."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from selfdata.platform import Platform
from tests.conftest import PASSWORD
from tests.http.conftest import API, Headers, TestClient, login, serving
from tests.samples.enedis import load_curve_csv

URL = f"{API}/imports"
SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "enedis"
MARCH = (SAMPLES / "load_curve_dst_march_utf8bom.csv").read_bytes()
DAILY = (SAMPLES / "daily_consumption_cp1252.csv").read_bytes()

pytestmark = pytest.mark.timeout(120)


def upload(
    client: TestClient,
    headers: Headers,
    *files: tuple[str, bytes],
    data: dict[str, Any] | None = None,
) -> Any:
    return client.post(
        URL,
        headers=headers,
        files=[("file", (name, content, "text/csv")) for name, content in files],
        data=data or {},
    )


def finished(client: TestClient, headers: Headers, href: str, seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        job = client.get(href, headers=headers).json()
        if job["state"] in ("done", "refused", "failed"):
            return job
        assert time.monotonic() < deadline, f"job still {job['state']}"
        time.sleep(0.05)


def points(platform: Platform, space: str = "alice") -> int:
    view = platform.citizen_view(space)
    return sum(s.count for s in view.summary() if s.kind == "series")


def test_upload_then_poll_until_done(
    app: FastAPI, client: TestClient, alice: Headers, platform: Platform
) -> None:
    response = upload(client, alice, ("Enedis_Conso_Heure.csv", MARCH))
    assert response.status_code == 202, response.text
    (job,) = response.json()["items"]
    assert response.headers["location"] == f"{URL}/{job['id']}" == job["href"]
    assert job["state"] in ("queued", "validating", "writing", "done")
    assert job["filename"] == "Enedis_Conso_Heure.csv" and job["bytes_total"] == len(MARCH)

    job = finished(client, alice, job["href"])
    assert job["state"] == "done" and job["progress"] == 1.0 and job["error"] is None
    report = job["report"]
    assert report["importer"] == job["importer"] == "enedis.load_curve"
    assert report["refused"] is False and report["rejected"] == []
    assert report["counts"]["energy.reading"]["points_gained"] == 2 * 48 - 2
    assert report["counts"]["energy.meter"]["created"] == 1
    assert {
        "filename", "importer", "importer_version", "refused", "source_id",
        "source_existed", "counts", "rejected", "rejected_total", "seconds",
    } <= set(report)  # ImportReport.as_dict()  # fmt: skip
    assert points(platform) == 2 * 48 - 2
    # The encrypted spool the upload waited in is gone with its key.
    jobs = app.state.import_jobs
    assert jobs.get(platform.citizen_view("alice"), job["id"]).spool.closed
    # The listing shows it; importing the same file again gains nothing.
    assert [j["id"] for j in client.get(URL, headers=alice).json()["items"]] == [job["id"]]
    (again,) = upload(client, alice, ("copy.csv", MARCH)).json()["items"]
    again = finished(client, alice, again["href"])
    assert again["report"]["source_existed"] is True
    assert again["report"]["counts"]["energy.reading"]["points_gained"] == 0
    assert points(platform) == 2 * 48 - 2


def test_several_files_at_once_with_options(
    client: TestClient, alice: Headers, platform: Platform
) -> None:
    response = upload(
        client, alice, ("march.csv", MARCH), ("daily.csv", DAILY), data={"skip_invalid": "true"}
    )
    assert response.status_code == 202, response.text
    jobs = response.json()["items"]
    assert [j["filename"] for j in jobs] == ["march.csv", "daily.csv"]
    assert all(j["skip_invalid"] for j in jobs)
    done = [finished(client, alice, j["href"]) for j in jobs]
    assert [j["importer"] for j in done] == ["enedis.load_curve", "enedis.daily_consumption"]
    assert [j["state"] for j in done] == ["done", "done"]
    assert points(platform) == 2 * 48 - 2 + 10


def test_events_stream_progress_then_the_end(client: TestClient, alice: Headers) -> None:
    # Two files of one space run one after the other: the second is still waiting (or
    # running) when its stream opens, so the stream shows progress before the end.
    big = load_curve_csv(date(2023, 1, 1), date(2024, 1, 1))
    response = upload(client, alice, ("year.csv", big), ("march.csv", MARCH))
    second = response.json()["items"][1]
    with client.stream("GET", second["events"], headers=alice) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        text = "".join(stream.iter_text())
    events = [_parse(block) for block in text.strip().split("\n\n") if block.strip()]
    names = [name for name, _ in events]
    assert names[-1] == "end" and names.count("end") == 1
    assert names[0] == "progress", names
    fractions = [data["progress"] for name, data in events if name == "progress"]
    assert fractions == sorted(fractions) and all(0 <= f < 1 for f in fractions)
    final = events[-1][1]
    assert final["state"] == "done" and final["progress"] == 1.0
    assert final["report"]["counts"]["energy.reading"]["points_gained"] == 2 * 48 - 2
    # The stream of a finished job: only its end.
    with client.stream("GET", second["events"], headers=alice) as stream:
        again = "".join(stream.iter_text())
    assert [_parse(b)[0] for b in again.strip().split("\n\n")] == ["end"]


def _parse(block: str) -> tuple[str, Any]:
    fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
    return fields["event"], orjson.loads(fields["data"])


def test_jobs_are_invisible_to_other_citizens(
    client: TestClient, alice: Headers, bob: Headers, platform: Platform
) -> None:
    (job,) = upload(client, alice, ("march.csv", MARCH)).json()["items"]
    for path in (job["href"], job["events"]):
        response = client.get(path, headers=bob)
        assert response.status_code == 404
        assert response.json()["type"].endswith("/not-found")
    assert client.get(URL, headers=bob).json()["items"] == []
    finished(client, alice, job["href"])
    assert points(platform, "bob") == 0


def test_a_refused_file_reports_its_lines_and_writes_nothing(
    client: TestClient, alice: Headers, platform: Platform
) -> None:
    lines = MARCH.split(b"\n")
    lines[5] = lines[5].split(b";")[0] + b";douze"  # line 6: not a number
    (job,) = upload(client, alice, ("bad.csv", b"\n".join(lines))).json()["items"]
    job = finished(client, alice, job["href"])
    assert job["state"] == "refused"
    report = job["report"]
    assert report["refused"] is True and report["source_id"] is None
    assert report["rejected_total"] == 1
    (problem,) = report["rejected"]
    assert problem["line"] == 6 and problem["field"] == "Valeur" and "douze" in problem["message"]
    assert platform.citizen_view("alice").summary() == []


def test_a_file_that_cannot_be_read_fails_with_its_problem(
    client: TestClient, alice: Headers
) -> None:
    # Recognised as a load curve from its head, broken further down (no data header).
    broken = b"\n".join(MARCH.split(b"\n")[:2]) + b"\nnot;the;expected;header\n"
    (job,) = upload(client, alice, ("broken.csv", broken)).json()["items"]
    job = finished(client, alice, job["href"])
    if job["state"] == "failed":
        assert job["error"]["code"] == "import-failed" and job["error"]["detail"]
    else:  # the importer may read it as a refused file instead: never a crash
        assert job["state"] == "refused" and job["report"]["rejected"]


@pytest.mark.parametrize(
    ("files", "data", "status", "slug", "words"),
    [
        ([("m.csv", MARCH)], {"format": "nope"}, 400, "unknown-format", "known formats"),
        ([("x.bin", b"\x00\x01 not an export")], {}, 400, "unknown-format", "x.bin"),
        ([], {"format": "enedis.load_curve"}, 400, "invalid-input", "nothing to import"),
        ([("m.csv", MARCH)], {"option": "colour=red"}, 400, "invalid-input", "no option colour"),
        ([("m.csv", MARCH)], {"skip_invalid": "perhaps"}, 400, "invalid-input", "true or false"),
        ([("m.csv", MARCH)], {"colour": "red"}, 400, "invalid-input", "unexpected form field"),
        ([("m.csv", MARCH)] * 21, {}, 400, "invalid-input", "at most 20 files"),
    ],
    ids=[
        "unknown-format",
        "unrecognised",
        "no-file",
        "unknown-option",
        "bad-flag",
        "unexpected-field",
        "too-many-files",
    ],
)
def test_bad_requests_are_precise_problems(
    client: TestClient,
    alice: Headers,
    files: list[tuple[str, bytes]],
    data: dict[str, str],
    status: int,
    slug: str,
    words: str,
) -> None:
    if files:
        response = upload(client, alice, *files, data=data)
    else:  # a form with fields only
        response = client.post(URL, headers=alice, files={"format": (None, data["format"])})
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"].endswith(f"/{slug}") and words in body["detail"]
    assert client.get(URL, headers=alice).json()["items"] == []


def test_too_large_and_not_a_form(
    client: TestClient, alice: Headers, set_limits: Callable[..., None]
) -> None:
    response = client.post(URL, headers={**alice, "Content-Type": "text/csv"}, content=MARCH)
    assert response.status_code == 415
    set_limits(max_file_bytes=2000)
    response = upload(client, alice, ("m.csv", MARCH))
    assert response.status_code == 413
    assert response.json()["type"].endswith("/payload-too-large")
    assert client.get(URL, headers=alice).json()["items"] == []


def test_cookie_sessions_need_the_csrf_token(client: TestClient, alice: Headers) -> None:
    csrf = login(client, "alice", PASSWORD)
    refused = client.post(URL, files=[("file", ("m.csv", MARCH, "text/csv"))])
    assert refused.status_code == 403 and refused.json()["reason"] == "csrf"
    accepted = client.post(
        URL, files=[("file", ("m.csv", MARCH, "text/csv"))], headers={"X-CSRF-Token": csrf}
    )
    assert accepted.status_code == 202
    finished(client, {}, accepted.json()["items"][0]["href"])


def test_citizens_only(client: TestClient, operator: Headers) -> None:
    assert client.post(URL, headers={"Authorization": "Bearer sdo_x"}).json()["reason"] == (
        "citizen-only"
    )
    response = upload(client, operator, ("m.csv", MARCH))
    assert response.status_code == 403 and response.json()["reason"] == "citizen-only"
    assert client.post(URL, files=[("file", ("m.csv", MARCH))]).status_code == 401


def test_the_formats_are_listed(client: TestClient) -> None:
    formats = {f["name"]: f for f in client.get(f"{API}/import-formats").json()["items"]}
    assert {"enedis.load_curve", "ofx", "camt.053"} <= set(formats)
    curve = formats["enedis.load_curve"]
    assert curve["description"]["fr"] and curve["description"]["en"]
    assert "energy.reading" in curve["doctypes"]
    assert isinstance(curve["options"], dict)


def test_events_arrive_as_they_happen_over_a_real_server(
    app: FastAPI, alice: Headers, platform: Platform
) -> None:
    """Through uvicorn, the stream is not buffered: the first event comes long before
    the job's end."""
    big = load_curve_csv(date(2022, 1, 1), date(2024, 1, 1))
    with serving(app) as url, httpx.Client(base_url=url, timeout=60) as http:
        response = http.post(
            URL,
            headers=alice,
            files=[("file", ("two-years.csv", big)), ("file", ("march.csv", MARCH))],
        )
        assert response.status_code == 202, response.text
        second = response.json()["items"][1]
        with http.stream("GET", second["events"], headers=alice) as stream:
            assert stream.headers["cache-control"] == "no-store"
            lines = stream.iter_lines()
            first = next(line for line in lines if line.startswith("data: "))
            assert orjson.loads(first[6:])["state"] != "done"  # still running or waiting
            rest = list(lines)
        assert "event: end" in rest
    assert points(platform) == 2 * 365 * 48 + 2 * 48 - 2
